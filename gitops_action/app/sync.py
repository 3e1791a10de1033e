"""The `sync` use case: make the cluster hold what a Flux repository's tree holds.

`sync PATH` starts at the cluster path and renders the tree (`app.flux_tree`):
the path itself, and every Flux Kustomization found in it, each built with real
kustomize. Each such unit is then synced with its own inventory (prune never
touches another Kustomization's objects), in dependency order. A run, in the
order that keeps it safe to kill at any line (DESIGN.md §4):

1. **Render and check everything** (reads only): every Kustomization built and
   checked, every kind resolved against the API, duplicates across units
   refused. Any bad input anywhere stops the run here, with every problem
   named, before the first write.
2. **Plan** each unit (reads only): its inventory and live objects read, each
   object classed created / configured / unchanged locally (`domain.drift`),
   so unchanged objects cost no write. `--dry-run` stops here.
3. Then, unit by unit in dependency order (a unit whose dependency is not
   ready is held back, and says why; a suspended one is skipped):
   **grow the inventory** with the objects about to be created, before they
   are; **apply** (server-side, field manager `gitops-action`) what changed,
   in kind order; **prune** what the unit's previous inventory holds and git no
   longer does, only if the live object carries our apply entry; **shrink the
   inventory**; **wait** for what the unit waits for (`app.sync_run`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from gitops_action.adapters import kube as kube_adapter
from gitops_action.adapters import kustomize
from gitops_action.adapters.kube import Kube
from gitops_action.app.flux_tree import Tree, TreeInvalid, render
from gitops_action.app.sync_orphans import Orphan, execute_orphans, plan_orphans
from gitops_action.app.sync_run import UnitRun
from gitops_action.app.sync_units import (
    PlannedUnit,
    execute_units,
    live_variables,
    types_from_crds,
    unit_settings,
)
from gitops_action.domain import cluster_guard
from gitops_action.domain.errors import InvalidSyncInput, KubeApiError
from gitops_action.domain.install import split_install_render
from gitops_action.domain.inventory import InventoryRef
from gitops_action.domain.manifests import Manifest, ObjectId, canary_services, canary_targets
from gitops_action.domain.sync_plan import (
    DesiredObject,
    SyncResult,
    UnitResult,
    UnitState,
)


@dataclass(frozen=True)
class SyncOptions:
    path: Path
    dry_run: bool = False
    diff: bool = False
    prune: bool = True
    timeout: float = 120.0
    timeout_text: str = "2m"
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str = "default"
    inventory: InventoryRef = field(default_factory=InventoryRef)
    exclude_install: bool = True
    """Leave the tool's own install render out (`domain.install.split_install_render`),
    and never prune an object carrying its labels."""
    source_root: Path | None = None
    """The repository's root (Kustomization paths are relative to it); default: the git
    work tree holding `path`, else `path` itself."""
    include_flux_components: bool = False
    allow_cluster_admin_changes: bool = False
    """Apply objects `domain.cluster_guard` refuses (cluster-admin grants, kube-system)."""
    revision: str = ""
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)


Connect = Callable[[str | None, str | None], AbstractContextManager[Kube]]
Clock = Callable[[], float]


def source_root_of(path: Path) -> Path:
    """The nearest directory at or above `path` holding `.git`, else `path`."""
    start = path.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def sync(
    options: SyncOptions,
    *,
    connect: Connect = kube_adapter.connect,
    clock: Clock = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncResult:
    """One sync of the tree at `options.path`; the result says what happened.

    Raises ConfigError for bad input (nothing written), KubeApiError when the API
    refuses or fails. Unhealthy objects and held-back Kustomizations are reported in
    the result, not raised.
    """
    if not options.path.is_dir():
        raise InvalidSyncInput(f"{options.path}: not a directory (sync takes the cluster path)")
    root = options.source_root or source_root_of(options.path)
    rel = options.path.resolve().relative_to(root.resolve()).as_posix()
    binary = kustomize.find_binary(options.environ or os.environ)
    result = SyncResult(
        path=str(options.path), inventory=str(options.inventory), dry_run=options.dry_run
    )
    with connect(options.kubeconfig, options.context) as kube:
        tree = render(
            root,
            rel,
            binary=binary,
            live_variables=lambda kind, ns, name: live_variables(kube, kind, ns, name),
            include_flux_components=options.include_flux_components,
        )
        result.flux_components = tree.flux_components
        with ExitStack() as stack:
            runs, orphans = _prepare(kube, stack, tree, options, result, clock, sleep)
            if not options.dry_run:
                try:
                    execute_units(runs, result)
                    execute_orphans(kube, orphans)
                except KubeApiError as error:
                    if not result.applied:
                        raise  # nothing written yet: not part-way
                    raise SyncPartlyApplied(error, result) from error
    return result


class SyncPartlyApplied(KubeApiError):
    """The API failed part-way: the message and `result` say what was already applied."""

    def __init__(self, cause: KubeApiError, result: SyncResult) -> None:
        self.result = result
        done = ", ".join(item.display for item in result.applied)
        super().__init__(f"{cause}; applied before the failure: {done}")


@dataclass(frozen=True)
class Loaded:
    """The tree read and checked without a cluster: what would be applied, and the config
    objects set aside (`substituteFrom` objects missing from the tree read as absent)."""

    manifests: list[Manifest]
    skipped: list[Manifest]


def load(path: Path, environ: Mapping[str, str] | None = None) -> Loaded:
    """Render the tree at `path` offline (no cluster): every unit's objects."""
    root = source_root_of(path)
    tree = render(
        root,
        path.resolve().relative_to(root).as_posix(),
        binary=kustomize.find_binary(environ or os.environ),
        live_variables=lambda _kind, _ns, _name: None,
    )
    return Loaded(
        [m for unit in tree.units for m in unit.manifests],
        [m for unit in tree.units for m in unit.config],
    )


def _prepare(  # noqa: PLR0917 - the run's collaborators
    kube: Kube,
    stack: ExitStack,
    tree: Tree,
    options: SyncOptions,
    result: SyncResult,
    clock: Clock,
    sleep: Callable[[float], None],
) -> tuple[list[PlannedUnit], list[Orphan]]:
    """Resolve every unit (all problems at once), then plan each: reads only."""
    install_files: list[str] = []
    for unit in tree.units:
        if options.exclude_install:
            kept, left_out = split_install_render(unit.manifests)
            unit.manifests = kept
            install_files.extend(m.location.file for m in left_out)
    result.install_render = sorted(set(install_files))
    config = [m for unit in tree.units for m in unit.config]
    result.skipped = config
    canaries = canary_targets(config, options.namespace)
    services = canary_services(config, options.namespace)
    from_tree = types_from_crds([m for unit in tree.units for m in unit.manifests])
    planned: list[PlannedUnit] = []
    problems: list[str] = []
    owner: dict[ObjectId, tuple[str, Manifest]] = {}
    desired_by_unit = []
    for index, unit in enumerate(tree.units):
        settings = unit_settings(unit, index, options)
        applier = kube
        if unit.spec is not None and unit.spec.service_account:
            user = f"system:serviceaccount:{unit.spec.ref.namespace}:{unit.spec.service_account}"
            applier = stack.enter_context(kube.impersonating(user))
        run = UnitRun(kube, settings, result, clock, sleep, applier=applier)
        try:
            desired = run.resolve(unit.manifests, from_tree, canaries, services)
        except InvalidSyncInput as error:
            problems.append(f"{unit.name}: {error}")
            continue
        for item in desired:
            if item.id in owner and owner[item.id][0] != unit.name:
                first_unit, first = owner[item.id]
                problems.append(
                    f"{item.id} is applied by two Kustomizations: {first_unit} "
                    f"({first.location}) and {unit.name} ({item.location})"
                )
            owner[item.id] = (unit.name, item.manifest)
        if not options.allow_cluster_admin_changes:
            problems += _guarded(desired)
        record = UnitResult(
            name=unit.name,
            path=unit.path,
            inventory=str(settings.inventory),
            objects=len(desired),
            revision=options.revision,
            depends_on=tuple(str(d) for d in unit.spec.depends_on) if unit.spec else (),
        )
        desired_by_unit.append(desired)
        planned.append(PlannedUnit(unit, run, record))
    if problems:
        raise TreeInvalid(problems)
    everywhere = frozenset(owner)
    for step, wanted in zip(planned, desired_by_unit, strict=True):
        result.units.append(step.record)
        if step.unit.spec is not None and step.unit.spec.suspend:
            step.record.state = UnitState.SUSPENDED
            step.record.message = "suspended: nothing applied or pruned"
            continue
        mine = frozenset(d.id for d in wanted)
        step.run.plan(wanted, everywhere - mine)
    current = {step.run.options.inventory.name for step in planned}
    orphans = plan_orphans(
        kube, options.inventory, current, everywhere, result, clock, sleep, options.prune
    )
    return planned, orphans


def _guarded(desired: Sequence[DesiredObject]) -> list[str]:
    """One line per object the cluster guard refuses (defence in depth, docs/install.md)."""
    lines = []
    for item in desired:
        why = cluster_guard.refusal(item.body, item.id.namespace or None)
        if why is not None:
            lines.append(cluster_guard.message(str(item.location), item.id.kind, item.id.name, why))
    return lines
