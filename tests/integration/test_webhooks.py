"""Flagger webhooks against a local stdlib HTTP server: payload, answers, timeouts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from gitops_action.adapters.webhooks import Payload, call, call_all, send_event
from gitops_action.domain.canary_config import Webhook
from testbed.ports import free_port
from testbed.threaded_server import ThreadedHttpServer


class HookServer:
    """Answers POST /<status>[/slow] with that status; records every JSON body."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.received.append((self.path, body))
                parts = self.path.strip("/").split("/")
                if "slow" in parts:
                    time.sleep(1.5)
                status = int(parts[0])
                self.send_response(status)
                self.end_headers()
                self.wfile.write(f"answer {status}".encode())

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadedHttpServer(Handler, name="webhook-receiver")
        self._http.start()
        self.url = f"http://{self._http.host}"

    def close(self) -> None:
        self._http.stop()


@pytest.fixture
def hooks() -> Iterator[HookServer]:
    server = HookServer()
    yield server
    server.close()


PAYLOAD = Payload("podinfo", "test", "Progressing", "abc123")


def test_payload_is_flaggers(hooks: HookServer) -> None:
    hook = Webhook("gate", "confirm-promotion", f"{hooks.url}/200", metadata={"cmd": "ok"})
    answer = call(hook, PAYLOAD)
    assert answer.ok and answer.name == "gate"
    assert hooks.received == [
        (
            "/200",
            {
                "name": "podinfo",
                "namespace": "test",
                "phase": "Progressing",
                "checksum": "abc123",
                "metadata": {"cmd": "ok"},
            },
        )
    ]


@pytest.mark.parametrize(
    ("status", "ok"), [(200, True), (202, True), (204, False), (403, False), (500, False)]
)
def test_only_200_to_202_say_yes(hooks: HookServer, status: int, ok: bool) -> None:
    answer = call(Webhook("h", "rollout", f"{hooks.url}/{status}"), PAYLOAD)
    assert answer.ok is ok
    assert f"HTTP {status}" in answer.detail


def test_timeout_and_refused_say_no(hooks: HookServer) -> None:
    slow = Webhook("slow", "pre-rollout", f"{hooks.url}/200/slow", timeout=0.3)
    answer = call(slow, PAYLOAD)
    assert not answer.ok and "no answer within 0.3s" in answer.detail
    refused = call(Webhook("gone", "rollout", f"http://127.0.0.1:{free_port()}/"), PAYLOAD)
    assert not refused.ok


def test_call_all_calls_every_hook(hooks: HookServer) -> None:
    answers = call_all(
        (Webhook("a", "rollout", f"{hooks.url}/500"), Webhook("b", "rollout", f"{hooks.url}/200")),
        PAYLOAD,
    )
    assert [a.ok for a in answers] == [False, True]
    assert len(hooks.received) == 2


def test_event_hooks_get_the_event_in_metadata(hooks: HookServer) -> None:
    send_event((Webhook("e", "event", f"{hooks.url}/200"),), PAYLOAD, "Warning", "Rolling back")
    ((_path, body),) = hooks.received
    assert body["metadata"]["eventMessage"] == "Rolling back"
    assert body["metadata"]["eventType"] == "Warning"
    assert int(body["metadata"]["timestamp"]) > 1_600_000_000_000
