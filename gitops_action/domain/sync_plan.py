"""What a sync did (or, with --dry-run, would do), as data.

The CLI renders text lines and JSON from `SyncResult`; nothing here prints.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_action.domain.health import Health, State
from gitops_action.domain.manifests import Location, Manifest, ObjectId


@dataclass(frozen=True)
class ResourceType:
    """How the API serves a kind: its REST path pieces and scope."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str = "", name: str = "") -> str:
        """`/apis/apps/v1/namespaces/ns/deployments/name` (pieces left out when empty)."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base


@dataclass(frozen=True)
class DesiredObject:
    """A manifest resolved against the API: the body we apply and where it came from."""

    manifest: Manifest
    resource: ResourceType
    id: ObjectId
    body: Mapping[str, Any]  # what we send: cleaned, namespaced, hash-annotated

    @property
    def location(self) -> Location:
        return self.manifest.location


class Action(enum.Enum):
    CREATE = "created"
    UPDATE = "configured"
    UNCHANGED = "unchanged"
    PRUNE = "pruned"
    KEEP = "kept"  # stale (left git) but not deleted: --no-prune


@dataclass
class ObjectResult:
    """One object's line in the report."""

    id: ObjectId
    api_version: str
    action: Action
    location: Location | None = None
    health: Health | None = None
    diff: str = ""
    note: str = ""
    unit: str = ""  # the Flux Kustomization (namespace/name) or the path it belongs to

    def text(self, dry_run: bool) -> str:
        line = f"{self.id.display} {self.action.value}"
        notes = [self.note] if self.note else []
        if self.health is not None and self.health.state is not State.HEALTHY:
            notes.append(f"{self.health.state.value}: {self.health.reason}")
        if dry_run:
            notes.append("dry run")
        return line + "".join(f" ({note})" for note in notes)

    def as_record(self) -> dict[str, Any]:
        return {
            "id": self.id.ref,
            "apiVersion": self.api_version,
            "kind": self.id.kind,
            "namespace": self.id.namespace or None,
            "name": self.id.name,
            "action": self.action.value,
            "source": None if self.location is None else str(self.location),
            "health": None if self.health is None else self.health.state.value,
            "reason": None if self.health is None or not self.health.reason else self.health.reason,
            "note": self.note or None,
            "kustomization": self.unit or None,
            **({"diff": self.diff} if self.diff else {}),
        }


class UnitState(enum.Enum):
    APPLIED = "applied"
    PLANNED = "planned"  # dry run
    SUSPENDED = "suspended"
    HELD = "held"  # a dependency is not ready
    FAILED = "failed"
    DELETED = "deleted"  # the Kustomization left git (its deletionPolicy applied)


@dataclass
class UnitResult:
    """One Flux Kustomization's line, as `flux get kustomizations` shows it."""

    name: str
    path: str
    inventory: str
    state: UnitState = UnitState.PLANNED
    objects: int = 0
    ready: bool = False
    message: str = ""
    revision: str = ""
    depends_on: tuple[str, ...] = ()

    def as_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "inventory": self.inventory,
            "state": self.state.value,
            "ready": self.ready,
            "objects": self.objects,
            "revision": self.revision or None,
            "dependsOn": list(self.depends_on),
            "message": self.message or None,
        }

    def text(self) -> str:
        ready = "True" if self.ready else "False"
        return f"{self.name}\t{self.state.value}\tready={ready}\t{self.message or '-'}"


@dataclass
class SyncResult:
    """The whole run: per-object results in apply order, then prunes."""

    path: str
    inventory: str
    dry_run: bool
    objects: list[ObjectResult] = field(default_factory=list)
    skipped: Sequence[Manifest] = ()
    # In git, but created and owned by the canary manager (a Canary's Services).
    left_to_canary: list[ObjectId] = field(default_factory=list)
    # Files of the tool's own install render, left out (`sync --include-install` applies them).
    install_render: list[str] = field(default_factory=list)
    waited: bool = False
    # One entry per Flux Kustomization (or the plain path), in the order they ran.
    units: list[UnitResult] = field(default_factory=list)
    # Flux's own controllers (flux-system/gotk-components.yaml), left out.
    flux_components: list[str] = field(default_factory=list)
    # What this run wrote, in order (the part-way report when a later write fails).
    applied: list[ObjectId] = field(default_factory=list)

    @property
    def unhealthy(self) -> list[ObjectResult]:
        return [
            item
            for item in self.objects
            if item.health is not None and item.health.state is not State.HEALTHY
        ]

    @property
    def healthy(self) -> bool:
        return not self.unhealthy and not any(
            unit.state in (UnitState.HELD, UnitState.FAILED) for unit in self.units
        )

    def counts(self) -> dict[str, int]:
        counted = Counter(item.action for item in self.objects)
        return {action.value: counted.get(action, 0) for action in Action}

    def summary(self) -> str:
        counts = self.counts()
        parts = [
            f"{counts[action.value]} {action.value}"
            for action in Action
            if action in (Action.CREATE, Action.UPDATE, Action.UNCHANGED, Action.PRUNE)
        ]
        if counts[Action.KEEP.value]:
            parts.append(f"{counts[Action.KEEP.value]} kept (prune disabled)")
        line = f"sync: {', '.join(parts)}"
        if self.dry_run:
            return line + " (dry run: nothing written)"
        if not self.healthy:
            held = [u for u in self.units if u.state in (UnitState.HELD, UnitState.FAILED)]
            problems = [f"{len(self.unhealthy)} not healthy"] if self.unhealthy else []
            if held:
                problems.append(f"{len(held)} Kustomization(s) held back or failed")
            return line + "; " + ", ".join(problems)
        return line + ("; all healthy" if self.waited else "")

    def as_record(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "inventory": self.inventory,
            "dryRun": self.dry_run,
            "healthy": self.healthy,
            "counts": {**self.counts(), "skipped": len(self.skipped)},
            "leftToCanary": [item.display for item in self.left_to_canary],
            "installRenderLeftOut": list(self.install_render),
            "fluxComponentsLeftOut": list(self.flux_components),
            "kustomizations": [unit.as_record() for unit in self.units],
            "objects": [item.as_record() for item in self.objects],
            "skipped": [
                {
                    "apiVersion": manifest.api_version,
                    "kind": manifest.kind,
                    "namespace": manifest.namespace or None,
                    "name": manifest.name,
                    "source": str(manifest.location),
                }
                for manifest in self.skipped
            ],
        }
