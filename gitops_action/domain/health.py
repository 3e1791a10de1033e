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
from collections.abc import Callable, Mapping
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


def evaluate_any(group: str, kind: str, obj: Mapping[str, Any]) -> Health:
    """kstatus rules for every kind, as Flux's `wait: true` and health checks apply them.

    Workloads as `evaluate`; a PersistentVolumeClaim when Bound; a LoadBalancer
    Service when it has an ingress address; a CRD when Established; an APIService
    when Available; anything else by its standard conditions (`Stalled` True has
    failed; `Reconciling` True or `Ready` not True is in progress) once its
    controller has observed the current generation. An object with no status
    conventions is healthy once it exists.
    """
    if (group, kind) in WORKLOADS:
        return evaluate(group, kind, obj)
    status = obj.get("status") or {}
    rule = _KIND_RULES.get((group, kind))
    return rule(obj.get("spec") or {}, status) if rule else _conditions(obj, status)


def _pvc(_spec: Mapping[str, Any], status: Mapping[str, Any]) -> Health:
    phase = status.get("phase")
    if phase == "Bound":
        return HEALTHY
    return Health(State.PROGRESSING, f"phase {phase or 'unknown'}, waiting for Bound")


def _service(spec: Mapping[str, Any], status: Mapping[str, Any]) -> Health:
    if spec.get("type") == "LoadBalancer" and not (status.get("loadBalancer") or {}).get("ingress"):
        return Health(State.PROGRESSING, "waiting for a load balancer address")
    return HEALTHY


def _condition_true(name: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Health]:
    def rule(_spec: Mapping[str, Any], status: Mapping[str, Any]) -> Health:
        condition = _condition(status, name)
        if condition is not None and condition.get("status") == "True":
            return HEALTHY
        return Health(State.PROGRESSING, f"waiting for {name}")

    return rule


_KIND_RULES: Final[
    dict[tuple[str, str], Callable[[Mapping[str, Any], Mapping[str, Any]], Health]]
] = {
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Service"): _service,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _condition_true("Established"),
    ("apiregistration.k8s.io", "APIService"): _condition_true("Available"),
}


def _conditions(obj: Mapping[str, Any], status: Mapping[str, Any]) -> Health:
    generation = int((obj.get("metadata") or {}).get("generation") or 0)
    observed = status.get("observedGeneration")
    if observed is not None and int(observed) < generation:
        return Health(State.PROGRESSING, f"controller has not observed generation {generation} yet")
    stalled = _condition(status, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return Health(State.FAILED, f"Stalled: {stalled.get('message') or stalled.get('reason')}")
    reconciling = _condition(status, "Reconciling")
    if reconciling is not None and reconciling.get("status") == "True":
        return Health(State.PROGRESSING, f"Reconciling: {reconciling.get('reason') or ''}".strip())
    ready = _condition(status, "Ready")
    if ready is not None and ready.get("status") != "True":
        message = ready.get("message") or ready.get("reason") or "not ready"
        return Health(State.PROGRESSING, f"Ready={ready.get('status')}: {message}")
    return HEALTHY
