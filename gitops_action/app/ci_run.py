"""Use case `ci run`: skip check, tests, build, log in, push, outputs, summary.

The order is the contract (DESIGN.md §3, docs/action.md):

1. **Skip check** (`should_skip.evaluate`, with PyGithub for pull requests).
   A skipped run touches nothing else: no tests, no docker call.
2. **Inputs** are checked before anything runs: image names, the git ref,
   build args, platforms, credentials, the context and Dockerfile (exit 2).
3. **Tests**: the user's command in the workspace. A failure stops the run
   before docker is even contacted: nothing is built or pushed.
4. **Builder and logins**: buildx's current builder, else the engine's
   BuildKit (`docker_build`); every registry host is logged in to (in a
   private `DOCKER_CONFIG`) before the build, so a wrong password fails in
   seconds and pushes nothing anywhere.
5. **Build** once with the OCI labels, naming every `IMAGE:TAG`; buildx
   pushes them together (one digest), the engine path pushes each.
6. **Report**: `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY` and (if asked) the
   `gitops-action/build` commit status are rendered from one `RunReport`,
   whatever happened; the failure, if any, is then raised by the CLI.

Every line printed passes the `Redactor`, which knows the registry password
and the API token.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from gitops_action.adapters import docker_build, docker_cli_config, shell
from gitops_action.app import ci_output, should_skip
from gitops_action.app.ci_output import Console
from gitops_action.domain import build_inputs
from gitops_action.domain.build_options import (
    BuildOptions,
    BuildResult,
    BuildSpec,
    RawBuildOptions,
    parse_build_options,
)
from gitops_action.domain.ci_report import RunReport
from gitops_action.domain.ci_tags import LatestMode, TagPlan, plan_tags
from gitops_action.domain.errors import (
    GitopsError,
    InvalidGitRef,
    ProjectTestsFailed,
    PushFailed,
)
from gitops_action.domain.refs import ImageName, parse_image_name


@dataclass(frozen=True)
class RunOptions:
    """The command's options, as given (flags or `GITOPS_*` variables)."""

    images: tuple[str, ...]
    test_command: str = ""
    context: str = "."
    file: str = ""
    build_args: tuple[str, ...] = ()
    target: str = ""
    build: RawBuildOptions = field(default_factory=RawBuildOptions)
    """The BuildKit inputs (platforms, cache, secrets, attestations, ...), as given."""
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
    options: BuildOptions
    secret_files: dict[str, str]
    push: bool
    push_reason: str
    username: str
    password: str
    login_hosts: tuple[str, ...]
    context_dir: str
    dockerfile: str
    target: str
    workspace: str


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
        ci_output.report_status(report, environ, console)
    ci_output.publish(report, environ, console)
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
    build_options = parse_build_options(options.build)
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
        options=build_options,
        secret_files=docker_build.locate_secret_files(build_options.secret_files, workspace),
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
    phases.current = "builder"
    _with_docker(plan, environ, console, report, phases)


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


def _with_docker(
    plan: RunPlan, environ: Mapping[str, str], console: Console, report: RunReport, phases: _Phases
) -> None:
    """Builder, logins, one build naming every tag, the pushes; all in a private DOCKER_CONFIG."""
    with docker_cli_config.private_config(environ) as config_dir:
        cli = docker_build.DockerCli(environ, console.redact, config_dir)
        with ThreadPoolExecutor(max_workers=1) as pool:
            detecting = pool.submit(
                cli.detect_builder, platforms=bool(plan.options.platforms)
            )  # meanwhile, the logins
            if plan.push and plan.login_hosts:
                with phases.phase("registry login"):
                    for host in plan.login_hosts:  # all of them before anything is pushed
                        cli.login(host, plan.username, plan.password)
                        console.info(f"logged in to {host} as {plan.username}")
            phases.current = "builder"
            builder = detecting.result()
        report.builder = builder.describe()
        console.info(f"building with {report.builder}")
        phases.current = "platform check"
        docker_build.check_platforms(plan.options.platforms, builder, plan.dockerfile)
        report.platform = ",".join(plan.options.platforms) or ",".join(builder.platforms[:1])
        spec = BuildSpec(
            context=plan.context_dir,
            dockerfile=plan.dockerfile,
            references=report.references,
            build_args=plan.build_args,
            target=plan.target,
            labels={**report.labels, **plan.options.labels},
            options=plan.options,
            secret_files=plan.secret_files,
            push=plan.push and builder.buildx,
        )
        with phases.phase("build"), console.group("Build"):
            result = cli.build(spec, builder, console.line)
        _record_build(report, result, console)
        if not plan.push:
            console.info(f"not pushed: {plan.push_reason}")
            return
        if builder.buildx:
            for reference in report.references:
                _record_push(report, console, reference, result.digest)
        else:
            with phases.phase("push"), console.group("Push"):
                for reference in report.references:
                    _record_push(report, console, reference, cli.push(reference, console.line))
        report.digest = report.digests[report.references[0]]


def _record_build(report: RunReport, result: BuildResult, console: Console) -> None:
    report.built = True
    report.image_id = result.image_id
    report.metadata = result.metadata
    report.steps, report.cached_steps = result.steps, result.cached_steps
    console.info(
        f"built {result.image_id[:19]} as {', '.join(report.references)} "
        f"({result.cached_steps} of {result.steps} steps cached)"
    )


def _record_push(report: RunReport, console: Console, reference: str, digest: str) -> None:
    if not digest:
        raise PushFailed(f"push of {reference} reported no digest")
    report.digests[reference] = digest
    report.pushed = (*report.pushed, reference)
    console.info(f"pushed {reference} ({digest})")


def _build_time(environ: Mapping[str, str]) -> float:
    """`SOURCE_DATE_EPOCH` when set (reproducible builds), else now."""
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    return float(value) if value.isdigit() else time.time()
