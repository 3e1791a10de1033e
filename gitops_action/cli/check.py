"""`gitops-action check`: validate a config repository offline, every problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gitops_action.app.check import check_repository
from gitops_action.cli.output import output_option
from gitops_action.domain.check import CheckReport
from gitops_action.domain.errors import CheckFailed

_EPILOG = """\b
Reads (no cluster, registry or network): Flux ImageRepository, ImagePolicy and
ImageUpdateAutomation objects (ranges, regexes, templates), Flux
Kustomizations (as sync reads them), HelmReleases (a name and a chart),
Flagger Canaries and MetricTemplates, and every $imagepolicy marker (setter
JSON, namespace, a policy the repository defines).

\b
Examples:
  gitops-action check
  gitops-action check clusters/production --output json

\b
Exit codes: 0 no problem (nothing printed); 2 problems (one line each on
stdout, file, document and field named); 3 bug. See docs/action.md for a
pull-request check of a config repository.
"""


@click.command("check", epilog=_EPILOG)
@click.argument(
    "path",
    required=False,
    default=".",
    type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path),
)
@output_option("text: one problem a line; json: {ok, files, objects, problems}.")
def check(path: Path, output: str) -> None:
    """Validate the Flux and Flagger config under PATH (default: .) offline."""
    report = check_repository(path)
    if output == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for found in report.problems:
            click.echo(found.message)
    if not report.ok:
        raise CheckFailed(_summary(report))


def _summary(report: CheckReport) -> str:
    files = len({found.file for found in report.problems})
    count = len(report.problems)
    return (
        f"check: {count} problem{'' if count == 1 else 's'} in "
        f"{files} file{'' if files == 1 else 's'}"
    )
