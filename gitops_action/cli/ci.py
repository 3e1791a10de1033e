"""`gitops-action ci ...`: the CI half's commands.

`tags` and `should-skip` live here. The group is a `LazyGroup`, so a heavier
subcommand (`ci run` needs docker) can live in its own module and be listed
in `SUBCOMMANDS` without being imported by `ci tags`. Nothing here imports
docker, kubernetes or github at import time.
"""

from __future__ import annotations

import json
import os

import click

from gitops_action.app import should_skip
from gitops_action.cli.lazy import LazyCommand, LazyGroup
from gitops_action.cli.output import output_option
from gitops_action.domain.ci_tags import LatestMode, plan_tags
from gitops_action.domain.refs import parse_image_name

SUBCOMMANDS: dict[str, LazyCommand] = {
    "run": LazyCommand(
        "gitops_action.cli.ci_run:run", "Skip check, tests, docker build and push, outputs."
    ),
}
"""Subcommands imported on first use: name -> LazyCommand("module:attr", summary)."""


@click.group(cls=LazyGroup, lazy=SUBCOMMANDS)
def ci() -> None:
    """CI half: image tags for a git ref, bot-commit skip, test-build-push."""


@ci.command("tags", short_help="Print IMAGE:TAG lines for a git ref and commit.")
@click.option(
    "--ref", required=True, help="Full git ref: refs/tags/T, refs/heads/B, refs/pull/N/merge."
)
@click.option("--sha", required=True, help="The commit being built (full SHA).")
@click.option(
    "--image",
    "images",
    multiple=True,
    required=True,
    help="Image repository without tag, e.g. ghcr.io/org/app (repeatable).",
)
@click.option(
    "--latest",
    type=click.Choice(["auto", "true", "false"]),
    default="auto",
    show_default=True,
    help="Add `latest`: auto = for non-prerelease SemVer tags only; never for branches or PRs.",
)
@output_option("text: IMAGE:TAG lines; json: the tags, labels and why.")
def tags(ref: str, sha: str, images: tuple[str, ...], latest: LatestMode, output: str) -> None:
    """Print the IMAGE:TAG references a build of SHA at REF pushes.

    refs/tags/v1.2.3 gives v1.2.3, latest and sha-<7 hex>; branches give the
    sanitised branch name and sha-<7 hex>; refs/pull/N/merge gives pr-N and
    sha-<7 hex>. Build metadata is dropped from the pushed tag (v3.0.0+build.7
    pushes v3.0.0) and kept in the org.opencontainers.image.version label.
    """
    names = tuple(parse_image_name(image) for image in dict.fromkeys(images))
    plan = plan_tags(ref, sha, latest)
    if latest == "true" and not plan.latest:
        click.echo(f"gitops-action: note: --latest true ignored: {plan.latest_reason}", err=True)
    if output == "json":
        click.echo(json.dumps(plan.document(names), indent=2))
    else:
        for reference in plan.references(names):
            click.echo(reference)


@ci.command("should-skip", short_help="Print skip=true|false: were all commits made by bots?")
@click.option(
    "--bot",
    "bots",
    multiple=True,
    metavar="NAME",
    help="A bot's git name, e-mail or GitHub login (repeatable; GITOPS_BOT adds a list).",
)
def should_skip_command(bots: tuple[str, ...]) -> None:
    """Print skip=true|false and a reason for this GitHub Actions run.

    Reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REF and GITHUB_ACTOR.
    Tag builds, workflow_dispatch, release and schedule are never skipped; a
    push whose commits were all authored or committed by bots is. Writes
    `skip` (and `reason`) to $GITHUB_OUTPUT when set. Always exits 0.
    """
    text, problem = should_skip.run(bots, os.environ)
    click.echo(text, nl=False)
    if problem:
        click.echo(f"gitops-action: warning: {problem}", err=True)
