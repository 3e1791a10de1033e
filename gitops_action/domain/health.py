"""Has a workload rolled out? Read from its status the way the controllers report it.

`readyReplicas` alone is not enough: right after an apply the status still
describes the previous generation, and during a rollout the old pods are
ready while the new ones crash. So, as `kubectl rollout status` and kstatus
do, a workload is healthy only when the controller has observed the current
generation (`observedGeneration >= generation`) and the updated (new
template) replicas are all there and available. A Deployment whose
Progressing condition is False with `ProgressDeadlineExceeded`, or a Job
with a `Failed` condition, has failed for good: waiting longer cannot help.

Kinds without a rollout (ConfigMaps, Services, ...) are healthy when applied.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

WORKLOADS: Final = frozenset(
    {("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("batch", "Job")}
)


class State(enum.Enum):
    HEALTHY = "healthy"
    PROGRESSING = "progressing"
    FAILED = "failed"


@dataclass(frozen=True)
class Health:
    state: State
    reason: str = ""

    @property
    def done(self) -> bool:
        return self.state is not State.PROGRESSING


HEALTHY: Final = Health(State.HEALTHY)


def has_rollout(group: str, kind: str) -> bool:
    return (group, kind) in WORKLOADS


def evaluate(group: str, kind: str, obj: Mapping[str, Any]) -> Health:
    """The health of a live object (healthy for kinds without a rollout)."""
    if (group, kind) not in WORKLOADS:
        return HEALTHY
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if kind == "Job":
        return _job(spec, status)
    generation = int((obj.get("metadata") or {}).get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    if observed < generation:
        return Health(State.PROGRESSING, f"controller has not observed generation {generation} yet")
    if kind == "Deployment":
        return _deployment(spec, status)
    if kind == "StatefulSet":
        return _statefulset(spec, status)
    return _daemonset(status)


def _count(status: Mapping[str, Any], field: str) -> int:
    """Status counts; the controllers omit zeros."""
    return int(status.get(field) or 0)


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for condition in status.get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == kind:
            return condition
    return None


def _deployment(spec: Mapping[str, Any], status: Mapping[str, Any]) -> Health:
    desired = int(spec.get("replicas", 1))
    updated = _count(status, "updatedReplicas")
    available = _count(status, "availableReplicas")
    total = _count(status, "replicas")
    progressing = _condition(status, "Progressing")
    suffix = ""
    if progressing is not None and progressing.get("status") == "False":
        suffix = f" (Progressing=False: {progressing.get('reason') or 'unknown'})"
    summary = f"{updated} of {desired} replicas updated, {available} available"
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Health(State.FAILED, summary + suffix)
    if spec.get("paused"):
        return HEALTHY  # a paused rollout is someone's decision; there is nothing to wait for
    if updated < desired or available < updated:
        return Health(State.PROGRESSING, summary + suffix)
    if total > updated:
        old = total - updated
        return Health(State.PROGRESSING, f"{old} old replicas pending termination" + suffix)
    return HEALTHY


def _statefulset(spec: Mapping[str, Any], status: Mapping[str, Any]) -> Health:
    desired = int(spec.get("replicas", 1))
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type") == "OnDelete":
        return HEALTHY  # pods only change when someone deletes them
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    updated = _count(status, "updatedReplicas")
    ready = _count(status, "readyReplicas")
    available = int(status.get("availableReplicas", ready) or 0)
    summary = f"{updated} of {desired - partition} replicas updated, {available} of {desired} ready"
    if updated < desired - partition or available < desired:
        return Health(State.PROGRESSING, summary)
    if partition == 0 and status.get("currentRevision") != status.get("updateRevision"):
        return Health(State.PROGRESSING, "waiting for the update revision to become current")
    return HEALTHY


def _daemonset(status: Mapping[str, Any]) -> Health:
    desired = _count(status, "desiredNumberScheduled")
    updated = _count(status, "updatedNumberScheduled")
    available = _count(status, "numberAvailable")
    if updated < desired or available < desired:
        return Health(
            State.PROGRESSING,
            f"{updated} of {desired} pods updated, {available} available",
        )
    return HEALTHY


def _job(spec: Mapping[str, Any], status: Mapping[str, Any]) -> Health:
    for kind, state in (("Failed", State.FAILED), ("Complete", State.HEALTHY)):
        condition = _condition(status, kind)
        if condition is not None and condition.get("status") == "True":
            reason = condition.get("reason") or kind
            message = condition.get("message") or ""
            return Health(state, f"{kind}: {reason}" + (f" ({message})" if message else ""))
    if spec.get("suspend"):
        return HEALTHY
    active, succeeded = _count(status, "active"), _count(status, "succeeded")
    completions = int(spec.get("completions") or 1)
    return Health(State.PROGRESSING, f"{succeeded} of {completions} completions, {active} active")
