"""The per-host token bucket of the registry client, driven by a fake clock."""

from __future__ import annotations

import pytest

from gitops_action.adapters.rate_limit import RateLimiter, TokenBucket


class FakeClock:
    """Time moves only when slept on (or set), so waits are exact."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_bucket_allows_a_burst_then_spaces_requests() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=4.0, burst=2, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(6)]
    assert waits == [0.0, 0.0, 0.25, 0.25, 0.25, 0.25]
    assert clock.now == pytest.approx(1.0)


def test_bucket_refills_while_idle_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        bucket.acquire()
    clock.now += 100  # long idle: refills to 3, not 100
    assert [bucket.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]


def test_waits_add_up_when_sleep_does_not_advance_the_clock() -> None:
    """Callers that share a bucket queue behind each other instead of all waiting 1/rate."""
    bucket = TokenBucket(rate=10.0, burst=1, clock=lambda: 0.0, sleep=lambda _: None)
    assert [round(bucket.acquire(), 3) for _ in range(4)] == [0.0, 0.1, 0.2, 0.3]


def test_limiter_keeps_one_bucket_per_host_and_can_be_off() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, 1, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire("a:5000"), limiter.acquire("b:5000")] == [0.0, 0.0]
    assert limiter.acquire("a:5000") == 0.5
    assert limiter.waited == 0.5
    off = RateLimiter(None, clock=clock, sleep=clock.sleep)
    assert [off.acquire("a") for _ in range(100)] == [0.0] * 100


def test_bucket_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        TokenBucket(rate=0, burst=1)
