"""A MetricTemplate address or webhook that trickles or floods (issue 14, item 3).

Both are named by the config repo; neither may hold a canary run past its
timeout, nor be read into memory whole.
"""

from __future__ import annotations

import threading

import pytest

from gitops_action.adapters import webhooks
from gitops_action.adapters.prometheus import Prometheus
from gitops_action.domain.canary_config import Webhook
from gitops_action.domain.errors import MetricQueryFailed
from testbed.hostile import hostile_server, trickle

VECTOR_START = b'{"status": "success", "data": {"resultType": "vector", "result": ['
VECTOR_END = b"]}}"


def test_a_trickling_metrics_address_fails_the_query_by_its_timeout() -> None:
    stop, sent = threading.Event(), []
    slow = trickle(200, "application/json", b" ", every=0.5, limit=120, stop=stop,
                   prefix=VECTOR_START, suffix=VECTOR_END, sent=sent)  # fmt: skip
    with hostile_server(slow, "trickling-prometheus") as (port, _seen):
        try:
            with (
                Prometheus(f"http://127.0.0.1:{port}", timeout=2) as client,
                pytest.raises(MetricQueryFailed, match="AnswerTooSlow"),
            ):
                client.query("up")
        finally:
            stop.set()
    assert len(sent) < 60, "the client stopped reading at its deadline"


def test_a_flooding_metrics_address_is_cut_off() -> None:
    sent: list[int] = []
    flood = trickle(200, "application/json", b" " * (1 << 20), every=0, limit=64,
                    prefix=VECTOR_START, suffix=VECTOR_END, sent=sent)  # fmt: skip
    with (
        hostile_server(flood, "flooding-prometheus") as (port, _seen),
        Prometheus(f"http://127.0.0.1:{port}", timeout=30) as client,
        pytest.raises(MetricQueryFailed, match="AnswerTooLarge"),
    ):
        client.query("up")
    assert sum(sent) < 48 * (1 << 20)


def test_a_trickling_webhook_fails_by_its_timeout() -> None:
    stop, sent = threading.Event(), []
    slow = trickle(200, "text/plain", b".", every=0.5, limit=120, stop=stop, sent=sent)
    with hostile_server(slow, "trickling-webhook") as (port, _seen):
        hook = Webhook(name="gate", type="rollout", url=f"http://127.0.0.1:{port}/", timeout=2.0)
        payload = webhooks.Payload("podinfo", "apps", "Progressing", "abc")
        try:
            answer = webhooks.call(hook, payload)
        finally:
            stop.set()
    assert not answer.ok and "no answer within 2s" in answer.detail
    assert len(sent) < 60
