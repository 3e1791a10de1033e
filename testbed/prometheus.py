"""The Debian `prometheus` scraping the test's MetricsExporter every second.

Readiness is "a query for the exporter's metric returns a sample", not
`/-/ready`: Prometheus reports ready long before its first scrape, and a test
that queries then gets empty vectors. With 1 s scrape and evaluation
intervals the first sample lands within a few seconds of start.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from testbed.metrics_exporter import READY_METRIC, MetricsExporter
from testbed.ports import LOCALHOST, free_port
from testbed.process import ServiceProcess

EXPORTER_JOB = "exporter"


class PrometheusQueryError(RuntimeError):
    """Prometheus rejected a query (bad PromQL) or answered oddly."""


class PrometheusService:
    """A running Prometheus; `url` for the code under test, `query` for tests."""

    def __init__(self, workdir: Path, exporter: MetricsExporter) -> None:
        self.workdir = workdir
        self.exporter = exporter
        self.port = free_port()
        self.url = f"http://{LOCALHOST}:{self.port}"
        self.config_path = workdir / "prometheus.yml"
        self.process = ServiceProcess(
            "prometheus",
            [
                "prometheus",
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address={LOCALHOST}:{self.port}",
                "--log.level=info",
            ],
            log_path=workdir / "prometheus.log",
        )

    def _write_config(self) -> None:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {
                    "job_name": EXPORTER_JOB,
                    "scrape_interval": "1s",
                    "static_configs": [{"targets": [self.exporter.target]}],
                }
            ],
        }
        self.config_path.write_text(json.dumps(config, indent=2))  # JSON is YAML

    def start(self, timeout: float = 20) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self.process.start()
        self.process.wait_ready(
            lambda: self.query(READY_METRIC, timeout=2) == 1.0, timeout=timeout, interval=0.2
        )

    def stop(self) -> None:
        self.process.stop()

    def query(self, promql: str, *, timeout: float = 10) -> float | None:
        """Instant query: the first sample's value, None when the result is empty."""
        with httpx.Client(timeout=timeout) as client:
            response = client.get(f"{self.url}/api/v1/query", params={"query": promql})
        body = response.json()
        if body.get("status") != "success":
            raise PrometheusQueryError(f"query {promql!r}: {body.get('error', response.text)}")
        data = body["data"]
        if data["resultType"] in ("scalar", "string"):
            return float(data["result"][1])
        samples = data["result"]
        if not samples:
            return None
        return float(samples[0]["value"][1])

    def wait_for(
        self,
        promql: str,
        predicate: Callable[[float], bool] = lambda _value: True,
        *,
        timeout: float = 15,
    ) -> float:
        """Poll query(promql) until it returns a value predicate accepts; return it."""
        deadline = time.monotonic() + timeout
        last: float | None = None
        while True:
            last = self.query(promql)
            if last is not None and predicate(last):
                return last
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{promql!r} still {last} after {timeout:.0f}s")
            time.sleep(0.2)
