"""A prometheus_client exporter whose numbers the test decides.

Canary analysis asks Prometheus things like "what share of requests to app X
failed over the last N seconds". To make that answer controllable, the
exporter serves the usual RED metrics for any number of apps and a background
"traffic" thread keeps them growing at a rate and error ratio the test sets:

    exporter.set_traffic("podinfo-canary", rps=100, error_rate=0.25, latency=0.2)

gives `sum(rate(http_requests_total{app="podinfo-canary",status=~"5.."}[10s]))
/ sum(rate(http_requests_total{app="podinfo-canary"}[10s]))` ~= 0.25 and a
latency histogram whose quantiles sit near 0.2 s. `set_gauge` sets any gauge
(created on first use) for metrics that are simply a number.

It has its own CollectorRegistry (no process/platform collectors, nothing from
other tests) and a stoppable HTTP server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from testbed.ports import LOCALHOST, free_port

READY_METRIC = "gitops_test_exporter_up"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_TICK = 0.25


@dataclass
class Traffic:
    """Synthetic load for one app: requests per second, error share, latency."""

    rps: float
    error_rate: float
    latency: float
    carry: float = 0.0
    error_carry: float = 0.0


class MetricsExporter:
    """HTTP /metrics on 127.0.0.1:port from a private registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests",
            "Requests served, by app and HTTP status (test controlled).",
            ["app", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Request latency by app (test controlled).",
            ["app"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._gauges: dict[str, Gauge] = {}
        self._traffic: dict[str, Traffic] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.port = free_port()
        self.target = f"{LOCALHOST}:{self.port}"
        self.url = f"http://{self.target}/metrics"
        self._server: object | None = None
        self._threads: list[threading.Thread] = []
        self.set_gauge(READY_METRIC, 1)

    # -- lifecycle -------------------------------------------------------
    def start(self) -> None:
        server, thread = start_http_server(self.port, addr=LOCALHOST, registry=self.registry)
        self._server = server
        ticker = threading.Thread(target=self._run_traffic, name="metrics-traffic", daemon=True)
        ticker.start()
        self._threads = [thread, ticker]

    def stop(self) -> None:
        self._stop.set()
        server = self._server
        if server is not None:
            server.shutdown()  # type: ignore[attr-defined]
            server.server_close()  # type: ignore[attr-defined]
        for thread in self._threads:
            thread.join(timeout=5)

    # -- what tests call -------------------------------------------------
    def record(self, app: str, *, ok: int = 0, errors: int = 0, latency: float = 0.05) -> None:
        """Count ok (200) and errors (500) requests for app once, all with latency."""
        if ok:
            self.requests.labels(app=app, status="200").inc(ok)
        if errors:
            self.requests.labels(app=app, status="500").inc(errors)
        for _ in range(ok + errors):
            self.duration.labels(app=app).observe(latency)

    def set_traffic(
        self, app: str, *, rps: float = 50.0, error_rate: float = 0.0, latency: float = 0.05
    ) -> None:
        """Keep app's counters growing: rps requests/s, a share error_rate of them 500s."""
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate {error_rate} is not within 0..1")
        # Both series exist from the start, so ratios never divide by a missing series.
        self.requests.labels(app=app, status="200").inc(0)
        self.requests.labels(app=app, status="500").inc(0)
        with self._lock:
            self._traffic[app] = Traffic(rps, error_rate, latency)

    def stop_traffic(self, app: str | None = None) -> None:
        with self._lock:
            if app is None:
                self._traffic.clear()
            else:
                self._traffic.pop(app, None)

    def set_gauge(self, name: str, value: float, **labels: str) -> None:
        """Set gauge `name` (created on first use with these label names) to value."""
        gauge = self._gauges.get(name)
        if gauge is None:
            gauge = Gauge(name, f"{name} (test controlled)", sorted(labels), registry=self.registry)
            self._gauges[name] = gauge
        (gauge.labels(**labels) if labels else gauge).set(value)

    def reset(self) -> None:
        """Stop all traffic and drop every request/latency series and test gauge."""
        self.stop_traffic()
        self.requests.clear()
        self.duration.clear()
        for name, gauge in list(self._gauges.items()):
            if name == READY_METRIC:
                continue
            self.registry.unregister(gauge)
            del self._gauges[name]

    # -- background ------------------------------------------------------
    def _run_traffic(self) -> None:
        while not self._stop.wait(_TICK):
            with self._lock:
                items = list(self._traffic.items())
            for app, traffic in items:
                total = traffic.rps * _TICK + traffic.carry
                count = int(total)
                traffic.carry = total - count
                wanted = count * traffic.error_rate + traffic.error_carry
                errors = min(count, int(wanted))
                traffic.error_carry = wanted - errors
                self.record(app, ok=count - errors, errors=errors, latency=traffic.latency)
