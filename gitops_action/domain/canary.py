"""The canary analysis state machine, pure: status + what was observed -> next status.

Flagger runs its analysis in a controller that ticks every `interval`. We run
as a CronJob, so each run calls `advance` until nothing more is due, and the
status lives in the cluster between runs (a ConfigMap ``<name>-canary-status``,
see `gitops_action.app.canary`). Nothing here does I/O or reads a clock: the
caller passes the time and what it saw in an `Observation`.

Inputs that cost a request (webhook gates, metric queries) are asked for only
when the machine needs them: `advance` returns an `Ask` naming the input, the
caller fetches it, puts it in the observation and calls again. The result is
a `Step`: the new status and one-off `Event`s to record. The cluster side is
*level-triggered*: the status alone says what the cluster must look like
(`desired_cluster`), so a run killed after writing the status but before
acting does the action on the next run, and repeating it is harmless.

Invariants (pinned by property tests): a canary whose failed checks reached
`threshold` is never promoted; the canary weight never exceeds `maxWeight`;
with finite steps, a progress deadline and gates that eventually open, every
analysis ends in Succeeded or Failed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from gitops_action.domain.canary_config import CanarySpec


class Phase(enum.StrEnum):
    INITIALIZED = "Initialized"
    WAITING = "Waiting"
    PROGRESSING = "Progressing"
    WAITING_PROMOTION = "WaitingPromotion"
    PROMOTING = "Promoting"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


RESTING: Final = frozenset({Phase.INITIALIZED, Phase.SUCCEEDED, Phase.FAILED})
ANALYSING: Final = frozenset({Phase.PROGRESSING, Phase.WAITING_PROMOTION})


@dataclass(frozen=True)
class CheckResult:
    """One metric (or rollout webhook) result of a check; value None means no data."""

    name: str
    ok: bool
    value: float | None = None
    message: str = ""

    def as_record(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "value": self.value, "message": self.message}

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> CheckResult:
        value = data.get("value")
        return cls(
            str(data.get("name", "")),
            bool(data.get("ok")),
            float(value) if isinstance(value, int | float) else None,
            str(data.get("message", "")),
        )


@dataclass(frozen=True)
class CanaryStatus:
    """What the cluster keeps between runs (all times are seconds since the epoch)."""

    phase: Phase
    revision: str
    """The target revision (pod template checksum) under analysis, or last seen."""
    promoted: str
    """The revision the primary runs."""
    weight: int = 0
    step: int = 0
    """Passing checks so far in this analysis."""
    failed_checks: int = 0
    analysing: bool = False
    """The canary became ready and pre-rollout hooks passed: checks are running."""
    started: float = 0.0
    """When the current phase began (progress deadline)."""
    last_check: float = 0.0
    checks: tuple[CheckResult, ...] = ()
    message: str = ""
    written_back: bool = False
    """A Failed analysis whose rollback was written to git (or needs none)."""

    def as_record(self) -> dict[str, Any]:
        return {
            "phase": str(self.phase),
            "revision": self.revision,
            "promoted": self.promoted,
            "canaryWeight": self.weight,
            "iterations": self.step,
            "failedChecks": self.failed_checks,
            "analysing": self.analysing,
            "started": self.started,
            "lastCheck": self.last_check,
            "checks": [check.as_record() for check in self.checks],
            "message": self.message,
            "writtenBack": self.written_back,
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> CanaryStatus:
        """Read back `as_record` output; raises ValueError on anything else."""
        try:
            checks = data.get("checks") or []
            return cls(
                phase=Phase(data["phase"]),
                revision=str(data["revision"]),
                promoted=str(data["promoted"]),
                weight=int(data.get("canaryWeight", 0)),
                step=int(data.get("iterations", 0)),
                failed_checks=int(data.get("failedChecks", 0)),
                analysing=bool(data.get("analysing", False)),
                started=float(data.get("started", 0.0)),
                last_check=float(data.get("lastCheck", 0.0)),
                checks=tuple(CheckResult.from_record(item) for item in checks),
                message=str(data.get("message", "")),
                written_back=bool(data.get("writtenBack", False)),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not a canary status: {err}") from err


@dataclass(frozen=True)
class Observation:
    """What the caller saw this run, plus the inputs it fetched because they were asked for."""

    now: float
    revision: str
    canary_ready: bool = False
    canary_stalled: bool = False
    primary_ready: bool = False
    gates: Mapping[str, bool] = field(default_factory=dict)
    """Webhook type -> every hook of that type said yes (asked-for types only)."""
    checks: tuple[CheckResult, ...] | None = None
    rollback: bool | None = None
    """A `rollback` webhook asked for a rollback (None: not asked yet)."""


@dataclass(frozen=True)
class Ask:
    """The machine needs an input: the hooks of a gate type, the checks, or the rollback hooks."""

    gate: str = ""
    checks: bool = False
    rollback: bool = False


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event to record (and to send to `event` webhooks)."""

    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass(frozen=True)
class Step:
    status: CanaryStatus
    events: tuple[Event, ...] = ()
    notify: tuple[str, ...] = ()
    """Webhook types to call for notification only (post-rollout)."""


Decision = Ask | Step


@dataclass(frozen=True)
class ClusterShape:
    """What the cluster must look like for a status (the level the app reconciles to)."""

    target_scaled_up: bool
    weight: int
    primary_revision: str


def desired_cluster(status: CanaryStatus) -> ClusterShape:
    """Target pods run only while analysing or promoting; the weight is the status's."""
    running = status.phase in ANALYSING or status.phase is Phase.PROMOTING
    weight = status.weight if running else 0
    primary = status.revision if status.phase is Phase.PROMOTING else status.promoted
    if status.phase is Phase.SUCCEEDED:
        primary = status.promoted
    return ClusterShape(running, weight, primary)


def next_due(spec: CanarySpec, status: CanaryStatus) -> float | None:
    """When the next check is due (None when no check is scheduled)."""
    if status.phase in ANALYSING and status.analysing:
        return status.last_check + spec.analysis.interval
    return None


def advance(spec: CanarySpec, status: CanaryStatus | None, seen: Observation) -> Decision:
    """One decision. Call again with the asked input on `Ask`; persist `Step.status`."""
    if status is None:
        return Step(
            CanaryStatus(Phase.INITIALIZED, seen.revision, seen.revision, started=seen.now),
            (Event("Normal", "Synced", "Initialization done! The primary runs the target"),),
        )
    if status.phase in RESTING or status.phase is Phase.WAITING:
        return _idle(spec, status, seen)
    if spec.suspend:
        return Step(status)
    if status.phase is Phase.PROMOTING:
        return _promoting(spec, status, seen)
    if seen.revision != status.revision:
        return _start(spec, status, seen, restarted=True)
    return _analyse(spec, status, seen)


def _idle(spec: CanarySpec, status: CanaryStatus, seen: Observation) -> Decision:
    new = seen.revision != status.promoted
    if status.phase is Phase.FAILED and seen.revision == status.revision:
        new = False  # the failed revision is not tried again until the target changes
    if not new or spec.suspend:
        return Step(status)
    if spec.skip_analysis:
        promoting = _fresh(status, Phase.PROMOTING, seen, "analysis skipped: promoting")
        return Step(promoting, (Event("Normal", "Synced", promoting.message),))
    return _start(spec, status, seen, restarted=False)


def _start(spec: CanarySpec, status: CanaryStatus, seen: Observation, restarted: bool) -> Decision:
    gate = _gate(spec, seen, "confirm-rollout")
    if isinstance(gate, Ask):
        return gate
    if not gate:
        waiting = _fresh(status, Phase.WAITING, seen, "waiting for rollout approval")
        if status.phase is Phase.WAITING and status.revision == seen.revision:
            return Step(replace(status, message=waiting.message))
        return Step(waiting, (Event("Normal", "Synced", waiting.message),))
    progressing = _fresh(status, Phase.PROGRESSING, seen, "starting canary analysis")
    word = "restarting" if restarted else "starting"
    return Step(
        progressing,
        (Event("Normal", "Synced", f"New revision detected! {word} analysis of {seen.revision}"),),
    )


def _fresh(status: CanaryStatus, phase: Phase, seen: Observation, message: str) -> CanaryStatus:
    return CanaryStatus(
        phase, seen.revision, status.promoted, started=seen.now, last_check=seen.now,
        message=message,
    )  # fmt: skip


def _analyse(spec: CanarySpec, status: CanaryStatus, seen: Observation) -> Decision:
    rollback = _rollback_requested(spec, status, seen)
    if rollback is not None:
        return rollback
    if not status.analysing:
        return _warm_up(spec, status, seen)
    if seen.now < status.last_check + spec.analysis.interval:
        return Step(status)
    if seen.checks is None and (spec.analysis.metrics or spec.analysis.hooks("rollout")):
        return Ask(checks=True)
    checks = seen.checks or ()
    if not seen.canary_ready:
        checks = (*checks, CheckResult("canary-ready", False, None, "canary pods are not ready"))
    failed = [check for check in checks if not check.ok]
    if failed:
        return _failed_check(spec, status, seen, checks, ", ".join(c.name for c in failed))
    return _passed_check(spec, replace(status, checks=checks, last_check=seen.now), seen)


def _rollback_requested(
    spec: CanarySpec, status: CanaryStatus, seen: Observation
) -> Decision | None:
    """Flagger's `rollback` hooks: a yes from them aborts the analysis."""
    if not spec.analysis.hooks("rollback"):
        return None
    if seen.rollback is None:
        return Ask(rollback=True)
    if seen.rollback:
        return _fail(spec, status, seen, "rolled back by a rollback webhook")
    return None


def _gate(spec: CanarySpec, seen: Observation, hook_type: str) -> Ask | bool:
    """True when the gate is open (or has no hooks), False when closed, Ask to call it."""
    if not spec.analysis.hooks(hook_type):
        return True
    if hook_type not in seen.gates:
        return Ask(gate=hook_type)
    return seen.gates[hook_type]


def _warm_up(spec: CanarySpec, status: CanaryStatus, seen: Observation) -> Decision:
    """Wait for the canary pods, then run pre-rollout hooks, then route the first weight."""
    if not seen.canary_ready:
        late = seen.now - status.started >= spec.progress_deadline
        if seen.canary_stalled or late:
            return _fail(spec, status, seen, "canary not ready within progressDeadlineSeconds")
        return Step(replace(status, message="waiting for the canary pods to be ready"))
    if seen.now < status.last_check + spec.analysis.interval and status.failed_checks:
        return Step(status)  # a failed pre-rollout is retried once per interval
    gate = _gate(spec, seen, "pre-rollout")
    if isinstance(gate, Ask):
        return gate
    if not gate:
        check = CheckResult("pre-rollout", False, None, "a pre-rollout webhook failed")
        return _failed_check(spec, status, seen, (check,), "pre-rollout")
    weights = spec.analysis.weights()
    weight = weights[0] if weights else 0
    ready = replace(
        status, analysing=True, weight=weight, last_check=seen.now,
        message=f"canary ready, weight {weight}",
    )  # fmt: skip
    return Step(ready, (Event("Normal", "Synced", f"Advance {spec.key} canary weight {weight}"),))


def _failed_check(
    spec: CanarySpec,
    status: CanaryStatus,
    seen: Observation,
    checks: tuple[CheckResult, ...],
    names: str,
) -> Decision:
    failed = status.failed_checks + 1
    counted = replace(status, failed_checks=failed, checks=checks, last_check=seen.now)
    if failed >= spec.analysis.threshold:
        return _fail(spec, counted, seen, f"failed checks threshold reached {failed} ({names})")
    message = f"check failed ({names}): {failed} of {spec.analysis.threshold} failed checks"
    return Step(replace(counted, message=message), (Event("Warning", "Synced", message),))


def _passed_check(spec: CanarySpec, status: CanaryStatus, seen: Observation) -> Decision:
    analysis = spec.analysis
    done = status.step + 1
    if done >= analysis.steps():
        return _promote(spec, replace(status, step=max(status.step, analysis.steps())), seen)
    weights = analysis.weights()
    if not weights:
        message = f"Advance {spec.key} canary iteration {done}/{analysis.steps()}"
        advanced = replace(status, step=done, message=message)
        return Step(advanced, (Event("Normal", "Synced", message),))
    gate = _gate(spec, seen, "confirm-traffic-increase")
    if isinstance(gate, Ask):
        return gate
    if not gate:
        return Step(replace(status, message="waiting for traffic increase approval"))
    weight = weights[done]
    advanced = replace(status, step=done, weight=weight, message=f"weight {weight}")
    return Step(advanced, (Event("Normal", "Synced", f"Advance canary weight {weight}"),))


def _promote(spec: CanarySpec, status: CanaryStatus, seen: Observation) -> Decision:
    gate = _gate(spec, seen, "confirm-promotion")
    if isinstance(gate, Ask):
        return gate
    if not gate:
        message = "waiting for promotion approval"
        return Step(replace(status, phase=Phase.WAITING_PROMOTION, message=message))
    promoting = replace(
        status, phase=Phase.PROMOTING, started=seen.now, message="copying the canary to primary"
    )
    event = Event("Normal", "Synced", f"Copying {spec.target} template to primary")
    return Step(promoting, (event,))


def _promoting(spec: CanarySpec, status: CanaryStatus, seen: Observation) -> Decision:
    if seen.primary_ready:
        done = replace(
            status, phase=Phase.SUCCEEDED, promoted=status.revision, weight=0, analysing=False,
            message="promotion completed",
        )  # fmt: skip
        event = Event("Normal", "Synced", f"Promotion completed! {spec.target} {status.revision}")
        return Step(done, (event,), notify=("post-rollout",))
    if seen.now - status.started >= spec.progress_deadline:
        return _fail(spec, status, seen, "primary not ready within progressDeadlineSeconds")
    return Step(replace(status, message="waiting for the primary to be ready"))


def _fail(spec: CanarySpec, status: CanaryStatus, seen: Observation, why: str) -> Step:
    failed = replace(
        status, phase=Phase.FAILED, weight=0, analysing=False, started=seen.now, message=why,
        written_back=False,
    )  # fmt: skip
    event = Event("Warning", "Synced", f"Rolling back {spec.key}: {why}")
    return Step(failed, (event,), notify=("post-rollout",))
