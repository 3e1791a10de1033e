"""Who may act now: the pure rules of the `coordination.k8s.io` Lease reconcile takes.

A run acts only while it holds the Lease `gitops-action`. The rules are those
of client-go's leader election, cut to one-shot runs:

- no Lease yet: create it, holding it;
- a Lease nobody holds (released: empty `holderIdentity`), one we hold
  already, or one whose holder stopped renewing (`renewTime +
  leaseDurationSeconds` is in the past): take it, by an update guarded by the
  `resourceVersion` we read, so of two runs taking it at once exactly one wins
  (the other gets a 409 and backs off);
- otherwise someone else holds it until `renewTime + leaseDurationSeconds`.

Times are the API's MicroTime (`2024-01-01T00:00:00.000000Z`). Expiry is judged
by this process's clock against the time the holder wrote: clocks of the nodes
must agree to well within the duration (the default leaves minutes).

Pure: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

LEASE_NAME: Final = "gitops-action"
DEFAULT_DURATION: Final = 120
_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


def micro_time(moment: datetime) -> str:
    """A Kubernetes MicroTime."""
    return moment.astimezone(UTC).strftime(_FORMAT)


def parse_time(text: object) -> datetime | None:
    """A MicroTime or Time (`...Z`, with or without fraction); None when absent or bad."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class LeaseState:
    """The fields of a live Lease the decision needs."""

    holder: str
    duration: int
    acquired: datetime | None
    renewed: datetime | None
    transitions: int
    resource_version: str

    @classmethod
    def from_object(cls, lease: Mapping[str, Any]) -> LeaseState:
        spec = lease.get("spec") or {}
        metadata = lease.get("metadata") or {}
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            duration=int(spec.get("leaseDurationSeconds") or 0),
            acquired=parse_time(spec.get("acquireTime")),
            renewed=parse_time(spec.get("renewTime")),
            transitions=int(spec.get("leaseTransitions") or 0),
            resource_version=str(metadata.get("resourceVersion") or ""),
        )

    @property
    def expires(self) -> datetime | None:
        """When the holder's claim lapses (None: never renewed, so it has lapsed)."""
        start = self.renewed or self.acquired
        return None if start is None else start + timedelta(seconds=self.duration)


class Verdict(enum.Enum):
    CREATE = "create"  # no Lease object yet
    TAKE = "take"  # free, expired, or ours: update it to name us
    HELD = "held"  # someone else holds it, unexpired


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    holder: str = ""
    until: datetime | None = None
    takeover: bool = False  # taking it from another holder whose claim lapsed


def decide(state: LeaseState | None, me: str, now: datetime) -> Decision:
    """What a run called `me` may do with the Lease as read at `now`."""
    if state is None:
        return Decision(Verdict.CREATE)
    if not state.holder or state.holder == me:
        return Decision(Verdict.TAKE, state.holder)
    expires = state.expires
    if expires is None or expires <= now:
        return Decision(Verdict.TAKE, state.holder, expires, takeover=True)
    return Decision(Verdict.HELD, state.holder, expires)


def lease_body(
    namespace: str,
    me: str,
    duration: int,
    now: datetime,
    *,
    previous: LeaseState | None,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """The Lease naming `me` as holder from `now` (guarded by the version read, if any)."""
    changed_hands = previous is not None and previous.holder != me
    transitions = (previous.transitions if previous else 0) + (1 if changed_hands else 0)
    acquired = now
    if previous is not None and previous.holder == me and previous.acquired is not None:
        acquired = previous.acquired
    metadata: dict[str, Any] = {"name": LEASE_NAME, "namespace": namespace, "labels": dict(labels)}
    if previous is not None:
        metadata["resourceVersion"] = previous.resource_version
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {
            "holderIdentity": me,
            "leaseDurationSeconds": duration,
            "acquireTime": micro_time(acquired),
            "renewTime": micro_time(now),
            "leaseTransitions": transitions,
        },
    }


def released(lease: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The Lease handed back: no holder, so the next run takes it at once."""
    body = {key: value for key, value in lease.items() if key != "status"}
    spec = dict(body.get("spec") or {})
    spec["holderIdentity"] = ""
    spec["renewTime"] = micro_time(now)
    body["spec"] = spec
    return body


def renew_due(last_renewal: float, now: float, duration: int) -> bool:
    """Renew when a third of the duration has passed (two more chances before it lapses)."""
    return now - last_renewal >= duration / 3
