"""The few Kubernetes calls canary analysis makes, on top of the sync's `Kube` connection.

Writes are server-side applies with the field manager ``gitops-action-canary``
(not the sync's ``gitops-action``): the sync applies a canary's target
without ``spec.replicas``, so the two managers never claim the same field
and neither run undoes the other. Reads come back as plain dicts.

Every write is skipped when the live object already says what we would write
(an idle run makes no write calls).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from gitops_action.adapters.kube import Kube
from gitops_action.domain.canary_objects import MANAGER
from gitops_action.domain.sync_plan import ResourceType

DEPLOYMENTS: Final = ResourceType("apps", "v1", "Deployment", "deployments", True)
SERVICES: Final = ResourceType("", "v1", "Service", "services", True)
CONFIG_MAPS: Final = ResourceType("", "v1", "ConfigMap", "configmaps", True)
EVENTS: Final = ResourceType("", "v1", "Event", "events", True)
HTTP_ROUTES: Final = ResourceType(
    "gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", True
)
HPAS: Final = ResourceType(
    "autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True
)
_BY_KIND: Final = {
    (r.api_version, r.kind): r
    for r in (DEPLOYMENTS, SERVICES, CONFIG_MAPS, EVENTS, HTTP_ROUTES, HPAS)
}


class CanaryCluster:
    """Typed-enough access for one run."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def get(self, resource: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        return self.kube.get(resource, namespace, name)

    def apply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply as ``gitops-action-canary`` (force: these objects are ours)."""
        resource = _BY_KIND[(str(body["apiVersion"]), str(body["kind"]))]
        return self.kube.apply(resource, body, field_manager=MANAGER)

    def apply_if_changed(self, body: Mapping[str, Any]) -> bool:
        """Apply unless every field of `body` already has that value live; True when applied."""
        resource = _BY_KIND[(str(body["apiVersion"]), str(body["kind"]))]
        metadata = body["metadata"]
        live = self.get(resource, str(metadata["namespace"]), str(metadata["name"]))
        if live is not None and _contains(live, body):
            return False
        self.apply(body)
        return True

    def scale(self, namespace: str, name: str, replicas: int) -> bool:
        """Set a Deployment's replicas (only that field is ours); True when it changed."""
        live = self.get(DEPLOYMENTS, namespace, name)
        if live is not None and (live.get("spec") or {}).get("replicas") == replicas:
            return False
        self.apply(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"replicas": replicas},
            }
        )
        return True

    def record_event(
        self, namespace: str, target: str, event_type: str, reason: str, message: str
    ) -> None:
        """A core/v1 Event on the target Deployment (`kubectl describe deploy` shows it)."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{target}.", "namespace": namespace},
            "involvedObject": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": target,
                "namespace": namespace,
            },
            "reason": reason,
            "message": message[:1024],
            "type": event_type,
            "source": {"component": "gitops-action"},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        self.kube.create(EVENTS, namespace, body)


def _contains(live: Any, wanted: Any) -> bool:
    """True when every value in `wanted` is in `live` (lists compared item by item)."""
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(
            _contains(live.get(key), value) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(live, list)
            and len(live) == len(wanted)
            and all(_contains(a, b) for a, b in zip(live, wanted, strict=True))
        )
    return bool(live == wanted)
