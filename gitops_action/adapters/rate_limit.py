"""A token bucket per host, so a scan of many images never floods one registry.

Registries throttle by client (Docker Hub answers 429 and counts pulls), and a
config repo with hundreds of ImageRepositories on one host would otherwise
send its tag requests back to back. The default is generous (20 requests per
second, bursts of 20), so an ordinary run never waits; it only shapes large ones.

The clock and the sleep are injected: tests drive the bucket with a fake clock
whose sleep advances it, and see exactly how long each request would wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass
class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; one token per request.

    A request that finds the bucket empty takes its token on credit (the
    balance goes negative) and sleeps until that token would have arrived, so
    the waits of back-to-back callers add up instead of being recomputed.
    """

    rate: float
    burst: float
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    _tokens: float = field(init=False)
    _updated: float = field(init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"rate must be positive, got {self.rate}")
        self.burst = max(1.0, self.burst)
        self._tokens = self.burst
        self._updated = self.clock()

    def acquire(self) -> float:
        """Take one token, sleeping if needed; returns the seconds slept."""
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1
        if self._tokens >= 0:
            return 0.0
        wait = -self._tokens / self.rate
        self.sleep(wait)
        return wait


class RateLimiter:
    """One `TokenBucket` per host; `rate=None` (or 0) turns limiting off."""

    def __init__(
        self,
        rate: float | None,
        burst: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.rate = rate if rate else None
        self.burst = burst if burst is not None else (rate or 1.0)
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}
        self.waited = 0.0
        """Total seconds slept so far, over all hosts."""

    def acquire(self, host: str) -> float:
        """Wait for a request slot on `host`; returns the seconds slept."""
        if self.rate is None:
            return 0.0
        bucket = self._buckets.get(host)
        if bucket is None:
            bucket = TokenBucket(self.rate, self.burst, self._clock, self._sleep)
            self._buckets[host] = bucket
        wait = bucket.acquire()
        self.waited += wait
        return wait
