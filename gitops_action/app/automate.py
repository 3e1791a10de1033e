"""One run of image automation: fetch, scan, hold reverts, rewrite markers, commit, push.

The run (DESIGN §3, §4; docs/automate.md):

1. fetch the config repo into the cached clone and reset to the branch head
   (`--branch`, else the ImageUpdateAutomation's checkout branch, else main);
2. load the Flux config from the whole checkout (a config error stops the
   run before anything is written: exit 2);
3. scan each policy's registry (one tags request per image; failures are
   per policy);
4. revert-aware holds: a marker a human lowered since the last automation
   commit gets its reverted-from tag held in the ImageRepository's
   `exclusionList` (a bot commit), and the policy is re-selected without it;
5. plan the marker rewrite with the `update` core over `update.path` and
   commit it as ONE commit (the automation's author, its `messageTemplate`);
6. push as a fast-forward; when the branch moved meanwhile, start again from
   1 on the new head (bounded, with jitter): never merge, rebase or force.

Nothing to change: no commit and no push. `--dry-run`: steps 1-5 without
committing; the diff is reported. Pull-request mode pushes to a branch of
the bot's own and opens or updates a pull request instead.

Idempotent by construction: a run plans from what the remote has, so a
repeated or concurrent run finds the markers already set and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gitops_action.adapters import files
from gitops_action.adapters.config_loader import load_config
from gitops_action.adapters.docker_config import load_docker_config
from gitops_action.adapters.git import GitWorkspace, remote_ref, validate_branch
from gitops_action.adapters.github_pulls import (
    GitHubTarget,
    PullRequest,
    ensure_pull_request,
    github_target,
)
from gitops_action.adapters.kube_secrets import pull_secrets
from gitops_action.adapters.registry import DEFAULT_RATE, RegistryClient, Timeouts
from gitops_action.app.digests import reflect_digests
from gitops_action.app.git_session import (
    DEFAULT_AUTHOR_EMAIL,
    DEFAULT_AUTHOR_NAME,
    DEFAULT_TRIES,
    Jitter,
    open_workspace,
    retry_on_rejection,
    with_trailer,
)
from gitops_action.app.holds import History, detect_reverts, hold_message, write_hold
from gitops_action.app.scan import PolicyScan, Scanner, read_markers
from gitops_action.app.update import UpdatePlan, apply_update, plan_update
from gitops_action.domain.config import FluxConfig, ImagePolicy, ImageUpdateAutomation
from gitops_action.domain.errors import ConfigError, GitError
from gitops_action.domain.holds import Revert
from gitops_action.domain.marker_values import MarkerValue, by_policy
from gitops_action.domain.markers import (
    FilePlan,
    ImageSetting,
    PolicyRef,
    UpdateResult,
    unified_diff,
)
from gitops_action.domain.templates import DEFAULT_MESSAGE_TEMPLATE

log = logging.getLogger("gitops_action.automate")

DEFAULT_BRANCH = "main"
DEFAULT_CLONE_DEPTH = 20
PR_BRANCH_PREFIX = "gitops/"


@dataclass(frozen=True)
class AutomateRequest:
    """The command line of one run."""

    repo: str
    branch: str | None = None
    path: str | None = None
    dry_run: bool = False
    cache_dir: Path | None = None
    depth: int = DEFAULT_CLONE_DEPTH
    tries: int = DEFAULT_TRIES
    pull_request: bool = False
    automation: str | None = None  # ns/name
    holds: bool = True
    github_repository: str | None = None
    insecure_registries: tuple[str, ...] = ()
    registry_rate: float | None = DEFAULT_RATE
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class PolicyOutcome:
    """One policy's line in the report."""

    policy: str
    image: str
    tags: int | None
    selected: str | None
    current: tuple[str, ...]
    action: str  # updated | unchanged | failed | suspended | held (+updated)
    reason: str
    error: str | None = None
    held: tuple[str, ...] = ()

    def as_record(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "image": self.image,
            "tags": self.tags,
            "selected": self.selected,
            "current": list(self.current),
            "action": self.action,
            "reason": self.reason,
            "error": self.error,
            "held": list(self.held),
        }


@dataclass
class AutomateReport:
    """What the run did; rendered as text or JSON by the CLI."""

    repo: str
    branch: str
    path: str
    automation: str | None = None
    head: str = ""
    policies: list[PolicyOutcome] = field(default_factory=list)
    holds: list[Revert] = field(default_factory=list)
    changes: UpdateResult = field(default_factory=UpdateResult)
    commits: list[str] = field(default_factory=list)
    pushed: bool = False
    push_branches: list[str] = field(default_factory=list)
    pull_requests: list[PullRequest] = field(default_factory=list)
    attempts: int = 0
    dry_run: bool = False
    suspended: bool = False
    diff: str = ""
    message: str = ""
    registry_requests: int = 0
    git_fetches: int = 0
    git_pushes: int = 0
    notices: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[PolicyOutcome]:
        return [outcome for outcome in self.policies if outcome.error is not None]

    def as_record(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "branch": self.branch,
            "path": self.path,
            "automation": self.automation,
            "head": self.head,
            "dryRun": self.dry_run,
            "suspended": self.suspended,
            "policies": [outcome.as_record() for outcome in self.policies],
            "holds": [revert.as_record() for revert in self.holds],
            "changes": [change.as_record() for change in self.changes.changes],
            "commits": self.commits,
            "message": self.message,
            "pushed": self.pushed,
            "pushBranches": self.push_branches,
            "pullRequests": [pull.as_record() for pull in self.pull_requests],
            "attempts": self.attempts,
            "registryRequests": self.registry_requests,
            "gitFetches": self.git_fetches,
            "gitPushes": self.git_pushes,
            "notices": self.notices,
        }


class AutomateAborted(GitError):
    """Git failed after planning (a push the server refused): `report` says what was planned."""

    def __init__(self, cause: GitError, report: AutomateReport) -> None:
        super().__init__(str(cause))
        self.report = report


@dataclass(frozen=True)
class Setup:
    """The config as read on one head, and what it says about this run."""

    config: FluxConfig
    automation: ImageUpdateAutomation | None
    path: str  # update path, relative to the repo root ("." for the root)
    push_branch: str
    author_name: str
    author_email: str

    @property
    def prefix(self) -> str:
        return "" if self.path == "." else self.path.rstrip("/") + "/"


@dataclass
class Plan:
    """Everything one attempt decided on one head, before committing."""

    setup: Setup
    scans: list[PolicyScan]
    current: list[MarkerValue]
    reverts: list[Revert]
    hold_files: list[str]
    update: UpdatePlan
    settings: dict[PolicyRef, ImageSetting]


class Automation:
    """One `automate` run (see the module docstring)."""

    def __init__(
        self,
        request: AutomateRequest,
        *,
        workspace: GitWorkspace | None = None,
        registry: RegistryClient | None = None,
        jitter: Jitter | None = None,
    ) -> None:
        self.request = request
        self.environ = request.environ
        self.workspace = workspace or open_workspace(
            request.repo, request.cache_dir, request.environ
        )
        self._registry = registry
        self.jitter = jitter or Jitter()
        self.github: GitHubTarget | None = None
        if request.branch:
            validate_branch(request.branch)
        if request.path is not None:
            normalise_path(request.path)

    # -- the run ----------------------------------------------------------------------
    def run(self) -> AutomateReport:
        workspace = self.workspace
        with workspace.locked(), self._registry_client() as client:
            scanner = Scanner(client, pull_secrets(self.environ))
            branch, first = self._checkout()
            setups = [first]

            reports: list[AutomateReport] = []

            def attempt(number: int) -> AutomateReport:
                if number:
                    workspace.sync(branch, depth=self.request.depth)
                    setups.append(self._setup(branch))
                report = self._report(branch, setups[-1], number + 1)
                reports.append(report)
                if not report.suspended:
                    self._attempt(report, branch, setups[-1], scanner)
                return report

            try:
                report = retry_on_rejection(
                    attempt,
                    tries=self.request.tries,
                    jitter=self.jitter,
                    what=f"automate {workspace.url}",
                )
            except GitError as error:
                if not reports:
                    raise
                raise AutomateAborted(error, reports[-1]) from error
            report.notices.extend(scanner.notices)
            report.registry_requests = client.request_count
            report.git_fetches = workspace.fetches
            report.git_pushes = workspace.pushes
            return report

    def _report(self, branch: str, setup: Setup, attempts: int) -> AutomateReport:
        report = AutomateReport(
            self.workspace.url, branch, setup.path, dry_run=self.request.dry_run, attempts=attempts
        )
        automation = setup.automation
        report.automation = str(automation.key) if automation else None
        if automation is not None and automation.suspend:
            report.suspended = True
            report.notices.append(f"{automation.description} is suspended: nothing done")
        report.notices.extend(unsupported_fields(automation))
        return report

    def _registry_client(self) -> RegistryClient:
        if self._registry is not None:
            return self._registry
        return RegistryClient(
            load_docker_config(self.environ),
            insecure_hosts=self.request.insecure_registries,
            rate=self.request.registry_rate,
            timeouts=Timeouts.from_environ(self.environ),
        )

    def _checkout(self) -> tuple[str, Setup]:
        """Fetch the branch; when none was given and the automation names another, that one."""
        request = self.request
        branch = request.branch or DEFAULT_BRANCH
        try:
            self.workspace.sync(branch, depth=request.depth)
        except GitError as error:
            # No --branch and no main: the remote's default branch holds the config then.
            default = None if request.branch else self.workspace.remote_default_branch()
            if default is None or default == branch:
                raise
            log.info("%s; using the remote's default branch %s", error, default)
            branch = default
            self.workspace.sync(branch, depth=request.depth)
        setup = self._setup(branch)
        wanted = setup.automation.checkout_branch if setup.automation else None
        if not request.branch and wanted and wanted != branch:
            branch = validate_branch(wanted, "spec.git.checkout.ref.branch")
            self.workspace.sync(branch, depth=request.depth)
            setup = self._setup(branch)
        return branch, setup

    def _setup(self, branch: str) -> Setup:
        config = load_config(self.workspace.path)
        automation = pick_automation(config, self.request.automation, branch)
        path = normalise_path(
            self.request.path
            if self.request.path is not None
            else (automation.update_path if automation else ".")
        )
        what = "--path" if self.request.path is not None else "spec.update.path"
        if not files.inside(self.workspace.path, path, what).is_dir():
            raise ConfigError(
                f"--path {path}: no such directory in {self.workspace.url} ({branch})"
            )
        push_branch = branch
        if automation and automation.push_branch not in (None, automation.checkout_branch):
            # A push branch of its own (Flux's pull-request pattern); one equal to the
            # checkout branch follows --branch.
            push_branch = validate_branch(str(automation.push_branch), "spec.git.push.branch")
        name = (automation.author_name if automation else "") or DEFAULT_AUTHOR_NAME
        email = (automation.author_email if automation else "") or DEFAULT_AUTHOR_EMAIL
        return Setup(config, automation, path, push_branch, name, email)

    def _pr_mode(self, setup: Setup, branch: str) -> bool:
        return self.request.pull_request or setup.push_branch != branch

    # -- one attempt ------------------------------------------------------------------
    def _attempt(self, report: AutomateReport, branch: str, setup: Setup, scanner: Scanner) -> None:
        """Plan on the current head and commit and push (`PushRejected` goes to the caller)."""
        workspace = self.workspace
        head = workspace.rev_parse("HEAD")
        report.head = head
        plan = self._plan(branch, setup, scanner)
        report.policies = outcomes(plan)
        report.holds = plan.reverts
        report.changes = plan.update.result
        if plan.update.result:
            report.message = commit_message(setup, plan.update.result)
        if self.request.dry_run:
            report.diff = plan_diff(workspace, plan)
            return
        if not plan.update.result and not plan.hold_files:
            return
        if self._pr_mode(setup, branch):
            self._open_pull_requests(report, branch, head, plan)
            return
        commits = self._commit(setup, plan.reverts, plan.hold_files, plan.update)
        report.commits = commits
        if commits:
            pushed = workspace.push(commits[-1], setup.push_branch)
            report.pushed = pushed.updated
            report.push_branches = [setup.push_branch] if pushed.updated else []

    def _plan(self, branch: str, setup: Setup, scanner: Scanner) -> Plan:
        root = self.workspace.path
        update_root = root / setup.path
        config = setup.config
        policies = active_policies(config, setup.automation)
        scans = [scanner.scan(config, policy) for policy in policies]
        current = read_markers(update_root)
        reverts: list[Revert] = []
        hold_files: list[str] = []
        if self.request.holds:
            history = History(self.workspace, branch, setup.prefix, setup.author_email)
            reverts = detect_reverts(history, scans, current)
            for revert in reverts:
                policy = config.policy(_ref(revert.policy))
                file = write_hold(root, config, policy, revert.from_tag, revert.comment())
                if file is not None and file not in hold_files:
                    hold_files.append(file)
            if hold_files:
                config = load_config(root)
                setup = replace(setup, config=config)
                scans = [scanner.scan(config, config.policy(scan.ref)) for scan in scans]
        scans = reflect_digests(scanner, scans, by_policy(current))
        settings = {
            scan.ref: ImageSetting(scan.ref, scan.image, scan.selected, scan.digest)
            for scan in scans
            if scan.selected is not None and not scan.failed
        }
        update = plan_update(update_root, settings.values())
        for problem in (*update.warnings, *update.skipped):
            log.warning("update: %s", problem)  # Flux skips these and updates the rest
        return Plan(setup, scans, current, reverts, hold_files, update, settings)

    def _commit(
        self,
        setup: Setup,
        reverts: Sequence[Revert],
        hold_files: Sequence[str],
        update: UpdatePlan,
    ) -> list[str]:
        """The hold commit (if any), then the ONE update commit; their shas."""
        workspace = self.workspace
        commits: list[str] = []
        if reverts and hold_files:
            sha = workspace.commit(
                hold_message(reverts),
                author_name=setup.author_name,
                author_email=setup.author_email,
                paths=hold_files,
            )
            if sha:
                commits.append(sha)
        if update.result:
            apply_update(update)
            message = with_trailer(commit_message(setup, update.result), "automate")
            paths = [setup.prefix + file for file in update.result.files]
            sha = workspace.commit(
                message,
                author_name=setup.author_name,
                author_email=setup.author_email,
                paths=paths,
            )
            if sha:
                commits.append(sha)
        return commits

    # -- pull-request mode ------------------------------------------------------------
    def _open_pull_requests(
        self, report: AutomateReport, branch: str, head: str, plan: Plan
    ) -> None:
        """Commit each unit of change on its own branch and open or update its pull request."""
        setup = plan.setup
        config = setup.config
        self.github = self._github_target(required=self.request.pull_request)
        if self.request.pull_request:
            units = per_policy_units(plan)
            refspec = f"+refs/heads/{PR_BRANCH_PREFIX}*:refs/remotes/origin/{PR_BRANCH_PREFIX}*"
        else:
            touched = set(plan.settings) | {_ref(revert.policy) for revert in plan.reverts}
            units = [(setup.push_branch, touched)]
            # A glob: a push branch that does not exist yet is not an error.
            refspec = f"+refs/heads/{setup.push_branch}*:refs/remotes/origin/{setup.push_branch}*"
        self.workspace.fetch_refspecs([refspec])
        for head_branch, refs in units:
            self.workspace.reset(head)
            reverts = [revert for revert in plan.reverts if _ref(revert.policy) in refs]
            hold_files: list[str] = []
            for revert in reverts:
                policy = config.policy(_ref(revert.policy))
                file = write_hold(
                    self.workspace.path, config, policy, revert.from_tag, revert.comment()
                )
                if file is not None and file not in hold_files:
                    hold_files.append(file)
            settings = [plan.settings[ref] for ref in sorted(refs) if ref in plan.settings]
            update = plan_update(self.workspace.path / setup.path, settings)
            commits = self._commit(setup, reverts, hold_files, update)
            if not commits:
                continue
            report.commits.extend(commits)
            paths = [*hold_files, *(setup.prefix + file for file in update.result.files)]
            if self._push_pr_branch(head, head_branch, commits[-1], paths, setup):
                report.pushed = True
                report.push_branches.append(head_branch)
            if self.github is not None:
                title, body = pull_request_text(setup, reverts, update.result)
                report.pull_requests.append(
                    ensure_pull_request(
                        self.github, head=head_branch, base=branch, title=title, body=body
                    )
                )
        self.workspace.reset(head)

    def _github_target(self, *, required: bool) -> GitHubTarget | None:
        target = github_target(self.environ, self.workspace.url, self.request.github_repository)
        if target is None and required:
            raise ConfigError(
                "--pull-request needs a GitHub token: set GITOPS_GITHUB_TOKEN or GITHUB_TOKEN"
            )
        return target

    def _push_pr_branch(
        self, base_head: str, branch: str, sha: str, paths: Sequence[str], setup: Setup
    ) -> bool:
        """Push the bot's branch unless it already has this content; never over a human's commit."""
        workspace = self.workspace
        remote = workspace.ref_sha(remote_ref(branch))
        if remote is not None:
            if all(workspace.read_file(remote, p) == workspace.read_file(sha, p) for p in paths):
                return False  # the branch already carries this update
            foreign = [
                entry
                for entry in workspace.commits_between(base_head, remote)
                if entry.author_email.lower() != setup.author_email.lower()
            ]
            if foreign:
                raise GitError(
                    f"branch {branch} of {workspace.url} has commits not made by the automation "
                    f"({foreign[0].sha[:7]} by {foreign[0].author_name}); not overwriting it"
                )
        workspace.push(sha, branch, lease=remote or "")
        return True


# --- helpers -------------------------------------------------------------------------------


def _ref(text: str) -> PolicyRef:
    namespace, _, name = text.partition(":")
    return PolicyRef(namespace, name)


def normalise_path(text: str) -> str:
    """`--path`/`update.path` relative to the repo root, `/`-separated, `.` for the root."""
    import posixpath

    if "\\" in text or "\0" in text:
        raise ConfigError(f"--path {text!r}: not a /-separated path")
    cleaned = posixpath.normpath(text.strip().lstrip("/") or ".")
    if cleaned == ".." or cleaned.startswith("../"):
        raise ConfigError(f"--path {text!r}: leaves the repository")
    return cleaned


def pick_automation(
    config: FluxConfig, wanted: str | None, branch: str
) -> ImageUpdateAutomation | None:
    """The ImageUpdateAutomation this run follows (`--automation NS/NAME` when several)."""
    automations = config.automations
    if wanted:
        namespace, _, name = wanted.rpartition("/")
        for automation in automations:
            if automation.key.name == name and automation.key.namespace == (
                namespace or automation.key.namespace
            ):
                return automation
        raise ConfigError(f"--automation {wanted}: no such ImageUpdateAutomation in the repo")
    if len(automations) <= 1:
        return automations[0] if automations else None
    on_branch = [a for a in automations if a.checkout_branch in (branch, None)]
    if len(on_branch) == 1:
        return on_branch[0]
    names = ", ".join(str(a.key) for a in automations)
    raise ConfigError(
        f"the repo has {len(automations)} ImageUpdateAutomations ({names}); "
        "choose one with --automation NS/NAME"
    )


def active_policies(
    config: FluxConfig, automation: ImageUpdateAutomation | None
) -> list[ImagePolicy]:
    policies = config.policies_for(automation) if automation else tuple(config.policies.values())
    return sorted(policies, key=lambda policy: policy.key)


def unsupported_fields(automation: ImageUpdateAutomation | None) -> list[str]:
    """Notes for automation fields this tool reads but does not act on."""
    if automation is None:
        return []
    notes = []
    checkout = automation.checkout
    if checkout is not None:
        for field_name in ("tag", "semver", "name", "commit"):
            if getattr(checkout, field_name):
                notes.append(
                    f"{automation.description}: spec.git.checkout.ref.{field_name} is not "
                    "supported (only branch); the branch is --branch, the checkout branch or main"
                )
    if automation.push_refspec:
        notes.append(f"{automation.description}: spec.git.push.refspec is ignored")
    return notes


def commit_message(setup: Setup, result: UpdateResult) -> str:
    if setup.automation is not None:
        return setup.automation.commit_message(result)
    return DEFAULT_MESSAGE_TEMPLATE


def outcomes(plan: Plan) -> list[PolicyOutcome]:
    """One line per policy, from the plan."""
    now = by_policy(plan.current)
    changed = set(plan.update.result.policies)
    held: dict[str, list[str]] = {}
    for revert in plan.reverts:
        held.setdefault(revert.policy, []).append(revert.from_tag)
    lines = []
    for scan in plan.scans:
        name = str(scan.ref)
        values = tuple(dict.fromkeys(value.value for value in now.get(scan.ref, [])))
        if scan.suspended:
            action = "suspended"
        elif scan.error is not None:
            action = "failed"
        elif scan.ref in changed:
            action = "updated"
        else:
            action = "unchanged"
        if name in held and action != "failed":
            action = "held+updated" if action == "updated" else "held"
        lines.append(
            PolicyOutcome(
                name,
                scan.image,
                None if scan.tags is None else len(scan.tags),
                scan.selected,
                values,
                action,
                scan.reason(),
                scan.error,
                tuple(held.get(name, ())),
            )
        )
    return lines


def plan_diff(workspace: GitWorkspace, plan: Plan) -> str:
    """The unified diff of the whole attempt (holds and markers), paths from the repo root."""
    plans: list[FilePlan] = []
    prefix = plan.setup.prefix
    for item in plan.update.files:
        if item.changed:
            plans.append(FilePlan(prefix + item.file, item.before, item.after, item.changes))
    for file in plan.hold_files:
        after = (workspace.path / file).read_text(encoding="utf-8")
        before = (workspace.read_file("HEAD", file) or b"").decode("utf-8")
        plans.append(FilePlan(file, before, after, ()))
    return unified_diff(plans)


def per_policy_units(plan: Plan) -> list[tuple[str, set[PolicyRef]]]:
    """`--pull-request`: one branch per changed policy, `gitops/NS/NAME-TAG`."""
    units: list[tuple[str, set[PolicyRef]]] = []
    for ref in sorted(set(plan.update.result.policies) | {_ref(r.policy) for r in plan.reverts}):
        setting = plan.settings.get(ref)
        tag = setting.tag if setting is not None else "hold"
        if ref not in plan.update.result.policies:
            held = [r.from_tag for r in plan.reverts if _ref(r.policy) == ref]
            tag = f"hold-{held[0]}" if held else "hold"
        branch = f"{PR_BRANCH_PREFIX}{ref.namespace}/{ref.name}-{tag}"
        units.append((validate_branch(branch, "pull-request branch"), {ref}))
    return units


def pull_request_text(
    setup: Setup, reverts: Sequence[Revert], result: UpdateResult
) -> tuple[str, str]:
    """(title, body) of a pull request, from the same data as the commit message."""
    lines: list[str] = []
    if result:
        message = commit_message(setup, result).strip()
        title = message.splitlines()[0] if message else "Update images"
        lines += [message, "", "| Policy | File | Old | New |", "|---|---|---|---|"]
        for change in result.changes:
            lines.append(
                f"| {change.policy} | {setup.prefix}{change.file}:{change.line} "
                f"| `{change.old}` | `{change.new}` |"
            )
    else:
        title = f"Hold {', '.join(r.policy for r in reverts)}"
    for revert in reverts:
        lines.append(f"\n{revert.comment()}")
    lines.append("\nOpened by gitops-action automate.")
    return title, "\n".join(lines).strip() + "\n"
