"""`gitops-action update`: rewrite Flux `$imagepolicy` markers under a directory."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gitops_action.app.update import UpdatePlan, apply_update, plan_update
from gitops_action.cli.output import output_option
from gitops_action.domain.errors import FilesSkipped
from gitops_action.domain.markers import UpdateResult, parse_setting

_EPILOG = """\b
Markers (as in Flux image automation), on the line of the value they set:
  image: chripp/app:v1.0.0 # {"$imagepolicy": "flux-system:app"}
  repository: chripp/app   # {"$imagepolicy": "flux-system:app:name"}
  tag: v1.0.0              # {"$imagepolicy": "flux-system:app:tag"}
  digest: sha256:...       # {"$imagepolicy": "flux-system:app:digest"}

\b
Examples:
  gitops-action update cluster --set flux-system:app=chripp/app:v1.1.0
  gitops-action update . --set flux-system:app=127.0.0.1:5000/app:v2 --dry-run
  gitops-action update . --set ns:a=ghcr.io/o/a:1.2.0 --set ns:b=ghcr.io/o/b:3.0.1 --output json
  gitops-action update . --set ns:a=ghcr.io/o/a:1.2.0@sha256:<64 hex>

\b
Only the marked scalars change; comments, quoting, CRLF line ends and layout
stay byte for byte. A value that would read as a number, bool or null is
written double-quoted. As in Flux, a comment that mentions $imagepolicy but
is not a marker (not setter JSON, no namespace) is skipped with a warning,
and a marked file that is not valid YAML is skipped and named while the
other files are written (exit 1). --strict checks everything first: any
such problem and no file changes (exit 2).

\b
Exit codes: 0 done (changed or not); 1 a marked file was skipped or a file
could not be written; 2 bad --set, or (--strict) bad YAML or marker, nothing
written; 3 bug. See docs/update.md.
"""


@click.command("update", epilog=_EPILOG)
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    required=True,
    metavar="NS:NAME=IMAGE:TAG",
    help="The image a policy selected; repeatable. IMAGE:TAG splits at the last ':'; "
    "IMAGE:TAG@sha256:... also sets :digest markers.",
)
@click.option("--dry-run", is_flag=True, help="Print a unified diff; write nothing.")
@click.option(
    "--strict",
    is_flag=True,
    help="Lint mode: a marked file that is not YAML or a comment that is not a marker "
    "is an error (exit 2) and nothing is written.",
)
@output_option("text: changed files, one per line; json: the list of changes.")
def update(
    directory: Path, sets: tuple[str, ...], dry_run: bool, strict: bool, output: str
) -> None:
    """Set Flux image-policy markers in the *.yaml/*.yml and Kustomization files under DIRECTORY.

    Files whose bytes do not contain "$imagepolicy" are not read further.
    Paths printed are relative to DIRECTORY.
    """
    settings = [parse_setting(text) for text in sets]
    plan = plan_update(directory, settings, strict=strict)
    result = plan.result if dry_run else apply_update(plan)
    if output == "json":
        click.echo(json.dumps([change.as_record() for change in result.changes], indent=2))
    elif dry_run:
        click.echo(plan.diff(), nl=False)
    else:
        for file in result.files:
            click.echo(file)
    _problems(plan)
    click.echo(_summary(result, scanned=len(plan.files), dry_run=dry_run), err=True)
    if plan.skipped:
        raise FilesSkipped(
            f"{_count(len(plan.skipped), 'marked file')} skipped (not valid YAML); "
            "the other files were updated"
        )


def _problems(plan: UpdatePlan) -> None:
    for warning in plan.warnings:
        click.echo(f"update: warning: {warning}", err=True)
    for problem in plan.skipped:
        click.echo(f"update: skipped: {problem}", err=True)


_SHOWN = 3  # images named in the summary line; it must stay one line


def _summary(result: UpdateResult, *, scanned: int, dry_run: bool) -> str:
    if not result:
        return f"update: nothing to change ({_count(scanned, 'marked file')} scanned)"
    verb = "would update" if dry_run else "updated"
    markers, files = _count(len(result.changes), "marker"), _count(len(result.files), "file")
    images = list(result.images[:_SHOWN])
    if len(result.images) > _SHOWN:
        images.append(f"{len(result.images) - _SHOWN} more")
    return f"update: {verb} {markers} in {files} ({', '.join(images)})"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
