"""Reading an HTTP answer within a total deadline and a size cap.

httpx's timeouts bound each read, not the whole answer: a peer sending a
byte every few seconds never trips them, and one sending gigabytes is read
into memory whole. Peers named by the config repo (a MetricTemplate's
address, a Canary's webhooks) or by a registry are not trusted to be
reasonable, so their answers are read through `bounded_body`.
"""

from __future__ import annotations

import time

import httpx

DEFAULT_CAP = 4 * 1024 * 1024


class AnswerTooSlow(Exception):
    """The answer did not finish within the deadline."""


class AnswerTooLarge(Exception):
    """The answer was larger than the cap."""


def bounded_body(response: httpx.Response, deadline: float, cap: int = DEFAULT_CAP) -> bytes:
    """The decoded body of a streamed `response`, by the `time.monotonic()` `deadline`, capped."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > cap:
            raise AnswerTooLarge(f"answer larger than {cap} bytes")
        if time.monotonic() > deadline:
            raise AnswerTooSlow("answer not finished within its deadline")
    return bytes(body)


def get(
    client: httpx.Client,
    url: str,
    *,
    params: dict[str, str],
    timeout: float,
    cap: int = DEFAULT_CAP,
) -> tuple[int, bytes]:
    """GET `url`: (status, body) within `timeout` seconds in all."""
    deadline = time.monotonic() + timeout
    with client.stream("GET", url, params=params, timeout=timeout) as response:
        return response.status_code, bounded_body(response, deadline, cap)


def post_json(
    url: str, body: object, *, timeout: float, cap: int = DEFAULT_CAP
) -> tuple[int, bytes]:
    """POST `body` as JSON to `url`: (status, body) within `timeout` seconds in all."""
    deadline = time.monotonic() + timeout
    with httpx.stream("POST", url, json=body, timeout=timeout) as response:
        return response.status_code, bounded_body(response, deadline, cap)
