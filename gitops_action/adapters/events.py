"""Kubernetes Events for what a reconcile run changed (`kubectl get events` shows them).

core/v1 Events, created (never applied) with `generateName`, each naming the
object it is about: the Deployment for canary promotions and rollbacks, the
status ConfigMap `gitops-action-status` for image bumps and holds (they are
about git, not about one cluster object). Events are created only when
something happened, so an idle run creates none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from gitops_action.adapters.kube import Kube
from gitops_action.domain.errors import KubeApiError
from gitops_action.domain.sync_plan import ResourceType

log = logging.getLogger("gitops_action.reconcile")

EVENTS: Final = ResourceType("", "v1", "Event", "events", True)
COMPONENT: Final = "gitops-action"
_MAX_MESSAGE: Final = 1024


@dataclass(frozen=True)
class Involved:
    """The object an Event is about."""

    api_version: str
    kind: str
    namespace: str
    name: str


@dataclass(frozen=True)
class Event:
    involved: Involved
    type: str  # Normal | Warning
    reason: str  # ImageBumped, HoldAdded, CanaryPromoted, CanaryRolledBack
    message: str


def record(kube: Kube, event: Event, now: datetime | None = None) -> bool:
    """Create the Event; False (and a warning) when the API refuses: an Event is a report,
    never a reason to fail the run."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    target = event.involved
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{target.name}.", "namespace": target.namespace},
        "involvedObject": {
            "apiVersion": target.api_version,
            "kind": target.kind,
            "name": target.name,
            "namespace": target.namespace,
        },
        "reason": event.reason,
        "message": event.message[:_MAX_MESSAGE],
        "type": event.type,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }
    try:
        kube.create(EVENTS, target.namespace, body)
    except KubeApiError as error:
        log.warning("could not record event %s: %s", event.reason, error)
        return False
    return True
