"""Objects a canary manages, replica split, metric rendering and the rollback plan (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_action.app.canary_writeback import (
    ImageChange,
    changes_between,
    plan_rollback,
    split_image,
)
from gitops_action.domain.canary_config import (
    Analysis,
    CanarySpec,
    MetricCheck,
    ThresholdRange,
)
from gitops_action.domain.canary_objects import (
    ROLE_LABEL,
    canary_replicas,
    effective_weight,
    primary_deployment,
    revision_of,
    services,
)
from gitops_action.domain.config import ObjectKey, Source
from gitops_action.domain.errors import InvalidConfig
from gitops_action.domain.marker_values import MarkerValue
from gitops_action.domain.markers import MarkerField, PolicyRef
from gitops_action.domain.metrics import BuiltinMetrics, judge, plan_query, render


def spec(provider: str = "kubernetes") -> CanarySpec:
    return CanarySpec(
        key=ObjectKey("test", "podinfo"),
        source=Source("c.yaml", 1, 1),
        target="podinfo",
        provider=provider,
        port=80,
        target_port="http",
        service_name="podinfo",
        analysis=Analysis(iterations=2),
    )


def target(image: str = "app:v1") -> dict[str, Any]:
    return {
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "podinfo"}},
            "strategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"app": "podinfo", "tier": "web"}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        }
    }


def test_primary_gets_flagger_labels_and_the_template() -> None:
    body = primary_deployment(spec(), target(), 3, "abc")
    assert body["metadata"]["name"] == "podinfo-primary"
    assert body["spec"]["selector"] == {"matchLabels": {"app": "podinfo-primary"}}
    labels = body["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app": "podinfo-primary", "tier": "web"}
    assert body["spec"]["strategy"] == {"type": "RollingUpdate"}
    assert body["spec"]["replicas"] == 3


def test_replicas_router_primary_keeps_labels_and_apex_selects_both() -> None:
    body = primary_deployment(spec("replicas"), target(), 2, "abc")
    assert body["spec"]["selector"]["matchLabels"] == {"app": "podinfo", ROLE_LABEL: "primary"}
    apex, primary, canary = services(spec("replicas"), target())
    assert apex["spec"]["selector"] == {"app": "podinfo"}
    assert primary["spec"]["selector"] == {"app": "podinfo", ROLE_LABEL: "primary"}
    assert apex["spec"]["ports"][0]["targetPort"] == "http"
    assert canary["metadata"]["name"] == "podinfo-canary"


def test_revision_follows_the_pod_template_only() -> None:
    assert revision_of(target("app:v1")) == revision_of({**target("app:v1"), "status": {"x": 1}})
    assert revision_of(target("app:v1")) != revision_of(target("app:v2"))


@pytest.mark.parametrize(
    ("weight", "primary", "canary"),
    [(50, 2, 2), (25, 3, 1), (10, 2, 1), (75, 1, 3), (100, 4, 4), (20, 8, 2)],
)
def test_replica_split(weight: int, primary: int, canary: int) -> None:
    assert canary_replicas(spec("replicas"), weight, primary) == canary


def test_replica_split_is_the_closest_whole_pod_share() -> None:
    for primary in range(1, 12):
        for weight in range(1, 100):
            count = canary_replicas(spec("replicas"), weight, primary)
            share = effective_weight(count, primary)
            for other in (count - 1, count + 1):
                if other >= 1:
                    assert abs(share - weight) <= abs(effective_weight(other, primary) - weight)
    assert canary_replicas(spec("kubernetes"), 10, 4) == 4


def test_builtin_queries_render_flagger_variables() -> None:
    metric = MetricCheck("request-success-rate", "30s", ThresholdRange(min=99))
    planned = plan_query(spec(), metric, {}, BuiltinMetrics())
    assert planned.query == (
        'sum(rate(http_requests_total{app="podinfo-canary",status!~"5.."}[30s])) / '
        'sum(rate(http_requests_total{app="podinfo-canary"}[30s])) * 100'
    )
    custom = BuiltinMetrics(duration_buckets="latency_bucket", selector='job="{{ namespace }}"')
    duration = plan_query(spec(), MetricCheck("request-duration", "1m"), {}, custom)
    assert duration.query == (
        'histogram_quantile(0.99, sum(rate(latency_bucket{job="test"}[1m])) by (le)) * 1000'
    )


def test_render_refuses_unknown_variables() -> None:
    assert render("{{target}}/{{ variables.x }}", {"target": "a", "variables.x": "b"}, "w") == "a/b"
    with pytest.raises(InvalidConfig, match="w: unknown template variable 'nope'"):
        render("{{ nope }}", {}, "w")


def test_judge_fails_without_a_number() -> None:
    metric = MetricCheck("m", threshold_range=ThresholdRange(min=1, max=2))
    assert judge(metric, 1.5).ok
    assert not judge(metric, 2.5).ok and not judge(metric, 0.5).ok
    assert not judge(metric, None).ok
    assert not judge(metric, float("nan")).ok
    assert not judge(metric, 1.5, "down").ok


def test_rollback_plan_matches_markers_by_image_or_tag() -> None:
    assert split_image("reg:5000/app:v2@sha256:ab") == ("reg:5000/app", "v2")
    changes = changes_between(
        {"app": "reg/app:v2", "side": "s:1"}, {"app": "reg/app:v1", "side": "s:1"}
    )
    assert changes == [ImageChange("app", "reg/app:v2", "reg/app:v1")]
    policy, other = PolicyRef("flux-system", "app"), PolicyRef("flux-system", "other")
    markers = [
        MarkerValue("a.yaml", 3, policy, MarkerField.FULL, "reg/app:v2"),
        MarkerValue("b.yaml", 4, policy, MarkerField.TAG, "v2"),
        MarkerValue("c.yaml", 5, other, MarkerField.FULL, "reg/app:v3"),
    ]
    plan = plan_rollback(markers, changes)
    assert [(s.policy, s.image, s.tag) for s in plan.settings] == [(policy, "reg/app", "v1")]
    assert plan.holds == [(policy, "v2")]
