"""The Prometheus provider and metric checks against a real Prometheus scraping the exporter."""

from __future__ import annotations

import pytest

from gitops_action.adapters.prometheus import Prometheus
from gitops_action.domain.canary_config import (
    Analysis,
    CanarySpec,
    MetricCheck,
    MetricTemplate,
    ThresholdRange,
)
from gitops_action.domain.config import ObjectKey, Source
from gitops_action.domain.errors import InvalidConfig, MetricQueryFailed
from gitops_action.domain.metrics import BuiltinMetrics, judge, plan_query
from testbed.metrics_exporter import MetricsExporter
from testbed.ports import free_port
from testbed.prometheus import PrometheusService

pytestmark = pytest.mark.services

SOURCE = Source("canary.yaml", 1, 1)
SUCCESS = MetricCheck("request-success-rate", "5s", ThresholdRange(min=99))
DURATION = MetricCheck("request-duration", "5s", ThresholdRange(max=500))


def spec(target: str = "podinfo", metrics: tuple[MetricCheck, ...] = (SUCCESS,)) -> CanarySpec:
    return CanarySpec(
        key=ObjectKey("test", target),
        source=SOURCE,
        target=target,
        provider="replicas",
        port=80,
        target_port=80,
        service_name=target,
        analysis=Analysis(interval=2, step_weight=50, metrics=metrics),
    )


def value_of(prometheus: PrometheusService, canary: CanarySpec, metric: MetricCheck) -> float:
    planned = plan_query(canary, metric, {}, BuiltinMetrics())
    with Prometheus(prometheus.url) as client:
        value = client.query(planned.query)
    assert value is not None, planned.query
    return value


def test_builtin_success_rate_sees_the_error_share(
    prometheus: PrometheusService, metrics_exporter: MetricsExporter
) -> None:
    metrics_exporter.set_traffic("podinfo-canary", rps=200, error_rate=0.1)
    metrics_exporter.set_traffic("healthy-canary", rps=200, error_rate=0.0)
    rate = 'sum(rate(http_requests_total{app="podinfo-canary",status="500"}[5s]))'
    prometheus.wait_for(rate, lambda v: v > 0, timeout=20)
    prometheus.wait_for('sum(rate(http_requests_total{app="healthy-canary"}[5s]))', timeout=20)
    failing = value_of(prometheus, spec(), SUCCESS)
    assert 80 < failing < 97
    assert not judge(SUCCESS, failing).ok
    healthy = value_of(prometheus, spec("healthy"), SUCCESS)
    assert healthy == 100
    assert judge(SUCCESS, healthy).ok


def test_builtin_duration_is_the_p99_in_milliseconds(
    prometheus: PrometheusService, metrics_exporter: MetricsExporter
) -> None:
    metrics_exporter.set_traffic("slow-canary", rps=100, latency=0.2)
    prometheus.wait_for(
        'sum(rate(http_request_duration_seconds_count{app="slow-canary"}[5s]))', timeout=20
    )
    p99 = value_of(prometheus, spec("slow"), DURATION)
    assert 100 < p99 <= 250  # the 0.1..0.25 s bucket, in ms
    assert judge(DURATION, p99).ok
    assert not judge(MetricCheck("request-duration", "5s", ThresholdRange(max=50)), p99).ok


def test_metric_template_with_flagger_variables(
    prometheus: PrometheusService, metrics_exporter: MetricsExporter
) -> None:
    metrics_exporter.set_gauge("queue_depth", 12, app="podinfo", ns="test")
    prometheus.wait_for('queue_depth{app="podinfo"}', lambda v: v == 12)
    key = ObjectKey("test", "queue")
    template = MetricTemplate(
        key,
        SOURCE,
        "prometheus",
        'max(queue_depth{app="{{ target }}",ns="{{ namespace }}"}) * {{ variables.factor }}',
    )
    metric = MetricCheck(
        "queue", "1m", ThresholdRange(max=30), template=key, variables={"factor": "2"}
    )
    planned = plan_query(spec(metrics=(metric,)), metric, {key: template}, BuiltinMetrics())
    assert planned.query == 'max(queue_depth{app="podinfo",ns="test"}) * 2'
    with Prometheus(prometheus.url) as client:
        value = client.query(planned.query)
    assert value == 24
    assert judge(metric, value).ok
    assert not judge(MetricCheck("queue", threshold_range=ThresholdRange(max=20)), value).ok


def test_unknown_variable_is_a_config_error() -> None:
    metric = MetricCheck("q", query="up{job='{{ variables.missing }}'}")
    with pytest.raises(InvalidConfig, match=r"variables\.missing"):
        plan_query(spec(metrics=(metric,)), metric, {}, BuiltinMetrics())


def test_no_data_is_a_failed_check(prometheus: PrometheusService) -> None:
    with Prometheus(prometheus.url) as client:
        value = client.query('sum(rate(http_requests_total{app="nobody-canary"}[5s]))')
    assert value is None
    result = judge(SUCCESS, value)
    assert not result.ok and result.message == "no values found"
    ratio = value_of_or_none(prometheus, spec("nobody"), SUCCESS)
    assert ratio is None or ratio != ratio  # empty vector or NaN: never a number that passes
    assert not judge(SUCCESS, ratio).ok


def value_of_or_none(
    prometheus: PrometheusService, canary: CanarySpec, metric: MetricCheck
) -> float | None:
    planned = plan_query(canary, metric, {}, BuiltinMetrics())
    with Prometheus(prometheus.url) as client:
        return client.query(planned.query)


def test_prometheus_down_raises() -> None:
    with (
        Prometheus(f"http://127.0.0.1:{free_port()}", timeout=2) as client,
        pytest.raises(MetricQueryFailed, match="unreachable"),
    ):
        client.query("up")


def test_bad_promql_raises(prometheus: PrometheusService) -> None:
    with (
        Prometheus(prometheus.url) as client,
        pytest.raises(MetricQueryFailed, match="query failed"),
    ):
        client.query("sum(rate(")
