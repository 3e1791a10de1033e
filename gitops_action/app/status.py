"""`gitops-action status`: what the last reconcile that changed something recorded.

Reads the status ConfigMap `gitops-action-status` (written by `reconcile`,
docs/reconcile.md): its phases, and one entry per Flux Kustomization the sync
phase ran (`kustomizations.json`), as `flux get kustomizations` shows them.
Reads only; nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from gitops_action.adapters import kube as kube_adapter
from gitops_action.adapters.kube import Kube
from gitops_action.app.reconcile import CONFIG_MAPS, STATUS_NAME
from gitops_action.domain.errors import OperationFailed

Connect = Callable[[str | None, str | None], AbstractContextManager[Kube]]


class NoStatus(OperationFailed):
    """No status ConfigMap yet: reconcile has not run (or not in this namespace)."""


@dataclass
class Status:
    namespace: str
    last_changed: str = ""
    exit_code: str = ""
    phases: dict[str, str] = field(default_factory=dict)  # phase -> result
    kustomizations: list[dict[str, Any]] = field(default_factory=list)

    def as_record(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "lastChanged": self.last_changed or None,
            "exitCode": int(self.exit_code) if self.exit_code.isdigit() else None,
            "phases": self.phases,
            "kustomizations": self.kustomizations,
        }


def read_status(
    namespace: str,
    kubeconfig: str | None = None,
    context: str | None = None,
    *,
    connect: Connect = kube_adapter.connect,
) -> Status:
    with connect(kubeconfig, context) as kube:
        live = kube.get(CONFIG_MAPS, namespace, STATUS_NAME)
    if live is None:
        raise NoStatus(
            f"no ConfigMap {namespace}/{STATUS_NAME}: reconcile has not run in this namespace"
        )
    data = live.get("data") or {}
    phases = {
        key.removesuffix(".result"): str(value)
        for key, value in data.items()
        if key.endswith(".result")
    }
    try:
        units = json.loads(data.get("kustomizations.json") or "[]")
    except json.JSONDecodeError:
        units = []
    return Status(
        namespace=namespace,
        last_changed=str(data.get("lastChanged") or ""),
        exit_code=str(data.get("exitCode") or ""),
        phases=phases,
        kustomizations=[u for u in units if isinstance(u, dict)],
    )
