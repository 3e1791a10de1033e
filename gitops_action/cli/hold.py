"""`gitops-action hold POLICY TAG` and `release POLICY TAG`: holds by hand.

A hold is an anchored `exclusionList` entry (`^v1\\.1\\.0$`) in the policy's
ImageRepository, with a comment saying who held it and when; `release`
removes the entry and its comment. On a local checkout (`--dir`) the file is
edited and nothing is committed; with `--repo` the edit is a bot commit
pushed to the branch (re-done on the new head if the branch moves).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from gitops_action.adapters.git import validate_branch
from gitops_action.app.automate import normalise_path
from gitops_action.app.git_session import DEFAULT_TRIES
from gitops_action.app.holds import (
    HoldOutcome,
    HoldRequest,
    RepoTarget,
    edit_hold,
    edit_hold_in_repo,
)
from gitops_action.cli.output import configure_logging, env_option, output_option, verbose_option
from gitops_action.domain.errors import InvalidSetting
from gitops_action.domain.markers import PolicyRef

_EPILOG = """\b
POLICY is NS:NAME, as in the markers. Give either --dir (a checkout: the
file is edited, you commit it) or --repo (a bot commit is pushed; git
credentials as for automate: GITOPS_GIT_USERNAME/GITOPS_GIT_PASSWORD,
GITOPS_GIT_SSH_KEY, or the URL's own).

\b
Exit codes: 0 done (also when there was nothing to do); 1 git failed;
2 bad POLICY/TAG or config; 3 bug. See docs/automate.md.
"""


def _policy(value: str) -> PolicyRef:
    namespace, colon, name = value.partition(":")
    if not colon or not namespace or not name or ":" in name:
        raise InvalidSetting(f"POLICY {value!r}: expected NS:NAME (e.g. flux-system:app)")
    return PolicyRef(namespace, name)


def _options(command: click.Command) -> click.Command:
    for decorator in (  # applied in order: a Command appends each parameter
        [
            click.argument("policy"),
            click.argument("tag"),
            env_option(
                "--dir",
                "directory",
                envvar="GITOPS_DIR",
                type=click.Path(exists=True, file_okay=False, path_type=Path),
                help="A local checkout of the config repo (edited, not committed).",
            ),
            env_option(
                "--repo",
                envvar="GITOPS_REPO",
                metavar="URL",
                help="The config repo to commit the change to.",
            ),
            env_option(
                "--branch",
                envvar="GITOPS_BRANCH",
                metavar="B",
                help="With --repo [default: the automation's checkout branch, else main].",
            ),
            env_option(
                "--path",
                envvar="GITOPS_PATH",
                metavar="P",
                default=".",
                help="With --repo: the directory holding the Flux config [default: the repo root].",
            ),
            env_option(
                "--cache-dir",
                envvar="GITOPS_CACHE_DIR",
                type=click.Path(file_okay=False, path_type=Path),
                help="Clone cache, as for automate.",
            ),
            env_option(
                "--push-retries",
                "tries",
                type=click.IntRange(1),
                default=DEFAULT_TRIES,
                show_default=True,
                envvar="GITOPS_PUSH_RETRIES",
            ),
            env_option(
                "--by",
                envvar="GITOPS_ACTOR",
                default="",
                help="Who holds it, for the comment [default: $GITHUB_ACTOR or $USER].",
            ),
            env_option("--reason", default="", help="Why, for the comment and commit."),
            output_option(envvar="GITOPS_OUTPUT"),
            verbose_option(),
        ]
    ):
        command = decorator(command)
    return command


def _run(release: bool, **options: object) -> None:
    configure_logging(bool(options["verbose"]))
    directory = options["directory"]
    repo = options["repo"]
    if (directory is None) == (not repo):
        raise click.UsageError("give exactly one of --dir and --repo")
    by = str(options["by"] or os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "")
    request = HoldRequest(
        _policy(str(options["policy"])),
        str(options["tag"]),
        release=release,
        by=by,
        reason=str(options["reason"]),
    )
    if isinstance(directory, Path):
        outcome = edit_hold(directory, request)
    else:
        branch = options["branch"]
        target = RepoTarget(
            url=str(repo),
            branch=validate_branch(str(branch)) if branch else None,
            cache_dir=options["cache_dir"] if isinstance(options["cache_dir"], Path) else None,
            environ=dict(os.environ),
            path=normalise_path(str(options["path"])),
            tries=int(str(options["tries"])),
        )
        outcome = edit_hold_in_repo(target, request)
    _report(outcome, str(options["output"]))


def _report(outcome: HoldOutcome, output: str) -> None:
    if output == "json":
        click.echo(json.dumps(outcome.as_record(), indent=2))
    elif outcome.file:
        click.echo(outcome.file)
    where = f" in {outcome.file}" if outcome.file else ""
    commit = f", commit {outcome.commit[:7]} pushed" if outcome.commit else ""
    click.echo(
        f"{'release' if outcome.action in ('released', 'not held') else 'hold'}: "
        f"{outcome.policy} {outcome.tag}: {outcome.action} "
        f"(ImageRepository {outcome.repository}{where}{commit})",
        err=True,
    )
    if outcome.note:
        click.echo(f"note: {outcome.note}", err=True)


@_options
@click.command("hold", epilog=_EPILOG)
def hold(**options: object) -> None:
    """Hold POLICY off TAG: add ^TAG$ to its ImageRepository's exclusionList."""
    _run(False, **options)


@_options
@click.command("release", epilog=_EPILOG)
def release(**options: object) -> None:
    """Release a hold: remove ^TAG$ (and its comment) from the exclusionList."""
    _run(True, **options)
