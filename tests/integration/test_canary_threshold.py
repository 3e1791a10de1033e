"""A Flagger metric with only the deprecated `threshold` (no thresholdRange) on a real
analysis: the check fails when the value is above it, and the canary is rolled back.
Before, the field was dropped and such a check could never fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.kube import Kube
from testbed.metrics_exporter import MetricsExporter
from testbed.prometheus import PrometheusService
from tests.integration.test_canary_run import IMAGE, make_scenario, start_traffic

pytestmark = pytest.mark.services

ERROR_PERCENT = (
    'sum(rate(http_requests_total{app="podinfo-canary",status="500"}[5s])) / '
    'sum(rate(http_requests_total{app="podinfo-canary"}[5s])) * 100'
)

DEPRECATED_THRESHOLD = f"""\
    interval: 2s
    threshold: 2
    maxWeight: 50
    stepWeight: 25
    metrics:
      - name: error-percent
        interval: 5s
        query: '{ERROR_PERCENT}'
        threshold: 1
"""


def test_a_deprecated_threshold_fails_the_check_above_it(
    kube: Kube, tmp_path: Path, prometheus: PrometheusService, metrics_exporter: MetricsExporter
) -> None:
    start_traffic(prometheus, metrics_exporter, 0.1)  # 10 % errors, above the threshold of 1
    scenario = make_scenario(kube, tmp_path, DEPRECATED_THRESHOLD, prometheus_url=prometheus.url)
    scenario.run()
    scenario.release("v1.1.0")

    outcomes = scenario.until({"Succeeded", "Failed"})

    last = outcomes[-1]
    assert last.phase == "Failed" and last.rolled_back, [o.as_record() for o in outcomes]
    check = scenario.status()["checks"][0]
    assert check["name"] == "error-percent" and not check["ok"]
    assert check["value"] > 1 and "outside [-inf, 1]" in check["message"]
    assert scenario.image("podinfo-primary") == f"{IMAGE}:v1.0.0"
