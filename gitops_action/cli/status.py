"""`gitops-action status`: the last reconcile's outcome and its Flux Kustomizations."""

from __future__ import annotations

import json

import click

from gitops_action.app.status import Status, read_status
from gitops_action.cli.output import output_option

_EPILOG = """\b
Examples:
  gitops-action status
  gitops-action status --namespace gitops-system --output json

\b
Reads the ConfigMap gitops-action-status that `reconcile` writes (only when an
outcome changes): each phase's result, and one row per Flux Kustomization the
sync phase ran, like `flux get kustomizations` (NAME, REVISION, READY, STATE,
MESSAGE). Exit codes: 0 printed; 1 no status yet; 2 bad flag; 3 bug.
"""


@click.command("status", epilog=_EPILOG)
@click.option(
    "--namespace",
    "-n",
    default="gitops-system",
    show_default=True,
    envvar="GITOPS_NAMESPACE",
    help="Where reconcile keeps its Lease, status and inventories.",
)
@click.option(
    "--kubeconfig", type=click.Path(dir_okay=False), default=None, help="Kubeconfig file."
)
@click.option("--context", default=None, help="Kubeconfig context to use.")
@output_option("text: a table per Kustomization; json: the status as data.")
def status(namespace: str, kubeconfig: str | None, context: str | None, output: str) -> None:
    """Print the last reconcile's phases and Flux Kustomizations (no writes)."""
    found = read_status(namespace, kubeconfig, context)
    if output == "json":
        click.echo(json.dumps(found.as_record(), indent=2))
        return
    _table(found)


def _table(found: Status) -> None:
    phases = ", ".join(f"{name} {result}" for name, result in found.phases.items())
    click.echo(f"last change {found.last_changed or '-'}: {phases or 'no phases'}", err=True)
    rows = [("NAME", "REVISION", "READY", "STATE", "MESSAGE")]
    for unit in found.kustomizations:
        revision = str(unit.get("revision") or "-")[:12]
        rows.append(
            (
                str(unit.get("name")),
                revision,
                "True" if unit.get("ready") else "False",
                str(unit.get("state")),
                str(unit.get("message") or ""),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        click.echo("  ".join([*cells, row[4]]).rstrip())
