"""Holding the Lease `gitops-action` for one reconcile run (rules: `domain.lease`).

`LeaseKeeper.acquire` reads the Lease and creates or takes it with one write
(the update carries the resourceVersion read, so two runs racing for it get
one 201/200 and one 409; the loser re-reads and sees the winner). While the
run works, a background thread renews it every third of its duration, so a
long sync or canary wait never lets it lapse; a run shorter than that (every
idle run) makes no renewal at all. `release` hands it back with one more
write, so the next run need not wait for it to expire.

With a `deadline` (reconcile's `--deadline`) every claim is cut to end by it
and renewal stops there (`expired`): a run stuck on a slow peer can never keep
the Lease, and so every later run, past its own deadline.

A renewal refused with a 409 means another run took the Lease over (ours had
lapsed: the process stalled longer than the duration). `lost` is then set and
the run stops before its next phase.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Final

from gitops_action.adapters.kube import Kube
from gitops_action.domain.errors import KubeApiError, KubeConflict
from gitops_action.domain.lease import (
    DEFAULT_DURATION,
    LEASE_NAME,
    Decision,
    LeaseState,
    Verdict,
    decide,
    lease_body,
    released,
)
from gitops_action.domain.sync_plan import ResourceType

log = logging.getLogger("gitops_action.reconcile")

LEASES: Final = ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True)
_TRIES: Final = 3

Connect = Callable[[str | None, str | None], AbstractContextManager[Kube]]
Now = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class LeaseKeeper:
    """The Lease of one run: acquire, renew in the background, release."""

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        identity: str,
        *,
        duration: int = DEFAULT_DURATION,
        labels: Mapping[str, str] | None = None,
        now: Now = utc_now,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.identity = identity
        self.duration = duration
        self.deadline = deadline
        """`clock()` time past which the run holds no Lease (None: no deadline)."""
        self.clock = clock
        self.expired = False
        self.labels = dict(labels or {})
        self.now = now
        self.lost = False
        self.renewals = 0
        self._live: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ acquire
    def acquire(self) -> Decision:
        """Take the Lease if we may; the decision says who holds it when we may not."""
        decision = Decision(Verdict.HELD)
        for _ in range(_TRIES):
            live = self.kube.get(LEASES, self.namespace, LEASE_NAME)
            state = None if live is None else LeaseState.from_object(live)
            now = self.now()
            decision = decide(state, self.identity, now)
            if decision.verdict is Verdict.HELD:
                return decision
            claim = self._claim()
            if claim <= 0:
                return Decision(Verdict.HELD, decision.holder, decision.until)
            body = lease_body(
                self.namespace,
                self.identity,
                claim,
                now,
                previous=state,
                labels=self.labels,
            )
            try:
                if state is None:
                    self.kube.create(LEASES, self.namespace, body)
                    self._live = self.kube.get(LEASES, self.namespace, LEASE_NAME)
                else:
                    self._live = self.kube.replace(LEASES, body)
            except KubeConflict:
                continue  # another run wrote it between our read and write: read again
            if decision.takeover:
                log.warning(
                    "took over the lease from %s (its claim lapsed at %s)",
                    decision.holder,
                    decision.until,
                )
            return decision
        return decision

    # -------------------------------------------------------------------- renew
    def start_renewing(self) -> None:
        """Renew every third of the duration until `stop_renewing` (a daemon thread)."""
        self._thread = threading.Thread(target=self._renew_loop, name="lease-renew", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.duration / 3):
            if not self.renew():
                return

    def renew(self) -> bool:
        """One renewal; False (and `lost`) when another run took the Lease."""
        with self._lock:
            if self._live is None or self.lost:
                return False
            claim = self._claim()
            if claim <= 0:
                self.expired = True
                log.error("the run's deadline passed: the lease is not renewed; stopping")
                return False
            state = LeaseState.from_object(self._live)
            body = lease_body(
                self.namespace,
                self.identity,
                claim,
                self.now(),
                previous=state,
                labels=self.labels,
            )
            try:
                self._live = self.kube.replace(LEASES, body)
            except KubeConflict:
                self.lost = True
                log.error("lost the lease: another run took it over; stopping after this phase")
                return False
            except KubeApiError as error:
                log.warning("could not renew the lease (will retry): %s", error)
                return True
            self.renewals += 1
            return True

    def _claim(self) -> int:
        """Seconds the next claim lasts: the duration, cut so it ends by the deadline."""
        if self.deadline is None:
            return self.duration
        return min(self.duration, math.floor(self.deadline - self.clock()))

    def past_deadline(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline

    def stop_renewing(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    # ------------------------------------------------------------------ release
    def release(self) -> None:
        """Hand the Lease back (no holder) so the next run need not wait for it to lapse."""
        self.stop_renewing()
        with self._lock:
            if self._live is None or self.lost:
                return
            try:
                self.kube.replace(LEASES, released(self._live, self.now()))
            except KubeApiError as error:  # it lapses by itself within the duration
                log.warning("could not release the lease: %s", error)
            self._live = None
