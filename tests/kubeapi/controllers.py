"""Simulated workload controllers, run lazily: before every request is served.

A real cluster moves a Deployment's status after its spec changes: first the
controller observes the new generation (nothing new ready yet), then, once pods are
ready, every count reaches spec.replicas. Here that happens on a timer measured from
the last spec change (default 0.2 s), evaluated whenever a request arrives. Running
lazily instead of in a thread keeps the stand-in deterministic (no status write can
land between a test's two requests unless time has passed) and costs nothing idle;
nobody can observe status without making a request anyway.

A test can make a named workload's rollout fail: new pods never become ready (or only
`ready` of them do), the old ones stay, and after `deadline` seconds a Deployment's
Progressing condition turns False with reason ProgressDeadlineExceeded.
Status writes bump resourceVersion (as real controller writes do) but are not
counted as requests.
"""

from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass
from typing import Any

from tests.kubeapi.apply import Write, track_update
from tests.kubeapi.fieldsets import canon
from tests.kubeapi.resources import ResourceType
from tests.kubeapi.shapes import Shape
from tests.kubeapi.store import Store

MANAGER = "kube-controller-manager"
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class Failure:
    ready: int = 0  # new pods that do become ready
    # Seconds after the rollout's delay before it is declared failed (or the
    # Deployment's own progressDeadlineSeconds, if that is shorter).
    deadline: float = 1.0


@dataclass
class Rollout:
    generation: int
    prev_available: int
    prev_revision: str
    done: bool = False  # finished: a failure knob set later applies to the next rollout only


def template_hash(template: Any) -> str:
    digest = int(hashlib.sha256(canon(template).encode()).hexdigest(), 16)
    out = []
    for _ in range(10):
        digest, index = divmod(digest, len(_HASH_ALPHABET))
        out.append(_HASH_ALPHABET[index])
    return "".join(out)


def _resolve(value: Any, total: int, *, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        share = total * int(value[:-1]) / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value or 0)


def _omit_zero(status: dict[str, Any], *fields: str) -> dict[str, Any]:
    for field in fields:
        if status.get(field) == 0:
            del status[field]
    return status


class Controllers:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.delay = 0.2
        self.nodes = 1
        self.failures: dict[tuple[str, str, str], Failure] = {}
        self._rollouts: dict[tuple[str, str, str], Rollout] = {}
        self._revisions: dict[tuple[str, str], tuple[str, int]] = {}

    def reset(self) -> None:
        self.delay = 0.2
        self.nodes = 1
        self.failures.clear()
        self._rollouts.clear()
        self._revisions.clear()

    def tick(self) -> None:
        for plural, handler in (
            ("deployments", self._deployment),
            ("statefulsets", self._statefulset),
            ("daemonsets", self._daemonset),
            ("replicasets", self._replicaset),
        ):
            rt = self.store.registry.lookup("apps", "v1", plural)
            if rt is not None:
                for obj in self.store.list(rt, None):
                    self._reconcile(rt, obj, handler(rt, obj))
        job_rt = self.store.registry.lookup("batch", "v1", "jobs")
        if job_rt is not None:
            for obj in self.store.list(job_rt, None):
                self._reconcile(job_rt, obj, self._job(job_rt, obj))

    # ------------------------------------------------------------- plumbing
    def _reconcile(
        self, rt: ResourceType, obj: dict[str, Any], status: dict[str, Any] | None
    ) -> None:
        if status is None or canon(status) == canon(obj.get("status") or {}):
            return
        new = copy.deepcopy(obj)
        new["status"] = status
        write = Write(MANAGER, rt.api_version, "status", "status", self.store.clock.stamp())
        track_update(obj, new, write, Shape(rt.kind, rt.custom, rt.schema))
        self.store.commit(rt, new, by_request=False)

    def _key(self, rt: ResourceType, obj: dict[str, Any]) -> tuple[str, str, str]:
        meta = obj["metadata"]
        return (rt.kind, meta.get("namespace", ""), meta["name"])

    def _elapsed(self, rt: ResourceType, obj: dict[str, Any]) -> float:
        meta = obj["metadata"]
        started = self.store.spec_changed.get(
            (rt.group, rt.plural, meta.get("namespace", ""), meta["name"])
        )
        return self.store.clock.monotonic() - started if started is not None else float("inf")

    def _failure(self, rt: ResourceType, obj: dict[str, Any], rollout: Rollout) -> Failure | None:
        """The failure knob, for a rollout that has not already finished."""
        return None if rollout.done else self.failures.get(self._key(rt, obj))

    def _rollout(
        self, rt: ResourceType, obj: dict[str, Any], available: int, revision: str
    ) -> Rollout:
        """The rollout of the current generation; what was running before it is remembered."""
        key = self._key(rt, obj)
        generation = int(obj["metadata"].get("generation") or 1)
        rollout = self._rollouts.get(key)
        if rollout is None or rollout.generation != generation:
            rollout = Rollout(generation, available, revision)
            self._rollouts[key] = rollout
        return rollout

    def _condition(
        self, old: list[dict[str, Any]], kind: str, state: str, reason: str, message: str
    ) -> dict[str, Any]:
        now = self.store.clock.stamp()
        previous = next((c for c in old if c.get("type") == kind), None)
        changed = previous is None or previous.get("status") != state
        same_text = previous is not None and (previous.get("reason"), previous.get("message")) == (
            reason,
            message,
        )
        return {
            "type": kind,
            "status": state,
            "lastUpdateTime": previous.get("lastUpdateTime", now)
            if previous and same_text and not changed
            else now,
            "lastTransitionTime": now
            if changed or previous is None
            else previous.get("lastTransitionTime", now),
            "reason": reason,
            "message": message,
        }

    def _bump_revision(self, rt: ResourceType, obj: dict[str, Any], template: Any) -> None:
        """deployment.kubernetes.io/revision: +1 for every new pod template."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        digest = template_hash(template)
        known = self._revisions.get(key)
        revision = known[1] if known and known[0] == digest else (known[1] + 1 if known else 1)
        self._revisions[key] = (digest, revision)
        annotations = meta.get("annotations") or {}
        if annotations.get("deployment.kubernetes.io/revision") == str(revision):
            return
        new = copy.deepcopy(obj)
        new["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(
            revision
        )
        write = Write(MANAGER, rt.api_version, "", "main-status", self.store.clock.stamp())
        track_update(obj, new, write, Shape(rt.kind, rt.custom, rt.schema))
        stored = self.store.commit(rt, new, by_request=False)
        obj["metadata"] = stored["metadata"]

    # ---------------------------------------------------------- controllers
    def _deployment(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        spec, old = obj.get("spec") or {}, obj.get("status") or {}
        self._bump_revision(rt, obj, spec.get("template"))
        desired = int(spec.get("replicas", 1))
        rs_name = f"{obj['metadata']['name']}-{template_hash(spec.get('template'))}"
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        surge = max(_resolve(rolling.get("maxSurge", "25%"), desired, round_up=True), 1)
        max_unavailable = _resolve(rolling.get("maxUnavailable", "25%"), desired, round_up=False)
        rollout = self._rollout(rt, obj, int(old.get("availableReplicas", 0)), "")
        prev = min(rollout.prev_available, desired)
        elapsed = self._elapsed(rt, obj)
        failure = self._failure(rt, obj, rollout)
        conditions = old.get("conditions") or []
        if elapsed < self.delay:
            updated, available, replicas = 0, prev, prev
            progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        elif failure is None:
            rollout.done = True
            updated = available = replicas = desired
            progressing = (
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
            )
        else:
            updated = min(desired, surge)
            available = prev + min(failure.ready, updated)
            replicas = prev + updated
            deadline = min(failure.deadline, float(spec.get("progressDeadlineSeconds", 600)))
            if elapsed >= self.delay + deadline:
                progressing = (
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{rs_name}" has timed out progressing.',
                )
            else:
                progressing = (
                    "True",
                    "ReplicaSetUpdated",
                    f'ReplicaSet "{rs_name}" is progressing.',
                )
        if available >= desired - max_unavailable:
            avail_cond = self._condition(
                conditions,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        else:
            avail_cond = self._condition(
                conditions,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        status = {
            "observedGeneration": int(obj["metadata"].get("generation") or 1),
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": available,
            "availableReplicas": available,
            "unavailableReplicas": max(desired - available, 0),
            "conditions": [avail_cond, self._condition(conditions, "Progressing", *progressing)]
            + [c for c in conditions if c.get("type") not in ("Available", "Progressing")],
        }
        return _omit_zero(
            status,
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        )

    def _statefulset(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        spec, old = obj.get("spec") or {}, obj.get("status") or {}
        desired = int(spec.get("replicas", 1))
        update_rev = f"{obj['metadata']['name']}-{template_hash(spec.get('template'))}"
        rollout = self._rollout(
            rt, obj, int(old.get("availableReplicas", 0)), old.get("updateRevision", update_rev)
        )
        prev = min(rollout.prev_available, desired)
        elapsed = self._elapsed(rt, obj)
        failure = self._failure(rt, obj, rollout)
        current_rev = rollout.prev_revision
        if elapsed < self.delay:
            ready, updated, current = prev, 0, prev
        elif failure is None:
            rollout.done = True
            ready = updated = current = desired
            current_rev = update_rev
        else:
            updated = 1 if desired else 0
            ready = max(prev - 1, 0) + min(failure.ready, updated)
            current = desired - updated
        status = {
            "observedGeneration": int(obj["metadata"].get("generation") or 1),
            "replicas": desired if elapsed >= self.delay else prev,
            "readyReplicas": ready,
            "currentReplicas": current,
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": current_rev,
            "updateRevision": update_rev,
            "collisionCount": 0,
        }
        return _omit_zero(status, "readyReplicas", "currentReplicas", "updatedReplicas")

    def _daemonset(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        old = obj.get("status") or {}
        nodes = self.nodes
        rollout = self._rollout(rt, obj, int(old.get("numberAvailable", 0)), "")
        prev = min(rollout.prev_available, nodes)
        elapsed = self._elapsed(rt, obj)
        failure = self._failure(rt, obj, rollout)
        if elapsed < self.delay:
            ready, updated = prev, 0
        elif failure is None:
            rollout.done = True
            ready = updated = nodes
        else:
            updated = 1 if nodes else 0
            ready = max(prev - 1, 0) + min(failure.ready, updated)
        status = {
            "observedGeneration": int(obj["metadata"].get("generation") or 1),
            "currentNumberScheduled": nodes,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": nodes,
            "numberReady": ready,
            "updatedNumberScheduled": updated,
            "numberAvailable": ready,
            "numberUnavailable": nodes - ready,
        }
        return _omit_zero(status, "updatedNumberScheduled", "numberAvailable", "numberUnavailable")

    def _replicaset(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        desired = int((obj.get("spec") or {}).get("replicas", 1))
        rollout = self._rollout(
            rt, obj, int((obj.get("status") or {}).get("availableReplicas", 0)), ""
        )
        failure = self._failure(rt, obj, rollout)
        ready = desired if self._elapsed(rt, obj) >= self.delay else 0
        if failure is not None:
            ready = min(failure.ready, desired)
        elif ready:
            rollout.done = True
        status = {
            "replicas": desired,
            "fullyLabeledReplicas": desired,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": int(obj["metadata"].get("generation") or 1),
        }
        return _omit_zero(status, "fullyLabeledReplicas", "readyReplicas", "availableReplicas")

    def _job(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any] | None:
        spec, old = obj.get("spec") or {}, obj.get("status") or {}
        if any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in old.get("conditions") or []
        ):
            return None
        if spec.get("suspend"):
            return None
        start = old.get("startTime") or self.store.clock.stamp()
        if self._elapsed(rt, obj) < self.delay:
            return {
                "startTime": start,
                "active": int(spec.get("parallelism", 1)),
                "ready": 0,
                "terminating": 0,
                "uncountedTerminatedPods": {},
            }
        now = self.store.clock.stamp()
        if self.failures.get(self._key(rt, obj)) is None:
            message = "Reached expected number of succeeded pods"
            return {
                "startTime": start,
                "completionTime": now,
                "succeeded": int(spec.get("completions", 1)),
                "ready": 0,
                "terminating": 0,
                "uncountedTerminatedPods": {},
                "conditions": [
                    {
                        "type": "SuccessCriteriaMet",
                        "status": "True",
                        "reason": "CompletionsReached",
                        "message": message,
                        "lastProbeTime": now,
                        "lastTransitionTime": now,
                    },
                    {
                        "type": "Complete",
                        "status": "True",
                        "reason": "CompletionsReached",
                        "message": message,
                        "lastProbeTime": now,
                        "lastTransitionTime": now,
                    },
                ],
            }
        message = "Job has reached the specified backoff limit"
        return {
            "startTime": start,
            "failed": int(spec.get("backoffLimit", 6)) + 1,
            "ready": 0,
            "terminating": 0,
            "uncountedTerminatedPods": {},
            "conditions": [
                {
                    "type": "FailureTarget",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": message,
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                },
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": message,
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                },
            ],
        }
