"""Holds in git: detecting human reverts, and writing or removing `exclusionList` entries.

Revert detection (`detect_reverts`) runs inside `automate`, on the freshly
fetched head, before anything is planned:

1. find the last automation commit A (our `Gitops-Action` trailer, or the
   automation's author e-mail) from HEAD; in a shallow clone, deepen until it
   is found or the history ends (bounded);
2. per policy, compare the tags its markers held at A with the tags they
   hold at HEAD (the policy's own order): a marker now below what the bot
   last wrote was lowered by a human;
3. when the policy would move it up again (its selection is above the
   lowered value), the tag it was lowered from is held: an anchored regex in
   the ImageRepository's `exclusionList`, with a comment naming the commit
   that lowered it, its author and date (found by walking A..HEAD).

`hold`/`release` do the same edit by hand, on a local checkout (`--dir`:
the file is edited, nothing is committed) or on the remote repo (`--repo`:
a bot commit pushed with the same re-plan-on-rejection loop as `automate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from gitops_action.adapters import files
from gitops_action.adapters.config_loader import load_config
from gitops_action.adapters.git import GitWorkspace, LogEntry
from gitops_action.adapters.yaml_exclusions import find_site
from gitops_action.app.git_session import (
    DEFAULT_DEPTH,
    DEFAULT_TRIES,
    Jitter,
    automation_author,
    is_bot_commit,
    open_workspace,
    retry_on_rejection,
    with_trailer,
)
from gitops_action.app.scan import PolicyScan, markers_in_texts, read_markers
from gitops_action.domain.config import FluxConfig, ImagePolicy
from gitops_action.domain.errors import GitError, GitopsError, HoldFailed
from gitops_action.domain.holds import (
    Revert,
    add_hold,
    find_lowered,
    held_tag,
    hold_pattern,
    is_below,
    manual_comment,
    remove_hold,
)
from gitops_action.domain.marker_values import MarkerValue, by_policy, tags_of
from gitops_action.domain.markers import PolicyRef

MAX_HISTORY = 1000
"""Commits looked at (and deepened to) to find the last automation commit."""
MAX_DEEPEN = 12
DEFAULT_BRANCH = "main"


# --- editing the ImageRepository ------------------------------------------------------


def write_hold(
    root: Path, config: FluxConfig, policy: ImagePolicy, tag: str, comment: str
) -> str | None:
    """Add a hold on `tag` to the policy's ImageRepository file under `root`.

    Returns the file changed (relative to `root`), None when the tag is
    already excluded by the list.
    """
    repository = config.repository_of(policy)
    if repository.exclusions.excluded_by(tag) is not None:
        return None
    file = repository.source.file
    text = _read(root, file)
    site = find_site(file, text, repository.source.document, repository.where)
    new = add_hold(site, tag, comment)
    if new == text:
        return None
    files.write_all([(root / file, new.encode("utf-8"))])
    return file


def write_release(root: Path, config: FluxConfig, policy: ImagePolicy, tag: str) -> str | None:
    """Remove the hold on `tag` (and its comment); the file changed, None when not held."""
    repository = config.repository_of(policy)
    file = repository.source.file
    text = _read(root, file)
    site = find_site(file, text, repository.source.document, repository.where)
    new = remove_hold(site, tag)
    if new == text:
        return None
    files.write_all([(root / file, new.encode("utf-8"))])
    return file


def holds_of(config: FluxConfig, policy: ImagePolicy) -> list[str]:
    """The tags held for the policy (hold-shaped entries of its repository's list)."""
    listed = config.repository_of(policy).exclusion_list or ()
    return [tag for pattern in listed if (tag := held_tag(pattern)) is not None]


def _read(root: Path, file: str) -> str:
    try:
        data = (root / file).read_bytes()
    except OSError as error:
        raise HoldFailed(f"{file}: cannot read: {error.strerror}") from error
    return files.decode(file, data)


# --- revert detection -----------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """Where revert detection looks: the work tree and the marker files' prefix in the repo."""

    workspace: GitWorkspace
    branch: str
    update_prefix: str  # "" for the repo root, else "dir/"
    author_email: str


def last_bot_commit(history: History) -> LogEntry | None:
    """The newest automation commit reachable from HEAD, deepening a shallow clone as needed."""
    workspace = history.workspace
    limit = DEFAULT_DEPTH
    for _round in range(MAX_DEEPEN):
        entries = workspace.log("HEAD", limit=limit)
        for entry in entries:
            if is_bot_commit(entry, history.author_email):
                return entry
        if len(entries) >= limit:
            if limit >= MAX_HISTORY:
                return None
            limit = min(limit * 2, MAX_HISTORY)
            continue
        if not workspace.is_shallow():
            return None
        workspace.fetch(history.branch, deepen=limit)
    return None


def detect_reverts(
    history: History,
    scans: Sequence[PolicyScan],
    current: Sequence[MarkerValue],
) -> list[Revert]:
    """Policies whose markers a human lowered since the last automation commit (see module doc).

    `current` are the markers of the update path at HEAD (paths relative to
    it). Only policies that scanned fine are looked at: without a selection
    there is no telling whether the bot would re-bump.
    """
    now = by_policy(current)
    candidates = [scan for scan in scans if _would_raise(scan, now.get(scan.ref, []))]
    if not candidates:
        return []  # the idle case: no marker below its selection, no history to read
    anchor = last_bot_commit(history)
    head = history.workspace.rev_parse("HEAD")
    if anchor is None or anchor.sha == head:
        return []
    paths = sorted({history.update_prefix + value.file for value in current})
    before = by_policy(_markers_at(history, anchor.sha, paths))
    found: list[tuple[PolicyScan, str, str]] = []
    for scan in candidates:
        policy = scan.policy
        lowered = find_lowered(
            tags_of(before.get(scan.ref, [])),
            tags_of(now.get(scan.ref, [])),
            policy.policy,
            policy.tag_filter,
        )
        if lowered is None:
            continue
        from_tag, to_tag = lowered
        if scan.repository.exclusions.excluded_by(from_tag) is not None:
            continue  # already held (by hand, or by an earlier run)
        selected = scan.selected or ""
        if not is_below(to_tag, selected, policy.policy, policy.tag_filter):
            continue  # the policy would not move it up again: nothing to hold
        found.append((scan, from_tag, to_tag))
    if not found:
        return []
    culprits = _who_lowered(history, anchor.sha, head, paths, found)
    return [
        Revert(str(scan.ref), from_tag, to_tag, *culprits.get(scan.ref, ("", "", "")))
        for scan, from_tag, to_tag in found
    ]


def _would_raise(scan: PolicyScan, values: Sequence[MarkerValue]) -> bool:
    """True when a marker of the policy holds a tag below its selection."""
    selected = scan.selected
    if scan.selection is None or not selected:
        return False
    policy = scan.policy
    return any(is_below(tag, selected, policy.policy, policy.tag_filter) for tag in tags_of(values))


def _markers_at(history: History, rev: str, paths: Sequence[str]) -> list[MarkerValue]:
    texts: dict[str, str] = {}
    prefix = history.update_prefix
    for path in paths:
        data = history.workspace.read_file(rev, path)
        if data is None:
            continue
        try:
            texts[path[len(prefix) :]] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    try:
        return markers_in_texts(texts)
    except GitopsError:  # an old commit may hold YAML we cannot read; it tells us nothing then
        return []


def _who_lowered(
    history: History,
    anchor: str,
    head: str,
    paths: Sequence[str],
    found: Sequence[tuple[PolicyScan, str, str]],
) -> dict[PolicyRef, tuple[str, str, str]]:
    """(commit, "Name <email>", date) of the commit that lowered each policy, walking A..HEAD."""
    commits = history.workspace.commits_between(anchor, head, paths)
    lowered_before: dict[PolicyRef, bool] = {scan.ref: False for scan, _f, _t in found}
    culprits: dict[PolicyRef, tuple[str, str, str]] = {}
    for commit in commits:
        values = by_policy(_markers_at(history, commit.sha, paths))
        for scan, from_tag, _to_tag in found:
            tags = tags_of(values.get(scan.ref, []))
            policy = scan.policy
            lowered = any(is_below(tag, from_tag, policy.policy, policy.tag_filter) for tag in tags)
            if lowered and not lowered_before[scan.ref]:
                who = f"{commit.author_name} <{commit.author_email}>"
                culprits[scan.ref] = (commit.sha, who, commit.date)
            lowered_before[scan.ref] = lowered
    return culprits


def hold_message(reverts: Sequence[Revert]) -> str:
    """The bot commit message for holds written after reverts."""
    if len(reverts) == 1:
        revert = reverts[0]
        subject = f"Hold {revert.policy} off {revert.from_tag} (reverted to {revert.to_tag})"
    else:
        subject = f"Hold {len(reverts)} policies off reverted tags"
    lines = [subject, ""]
    for revert in reverts:
        who = f" by {revert.author}" if revert.author else ""
        where = f" in {revert.commit[:7]}" if revert.commit else ""
        lines.append(
            f"- {revert.policy}: {revert.from_tag} was reverted to {revert.to_tag}{who}{where}"
        )
    return with_trailer("\n".join(lines), "hold")


# --- `gitops-action hold` / `release` -----------------------------------------------------


@dataclass(frozen=True)
class HoldRequest:
    """One hold or release by hand."""

    policy: PolicyRef
    tag: str
    release: bool = False
    by: str = ""
    reason: str = ""
    now: str = ""  # ISO date for the comment; empty: the current UTC time


@dataclass(frozen=True)
class HoldOutcome:
    """What a hold or release did."""

    policy: str
    tag: str
    action: str  # "held" | "released" | "already held" | "not held"
    file: str | None
    repository: str  # ns/name of the ImageRepository
    commit: str | None = None
    pushed: bool = False
    note: str = ""

    def as_record(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "tag": self.tag,
            "action": self.action,
            "file": self.file,
            "imageRepository": self.repository,
            "commit": self.commit,
            "pushed": self.pushed,
            "note": self.note,
        }


def edit_hold(root: Path, request: HoldRequest) -> HoldOutcome:
    """Apply a hold or release to the checkout at `root` (no commit)."""
    hold_pattern(request.tag)  # validates the tag before anything is read
    config = load_config(root)
    policy = config.policy(request.policy)
    repository = config.repository_of(policy)
    if request.release:
        file = write_release(root, config, policy, request.tag)
        note = ""
        if file is None and repository.exclusions.excluded_by(request.tag) is not None:
            excluded = repository.exclusions.excluded_by(request.tag)
            note = (
                f"{request.tag} is excluded by {excluded!r}, which is not a hold; edit it by hand"
            )
        action = "released" if file else "not held"
    else:
        now = request.now or datetime.now(UTC).replace(microsecond=0).isoformat()
        comment = manual_comment(request.tag, request.by, now, request.reason)
        file = write_hold(root, config, policy, request.tag, comment)
        action = "held" if file else "already held"
        note = ""
    return HoldOutcome(
        str(request.policy), request.tag, action, file, str(repository.key), note=note
    )


@dataclass(frozen=True)
class RepoTarget:
    """Where `hold --repo` / `release --repo` commit."""

    url: str
    branch: str | None
    cache_dir: Path | None
    environ: Mapping[str, str]
    path: str = "."
    tries: int = DEFAULT_TRIES


def edit_hold_in_repo(
    target: RepoTarget, request: HoldRequest, jitter: Jitter | None = None
) -> HoldOutcome:
    """Hold or release on the remote branch: fetch, edit, bot commit, push (re-done on rejection).

    The branch is `--branch`, else the ImageUpdateAutomation's checkout
    branch, else main; the commit's author is the automation's author.
    """
    workspace = open_workspace(target.url, target.cache_dir, target.environ)
    kind = "release" if request.release else "hold"
    prefix = "" if target.path in ("", ".") else target.path.rstrip("/") + "/"
    branches: list[str] = []

    def attempt(number: int) -> HoldOutcome:
        if not branches:
            branches.append(_branch(workspace, target))
        else:
            workspace.sync(branches[0], depth=DEFAULT_DEPTH)
        outcome = edit_hold(workspace.path / target.path, request)
        if outcome.file is None:
            return outcome
        name, email = automation_author(workspace.path)
        message = with_trailer(_hold_subject(request), kind)
        sha = workspace.commit(
            message, author_name=name, author_email=email, paths=[prefix + outcome.file]
        )
        if sha is None:
            return outcome
        workspace.push(sha, branches[0])
        return replace(outcome, file=prefix + outcome.file, commit=sha, pushed=True)

    with workspace.locked():
        return retry_on_rejection(
            attempt, tries=target.tries, jitter=jitter or Jitter(), what=f"{kind} {request.policy}"
        )


def _hold_subject(request: HoldRequest) -> str:
    verb = "Release" if request.release else "Hold"
    where = "from" if request.release else "off"
    by = f" by {request.by}" if request.by else ""
    because = f"\n\n{request.reason}" if request.reason else ""
    return f"{verb} {request.policy} {where} {request.tag}{by}{because}"


def _branch(workspace: GitWorkspace, target: RepoTarget) -> str:
    """Fetch `--branch`, else main and then the automation's checkout branch if it names another."""
    branch = target.branch or DEFAULT_BRANCH
    try:
        workspace.sync(branch, depth=DEFAULT_DEPTH)
    except GitError:
        default = None if target.branch else workspace.remote_default_branch()
        if default is None or default == branch:
            raise
        branch = default
        workspace.sync(branch, depth=DEFAULT_DEPTH)
    if target.branch:
        return branch
    automations = load_config(workspace.path).automations
    wanted = automations[0].checkout_branch if len(automations) == 1 else None
    if wanted and wanted != branch:
        workspace.sync(wanted, depth=DEFAULT_DEPTH)
        return wanted
    return branch


def markers_now(root: Path) -> list[MarkerValue]:
    return read_markers(root)
