"""Use case `ci run`: skip check, tests, build, log in, push, outputs, summary.

The order is the contract (DESIGN.md §3, docs/action.md):

1. **Skip check** (`should_skip.evaluate`, with PyGithub for pull requests).
   A skipped run touches nothing else: no tests, no docker call.
2. **Inputs** are checked before anything runs: image names, the git ref,
   build args, platforms, credentials, the context and Dockerfile (exit 2).
3. **Tests**: the user's command in the workspace. A failure stops the run
   before docker is even contacted: nothing is built or pushed.
4. **Engine and logins**: every registry host is logged in to before the
   build, so a wrong password fails in seconds and pushes nothing anywhere.
5. **Build** once with the OCI labels, tag every `IMAGE:TAG`, **push** each.
6. **Report**: `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY` and (if asked) the
   `gitops-action/build` commit status are rendered from one `RunReport`,
   whatever happened; the failure, if any, is then raised by the CLI.

Every line printed passes the `Redactor`, which knows the registry password
and the API token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from gitops_action.adapters import docker_build, github_api, github_env, shell
from gitops_action.app import should_skip
from gitops_action.domain import build_inputs
from gitops_action.domain.build_inputs import BuildSpec, Platform
from gitops_action.domain.ci_report import STATUS_CONTEXT, RunReport
from gitops_action.domain.ci_tags import LatestMode, TagPlan, plan_tags
from gitops_action.domain.errors import (
    GitHubApiError,
    GitopsError,
    InvalidGitRef,
    ProjectTestsFailed,
)
from gitops_action.domain.redact import Redactor
from gitops_action.domain.refs import ImageName, parse_image_name
from gitops_action.domain.summary import render_summary

MAX_PARALLEL_PUSHES = 4
"""Tags pushed at once after an image's first (manifest-only pushes; the engine is the limit)."""


@dataclass(frozen=True)
class RunOptions:
    """The command's options, as given (flags or `GITOPS_*` variables)."""

    images: tuple[str, ...]
    test_command: str = ""
    context: str = "."
    file: str = ""
    build_args: tuple[str, ...] = ()
    target: str = ""
    platforms: tuple[str, ...] = ()
    push: bool | None = None
    """None: push unless the event is a pull request."""
    latest: LatestMode = "auto"
    bots: tuple[str, ...] = ()
    registry: str = ""
    report_status: bool = False
    dry_run: bool = False
    """Check the inputs and plan; no tests, no docker, no outputs or summary written."""


@dataclass(frozen=True)
class RunPlan:
    """The inputs, checked: what will be built, where it goes, with which credentials."""

    images: tuple[ImageName, ...]
    tags: TagPlan
    build_args: dict[str, str]
    platform: Platform | None
    push: bool
    push_reason: str
    username: str
    password: str
    login_hosts: tuple[str, ...]
    context_dir: str
    dockerfile: str
    target: str
    workspace: str


class Console:
    """The run's log (stderr): every line redacted; workflow commands as the runner reads them."""

    def __init__(self, write: Callable[[str], None], redact: Redactor) -> None:
        self._write = write
        self.redact = redact

    def info(self, message: str) -> None:
        self._write(f"gitops-action: {self.redact.one_line(message)}")

    def line(self, text: str) -> None:
        self._write(self.redact(text))

    def annotate(self, level: str, message: str, title: str) -> None:
        text = self.redact.one_line(message)
        self._write(github_env.annotation(level, text, title=title))

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._write(github_env.group(self.redact.one_line(title)))
        try:
            yield
        finally:
            self._write(github_env.end_group())


class _Phases:
    """Wall time per phase, and which phase was running when something failed."""

    def __init__(self, report: RunReport) -> None:
        self._report = report
        self.current = "input check"

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.current = name
        started = time.monotonic()
        try:
            yield
        finally:
            spent = time.monotonic() - started
            self._report.timings[name] = self._report.timings.get(name, 0.0) + spent


def run(options: RunOptions, environ: Mapping[str, str], console: Console) -> RunReport:
    """Do the whole run; the report says what happened (`report.failure` if it failed)."""
    started = time.monotonic()
    report = RunReport(dry_run=options.dry_run)
    phases = _Phases(report)
    with phases.phase("skip check"):
        verdict = should_skip.evaluate(environ, options.bots)
    report.skip_reason = verdict.reason
    if verdict.skip:
        report.skipped = True
        console.info(f"skipped: {verdict.reason}")
    else:
        console.info(f"not skipped: {verdict.reason}")
        try:
            _build_and_push(options, environ, console, report, phases)
        except GitopsError as error:
            report.failure = error
            report.failed_phase = phases.current
    report.timings["total"] = time.monotonic() - started
    if options.dry_run:
        return report
    if options.report_status and not report.skipped:
        _report_status(report, environ, console)
    _publish(report, environ, console)
    return report


def plan_run(options: RunOptions, environ: Mapping[str, str]) -> RunPlan:
    """Check every input; raise a `ConfigError` naming the first bad one."""
    images = tuple(parse_image_name(image) for image in dict.fromkeys(options.images))
    ref, sha = environ.get("GITHUB_REF", ""), environ.get("GITHUB_SHA", "")
    if not ref or not sha:
        missing = "GITHUB_REF" if not ref else "GITHUB_SHA"
        raise InvalidGitRef(f"{missing} is not set: ci run builds the commit a workflow runs for")
    tags = plan_tags(ref, sha, options.latest)
    build_args = build_inputs.parse_build_args(options.build_args)
    platform = build_inputs.check_platform_count(
        build_inputs.split_platform_list(options.platforms)
    )
    push, push_reason = build_inputs.decide_push(options.push, environ.get("GITHUB_EVENT_NAME", ""))
    username = environ.get("GITOPS_REGISTRY_USERNAME", "").strip()
    password = environ.get("GITOPS_REGISTRY_PASSWORD", "")
    has_credentials = build_inputs.check_credentials(username, password)
    hosts = build_inputs.login_hosts(images, options.registry) if has_credentials else ()
    workspace = environ.get("GITHUB_WORKSPACE") or "."
    context_dir, dockerfile = docker_build.locate_build_files(
        options.context, options.file, workspace
    )
    return RunPlan(
        images=images,
        tags=tags,
        build_args=build_args,
        platform=platform,
        push=push,
        push_reason=push_reason,
        username=username,
        password=password,
        login_hosts=hosts,
        context_dir=context_dir,
        dockerfile=dockerfile,
        target=options.target.strip(),
        workspace=workspace,
    )


def _build_and_push(
    options: RunOptions,
    environ: Mapping[str, str],
    console: Console,
    report: RunReport,
    phases: _Phases,
) -> None:
    plan = plan_run(options, environ)
    report.ref, report.sha = plan.tags.ref.ref, plan.tags.sha
    report.references = tuple(plan.tags.references(plan.images))
    report.push, report.push_reason = plan.push, plan.push_reason
    report.labels = build_inputs.oci_labels(
        plan.tags,
        source=build_inputs.source_url(
            environ.get("GITHUB_SERVER_URL", ""), environ.get("GITHUB_REPOSITORY", "")
        ),
        created=build_inputs.rfc3339(_build_time(environ)),
    )
    if options.dry_run:
        report.test_command = options.test_command.strip()
        where = "pushed" if plan.push else f"not pushed ({plan.push_reason})"
        console.info(f"dry run: would build {', '.join(report.references)}, {where}")
        return
    if options.test_command.strip():
        report.test_command = options.test_command
        with phases.phase("tests"):
            _run_tests(options.test_command, plan.workspace, environ, console, report)
    phases.current = "docker engine"
    engine = docker_build.DockerEngine.connect(environ, console.redact)
    try:
        _with_engine(engine, plan, console, report, phases)
    finally:
        engine.close()


def _run_tests(
    command: str,
    workspace: str,
    environ: Mapping[str, str],
    console: Console,
    report: RunReport,
) -> None:
    with console.group("Tests"):
        code = shell.run_command(command, cwd=workspace, environ=environ, on_line=console.line)
    report.test_exit_code = code
    if code != 0:
        report.test_outcome = "failure"
        message = f"the test command exited with code {code}; nothing was built or pushed"
        console.annotate("error", message, title="gitops-action: tests failed")
        raise ProjectTestsFailed(f"tests failed: {message}")
    report.test_outcome = "success"
    console.info("tests passed")


def _with_engine(
    engine: docker_build.DockerEngine,
    plan: RunPlan,
    console: Console,
    report: RunReport,
    phases: _Phases,
) -> None:
    os_name, arch = engine.platform()
    phases.current = "platform check"
    platform = build_inputs.match_engine_platform(plan.platform, os_name, arch)
    report.platform = platform or f"{os_name}/{arch}"
    if plan.push and plan.login_hosts:
        with phases.phase("registry login"):
            for host in plan.login_hosts:  # all of them before anything is pushed
                engine.login(host, plan.username, plan.password)
                console.info(f"logged in to {host} as {plan.username}")
    spec = BuildSpec(
        context=plan.context_dir,
        dockerfile=plan.dockerfile,
        tag=report.references[0],
        build_args=plan.build_args,
        target=plan.target,
        labels=report.labels,
        platform=platform,
    )
    with phases.phase("build"), console.group("Build"):
        report.image_id = engine.build(spec, console.line)
        for image in plan.images:
            for tag in plan.tags.tags:
                if image.with_tag(tag) != spec.tag:  # the build named that one already
                    engine.tag(report.image_id, image.original, tag)
    report.built = True
    console.info(f"built {report.image_id[:19]} as {', '.join(report.references)}")
    if not plan.push:
        console.info(f"not pushed: {plan.push_reason}")
        return
    with phases.phase("push"), console.group("Push"):
        _push_all(engine, plan, console, report)


def _push_all(
    engine: docker_build.DockerEngine, plan: RunPlan, console: Console, report: RunReport
) -> None:
    """Push every tag of every image; the first digest is the `digest` output.

    Per image, the first tag goes alone: it uploads the layers. The other
    tags only need the registry to confirm those layers and store the
    manifest, so they go together, each with its log held back and printed
    whole. A failure is raised once every push in flight has finished,
    and `report.pushed` lists exactly what reached the registry.
    """
    for image in plan.images:
        first, *others = plan.tags.tags
        digest = engine.push(image.original, first, console.line)
        _record_push(report, console, image, first, digest)
        outcomes = _push_together(engine, image, others)
        for outcome in outcomes:
            for line in outcome.lines:
                console.line(line)
            if outcome.error is None:
                _record_push(report, console, image, outcome.tag, outcome.digest)
        failed = [outcome.error for outcome in outcomes if outcome.error is not None]
        if failed:
            raise failed[0]
    first_digest = report.digests[report.references[0]]
    report.digest = first_digest
    different = sorted({d for d in report.digests.values() if d != first_digest})
    if different:
        console.annotate(
            "warning",
            f"tags got different digests ({first_digest}, {', '.join(different)}); "
            "the output is the first",
            title="gitops-action: digests differ",
        )


@dataclass
class _PushOutcome:
    """One of the pushes made together: its log, held back, and its digest or error."""

    tag: str
    lines: list[str]
    digest: str = ""
    error: GitopsError | None = None


def _push_together(
    engine: docker_build.DockerEngine, image: ImageName, tags: list[str]
) -> list[_PushOutcome]:
    """Push the tags at once (threads: the work is waiting on the engine); results in tag order."""

    def push(tag: str) -> _PushOutcome:
        outcome = _PushOutcome(tag, [])
        try:
            outcome.digest = engine.push(image.original, tag, outcome.lines.append)
        except GitopsError as error:
            outcome.error = error
        return outcome

    if len(tags) <= 1:
        return [push(tag) for tag in tags]
    with ThreadPoolExecutor(max_workers=min(len(tags), MAX_PARALLEL_PUSHES)) as pool:
        return list(pool.map(push, tags))


def _record_push(
    report: RunReport, console: Console, image: ImageName, tag: str, digest: str
) -> None:
    reference = image.with_tag(tag)
    report.digests[reference] = digest
    report.pushed = (*report.pushed, reference)
    console.info(f"pushed {reference} ({digest})")


def _build_time(environ: Mapping[str, str]) -> float:
    """`SOURCE_DATE_EPOCH` when set (reproducible builds), else now."""
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    return float(value) if value.isdigit() else time.time()


def _report_status(report: RunReport, environ: Mapping[str, str], console: Console) -> None:
    """Set the `gitops-action/build` commit status; a failure here is a warning only.

    The image is pushed by now (or the run failed for its own reason): a
    status the API refuses must not turn a good release into a red one.
    """
    env = github_env.ActionsEnv.from_environ(environ)
    payload, _ = github_env.read_event(env.event_path)
    sha = _status_sha(env.event_name, payload, env.sha)
    if not env.token or not env.repository or not sha:
        note = "not set: report-status needs github-token, GITHUB_REPOSITORY and GITHUB_SHA"
        report.status_note = note
        console.annotate("warning", note, title="gitops-action: commit status")
        return
    state, description = report.status()
    try:
        github_api.create_commit_status(
            env.repository,
            sha,
            state=state,
            description=console.redact.one_line(description),
            context=STATUS_CONTEXT,
            target_url=_run_url(environ),
            token=env.token,
            base_url=env.api_url,
        )
    except GitHubApiError as error:
        report.status_note = f"not set: {error}"
        console.annotate("warning", str(error), title="gitops-action: commit status")
        return
    report.status_note = f"`{state}` set on `{sha[:7]}` as `{STATUS_CONTEXT}`"
    console.info(f"commit status {STATUS_CONTEXT} = {state} on {sha[:7]}")


def _status_sha(event_name: str, payload: Mapping[str, object] | None, sha: str) -> str:
    """The commit a status belongs on: a pull request's head, not its merge commit."""
    if event_name in build_inputs.PULL_REQUEST_EVENTS and payload:
        pull = payload.get("pull_request")
        head = pull.get("head") if isinstance(pull, dict) else None
        head_sha = head.get("sha") if isinstance(head, dict) else None
        if isinstance(head_sha, str) and head_sha:
            return head_sha
    return sha


def _run_url(environ: Mapping[str, str]) -> str:
    server = environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository, run_id = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_RUN_ID", "")
    if not (server and repository and run_id):
        return ""
    return f"{server}/{repository}/actions/runs/{run_id}"


def _publish(report: RunReport, environ: Mapping[str, str], console: Console) -> None:
    """Outputs and summary; a file that cannot be written is a warning, not a failure."""
    output_path = environ.get("GITHUB_OUTPUT", "")
    summary_path = environ.get("GITHUB_STEP_SUMMARY", "")
    writes: list[tuple[str, str, Callable[[], None]]] = []
    if output_path:
        outputs = report.outputs()
        writes.append(
            ("$GITHUB_OUTPUT", output_path, lambda: github_env.write_outputs(output_path, outputs))
        )
    if summary_path:
        markdown = console.redact(render_summary(report))
        writes.append(
            (
                "$GITHUB_STEP_SUMMARY",
                summary_path,
                lambda: github_env.append_step_summary(summary_path, markdown),
            )
        )
    for name, path, write in writes:
        try:
            write()
        except OSError as error:
            problem = f"could not write {name} ({path}): {error.strerror or error}"
            console.annotate("warning", problem, title="gitops-action")
