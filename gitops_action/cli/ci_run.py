"""`gitops-action ci run`: what the composite action runs (DESIGN.md §3).

Every option also reads `GITOPS_<OPTION>` because action inputs reach the
step as environment variables, never spliced into the script (that would be
script injection). List options (`GITOPS_IMAGE`, `GITOPS_BOT`,
`GITOPS_BUILD_ARG`, `GITOPS_PLATFORM`) take one value per line, as multi-line
action inputs arrive. Registry credentials are environment only
(`GITOPS_REGISTRY_USERNAME`, `GITOPS_REGISTRY_PASSWORD`): a flag would put the
password in the process list.

This module is imported only when `ci run` runs (it is a lazy subcommand of
`ci`). Build secrets (`GITOPS_SECRETS`, `id=value` lines) are environment
only too. The docker CLI is run only once the tests have passed.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from gitops_action.adapters import github_env, secret_env
from gitops_action.app import ci_output
from gitops_action.app import ci_run as use_case
from gitops_action.cli.output import output_option
from gitops_action.domain.build_inputs import parse_push_mode
from gitops_action.domain.build_options import RawBuildOptions
from gitops_action.domain.ci_tags import LatestMode
from gitops_action.domain.redact import Redactor, mask_values

SECRET_VARIABLES = secret_env.SECRET_VARIABLES
NOT_MASKED = frozenset({"ACTIONS_ID_TOKEN_REQUEST_URL"})
"""Kept from the tests, but not a secret to mask in the log (it is a URL)."""


class Lines(click.types.StringParamType):
    """A value per line when read from an environment variable (blank lines dropped)."""

    def split_envvar_value(self, rv: str) -> list[str]:
        return list(github_env.lines_of(rv))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(super().convert(value, param, ctx)).strip()


LINES = Lines()


@click.command("run", short_help="Skip check, tests, docker build and push, outputs, summary.")
@click.option(
    "--image",
    "images",
    multiple=True,
    required=True,
    type=LINES,
    envvar="GITOPS_IMAGE",
    metavar="IMAGE",
    help="Image repository without tag, e.g. ghcr.io/org/app (repeatable).",
)
@click.option(
    "--test-command",
    default="",
    envvar="GITOPS_TEST_COMMAND",
    metavar="CMD",
    help="Shell command run in the workspace before the build; failure stops the run.",
)
@click.option(
    "--context",
    default=".",
    show_default=True,
    envvar="GITOPS_CONTEXT",
    metavar="DIR",
    help="Build context directory (relative to the workspace).",
)
@click.option(
    "--file",
    default="",
    envvar="GITOPS_FILE",
    metavar="PATH",
    help="Dockerfile path (relative to the workspace). Default: CONTEXT/Dockerfile.",
)
@click.option(
    "--build-arg",
    "build_args",
    multiple=True,
    type=LINES,
    envvar=["GITOPS_BUILD_ARG", "GITOPS_BUILD_ARGS"],
    metavar="KEY=VALUE",
    help="Build argument (repeatable).",
)
@click.option(
    "--target",
    default="",
    envvar="GITOPS_TARGET",
    metavar="STAGE",
    help="Build this stage of a multi-stage Dockerfile.",
)
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    type=LINES,
    envvar=["GITOPS_PLATFORM", "GITOPS_PLATFORMS"],
    metavar="OS/ARCH",
    help="Target platform(s), comma-separated or repeated (several: an image index; buildx).",
)
@click.option(
    "--cache-from",
    multiple=True,
    type=LINES,
    envvar="GITOPS_CACHE_FROM",
    metavar="SPEC",
    help="Cache source, buildx syntax (type=registry,ref=...; type=gha; type=local,src=...).",
)
@click.option(
    "--cache-to",
    multiple=True,
    type=LINES,
    envvar="GITOPS_CACHE_TO",
    metavar="SPEC",
    help="Cache export, buildx syntax (type=registry,ref=...,mode=max; type=inline; ...).",
)
@click.option(
    "--secret-file",
    "secret_files",
    multiple=True,
    type=LINES,
    envvar="GITOPS_SECRET_FILES",
    metavar="ID=PATH",
    help="Build secret from a file (RUN --mount=type=secret,id=ID). Values: GITOPS_SECRETS only.",
)
@click.option(
    "--provenance",
    default="",
    envvar="GITOPS_PROVENANCE",
    metavar="VALUE",
    help="Provenance attestation: true, false or mode=min|max (buildx). Default: buildx's.",
)
@click.option(
    "--sbom",
    default="",
    envvar="GITOPS_SBOM",
    metavar="VALUE",
    help="SBOM attestation: true, false or generator=IMAGE (buildx).",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    type=LINES,
    envvar="GITOPS_LABELS",
    metavar="KEY=VALUE",
    help="Image label, added to the OCI labels set here (repeatable).",
)
@click.option(
    "--annotation",
    "annotations",
    multiple=True,
    type=LINES,
    envvar="GITOPS_ANNOTATIONS",
    metavar="[TYPE:]KEY=VALUE",
    help="OCI annotation (buildx --annotation; repeatable).",
)
@click.option(
    "--build-context",
    "build_contexts",
    multiple=True,
    type=LINES,
    envvar="GITOPS_BUILD_CONTEXTS",
    metavar="NAME=PATH",
    help="Additional build context (buildx --build-context; repeatable).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    envvar="GITOPS_NO_CACHE",
    help="Do not use the build cache.",
)
@click.option(
    "--pull",
    is_flag=True,
    envvar="GITOPS_PULL",
    help="Always pull newer base images.",
)
@click.option(
    "--network",
    default="",
    envvar="GITOPS_NETWORK",
    metavar="MODE",
    help="Network for RUN steps: default, none or host.",
)
@click.option(
    "--push/--no-push",
    default=None,
    help="Push the tags (GITOPS_PUSH=true|false|auto). Default auto: all but pull requests.",
)
@click.option(
    "--latest",
    type=click.Choice(["auto", "true", "false"]),
    default="auto",
    show_default=True,
    envvar="GITOPS_LATEST",
    help="Add `latest`: auto = non-prerelease SemVer tags only.",
)
@click.option(
    "--bot",
    "bots",
    multiple=True,
    type=LINES,
    envvar="GITOPS_BOT",
    metavar="NAME",
    help="A bot's git name, e-mail or login whose pushes are skipped (repeatable).",
)
@click.option(
    "--registry",
    default="",
    envvar="GITOPS_REGISTRY",
    metavar="HOST",
    help="Use the registry credentials for this host only. Default: every image's host.",
)
@click.option(
    "--report-status/--no-report-status", default=False, envvar="GITOPS_REPORT_STATUS",
    help="Set the commit status gitops-action/build (needs GITOPS_GITHUB_TOKEN).",
)  # fmt: skip
@click.option(
    "--dry-run",
    is_flag=True,
    help="Decide the skip, check every input, print the plan (tags, labels, push); "
    "run no tests, call no docker, write no outputs or summary.",
)
@output_option("text: name=value lines (the step outputs); json: the whole report as data.")
def run(
    *,
    images: tuple[str, ...],
    test_command: str,
    context: str,
    file: str,
    build_args: tuple[str, ...],
    target: str,
    platforms: tuple[str, ...],
    cache_from: tuple[str, ...],
    cache_to: tuple[str, ...],
    secret_files: tuple[str, ...],
    provenance: str,
    sbom: str,
    labels: tuple[str, ...],
    annotations: tuple[str, ...],
    build_contexts: tuple[str, ...],
    no_cache: bool,
    pull: bool,
    network: str,
    push: bool | None,
    latest: LatestMode,
    bots: tuple[str, ...],
    registry: str,
    report_status: bool,
    dry_run: bool,
    output: str,
) -> None:
    """Skip bot pushes, run the tests, build and push IMAGE:TAG for this git ref.

    Reads GITHUB_REF, GITHUB_SHA and the event as `ci should-skip` does; tags
    as `ci tags` computes them. Credentials: GITOPS_REGISTRY_USERNAME and
    GITOPS_REGISTRY_PASSWORD, for every image's registry (or --registry). The
    engine: DOCKER_HOST. Prints the outputs as name=value lines and writes
    them to $GITHUB_OUTPUT, with a summary in $GITHUB_STEP_SUMMARY.

    --dry-run stops after the skip decision and the input checks and prints
    the plan instead (skipped=, test-command=, push=, tag= and label= lines).

    Exit 0 when skipped or built (and pushed), 1 when tests, build, login or
    push failed, 2 for bad input.
    """
    if test_command.strip() and not dry_run:
        secret_env.shed_and_reexec()  # the tests must not find our secrets in /proc/$PPID
    environ = dict(os.environ)
    environ.update(secret_env.take_secrets())
    redact = Redactor()
    _mask_secrets(environ, redact)  # first thing: before anything could print them
    if push is None:
        push = parse_push_mode(environ.get("GITOPS_PUSH", ""))
    options = use_case.RunOptions(
        images=images,
        test_command=test_command,
        context=context or ".",
        file=file,
        build_args=build_args,
        target=target,
        build=RawBuildOptions(
            platforms=platforms,
            cache_from=cache_from,
            cache_to=cache_to,
            secrets=tuple(github_env.lines_of(environ.get("GITOPS_SECRETS", ""))),
            secret_files=secret_files,
            provenance=provenance,
            sbom=sbom,
            labels=labels,
            annotations=annotations,
            build_contexts=build_contexts,
            no_cache=no_cache,
            pull=pull,
            network=network,
        ),
        push=push,
        latest=latest,
        bots=bots,
        registry=registry,
        report_status=report_status,
        dry_run=dry_run,
    )
    console = ci_output.Console(lambda line: click.echo(line, err=True), redact)
    report = use_case.run(options, environ, console)
    if output == "json":
        click.echo(redact(json.dumps(report.as_record(), indent=2)))
    else:
        for line in report.plan_lines() if dry_run else report.stdout_lines():
            click.echo(redact(line))
    if report.failure is not None:
        raise report.failure


def _mask_secrets(environ: dict[str, str], redact: Redactor) -> None:
    """Register secrets with our redactor, and with the runner (`::add-mask::`) under Actions."""
    username = environ.get("GITOPS_REGISTRY_USERNAME", "").strip()
    for name in SECRET_VARIABLES:
        secret = environ.get(name, "") if name not in NOT_MASKED else ""
        values = [secret] if secret else []
        if name == "GITOPS_SECRETS":  # id=value lines: the values are the secrets
            values = [line.partition("=")[2] for line in github_env.lines_of(secret)]
        for value in filter(None, values):
            redact.add(value, username if name == "GITOPS_REGISTRY_PASSWORD" else "")
            if environ.get("GITHUB_ACTIONS") == "true":
                for part in mask_values(value):
                    github_env.emit(github_env.add_mask(part))
