"""What the stand-in knows about the shape of lists, which is all apply and patch need.

Server-side apply merges a list by key only when the schema says it is a map-list
(`x-kubernetes-list-type: map`), treats `set` lists as sets of scalars, and replaces
every other ("atomic") list. Strategic merge patch uses the older `patchMergeKey`
annotations, which differ slightly (container ports merge by `containerPort` alone).
Built-in kinds get the handful of list types a workload manifest actually uses;
custom resources read theirs from the CRD's openAPIV3Schema, where lists are atomic
unless declared otherwise - as on a real server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FieldPath = tuple[str, ...]  # field names from the root, list items skipped


@dataclass(frozen=True)
class ListKind:
    kind: str  # "atomic" | "set" | "map"
    keys: tuple[str, ...] = ()


ATOMIC = ListKind("atomic")
SET = ListKind("set")

CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}

# Field name -> map-list keys, for the built-in lists a manifest uses.
_BUILTIN_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "volumes": ("name",),
    "env": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "resourceClaims": ("name",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "ownerReferences": ("uid",),
    "conditions": ("type",),
}

# Values a key field takes when an item leaves it out, as the OpenAPI defaults say.
KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}


class Shape:
    """List kinds of one resource type."""

    def __init__(self, kind: str, custom: bool, schema: dict[str, Any] | None) -> None:
        self.kind = kind
        self.custom = custom
        self.schema = schema

    def list_kind(self, path: FieldPath) -> ListKind:
        """How server-side apply treats the list at `path`."""
        if path == ("metadata", "finalizers"):
            return SET
        if path == ("metadata", "ownerReferences"):
            return ListKind("map", ("uid",))
        if self.custom:
            return _schema_list_kind(self.schema, path)
        name = path[-1] if path else ""
        if name == "ports":
            return self._ports(path, apply=True)
        keys = _BUILTIN_KEYS.get(name)
        return ListKind("map", keys) if keys else ATOMIC

    def merge_keys(self, path: FieldPath) -> ListKind:
        """How strategic merge patch treats the list at `path` (its patchMergeKey)."""
        if path == ("metadata", "finalizers"):
            return SET
        name = path[-1] if path else ""
        if name == "ports":
            return self._ports(path, apply=False)
        if name == "topologySpreadConstraints":
            return ListKind("map", ("topologyKey",))
        keys = _BUILTIN_KEYS.get(name)
        return ListKind("map", keys) if keys else ATOMIC

    def _ports(self, path: FieldPath, *, apply: bool) -> ListKind:
        parent = path[-2] if len(path) >= 2 else ""
        if parent in CONTAINER_LISTS:
            return ListKind("map", ("containerPort", "protocol") if apply else ("containerPort",))
        if self.kind == "Service" and path == ("spec", "ports"):
            return ListKind("map", ("port", "protocol") if apply else ("port",))
        return ATOMIC


def _schema_list_kind(schema: dict[str, Any] | None, path: FieldPath) -> ListKind:
    node = schema
    for name in path:
        if node is None:
            return ATOMIC
        while node.get("type") == "array" and isinstance(node.get("items"), dict):
            node = node["items"]
        props = node.get("properties") or {}
        if name in props:
            node = props[name]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return ATOMIC
    if node is None:
        return ATOMIC
    list_type = node.get("x-kubernetes-list-type")
    if list_type == "map":
        return ListKind("map", tuple(node.get("x-kubernetes-list-map-keys") or ()))
    if list_type == "set":
        return SET
    return ATOMIC


def item_key(item: Any, kind: ListKind) -> tuple[tuple[str, Any], ...] | None:
    """The identity of a map-list item: its key fields (defaults filled in), sorted."""
    if not isinstance(item, dict):
        return None
    pairs = []
    for key in kind.keys:
        if key in item:
            pairs.append((key, item[key]))
        elif key in KEY_DEFAULTS:
            pairs.append((key, KEY_DEFAULTS[key]))
    return tuple(sorted(pairs)) if pairs else None
