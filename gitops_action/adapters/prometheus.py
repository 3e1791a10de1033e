"""Prometheus instant queries (``GET /api/v1/query``) over httpx.

A canary check needs one number per query. Prometheus answers a vector (or
a scalar); the first sample's value is the answer, an empty vector is "no
data" (None). Everything that is not a number from a healthy server (refused
connection, timeout, HTTP error, `status: error`, a body that is not the
API's JSON) raises `MetricQueryFailed`, which the analysis records as a
failed check: a silent Prometheus must never let a canary through.

Credentials: none, or Basic auth from ``GITOPS_PROMETHEUS_USERNAME`` /
``GITOPS_PROMETHEUS_PASSWORD`` (never a flag; never in a message). They were
given for one server, `--prometheus-url`, so they go only to its origin
(scheme, host, port): a MetricTemplate's ``provider.address`` is written by
whoever writes the config repo and gets no credentials. Over plain HTTP they
go only when the operator said so (`--allow-insecure-metrics`); otherwise the
query fails with that reason rather than sending them in the clear.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import httpx

from gitops_action.adapters import bounded_http
from gitops_action.domain.errors import MetricQueryFailed

DEFAULT_TIMEOUT: Final = 10.0


class Prometheus:
    """A Prometheus HTTP API at `url` (e.g. ``http://prometheus.monitoring:9090``)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        environ: Mapping[str, str] | None = None,
        credentials_for: str | None = None,
        allow_insecure: bool = False,
    ) -> None:
        """`credentials_for`: the URL the environment's credentials belong to (`--prometheus-url`);
        None sends them to `url` itself; "" sends them nowhere."""
        self.url = url.rstrip("/")
        self.timeout = timeout
        """Seconds for one query in all (connect to last byte), not only per read."""
        env = environ or {}
        user = env.get("GITOPS_PROMETHEUS_USERNAME")
        password = env.get("GITOPS_PROMETHEUS_PASSWORD")
        self._refusal = ""
        auth = None
        origin = self.url if credentials_for is None else credentials_for
        if user and origin and _same_origin(self.url, origin):
            if httpx.URL(self.url).scheme == "https" or allow_insecure:
                auth = httpx.BasicAuth(user, password or "")
            else:
                self._refusal = (
                    "credentials are not sent over plain HTTP (use https, or "
                    "--allow-insecure-metrics)"
                )
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), auth=auth, follow_redirects=False
        )

    def query(self, promql: str) -> float | None:
        """The value of an instant query: first sample, None when the result is empty."""
        where = f"Prometheus {self.url}"
        if self._refusal:
            raise MetricQueryFailed(f"{where}: {self._refusal}")
        try:
            status, data = bounded_http.get(
                self._client,
                f"{self.url}/api/v1/query",
                params={"query": promql},
                timeout=self.timeout,
            )
        except (httpx.HTTPError, bounded_http.AnswerTooSlow, bounded_http.AnswerTooLarge) as err:
            raise MetricQueryFailed(f"{where}: unreachable ({type(err).__name__}: {err})") from err
        try:
            body: Any = json.loads(data)
        except ValueError as err:
            raise MetricQueryFailed(f"{where}: HTTP {status}, not the query API's JSON") from err
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise MetricQueryFailed(
                f"{where}: query failed (HTTP {status}): {error or 'no status'}"
            )
        return _first_value(body.get("data"), where)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Prometheus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _same_origin(url: str, other: str) -> bool:
    """Same scheme, host and port (default ports filled in)."""
    first, second = httpx.URL(url), httpx.URL(other)
    return (first.scheme, first.host.lower(), _port(first)) == (
        second.scheme,
        second.host.lower(),
        _port(second),
    )


def _port(url: httpx.URL) -> int | None:
    return url.port or {"http": 80, "https": 443}.get(url.scheme)


def _first_value(data: Any, where: str) -> float | None:
    if not isinstance(data, dict):
        raise MetricQueryFailed(f"{where}: answer without data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return _number(result[1], where)
    if kind != "vector" or not isinstance(result, list):
        raise MetricQueryFailed(f"{where}: unsupported result type {kind!r} (want a vector)")
    if not result:
        return None
    sample = result[0].get("value") if isinstance(result[0], dict) else None
    if not isinstance(sample, list) or len(sample) != 2:
        raise MetricQueryFailed(f"{where}: malformed sample")
    return _number(sample[1], where)


def _number(text: Any, where: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError) as err:
        raise MetricQueryFailed(f"{where}: sample {text!r} is not a number") from err
    return value
