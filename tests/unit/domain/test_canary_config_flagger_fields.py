"""Flagger fidelity of Canary/MetricTemplate reading: the deprecated metric `threshold`
is honoured, and every field the tool cannot honour is refused by name."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_action.domain.canary_config import REFUSED, CanaryConfig, ProviderDefault
from gitops_action.domain.canary_objects import http_route, primary_hpa, route_weights, services
from gitops_action.domain.config import Document, Source
from gitops_action.domain.errors import InvalidConfig
from gitops_action.domain.metrics import judge


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


def template(**provider: Any) -> dict[str, Any]:
    return {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "MetricTemplate",
        "metadata": {"name": "errors", "namespace": "test"},
        "spec": {"provider": {"type": "prometheus", **provider}, "query": "up"},
    }


def load(*documents: dict[str, Any]) -> CanaryConfig:
    return CanaryConfig.from_documents(
        Document(Source("apps/canary.yaml", index + 1, 1), doc)
        for index, doc in enumerate(documents)
    )


def _analysis(*metrics: dict[str, Any]) -> dict[str, Any]:
    return {"interval": "30s", "maxWeight": 50, "stepWeight": 10, "metrics": list(metrics)}


def test_deprecated_threshold_is_a_maximum_for_a_custom_metric() -> None:
    metric = {"name": "errors", "templateRef": {"name": "errors"}, "threshold": 5}
    (spec,) = load(canary(analysis=_analysis(metric)), template()).canaries
    check = spec.analysis.metrics[0]
    assert judge(check, 4.0).ok
    assert judge(check, 5.0).ok
    failed = judge(check, 6.0)
    assert not failed.ok  # was dropped before: the check could never fail
    assert "outside [-inf, 5]" in failed.message


def test_deprecated_threshold_is_a_minimum_for_the_builtin_success_rate() -> None:
    metric = {"name": "request-success-rate", "threshold": 99}
    (spec,) = load(canary(analysis=_analysis(metric))).canaries
    check = spec.analysis.metrics[0]
    assert judge(check, 99.5).ok
    assert not judge(check, 98.0).ok


def test_threshold_range_wins_over_the_deprecated_threshold() -> None:
    metric = {"name": "errors", "query": "up", "threshold": 1, "thresholdRange": {"max": 10}}
    (spec,) = load(canary(analysis=_analysis(metric))).canaries
    assert judge(spec.analysis.metrics[0], 5.0).ok


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"revertOnDeletion": True}, "spec.revertOnDeletion"),
        ({"service": {"port": 80, "hosts": ["app.example"]}}, "spec.service.hosts"),
        ({"service": {"port": 80, "gateways": ["public"]}}, "spec.service.gateways"),
        ({"service": {"port": 80, "portDiscovery": True}}, "spec.service.portDiscovery"),
        (
            {
                "analysis": {
                    "interval": "1m",
                    "iterations": 3,
                    "match": [{"headers": {"x": {"exact": "a"}}}],
                }
            },
            "spec.analysis.match",
        ),
        ({"ingressRef": {"name": "x"}}, "spec.ingressRef"),
        ({"colour": "blue"}, "spec.colour"),
    ],
)
def test_unhonoured_canary_fields_are_refused_by_name(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidConfig) as raised:
        load(canary(**changes))
    message = str(raised.value)
    assert message.startswith("apps/canary.yaml: document 1 (Canary test/podinfo): ")
    assert f"{field}: " in message
    assert "refused" in message


@pytest.mark.parametrize(
    ("provider", "field"),
    [
        ({"secretRef": {"name": "prom-auth"}}, "spec.provider.secretRef"),
        ({"insecureSkipVerify": True}, "spec.provider.insecureSkipVerify"),
        ({"headers": {"X-Scope-OrgID": "team"}}, "spec.provider.headers"),
    ],
)
def test_unhonoured_template_fields_are_refused_by_name(
    provider: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidConfig, match=f"{field}: Flagger's .*refused"):
        load(template(**provider))


def test_every_refused_field_is_named_in_the_lists() -> None:
    assert "revertOnDeletion" in REFUSED["spec"] and "mirror" in REFUSED["analysis"]
    assert "autoscalerRef" not in REFUSED["spec"]  # HPA honoured
    assert "match" not in REFUSED["analysis"]  # A/B on gatewayapi:v1
    assert {"gateways", "portDiscovery"} <= REFUSED["service"]
    assert "portName" not in REFUSED["service"]  # honoured
    assert "hosts" not in REFUSED["service"]  # honoured by the gatewayapi:v1 router


def test_hosts_become_the_httproute_hostnames_on_gatewayapi() -> None:
    service = {"port": 9898, "hosts": ["app.example.com", "*.preview.example.com"]}
    refs = {"gatewayRefs": [{"name": "public", "namespace": "gateway"}]}
    (spec,) = load(canary(provider="gatewayapi:v1", service={**service, **refs})).canaries
    route = http_route(spec, 25)
    assert route["spec"]["hostnames"] == ["app.example.com", "*.preview.example.com"]
    assert route_weights(route) == {"podinfo-primary": 75, "podinfo-canary": 25}
    (plain,) = load(canary(provider="gatewayapi:v1", service={"port": 9898, **refs})).canaries
    assert "hostnames" not in http_route(plain, 0)["spec"]
    with pytest.raises(InvalidConfig, match=r"spec\.service\.hosts\[0\]: 'App_1' is not a"):
        load(canary(provider="gatewayapi:v1", service={"port": 9898, "hosts": ["App_1"], **refs}))


def test_port_name_names_the_generated_services_port() -> None:
    (spec,) = load(canary(service={"port": 9898, "portName": "grpc-web"})).canaries
    ports = [service["spec"]["ports"][0] for service in services(spec, _target())]
    assert [port["name"] for port in ports] == ["grpc-web"] * 3
    (default,) = load(canary()).canaries
    assert services(default, _target())[0]["spec"]["ports"][0]["name"] == "http"
    with pytest.raises(InvalidConfig, match=r"spec\.service\.portName: 'Web_1' is not a port"):
        load(canary(service={"port": 9898, "portName": "Web_1"}))


def _target() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "podinfo", "namespace": "test"},
        "spec": {
            "selector": {"matchLabels": {"app": "podinfo"}},
            "template": {"metadata": {"labels": {"app": "podinfo"}}, "spec": {}},
        },
    }


def test_a_default_provider_applies_to_canaries_without_spec_provider() -> None:
    body = canary()
    del body["spec"]["provider"]
    documents = [Document(Source("apps/canary.yaml", 1, 1), body)]
    chosen = ProviderDefault("replicas", "the default from --default-provider")
    (spec,) = CanaryConfig.from_documents(documents, default_provider=chosen).canaries
    assert spec.provider == "replicas"
    with pytest.raises(InvalidConfig, match=r"provider kubernetes \(spec\.provider is not set"):
        CanaryConfig.from_documents(documents)


GATEWAY = {"port": 9898, "gatewayRefs": [{"name": "public", "namespace": "gateway"}]}
AB = {
    "interval": "1m",
    "iterations": 3,
    "match": [
        {"headers": {"x-canary": {"exact": "insider"}}},
        {"headers": {"cookie": {"regex": "^(.*?;)?(canary=always)(;.*)?$"}}},
    ],
}


def test_ab_match_on_gatewayapi_routes_matching_requests_to_the_canary() -> None:
    (spec,) = load(canary(provider="gatewayapi:v1", service=GATEWAY, analysis=AB)).canaries
    route = http_route(spec, 0, ab=True)
    first, rest = route["spec"]["rules"]
    assert first["matches"] == [
        {"headers": [{"type": "Exact", "name": "x-canary", "value": "insider"}]},
        {
            "headers": [
                {
                    "type": "RegularExpression",
                    "name": "cookie",
                    "value": "^(.*?;)?(canary=always)(;.*)?$",
                }
            ]
        },
    ]
    assert [ref["weight"] for ref in first["backendRefs"]] == [0, 100]
    assert [ref["weight"] for ref in rest["backendRefs"]] == [100, 0]
    assert len(http_route(spec, 0)["spec"]["rules"]) == 1  # not analysing: primary only


@pytest.mark.parametrize(
    ("analysis", "provider", "fragment"),
    [
        ({**AB, "iterations": None}, "gatewayapi:v1", "spec.analysis.match: A/B testing"),
        (AB, "replicas", "spec.analysis.match: A/B testing is done by the gatewayapi:v1"),
        (
            {**AB, "match": [{"headers": {"x": {"prefix": "a"}}}]},
            "gatewayapi:v1",
            "match[0].headers.x.prefix: ",
        ),
        ({**AB, "match": [{"sourceLabels": {"a": "b"}}]}, "gatewayapi:v1", "sourceLabels"),
    ],
)
def test_ab_match_refusals_are_named(
    analysis: dict[str, Any], provider: str, fragment: str
) -> None:
    body = {key: value for key, value in analysis.items() if value is not None}
    with pytest.raises(InvalidConfig) as raised:
        load(canary(provider=provider, service=GATEWAY, analysis=body))
    assert fragment in str(raised.value)


HPA_REF = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "name": "podinfo"}


def test_autoscaler_ref_gives_the_primary_its_own_hpa() -> None:
    (spec,) = load(canary(autoscalerRef=HPA_REF)).canaries
    target_hpa = {
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
            "minReplicas": 2,
            "maxReplicas": 6,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu"}}],
        }
    }
    hpa = primary_hpa(spec, target_hpa)
    assert hpa["metadata"]["name"] == "podinfo-primary"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "podinfo-primary"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["metrics"] == target_hpa["spec"]["metrics"]


def test_autoscaler_kinds_other_than_hpa_are_refused_by_name() -> None:
    keda = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": "podinfo"}
    with pytest.raises(InvalidConfig, match=r"spec\.autoscalerRef\.kind: 'ScaledObject'"):
        load(canary(autoscalerRef=keda))
