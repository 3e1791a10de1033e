"""The per-unit part of `sync`: each unit's settings from its Flux Kustomization, and
the run over the units in dependency order (held back while a dependency is not
ready, health checks, the per-Kustomization report)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from gitops_action.adapters.kube import Kube
from gitops_action.app.flux_tree import Unit
from gitops_action.app.sync_run import CONFIGMAPS, CRD_GROUP, UnitRun, UnitSettings
from gitops_action.app.sync_wait import wait, wait_external
from gitops_action.domain.health import State
from gitops_action.domain.inventory import DELETION_POLICY, OWNER, PRUNE, InventoryRef
from gitops_action.domain.manifests import Manifest, ObjectId
from gitops_action.domain.sync_plan import ResourceType, SyncResult, UnitResult, UnitState

if TYPE_CHECKING:
    from gitops_action.app.sync import SyncOptions

SECRETS: Final = ResourceType("", "v1", "Secret", "secrets", True)


@dataclass
class PlannedUnit:
    unit: Unit
    run: UnitRun
    record: UnitResult


def unit_settings(unit: Unit, index: int, options: SyncOptions) -> UnitSettings:
    spec = unit.spec
    inventory = options.inventory
    if index > 0 and spec is not None:
        name = f"{inventory.name}.{spec.ref.namespace}.{spec.ref.name}"
        inventory = InventoryRef(inventory.namespace, name)
    if spec is None:
        return UnitSettings(
            name=unit.name,
            inventory=inventory,
            namespace=options.namespace,
            prune=options.prune,
            diff=options.diff,
            exclude_install=options.exclude_install,
            timeout=options.timeout,
            timeout_text=options.timeout_text,
        )
    wait = "all" if spec.wait else ("checks" if spec.health_checks else "none")
    return UnitSettings(
        name=unit.name,
        inventory=inventory,
        namespace=options.namespace,
        prune=options.prune and spec.prune,
        diff=options.diff,
        exclude_install=options.exclude_install,
        timeout=spec.timeout.seconds,
        timeout_text=spec.timeout.text,
        wait=wait,
        force=spec.force,
        owner=None
        if index == 0
        else {
            OWNER: str(spec.ref),
            DELETION_POLICY: spec.deletion_policy,
            PRUNE: "true" if spec.prune else "false",
        },
    )


def execute_units(planned: Sequence[PlannedUnit], result: SyncResult) -> None:
    """Each unit in dependency order, after its dependencies are ready."""
    ready: dict[str, str] = {}  # unit name -> "" when ready, else why not
    for item in planned:
        record, unit = item.record, item.unit
        if record.state is UnitState.SUSPENDED:
            ready[record.name] = ""  # Flux: a suspended dependency still counts as Ready
            continue
        blocked = [f"{dep}: {ready[dep]}" for dep in record.depends_on if ready.get(dep)]
        if blocked:
            record.state = UnitState.HELD
            record.message = "dependency not ready: " + "; ".join(blocked)
            ready[record.name] = f"held back ({record.message})"
            continue
        item.run.execute()
        checks = _checks(unit)
        wait(item.run, (identity for _api, identity in checks))
        external = wait_external(item.run, checks)
        unhealthy = [
            o
            for o in result.objects
            if o.unit == record.name
            and o.health is not None
            and o.health.state is not State.HEALTHY
        ]
        # applied; a health check on an object it does not apply failing makes it failed
        record.state = UnitState.FAILED if external else UnitState.APPLIED
        record.ready = not unhealthy and not external
        if not record.ready:
            record.message = "; ".join(
                [f"{o.id}: {o.health.reason}" for o in unhealthy if o.health is not None]
                + [f"health check {line}" for line in external]
            )
            ready[record.name] = record.message
        else:
            record.message = f"applied revision {record.revision}" if record.revision else "applied"
            ready[record.name] = ""


def _checks(unit: Unit) -> list[tuple[str, ObjectId]]:
    if unit.spec is None:
        return []
    out = []
    for check in unit.spec.health_checks:
        group = check.api_version.rpartition("/")[0]
        out.append((check.api_version, ObjectId(group, check.kind, check.namespace, check.name)))
    return out


def live_variables(kube: Kube, kind: str, namespace: str, name: str) -> dict[str, str] | None:
    """A substituteFrom object's data from the cluster (None when it does not exist)."""
    resource = CONFIGMAPS if kind == "ConfigMap" else SECRETS
    live = kube.get(resource, namespace, name)
    if live is None:
        return None
    data = live.get("data") or {}
    if kind == "ConfigMap":
        return {str(k): str(v) for k, v in data.items()}
    out = {}
    for key, value in data.items():
        try:
            out[str(key)] = base64.b64decode(str(value)).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue
    return out


def types_from_crds(manifests: Iterable[Manifest]) -> dict[tuple[str, str], ResourceType]:
    """Kinds defined by CRDs in the tree, so their objects can be checked (and applied after
    the CRD) before the cluster serves them."""
    types: dict[tuple[str, str], ResourceType] = {}
    for manifest in manifests:
        if manifest.group != CRD_GROUP or manifest.kind != "CustomResourceDefinition":
            continue
        spec = manifest.body.get("spec") or {}
        names = spec.get("names") or {}
        group, kind, plural = spec.get("group"), names.get("kind"), names.get("plural")
        if not (isinstance(group, str) and isinstance(kind, str) and isinstance(plural, str)):
            continue
        namespaced = spec.get("scope", "Namespaced") == "Namespaced"
        for version in spec.get("versions") or []:
            if isinstance(version, Mapping) and version.get("served", True) and version.get("name"):
                name = str(version["name"])
                types[(f"{group}/{name}", kind)] = ResourceType(
                    group, name, kind, plural, namespaced
                )
    return types
