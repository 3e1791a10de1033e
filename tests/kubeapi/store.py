"""Object storage: one resourceVersion counter, copies in and out, cascades.

Everything is kept as plain JSON-like dicts, keyed by (group, plural) then
(namespace, name), so all versions of a kind share storage as on a real server.
Every commit takes the next resourceVersion from one global counter, which is what
makes resourceVersion usable for optimistic concurrency. Reads hand out deep copies
so a caller can never change stored state by accident.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.kubeapi.resources import Registry, ResourceType

ObjKey = tuple[str, str]  # namespace, name
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class Clock:
    """Wall and monotonic time with an offset a test can advance instead of sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def wall(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def stamp(self) -> str:
        """RFC 3339 to the second, as metav1.Time serialises."""
        return self.wall().strftime("%Y-%m-%dT%H:%M:%SZ")

    def micro_stamp(self) -> str:
        """RFC 3339 with microseconds, as metav1.MicroTime serialises (Lease, Event)."""
        return self.wall().strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Store:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.registry = Registry()
        self._objects: dict[tuple[str, str], dict[ObjKey, dict[str, Any]]] = {}
        self._rv = 0
        # When each generation-keeping object last changed its spec (monotonic time);
        # controllers read this to know how long a rollout has been going on.
        self.spec_changed: dict[tuple[str, str, str, str], float] = {}
        self.commits_by_requests = 0

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def new_uid(self) -> str:
        return str(uuid.uuid4())

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self._objects.get(rt.storage_key, {}).get((namespace, name))
        return self._out(rt, obj) if obj is not None else None

    def list(self, rt: ResourceType, namespace: str | None) -> list[dict[str, Any]]:
        bucket = self._objects.get(rt.storage_key, {})
        keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
        return [self._out(rt, bucket[k]) for k in keys]

    def _out(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        out["apiVersion"] = rt.api_version
        out["kind"] = rt.kind
        return out

    def commit(
        self, rt: ResourceType, obj: dict[str, Any], *, by_request: bool = True
    ) -> dict[str, Any]:
        """Store `obj` under the next resourceVersion and return what was stored."""
        self._rv += 1
        if by_request:
            self.commits_by_requests += 1
        stored = copy.deepcopy(obj)
        stored["metadata"]["resourceVersion"] = str(self._rv)
        meta = stored["metadata"]
        self._objects.setdefault(rt.storage_key, {})[(meta.get("namespace", ""), meta["name"])] = (
            stored
        )
        if rt.kind == "CustomResourceDefinition" and rt.group == "apiextensions.k8s.io":
            self.registry.register_crd(stored)
        return self._out(rt, stored)

    def mark_spec_change(self, rt: ResourceType, namespace: str, name: str) -> None:
        self.spec_changed[(rt.group, rt.plural, namespace, name)] = self.clock.monotonic()

    def discard(
        self, rt: ResourceType, namespace: str, name: str, *, by_request: bool = True
    ) -> None:
        """Remove an object outright (no finalizers, no cascade: see Api.delete)."""
        self._objects.get(rt.storage_key, {}).pop((namespace, name), None)
        self.spec_changed.pop((rt.group, rt.plural, namespace, name), None)
        self._rv += 1
        if by_request:
            self.commits_by_requests += 1
        if rt.kind == "CustomResourceDefinition" and rt.group == "apiextensions.k8s.io":
            for custom in self.registry.unregister_crd(name):
                self._objects.pop(custom.storage_key, None)

    def all_objects(self) -> Iterator[tuple[ResourceType, dict[str, Any]]]:
        """Every stored object with a type that serves it (the preferred one per kind)."""
        seen: set[tuple[str, str]] = set()
        for rt in self.registry:
            if rt.storage_key in seen:
                continue
            seen.add(rt.storage_key)
            for key in sorted(self._objects.get(rt.storage_key, {})):
                yield rt, self._out(rt, self._objects[rt.storage_key][key])

    def namespace_exists(self, name: str) -> bool:
        return ("", name) in self._objects.get(("", "namespaces"), {})
