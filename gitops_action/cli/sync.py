"""`gitops-action sync`: apply the manifests under a path to the cluster."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gitops_action.app.sync import SyncOptions, SyncPartlyApplied
from gitops_action.app.sync import sync as run_sync
from gitops_action.cli.output import allow_cluster_admin_option, output_option
from gitops_action.domain.config_fields import Duration
from gitops_action.domain.errors import InvalidSyncInput, SyncUnhealthy
from gitops_action.domain.inventory import InventoryRef
from gitops_action.domain.manifests import skipped_summary
from gitops_action.domain.sync_plan import SyncResult

_EPILOG = """\b
Examples:
  gitops-action sync cluster
  gitops-action sync cluster --dry-run --diff
  gitops-action sync deploy/prod --timeout 5m --output json
  gitops-action sync cluster --kubeconfig ~/.kube/kind --context kind-dev --no-prune

\b
PATH is the cluster path of a Flux repository (flux bootstrap --path) or any
directory of manifests. It is built with real kustomize as Flux does (a
kustomization.yaml is generated where there is none); every Flux
Kustomization in the build is followed: its path built with its patches,
images, components, targetNamespace, postBuild substitution, applied after
its dependsOn are ready, with its own inventory (prune never touches another
Kustomization's objects). flux-system/gotk-components.yaml (Flux's own
controllers) is left out unless --include-flux-components. Flux, image
automation and Flagger kinds are configuration: never applied. Objects are applied
with server-side apply (field manager gitops-action), Namespaces and CRDs
first; unchanged objects are not written at all. Objects that left git are
pruned if sync applied them (inventory ConfigMap, --inventory). For a plain
path, Deployments, StatefulSets, DaemonSets and Jobs are waited for up to
--timeout; a Flux Kustomization waits as Flux does (wait: true, every object;
healthChecks, those; its own timeout), with kstatus rules. The tool's
own install render (the directory of a file with objects labelled
app.kubernetes.io/name: gitops-action, as `install --export` writes it) is
left out and its objects are never pruned, unless --include-install.

\b
Exit codes: 0 synced and healthy; 1 an object is unhealthy or timed out, a
Kustomization was held back, or the API refused a request (the objects already
applied are listed); 2 bad input anywhere in the tree (YAML, kustomize build,
Flux field, dependsOn cycle, missing substituteFrom, unknown kind, bad flag:
every problem named, nothing applied); 3 bug. See docs/sync.md and
docs/migrate-from-flux.md.
"""


@click.command("sync", epilog=_EPILOG)
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Show the plan (create/update/unchanged/prune); write nothing."
)
@click.option(
    "--diff", is_flag=True, help="Show a unified diff (live vs git) of each object to change."
)
@click.option(
    "--prune/--no-prune",
    default=True,
    show_default=True,
    help="Delete objects sync applied before that are no longer in git.",
)
@click.option(
    "--timeout",
    "timeout_text",
    default="2m",
    show_default=True,
    metavar="DURATION",
    help="How long to wait for workloads to become healthy (30s, 2m, 1h).",
)
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    default=None,
    help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster).",
)
@click.option("--context", default=None, help="Kubeconfig context to use.")
@click.option(
    "--namespace",
    "-n",
    default="default",
    show_default=True,
    help="Namespace for namespaced objects that name none.",
)
@click.option(
    "--inventory",
    "inventory_text",
    default=str(InventoryRef()),
    show_default=True,
    metavar="NAMESPACE/NAME",
    help="ConfigMap recording what sync applied (for prune).",
)
@click.option(
    "--exclude-install/--include-install",
    default=True,
    show_default=True,
    help="Leave the tool's own install render (RBAC, CronJob, Secret templates) out of sync.",
)
@click.option(
    "--include-flux-components",
    is_flag=True,
    help="Also apply Flux's own controllers (flux-system/gotk-components.yaml), left out by "
    "default.",
)
@allow_cluster_admin_option()
@output_option("text: one line per object; json: the result as data.")
def sync(  # noqa: PLR0917 - one parameter per option, as click passes them
    path: Path,
    dry_run: bool,
    diff: bool,
    prune: bool,
    timeout_text: str,
    kubeconfig: str | None,
    context: str | None,
    namespace: str,
    inventory_text: str,
    exclude_install: bool,
    allow_cluster_admin_changes: bool,
    include_flux_components: bool,
    output: str,
) -> None:
    """Apply the manifests under PATH to the cluster: server-side apply, prune, health."""
    timeout = Duration.parse(timeout_text)
    if timeout is None:
        raise InvalidSyncInput(f"--timeout {timeout_text!r}: expected a duration like 30s, 2m, 1h")
    options = SyncOptions(
        path=path,
        dry_run=dry_run,
        diff=diff,
        prune=prune,
        timeout=timeout.seconds,
        timeout_text=timeout.text,
        kubeconfig=kubeconfig,
        context=context,
        namespace=namespace,
        inventory=InventoryRef.parse(inventory_text),
        exclude_install=exclude_install,
        allow_cluster_admin_changes=allow_cluster_admin_changes,
        include_flux_components=include_flux_components,
    )
    try:
        result = run_sync(options)
    except SyncPartlyApplied as error:
        if output == "json":
            click.echo(json.dumps({**error.result.as_record(), "error": str(error)}, indent=2))
        raise
    if result.flux_components:
        files = ", ".join(result.flux_components)
        click.echo(
            f"sync: left out Flux's own controllers ({files}); --include-flux-components "
            "applies them",
            err=True,
        )
    if result.skipped:
        click.echo(f"sync: {skipped_summary(result.skipped)}", err=True)
    if result.install_render:
        files = ", ".join(result.install_render)
        click.echo(
            f"sync: left out the tool's own install render ({files}); --include-install applies it",
            err=True,
        )
    if result.left_to_canary:
        left = ", ".join(item.display for item in result.left_to_canary)
        click.echo(f"sync: left to the canary manager, not applied: {left}", err=True)
    if output == "json":
        click.echo(json.dumps(result.as_record(), indent=2))
    else:
        _render_text(result)
        if any(unit.depends_on or unit.name != unit.path for unit in result.units):
            for unit in result.units:
                click.echo(f"sync: kustomization {unit.text()}", err=True)
    click.echo(result.summary(), err=True)
    if not result.healthy:
        raise SyncUnhealthy(_unhealthy(result))


def _render_text(result: SyncResult) -> None:
    for item in result.objects:
        if item.diff:
            click.echo(item.diff, nl=not item.diff.endswith("\n"))
        click.echo(item.text(result.dry_run))


def _unhealthy(result: SyncResult) -> str:
    parts = [
        f"{item.id}: {item.health.reason}" for item in result.unhealthy if item.health is not None
    ]
    parts += [
        f"Kustomization {unit.name} {unit.state.value}: {unit.message}"
        for unit in result.units
        if unit.state.value in ("held", "failed")
    ]
    return "not healthy: " + "; ".join(parts)
