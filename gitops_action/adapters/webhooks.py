"""Flagger webhooks: POST a JSON payload, a 2xx answer (200-202) means yes.

The payload is Flagger's, so the hooks people already run (Flagger's
load tester, approval bots, Slack bridges) work unchanged::

    {"name": "podinfo", "namespace": "test", "phase": "Progressing",
     "checksum": "<target revision>", "metadata": {...the hook's metadata...}}

`event` hooks get every event, with ``eventMessage``, ``eventType`` and
``timestamp`` (milliseconds) in ``metadata``. A hook that times out, refuses
the connection or answers anything else is a "no": gates stay closed,
pre-rollout and rollout hooks count as failed checks. The answer body is kept
(shortened) for the status and the event message.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import httpx

from gitops_action.adapters import bounded_http
from gitops_action.domain.canary_config import Webhook

_MAX_DETAIL: Final = 200


@dataclass(frozen=True)
class HookAnswer:
    """What one webhook said."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Payload:
    name: str
    namespace: str
    phase: str
    checksum: str

    def body(self, metadata: Mapping[str, str]) -> dict[str, object]:
        body: dict[str, object] = {
            "name": self.name,
            "namespace": self.namespace,
            "phase": self.phase,
            "checksum": self.checksum,
        }
        if metadata:
            body["metadata"] = dict(metadata)
        return body


def call(hook: Webhook, payload: Payload, extra: Mapping[str, str] | None = None) -> HookAnswer:
    """POST the payload to one hook within its timeout."""
    metadata = {**hook.metadata, **(extra or {})}
    try:
        status, data = bounded_http.post_json(
            hook.url, payload.body(metadata), timeout=hook.timeout
        )
    except (httpx.TimeoutException, bounded_http.AnswerTooSlow):
        return HookAnswer(hook.name, False, f"{hook.url}: no answer within {hook.timeout:g}s")
    except bounded_http.AnswerTooLarge as err:
        return HookAnswer(hook.name, False, f"{hook.url}: {err}")
    except httpx.HTTPError as err:
        return HookAnswer(hook.name, False, f"{hook.url}: {type(err).__name__}: {err}")
    text = " ".join(data.decode("utf-8", "replace").split())[:_MAX_DETAIL]
    ok = 200 <= status <= 202
    return HookAnswer(hook.name, ok, f"{hook.url}: HTTP {status} {text}".rstrip())


def call_all(hooks: tuple[Webhook, ...], payload: Payload) -> list[HookAnswer]:
    """Every hook, in order (all are called even after a no, as Flagger does per type)."""
    return [call(hook, payload) for hook in hooks]


def send_event(
    hooks: tuple[Webhook, ...], payload: Payload, event_type: str, message: str
) -> list[HookAnswer]:
    """Notify `event` hooks; failures are reported, never fatal."""
    extra = {
        "eventMessage": message,
        "eventType": event_type,
        "timestamp": str(int(time.time() * 1000)),
    }
    return [call(hook, payload, extra) for hook in hooks]
