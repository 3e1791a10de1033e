"""One unit of a sync: the objects of one Flux Kustomization (or of a plain path) resolved,
planned against the cluster, applied, pruned against its own inventory, and waited for.

`app.sync` runs one `UnitRun` per unit of the tree, in dependency order; the
steps and the order that keeps a run safe to kill at any line are described
there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gitops_action.adapters import failpoints
from gitops_action.adapters.kube import Kube
from gitops_action.adapters.manifest_loader import render_yaml
from gitops_action.domain.drift import in_sync, object_diff, with_hash
from gitops_action.domain.errors import (
    InvalidSyncInput,
    KubeApiError,
    KubeForbidden,
    KubeInvalid,
    UnknownKind,
)
from gitops_action.domain.install import is_install_object
from gitops_action.domain.inventory import Entry, Inventory, InventoryRef, applied_by_us
from gitops_action.domain.manifests import (
    Manifest,
    ObjectId,
    apply_priority,
    clean_body,
    without_replicas,
)
from gitops_action.domain.sync_plan import (
    Action,
    DesiredObject,
    ObjectResult,
    ResourceType,
    SyncResult,
)

CONFIGMAPS: Final = ResourceType("", "v1", "ConfigMap", "configmaps", True)
NAMESPACES: Final = ResourceType("", "v1", "Namespace", "namespaces", False)
CRD_GROUP: Final = "apiextensions.k8s.io"
# A (type, namespace) with at least this many desired objects is read with one list
# instead of one get per object.
LIST_THRESHOLD: Final = 3
_FIRST_POLL: Final = 0.1
_MAX_POLL: Final = 2.0

Clock = Callable[[], float]


@dataclass(frozen=True)
class UnitSettings:
    """What differs between units: where the inventory lives, what is waited for, how long."""

    name: str  # the Kustomization (namespace/name), or the path
    inventory: InventoryRef
    namespace: str  # for namespaced objects that name none
    prune: bool
    diff: bool
    exclude_install: bool
    timeout: float
    timeout_text: str
    wait: str = "workloads"  # workloads | all | none | checks
    force: bool = False
    owner: dict[str, str] | None = None  # the inventory's owner annotations


@dataclass
class _Planned:
    desired: DesiredObject
    result: ObjectResult
    live: dict[str, Any] | None


@dataclass
class _Stale:
    entry: Entry
    resource: ResourceType
    result: ObjectResult


class UnitRun:
    """One unit's resolve, plan, write and wait. `kube` is the tool's own identity (the
    inventory, reads); `applier` applies and prunes the unit's objects (the same, or the
    Kustomization's ServiceAccount through impersonation)."""

    def __init__(  # noqa: PLR0917 - the unit's collaborators, passed once
        self,
        kube: Kube,
        settings: UnitSettings,
        result: SyncResult,
        clock: Clock,
        sleep: Callable[[float], None],
        applier: Kube | None = None,
    ) -> None:
        self.kube = kube
        self.applier = applier or kube
        self.options = settings
        self.result = result
        self.clock = clock
        self.sleep = sleep
        self.planned: list[_Planned] = []
        self.stale: list[_Stale] = []
        self.stored = Inventory()
        self.stored_exists = False

    # ------------------------------------------------------------ 1. resolve
    def resolve(
        self,
        manifests: Sequence[Manifest],
        from_tree: Mapping[tuple[str, str], ResourceType],
        canaries: frozenset[ObjectId],
        canary_services: frozenset[ObjectId],
    ) -> list[DesiredObject]:
        """Every manifest resolved to a resource and a body, ordered for apply."""
        types: dict[tuple[str, str], ResourceType] = {}
        desired: dict[ObjectId, DesiredObject] = {}
        for manifest in manifests:
            key = (manifest.api_version, manifest.kind)
            resource = types.get(key) or from_tree.get(key) or self.kube.resolve(*key)
            if resource is None:
                raise UnknownKind(
                    f"{manifest.location}: unknown kind {manifest.kind} in {manifest.api_version} "
                    "(the cluster does not serve it and no CustomResourceDefinition in the tree "
                    "defines it)"
                )
            types[key] = resource
            item = self._desired(manifest, resource, canaries)
            if item.id in canary_services:
                self.result.left_to_canary.append(item.id)
                continue
            if item.id in desired:
                raise InvalidSyncInput(
                    f"{item.id} is defined twice: {desired[item.id].location} and {item.location}"
                )
            desired[item.id] = item
        inventory = ObjectId(
            "", "ConfigMap", self.options.inventory.namespace, self.options.inventory.name
        )
        if inventory in desired:
            raise InvalidSyncInput(
                f"{desired[inventory].location}: {inventory} is sync's inventory; it cannot "
                "also come from git (choose another --inventory)"
            )
        return sorted(
            desired.values(),
            key=lambda d: (
                apply_priority(d.id.kind),
                d.id.kind,
                d.id.group,
                d.id.namespace,
                d.id.name,
            ),
        )

    def _desired(
        self, manifest: Manifest, resource: ResourceType, canaries: frozenset[ObjectId]
    ) -> DesiredObject:
        namespace = (manifest.namespace or self.options.namespace) if resource.namespaced else ""
        identity = ObjectId(resource.group, resource.kind, namespace, manifest.name)
        body = clean_body(manifest.body, namespace)
        if identity in canaries:
            body = without_replicas(body)
        return DesiredObject(manifest, resource, identity, with_hash(body))

    # --------------------------------------------------------------- 2. plan
    def plan(self, desired: Sequence[DesiredObject], elsewhere: frozenset[ObjectId]) -> None:
        """Classify each object, and the stale inventory entries; `elsewhere` are objects
        another unit of the tree applies: never pruned here (they moved)."""
        ref = self.options.inventory
        stored = self.kube.get(CONFIGMAPS, ref.namespace, ref.name)
        self.stored_exists = stored is not None
        self.stored = Inventory.from_configmap(stored, f"inventory ConfigMap {ref}")
        live = self._fetch(desired)
        for item in desired:
            have = live.get(item.id)
            action = (
                Action.CREATE
                if have is None
                else (Action.UNCHANGED if in_sync(item.body, have) else Action.UPDATE)
            )
            diff = ""
            if self.options.diff and action is not Action.UNCHANGED:
                diff = object_diff(item.id.display, have, item.body, render_yaml)
            report = ObjectResult(
                item.id,
                item.resource.api_version,
                action,
                item.location,
                diff=diff,
                unit=self.options.name,
            )
            self.planned.append(_Planned(item, report, have))
            self.result.objects.append(report)
        self._plan_prune({item.id for item in desired}, elsewhere)

    def _fetch(self, desired: Iterable[DesiredObject]) -> dict[ObjectId, dict[str, Any] | None]:
        """The live objects, with one list per (type, namespace) where that saves requests."""
        groups: dict[tuple[ResourceType, str], list[DesiredObject]] = defaultdict(list)
        for item in desired:
            groups[(item.resource, item.id.namespace)].append(item)
        live: dict[ObjectId, dict[str, Any] | None] = {}
        for (resource, namespace), items in groups.items():
            listed = self._list(resource, namespace) if len(items) >= LIST_THRESHOLD else None
            for item in items:
                if listed is not None:
                    live[item.id] = listed.get(item.id.name)
                else:
                    live[item.id] = self.kube.get(resource, namespace, item.id.name)
        return live

    def _list(self, resource: ResourceType, namespace: str) -> dict[str, dict[str, Any]] | None:
        """Objects by name, or None when RBAC allows `get` but not `list` (then: one get each)."""
        try:
            objects = self.kube.list(resource, namespace)
        except KubeForbidden:
            return None
        return {str(obj["metadata"]["name"]): obj for obj in objects}

    def _plan_prune(self, desired: set[ObjectId], elsewhere: frozenset[ObjectId]) -> None:
        """Stale entries (in the inventory, not in git) that are still ours, reverse order."""
        stale = [
            entry
            for entry in self.stored.entries
            if entry.id not in desired and entry.id not in elsewhere
        ]
        stale.sort(
            key=lambda e: (apply_priority(e.id.kind), e.id.kind, e.id.namespace, e.id.name),
            reverse=True,
        )
        for entry in stale:
            resource = self.kube.resolve(entry.api_version, entry.id.kind)
            if resource is None:
                continue  # the kind is gone (its CRD was deleted): so is the object
            live = self.kube.get(resource, entry.id.namespace, entry.id.name)
            if live is None:
                continue
            if entry.id in self.result.left_to_canary:
                self._keep(entry, "left to the canary manager; dropped from the inventory")
                continue
            if entry.id == ObjectId("", "Namespace", "", self.options.inventory.namespace):
                self._keep(entry, "holds the inventory; never pruned")
                continue
            if not applied_by_us(live):
                self._keep(entry, "not applied by gitops-action; dropped from the inventory")
                continue
            if self.options.exclude_install and is_install_object(live):
                self._keep(entry, "the tool's own install, left out of sync; never pruned")
                continue
            action = Action.PRUNE if self.options.prune else Action.KEEP
            note = "" if self.options.prune else "prune disabled"
            report = ObjectResult(
                entry.id, entry.api_version, action, note=note, unit=self.options.name
            )
            self.stale.append(_Stale(entry, resource, report))
            self.result.objects.append(report)

    def _keep(self, entry: Entry, note: str) -> None:
        """Report a stale entry that is left alone and leaves the inventory."""
        self.result.objects.append(
            ObjectResult(
                entry.id, entry.api_version, Action.KEEP, note=note, unit=self.options.name
            )
        )

    # ------------------------------------------------------------ 3-6. write
    def execute(self) -> None:
        desired = Inventory.of(
            Entry(p.desired.id, p.desired.resource.api_version) for p in self.planned
        )
        kept = Inventory.of(s.entry for s in self.stale if s.result.action is Action.KEEP)
        if not desired.ids <= self.stored.ids:
            self._store(self.stored.union(desired))
        for planned in self.planned:
            if planned.result.action in (Action.CREATE, Action.UPDATE):
                planned.live = self._apply(planned)
                self.result.applied.append(planned.desired.id)
                failpoints.hit("between-applies")
                if planned.desired.id.group == CRD_GROUP:
                    self._wait_established(planned.desired)
        for stale in self.stale:
            if stale.result.action is Action.PRUNE:
                self.applier.delete(stale.resource, stale.entry.id.namespace, stale.entry.id.name)
        final = desired.union(kept)
        if final != self.stored:
            self._store(final)

    def _apply(self, planned: _Planned) -> dict[str, Any]:
        """Server-side apply; with the Kustomization's `force: true`, an object the API
        refuses as invalid (an immutable field changed: a Job's template, a Service's
        clusterIP) is deleted and created again, as Flux does."""
        desired = planned.desired
        try:
            return self.applier.apply(desired.resource, desired.body)
        except KubeInvalid:
            if not self.options.force or planned.result.action is not Action.UPDATE:
                raise
        self.applier.delete(desired.resource, desired.id.namespace, desired.id.name)
        self._wait_gone(desired)
        planned.result.note = "recreated (force: an immutable field changed)"
        return self.applier.apply(desired.resource, desired.body)

    def _wait_gone(self, desired: DesiredObject) -> None:
        deadline = self.clock() + max(self.options.timeout, 30.0)
        delay = _FIRST_POLL
        while self.kube.get(desired.resource, desired.id.namespace, desired.id.name) is not None:
            if self.clock() >= deadline:
                raise KubeApiError(f"{desired.id} was not deleted in time to be recreated")
            self.sleep(delay)
            delay = min(delay * 2, _MAX_POLL)

    def _store(self, inventory: Inventory) -> None:
        ref = self.options.inventory
        if not self.stored_exists and self.kube.get(NAMESPACES, "", ref.namespace) is None:
            self.kube.apply(
                NAMESPACES,
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": ref.namespace},
                },
            )
        self.kube.apply(CONFIGMAPS, inventory.configmap(ref, self.options.owner))
        self.stored, self.stored_exists = inventory, True

    def _wait_established(self, crd: DesiredObject) -> None:
        """Custom resources of a new CRD can only be applied once it is Established."""
        deadline = self.clock() + self.options.timeout
        delay = _FIRST_POLL
        while True:
            live = self.kube.get(crd.resource, "", crd.id.name)
            conditions = ((live or {}).get("status") or {}).get("conditions") or []
            if any(
                c.get("type") == "Established" and c.get("status") == "True"
                for c in conditions
                if isinstance(c, Mapping)
            ):
                return
            if self.clock() >= deadline:
                raise KubeApiError(
                    f"{crd.id} was not Established within {self.options.timeout_text}"
                )
            self.sleep(delay)
            delay = min(delay * 2, _MAX_POLL)
