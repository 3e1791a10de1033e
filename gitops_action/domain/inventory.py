"""The inventory: which objects `sync` applied, kept in the cluster itself.

It is a ConfigMap (default `gitops-system/gitops-action-inventory`) whose
`data.objects` lists one object per line as `apiVersion/kind/namespace/name`
(namespace empty for cluster-scoped objects: `v1/Namespace//team`). Lines are
sorted, so the ConfigMap only changes when the set does, and `kubectl get cm
-o yaml` is enough to see what sync owns.

Pruning is safe by construction (see `app.sync`): the inventory is only ever
a superset of what sync applied (new objects are added before they are
applied), objects are pruned only when they are in the previous inventory and
no longer in git, and a pruned object must also carry `gitops-action`'s apply
entry in its managedFields, so nothing sync did not apply (`kube-root-ca.crt`,
the `default` ServiceAccount, whatever kubectl created) is ever deleted, even
if someone edits the ConfigMap by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gitops_action.domain.errors import InvalidManifest, InvalidSyncInput
from gitops_action.domain.manifests import FIELD_MANAGER, ObjectId, split_api_version

DEFAULT_NAMESPACE: Final = "gitops-system"
DEFAULT_NAME: Final = "gitops-action-inventory"
DATA_KEY: Final = "objects"
# On a Flux Kustomization's inventory: which Kustomization owns it, its deletionPolicy and
# prune, so a run that no longer finds the Kustomization in git can act as Flux would.
OWNER: Final = "gitops-action/kustomization"
DELETION_POLICY: Final = "gitops-action/deletion-policy"
PRUNE: Final = "gitops-action/prune"
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": FIELD_MANAGER}


@dataclass(frozen=True, order=True)
class Entry:
    """One inventoried object: its identity and the API version it was applied with."""

    id: ObjectId
    api_version: str

    @property
    def line(self) -> str:
        return f"{self.api_version}/{self.id.kind}/{self.id.namespace}/{self.id.name}"

    @classmethod
    def parse(cls, line: str, where: str) -> Entry:
        parts = line.split("/")
        if len(parts) == 5:
            api_version, rest = f"{parts[0]}/{parts[1]}", parts[2:]
        elif len(parts) == 4:
            api_version, rest = parts[0], parts[1:]
        else:
            raise InvalidManifest(
                f"{where}: inventory line {line!r} is not apiVersion/kind/ns/name"
            )
        kind, namespace, name = rest
        if not (kind and name and api_version):
            raise InvalidManifest(
                f"{where}: inventory line {line!r} is not apiVersion/kind/ns/name"
            )
        group = split_api_version(api_version)[0]
        return cls(ObjectId(group, kind, namespace, name), api_version)


@dataclass(frozen=True)
class InventoryRef:
    """Where the inventory ConfigMap lives."""

    namespace: str = DEFAULT_NAMESPACE
    name: str = DEFAULT_NAME

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> InventoryRef:
        namespace, slash, name = text.partition("/")
        if not slash or not namespace or not name or "/" in name:
            raise InvalidSyncInput(f"--inventory {text!r}: expected NAMESPACE/NAME")
        return cls(namespace, name)


@dataclass(frozen=True)
class Inventory:
    """A set of entries keyed by object identity (one API version per object)."""

    entries: frozenset[Entry] = frozenset()

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Inventory:
        by_id: dict[ObjectId, Entry] = {}
        for entry in entries:
            by_id[entry.id] = entry  # a later entry (the newer apiVersion) wins
        return cls(frozenset(by_id.values()))

    @property
    def ids(self) -> frozenset[ObjectId]:
        return frozenset(entry.id for entry in self.entries)

    def union(self, other: Inventory) -> Inventory:
        """Both sets; where an object is in both, `other`'s entry (the newer) wins."""
        return Inventory.of([*sorted(self.entries), *sorted(other.entries)])

    def without(self, ids: Iterable[ObjectId]) -> Inventory:
        drop = set(ids)
        return Inventory(frozenset(e for e in self.entries if e.id not in drop))

    def encode(self) -> str:
        return "".join(f"{line}\n" for line in sorted(entry.line for entry in self.entries))

    @classmethod
    def decode(cls, text: str, where: str) -> Inventory:
        return cls.of(
            Entry.parse(line.strip(), where) for line in text.splitlines() if line.strip()
        )

    @classmethod
    def from_configmap(cls, configmap: Mapping[str, Any] | None, where: str) -> Inventory:
        if configmap is None:
            return cls()
        data = configmap.get("data") or {}
        return cls.decode(str(data.get(DATA_KEY) or ""), where)

    def configmap(
        self, ref: InventoryRef, annotations: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The ConfigMap to apply for this inventory (`annotations`: what a later run needs
        to know about its owner once the owner is gone, see `OWNER`)."""
        metadata: dict[str, Any] = {
            "name": ref.name,
            "namespace": ref.namespace,
            "labels": dict(MANAGED_BY),
        }
        if annotations:
            metadata["annotations"] = dict(annotations)
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata,
            "data": {DATA_KEY: self.encode()},
        }


def applied_by_us(live: Mapping[str, Any]) -> bool:
    """True when the live object has an Apply entry from our field manager: the last line of
    defence against pruning what sync never applied."""
    managed = (live.get("metadata") or {}).get("managedFields") or []
    return any(
        isinstance(entry, Mapping)
        and entry.get("manager") == FIELD_MANAGER
        and entry.get("operation") == "Apply"
        for entry in managed
    )
