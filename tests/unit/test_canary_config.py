"""Canary and MetricTemplate models: Flagger defaults, validation errors naming file and field."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_action.domain.canary_config import Analysis, CanaryConfig
from gitops_action.domain.config import Document, ObjectKey, Source
from gitops_action.domain.errors import InvalidConfig


def canary(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
        "service": {"port": 9898},
        "provider": "replicas",
        "analysis": {"interval": "30s", "threshold": 3, "maxWeight": 50, "stepWeight": 10},
    }
    body.update(spec)
    return {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {"name": "podinfo", "namespace": "test"},
        "spec": body,
    }


def template(provider: str = "prometheus", query: str = "up") -> dict[str, Any]:
    return {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "MetricTemplate",
        "metadata": {"name": "latency", "namespace": "test"},
        "spec": {"provider": {"type": provider, "address": "http://prom:9090"}, "query": query},
    }


def load(*documents: dict[str, Any]) -> CanaryConfig:
    return CanaryConfig.from_documents(
        Document(Source("apps/canary.yaml", index + 1, 1), doc)
        for index, doc in enumerate(documents)
    )


def test_defaults_and_weights() -> None:
    (spec,) = load(canary()).canaries
    assert spec.key == ObjectKey("test", "podinfo")
    assert spec.primary == "podinfo-primary" and spec.canary_service == "podinfo-canary"
    assert spec.analysis.interval == 30 and spec.analysis.threshold == 3
    assert spec.analysis.weights() == (10, 20, 30, 40, 50)
    assert spec.progress_deadline == 600 and not spec.skip_analysis


def test_step_weight_capped_by_max_weight() -> None:
    assert Analysis(max_weight=25, step_weight=10).weights() == (10, 20, 25)
    assert Analysis(max_weight=30, step_weights=(5, 20, 80)).weights() == (5, 20, 30)


def test_step_weights_without_max_weight_end_at_the_last() -> None:
    analysis = {"interval": "1m", "stepWeights": [1, 5, 25, 60]}
    (spec,) = load(canary(analysis=analysis)).canaries
    assert spec.analysis.max_weight == 60 and spec.analysis.weights() == (1, 5, 25, 60)


def test_kubernetes_provider_needs_iterations() -> None:
    with pytest.raises(InvalidConfig, match=r"spec\.analysis\.iterations"):
        load(canary(provider="kubernetes"))
    blue_green = canary(provider="kubernetes", analysis={"interval": "10s", "iterations": 4})
    (spec,) = load(blue_green).canaries
    assert spec.analysis.blue_green and spec.analysis.steps() == 4


def test_unknown_provider_names_file_document_and_field() -> None:
    with pytest.raises(InvalidConfig) as info:
        load(canary(provider="istio"))
    message = str(info.value)
    assert message.startswith("apps/canary.yaml: document 1 (Canary test/podinfo): spec.provider:")
    assert "istio" in message


def test_metric_template_with_unknown_provider() -> None:
    with pytest.raises(InvalidConfig) as info:
        load(template(provider="carrier-pigeon"))
    assert str(info.value).startswith(
        "apps/canary.yaml: document 1 (MetricTemplate test/latency): spec.provider.type:"
    )
    with pytest.raises(InvalidConfig, match=r"datadog.*not supported"):
        load(template(provider="datadog"))


def test_dangling_template_ref() -> None:
    analysis = {
        "stepWeight": 10,
        "metrics": [
            {"name": "lat", "templateRef": {"name": "missing"}, "thresholdRange": {"max": 1}}
        ],
    }
    with pytest.raises(
        InvalidConfig,
        match=r"spec\.analysis\.metrics\[0\]\.templateRef: MetricTemplate test/missing",
    ):
        load(canary(analysis=analysis), template())


def test_template_ref_resolves_in_canary_namespace() -> None:
    analysis = {
        "stepWeight": 10,
        "metrics": [
            {"name": "lat", "templateRef": {"name": "latency"}, "thresholdRange": {"max": 1}},
            {"name": "request-success-rate", "interval": "1m", "thresholdRange": {"min": 99}},
        ],
        "webhooks": [
            {"name": "gate", "type": "confirm-promotion", "url": "http://x/", "timeout": "5s"}
        ],
    }
    config = load(canary(analysis=analysis), template())
    (spec,) = config.canaries
    assert spec.analysis.metrics[0].template == ObjectKey("test", "latency")
    assert spec.analysis.webhooks[0].timeout == 5
    assert ObjectKey("test", "latency") in config.templates


@pytest.mark.parametrize(
    ("analysis", "field"),
    [
        ({"stepWeight": 10, "threshold": 0}, "spec.analysis.threshold"),
        ({"stepWeight": 150}, "spec.analysis.stepWeight"),
        ({"stepWeights": [10, 5]}, r"spec.analysis.stepWeights\[1\]"),
        ({"stepWeight": 10, "iterations": 3}, "spec.analysis.iterations"),
        ({"stepWeight": 10, "interval": "soon"}, "spec.analysis.interval"),
        (
            {"stepWeight": 10, "webhooks": [{"name": "w", "type": "maybe", "url": "http://x"}]},
            r"spec.analysis.webhooks\[0\].type",
        ),
        (
            {"stepWeight": 10, "metrics": [{"name": "custom"}]},
            r"spec.analysis.metrics\[0\].templateRef",
        ),
        (
            {"stepWeight": 10, "metrics": [{"name": "request-duration"}]},
            r"spec.analysis.metrics\[0\].thresholdRange",
        ),
        ({}, "spec.analysis.stepWeight"),
    ],
)
def test_bad_analysis_fields(analysis: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidConfig, match=f": {field}:"):
        load(canary(analysis=analysis))


def test_target_must_be_a_deployment_and_gatewayapi_needs_refs() -> None:
    with pytest.raises(InvalidConfig, match=r"spec\.targetRef\.kind"):
        load(canary(targetRef={"kind": "StatefulSet", "name": "x"}))
    with pytest.raises(InvalidConfig, match=r"spec\.service\.gatewayRefs"):
        load(canary(provider="gatewayapi:v1"))


def test_no_analysis_means_skip_and_duplicates_refused() -> None:
    doc = canary()
    del doc["spec"]["analysis"]
    (spec,) = load(doc).canaries
    assert spec.skip_analysis
    with pytest.raises(InvalidConfig, match="duplicate Canary test/podinfo"):
        load(canary(), canary())


def test_other_groups_are_ignored() -> None:
    assert (
        load({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}).canaries
        == ()
    )
