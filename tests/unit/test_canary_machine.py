"""The canary state machine: examples of Flagger's flow and hypothesis properties."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_action.domain.canary import (
    Ask,
    CanaryStatus,
    CheckResult,
    Observation,
    Phase,
    Step,
    advance,
    desired_cluster,
)
from gitops_action.domain.canary_config import (
    Analysis,
    CanarySpec,
    MetricCheck,
    ThresholdRange,
    Webhook,
)
from gitops_action.domain.config import ObjectKey, Source

SOURCE = Source("canary.yaml", 1, 1)
METRIC = MetricCheck("request-success-rate", threshold_range=ThresholdRange(min=99))


def make_spec(
    *,
    interval: float = 10,
    threshold: int = 2,
    max_weight: int = 50,
    step_weight: int | None = 10,
    step_weights: tuple[int, ...] = (),
    iterations: int | None = None,
    hooks: tuple[str, ...] = (),
    deadline: int = 60,
    provider: str = "replicas",
) -> CanarySpec:
    webhooks = tuple(Webhook(f"h-{kind}", kind, "http://127.0.0.1:1/") for kind in hooks)
    analysis = Analysis(
        interval=interval,
        threshold=threshold,
        max_weight=max_weight,
        step_weight=None if iterations else step_weight,
        step_weights=() if iterations else step_weights,
        iterations=iterations,
        metrics=(METRIC,),
        webhooks=webhooks,
    )
    return CanarySpec(
        key=ObjectKey("test", "podinfo"),
        source=SOURCE,
        target="podinfo",
        provider=provider,
        port=80,
        target_port=8080,
        service_name="podinfo",
        analysis=analysis,
        progress_deadline=deadline,
    )


def ok(value: float = 100.0) -> tuple[CheckResult, ...]:
    return (CheckResult("request-success-rate", True, value),)


def bad(value: float | None = 80.0) -> tuple[CheckResult, ...]:
    return (CheckResult("request-success-rate", False, value),)


def settle(spec: CanarySpec, status: CanaryStatus | None, seen: Observation) -> Step:
    """Answer every Ask with what `seen` already holds (tests fill them in)."""
    decision = advance(spec, status, seen)
    assert isinstance(decision, Step), decision
    return decision


def initialized(spec: CanarySpec) -> CanaryStatus:
    return settle(spec, None, Observation(0, "r1")).status


def test_first_sight_initializes_primary_with_the_target() -> None:
    step = settle(make_spec(), None, Observation(5, "r1"))
    assert step.status.phase is Phase.INITIALIZED
    assert step.status.promoted == "r1"
    assert desired_cluster(step.status).target_scaled_up is False


def test_same_revision_does_nothing() -> None:
    spec = make_spec()
    status = initialized(spec)
    assert settle(spec, status, Observation(100, "r1")).status == status


def test_healthy_progressive_rollout_walks_the_weights_and_promotes() -> None:
    spec = make_spec(max_weight=30, step_weight=10)
    status = settle(spec, initialized(spec), Observation(1, "r2")).status
    assert status.phase is Phase.PROGRESSING and desired_cluster(status).target_scaled_up
    status = settle(spec, status, Observation(2, "r2", canary_ready=True)).status
    assert status.analysing and status.weight == 10
    weights = []
    now = 2.0
    while status.phase is Phase.PROGRESSING:
        now += 10
        status = settle(spec, status, Observation(now, "r2", canary_ready=True, checks=ok())).status
        weights.append(status.weight)
    assert weights == [20, 30, 30]
    assert status.phase is Phase.PROMOTING
    assert desired_cluster(status).primary_revision == "r2"
    done = settle(spec, status, Observation(now, "r2", primary_ready=True))
    assert done.status.phase is Phase.SUCCEEDED and done.status.promoted == "r2"
    assert done.notify == ("post-rollout",)
    assert desired_cluster(done.status) == desired_cluster(replace(done.status, weight=0))
    assert desired_cluster(done.status).target_scaled_up is False


def test_check_not_due_before_interval() -> None:
    spec = make_spec()
    status = settle(spec, initialized(spec), Observation(1, "r2")).status
    status = settle(spec, status, Observation(2, "r2", canary_ready=True)).status
    same = advance(spec, status, Observation(11.9, "r2", canary_ready=True))
    assert same == Step(status)
    assert advance(spec, status, Observation(12, "r2", canary_ready=True)) == Ask(checks=True)


def test_threshold_failed_checks_roll_back_and_failed_revision_stays_failed() -> None:
    spec = make_spec(threshold=2)
    status = settle(spec, initialized(spec), Observation(1, "r2")).status
    status = settle(spec, status, Observation(2, "r2", canary_ready=True)).status
    status = settle(spec, status, Observation(12, "r2", canary_ready=True, checks=bad())).status
    assert status.phase is Phase.PROGRESSING and status.failed_checks == 1
    step = settle(spec, status, Observation(22, "r2", canary_ready=True, checks=bad(None)))
    assert step.status.phase is Phase.FAILED and step.status.failed_checks == 2
    assert step.events[0].type == "Warning"
    assert desired_cluster(step.status).target_scaled_up is False
    assert desired_cluster(step.status).primary_revision == "r1"
    again = settle(spec, step.status, Observation(500, "r2", canary_ready=True))
    assert again.status == step.status
    assert settle(spec, step.status, Observation(501, "r3")).status.phase is Phase.PROGRESSING


def test_blue_green_runs_iterations_at_weight_zero() -> None:
    spec = make_spec(iterations=3, provider="kubernetes")
    status = settle(spec, initialized(spec), Observation(1, "r2")).status
    status = settle(spec, status, Observation(2, "r2", canary_ready=True)).status
    for now in (12, 22):
        status = settle(spec, status, Observation(now, "r2", canary_ready=True, checks=ok())).status
        assert status.phase is Phase.PROGRESSING and status.weight == 0
    status = settle(spec, status, Observation(32, "r2", canary_ready=True, checks=ok())).status
    assert status.phase is Phase.PROMOTING and status.step == 3


def test_confirm_promotion_gate_holds_it_unpromoted() -> None:
    spec = make_spec(max_weight=10, hooks=("confirm-promotion",))
    status = settle(spec, initialized(spec), Observation(1, "r2")).status
    status = settle(spec, status, Observation(2, "r2", canary_ready=True)).status
    seen = Observation(12, "r2", canary_ready=True, checks=ok())
    assert advance(spec, status, seen) == Ask(gate="confirm-promotion")
    closed = replace(seen, gates={"confirm-promotion": False})
    status = settle(spec, status, closed).status
    assert status.phase is Phase.WAITING_PROMOTION
    later = Observation(22, "r2", canary_ready=True, checks=ok(), gates={"confirm-promotion": True})
    assert settle(spec, status, later).status.phase is Phase.PROMOTING


def test_confirm_rollout_gate_waits_then_starts() -> None:
    spec = make_spec(hooks=("confirm-rollout",))
    status = initialized(spec)
    assert advance(spec, status, Observation(1, "r2")) == Ask(gate="confirm-rollout")
    waiting = settle(spec, status, Observation(1, "r2", gates={"confirm-rollout": False})).status
    assert waiting.phase is Phase.WAITING
    go = settle(spec, waiting, Observation(9, "r2", gates={"confirm-rollout": True})).status
    assert go.phase is Phase.PROGRESSING


def test_canary_never_ready_fails_at_the_progress_deadline() -> None:
    spec = make_spec(deadline=30)
    status = settle(spec, initialized(spec), Observation(100, "r2")).status
    assert settle(spec, status, Observation(129, "r2")).status.phase is Phase.PROGRESSING
    assert settle(spec, status, Observation(130, "r2")).status.phase is Phase.FAILED


def test_pre_rollout_failure_counts_as_a_failed_check() -> None:
    spec = make_spec(threshold=1, hooks=("pre-rollout",))
    status = settle(spec, initialized(spec), Observation(1, "r2")).status
    seen = Observation(2, "r2", canary_ready=True)
    assert advance(spec, status, seen) == Ask(gate="pre-rollout")
    failed = settle(spec, status, replace(seen, gates={"pre-rollout": False})).status
    assert failed.phase is Phase.FAILED


def test_rollback_webhook_aborts() -> None:
    spec = make_spec(hooks=("rollback",))
    status = settle(spec, initialized(spec), Observation(1, "r2")).status
    assert advance(spec, status, Observation(2, "r2")) == Ask(rollback=True)
    assert settle(spec, status, Observation(2, "r2", rollback=True)).status.phase is Phase.FAILED


def test_new_revision_during_analysis_restarts() -> None:
    spec = make_spec()
    status = settle(spec, initialized(spec), Observation(1, "r2")).status
    status = settle(spec, status, Observation(2, "r2", canary_ready=True)).status
    status = settle(spec, status, Observation(12, "r2", canary_ready=True, checks=bad())).status
    restarted = settle(spec, status, Observation(13, "r3")).status
    assert restarted.revision == "r3" and restarted.failed_checks == 0
    assert restarted.weight == 0 and not restarted.analysing


def test_status_record_round_trip() -> None:
    spec = make_spec()
    status = settle(spec, initialized(spec), Observation(1, "r2")).status
    status = replace(status, checks=bad(None), failed_checks=1)
    assert CanaryStatus.from_record(status.as_record()) == status


# --- properties --------------------------------------------------------------------------


@st.composite
def specs(draw: st.DrawFn) -> CanarySpec:
    blue_green = draw(st.booleans())
    hooks = draw(
        st.lists(
            st.sampled_from(
                ["confirm-rollout", "pre-rollout", "confirm-traffic-increase", "confirm-promotion"]
            ),
            unique=True,
        )
    )
    if blue_green:
        return make_spec(
            iterations=draw(st.integers(1, 6)),
            threshold=draw(st.integers(1, 5)),
            hooks=tuple(hooks),
            deadline=draw(st.integers(5, 100)),
            provider="kubernetes",
        )
    stepped = draw(st.booleans())
    return make_spec(
        max_weight=draw(st.integers(1, 100)),
        step_weight=None if stepped else draw(st.integers(1, 100)),
        step_weights=tuple(
            sorted(draw(st.sets(st.integers(1, 100), min_size=1, max_size=6))) if stepped else ()
        ),
        threshold=draw(st.integers(1, 5)),
        hooks=tuple(hooks),
        deadline=draw(st.integers(5, 100)),
    )


@dataclass
class Trace:
    statuses: list[CanaryStatus]
    promoted_after_threshold: bool = False


def simulate(data: st.DataObject, spec: CanarySpec, runs: int, gates_open_after: int) -> Trace:
    """Drive the machine as the CronJob does, with random world answers."""
    status = initialized(spec)
    trace = Trace([status])
    now = 0.0
    for run in range(runs):
        now += data.draw(st.floats(spec.analysis.interval, 2 * spec.analysis.interval))
        ready = data.draw(st.booleans())
        seen = Observation(
            now,
            "r2",
            canary_ready=ready,
            canary_stalled=not ready and data.draw(st.booleans()),
            primary_ready=data.draw(st.booleans()),
        )
        for _pass in range(10):
            decision = advance(spec, status, seen)
            if isinstance(decision, Ask):
                if decision.checks:
                    good = data.draw(st.booleans())
                    seen = replace(seen, checks=ok() if good else bad())
                elif decision.rollback:
                    seen = replace(seen, rollback=False)
                else:
                    answer = run >= gates_open_after or data.draw(st.booleans())
                    seen = replace(seen, gates={**seen.gates, decision.gate: answer})
                continue
            reached = status.failed_checks >= spec.analysis.threshold
            if reached and decision.status.phase in (Phase.PROMOTING, Phase.SUCCEEDED):
                trace.promoted_after_threshold = True
            if decision.status == status:
                break
            status = decision.status
            trace.statuses.append(status)
            seen = replace(seen, gates={}, checks=None, rollback=None)
        if status.phase in (Phase.SUCCEEDED, Phase.FAILED):
            break
    return trace


@settings(max_examples=300, deadline=None)
@given(spec=specs(), data=st.data())
def test_never_promotes_after_threshold_and_weights_stay_within_max(
    spec: CanarySpec, data: st.DataObject
) -> None:
    trace = simulate(data, spec, runs=60, gates_open_after=10**6)
    assert not trace.promoted_after_threshold
    for status in trace.statuses:
        assert 0 <= status.weight <= spec.analysis.max_weight
        assert desired_cluster(status).weight <= spec.analysis.max_weight
        if status.failed_checks >= spec.analysis.threshold:
            assert status.phase is Phase.FAILED
        if status.phase is Phase.SUCCEEDED:
            assert status.failed_checks < spec.analysis.threshold


@settings(max_examples=300, deadline=None)
@given(spec=specs(), data=st.data())
def test_always_ends_in_succeeded_or_failed(spec: CanarySpec, data: st.DataObject) -> None:
    # Gates open after 5 runs; the canary is ready or stalls; the primary becomes ready or the
    # deadline passes. Then every analysis ends within a bounded number of runs.
    analysis = spec.analysis
    bound = 5 + analysis.steps() + analysis.threshold + spec.progress_deadline + 20
    trace = simulate(data, spec, runs=4 * bound, gates_open_after=5)
    assert trace.statuses[-1].phase in (Phase.SUCCEEDED, Phase.FAILED), trace.statuses[-1]


@settings(max_examples=200, deadline=None)
@given(spec=specs(), data=st.data())
def test_a_killed_run_resumes_at_the_same_step(spec: CanarySpec, data: st.DataObject) -> None:
    # A run that dies after persisting its status: the next run starts from that record and
    # decides exactly what an uninterrupted run would have decided.
    trace = simulate(data, spec, runs=20, gates_open_after=3)
    for status in trace.statuses:
        record = CanaryStatus.from_record(status.as_record())
        assert record == status
        seen = Observation(status.last_check + spec.analysis.interval, "r2", canary_ready=True)
        assert advance(spec, record, seen) == advance(spec, status, seen)


def test_suspend_freezes_a_new_revision_and_a_running_analysis() -> None:
    spec = make_spec()
    suspended = replace(spec, suspend=True)
    resting = initialized(spec)
    # A new revision while suspended: nothing starts.
    assert settle(suspended, resting, Observation(1, "r2")).status == resting
    # A running analysis while suspended: no check is asked, weight and phase stay.
    running = settle(spec, resting, Observation(1, "r2")).status
    running = settle(spec, running, Observation(2, "r2", canary_ready=True)).status
    frozen = advance(suspended, running, Observation(500, "r2", canary_ready=True, checks=bad()))
    assert frozen == Step(running)
    # Resumed: the analysis goes on from where it stood.
    assert advance(spec, running, Observation(500, "r2", canary_ready=True)) == Ask(checks=True)


def test_skip_analysis_promotes_a_new_revision_without_checks() -> None:
    spec = replace(make_spec(), skip_analysis=True)
    status = settle(spec, initialized(spec), Observation(1, "r2")).status
    assert status.phase is Phase.PROMOTING and not status.analysing
    assert status.failed_checks == 0
    done = settle(spec, status, Observation(2, "r2", primary_ready=True))
    assert done.status.phase is Phase.SUCCEEDED and done.status.promoted == "r2"
