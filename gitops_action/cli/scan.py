"""`gitops-action scan PATH`: per ImagePolicy, the tags, the selection, the markers, and why."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from gitops_action.adapters.registry import DEFAULT_RATE
from gitops_action.app.scan import ScanLine, ScanReport, scan_tree
from gitops_action.cli.output import configure_logging, output_option, table, verbose_option
from gitops_action.domain.errors import AutomationFailed

_EPILOG = """\b
For each ImagePolicy under PATH (the config repo checkout): its image, how
many tags the registry has, the tag the policy selects, the values its
$imagepolicy markers hold under PATH, and why. Nothing is written.

\b
Registry credentials: the ImageRepository secretRef (read through the
Kubernetes API in a cluster, or with GITOPS_KUBECONFIG), else the docker
config ($DOCKER_CONFIG/config.json, ~/.docker/config.json).
spec.insecure: true allows plain HTTP.

\b
Exit codes: 0 every policy scanned; 1 a policy failed (registry error, no
tag matches; the others are still reported); 2 bad config (named with its
file); 3 bug. See docs/automate.md.
"""


@click.command("scan", epilog=_EPILOG)
@click.argument(
    "path", type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)
)
@output_option("text: a table; json: a list of policy records.", envvar="GITOPS_OUTPUT")
@click.option(
    "--insecure-registry",
    "insecure_registries",
    multiple=True,
    envvar="GITOPS_INSECURE_REGISTRIES",
    show_envvar=True,
    metavar="HOST[:PORT]",
    help="Registry reached over plain HTTP even without spec.insecure (repeatable).",
)
@click.option(
    "--registry-rate",
    type=click.FloatRange(min=0),
    default=DEFAULT_RATE,
    show_default=True,
    envvar="GITOPS_REGISTRY_RATE",
    show_envvar=True,
    help="Registry requests per second per host, in bursts of as many (0: no limit).",
)
@verbose_option()
def scan(
    path: Path,
    output: str,
    insecure_registries: tuple[str, ...],
    registry_rate: float,
    verbose: bool,
) -> None:
    """Scan the registries of the ImagePolicies under PATH and show what each selects."""
    configure_logging(verbose)
    report = scan_tree(
        path,
        os.environ,
        insecure_registries=insecure_registries,
        registry_rate=registry_rate or None,
    )
    if output == "json":
        click.echo(json.dumps([line.as_record() for line in report.lines], indent=2))
    else:
        click.echo(render_text(report), nl=False)
    for notice in report.notices:
        click.echo(f"scan: note: {notice}", err=True)
    failed = report.failed
    for line in failed:
        click.echo(f"scan: {line.scan.ref} failed: {line.scan.error}", err=True)
    click.echo(
        f"scan: {len(report.lines)} policies, {len(failed)} failed, "
        f"{report.requests} registry requests",
        err=True,
    )
    if failed:
        first = failed[0].scan.error or ""
        raise AutomationFailed(f"{len(failed)} of {len(report.lines)} policies failed: {first}")


def render_text(report: ScanReport) -> str:
    rows = [["POLICY", "IMAGE", "TAGS", "SELECTED", "CURRENT", "STATUS", "WHY"]]
    rows += [_row(line) for line in report.lines]
    return table(rows)


def _row(line: ScanLine) -> list[str]:
    scan = line.scan
    current = ",".join(dict.fromkeys(value.tag or value.value for value in line.current)) or "-"
    return [
        str(scan.ref),
        scan.image,
        "-" if scan.tags is None else str(len(scan.tags)),
        scan.selected or "-",
        current,
        line.status,
        scan.reason(),
    ]
