"""The pure Lease rules (domain/lease.py) and the install-render exclusion rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gitops_action.domain.lease import (
    LeaseState,
    Verdict,
    decide,
    lease_body,
    micro_time,
    parse_time,
    released,
    renew_due,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _state(holder: str, renewed: datetime | None, duration: int = 60) -> LeaseState:
    return LeaseState(holder, duration, renewed, renewed, 2, "41")


def test_no_lease_is_created() -> None:
    assert decide(None, "me_1", NOW).verdict is Verdict.CREATE


def test_free_or_own_lease_is_taken_without_a_takeover() -> None:
    for holder in ("", "me_1"):
        decision = decide(_state(holder, NOW), "me_1", NOW)
        assert decision.verdict is Verdict.TAKE and not decision.takeover


def test_a_live_claim_of_another_run_is_respected_until_it_lapses() -> None:
    state = _state("other_2", NOW - timedelta(seconds=59))
    held = decide(state, "me_1", NOW)
    assert held.verdict is Verdict.HELD and held.holder == "other_2"
    assert held.until == NOW + timedelta(seconds=1)
    lapsed = decide(_state("other_2", NOW - timedelta(seconds=60)), "me_1", NOW)
    assert lapsed.verdict is Verdict.TAKE and lapsed.takeover


def test_a_claim_without_times_has_lapsed() -> None:
    assert decide(_state("other_2", None), "me_1", NOW).takeover


def test_body_counts_transitions_and_guards_with_the_version_read() -> None:
    body = lease_body("ns", "me_1", 60, NOW, previous=_state("other_2", NOW), labels={"a": "b"})
    assert body["metadata"]["resourceVersion"] == "41"
    assert body["spec"]["leaseTransitions"] == 3
    assert body["spec"]["holderIdentity"] == "me_1"
    renewed = lease_body(
        "ns", "me_1", 60, NOW + timedelta(seconds=5), previous=_state("me_1", NOW), labels={}
    )
    assert renewed["spec"]["leaseTransitions"] == 2
    assert renewed["spec"]["acquireTime"] == micro_time(NOW)
    assert (
        "resourceVersion"
        not in lease_body("ns", "me", 60, NOW, previous=None, labels={})["metadata"]
    )


def test_release_empties_the_holder_and_times_round_trip() -> None:
    body = lease_body("ns", "me_1", 60, NOW, previous=None, labels={})
    assert released(body, NOW)["spec"]["holderIdentity"] == ""
    assert parse_time(micro_time(NOW)) == NOW
    assert parse_time("2024-05-01T12:00:00Z") == NOW
    assert parse_time("junk") is None and parse_time(None) is None


def test_renewal_is_due_after_a_third_of_the_duration() -> None:
    assert not renew_due(100.0, 119.9, 60)
    assert renew_due(100.0, 120.0, 60)
