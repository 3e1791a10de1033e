"""Flux Kustomizations that left git: their inventories, and what happens to their objects.

Each followed Kustomization's inventory ConfigMap records its owner, `deletionPolicy`
and `prune` (`domain.inventory.OWNER`). When a later sync no longer finds that
Kustomization in the tree, it does what kustomize-controller does when the
Kustomization object is deleted: `Delete` prunes its objects; `MirrorPrune` (the
default) and `WaitForTermination` prune them when `prune` was on; `Orphan` leaves
them. Objects now applied by another Kustomization are never pruned (they moved),
and only objects carrying our apply entry are (as for any prune). The inventory
ConfigMap is then deleted. `--dry-run` only plans.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_action.adapters.kube import Kube
from gitops_action.app.sync_run import CONFIGMAPS, Clock, UnitRun, UnitSettings
from gitops_action.domain.errors import KubeForbidden
from gitops_action.domain.inventory import DELETION_POLICY, OWNER, PRUNE, InventoryRef
from gitops_action.domain.manifests import ObjectId
from gitops_action.domain.sync_plan import SyncResult, UnitResult, UnitState


@dataclass
class Orphan:
    ref: InventoryRef
    run: UnitRun
    record: UnitResult


def plan_orphans(  # noqa: PLR0917 - the run's collaborators
    kube: Kube,
    base: InventoryRef,
    current: set[str],
    elsewhere: frozenset[ObjectId],
    result: SyncResult,
    clock: Clock,
    sleep: Callable[[float], None],
    allow_prune: bool = True,
) -> list[Orphan]:
    """Inventories of Kustomizations no longer in the tree, planned (reads only)."""
    try:
        listed = kube.list(CONFIGMAPS, base.namespace)
    except KubeForbidden:
        return []  # cannot list: nothing known to be orphaned
    orphans = []
    for configmap in listed:
        metadata: Mapping[str, Any] = configmap.get("metadata") or {}
        name = str(metadata.get("name") or "")
        annotations = metadata.get("annotations") or {}
        owner = annotations.get(OWNER)
        if not owner or not name.startswith(base.name + ".") or name in current:
            continue
        policy = str(annotations.get(DELETION_POLICY) or "MirrorPrune")
        prune = allow_prune and (
            policy == "Delete" or (policy != "Orphan" and str(annotations.get(PRUNE)) == "true")
        )
        ref = InventoryRef(base.namespace, name)
        settings = UnitSettings(
            name=str(owner),
            inventory=ref,
            namespace="default",
            prune=prune,
            diff=False,
            exclude_install=True,
            timeout=0,
            timeout_text="0s",
            wait="none",
        )
        run = UnitRun(kube, settings, result, clock, sleep)
        run.plan([], elsewhere)
        what = "its objects pruned" if prune else "its objects left in place"
        if result.dry_run:
            what = f"{what} (dry run)"
        record = UnitResult(
            name=str(owner),
            path="",
            inventory=str(ref),
            state=UnitState.DELETED,
            message=f"no longer in git: {what} (deletionPolicy {policy})",
        )
        result.units.append(record)
        orphans.append(Orphan(ref, run, record))
    return orphans


def execute_orphans(kube: Kube, orphans: list[Orphan]) -> None:
    for orphan in orphans:
        orphan.run.execute()
        kube.delete(CONFIGMAPS, orphan.ref.namespace, orphan.ref.name)
        orphan.record.ready = True
