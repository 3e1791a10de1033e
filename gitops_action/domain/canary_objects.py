"""The Kubernetes objects a canary manages, built as plain dicts from the target (pure).

Names follow Flagger: for a target Deployment ``podinfo`` the tool owns the
Deployment ``podinfo-primary`` and the Services ``podinfo`` (apex),
``podinfo-primary`` and ``podinfo-canary``; with ``gatewayapi:v1`` also the
HTTPRoute ``podinfo``. The analysis status lives in the ConfigMap
``podinfo-canary-status`` (``kubectl get cm podinfo-canary-status -o yaml``).

Pod labels. With ``kubernetes`` and ``gatewayapi:v1`` the primary's selector
labels get Flagger's ``-primary`` suffix, so a Service can pick either set of
pods. With ``replicas`` the apex Service must pick *both* sets (traffic is
split by the pod count), so the primary keeps the target's labels and adds
``gitops-action.io/role: primary`` to its selector; the target's own selector
then also matches primary pods, which Kubernetes tolerates (each ReplicaSet
only manages the pods it owns, by owner reference and pod-template-hash), and
the ``-canary`` Service of that router reaches both sets.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any, Final

from gitops_action.domain.canary_config import CanarySpec

MANAGER: Final = "gitops-action-canary"
"""Field manager of everything the canary code writes (sync uses ``gitops-action``)."""
ROLE_LABEL: Final = "gitops-action.io/role"
REVISION_ANNOTATION: Final = "gitops-action.io/canary-revision"
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": "gitops-action"}
STATUS_KEY: Final = "status.json"


def revision_of(deployment: Mapping[str, Any]) -> str:
    """A short checksum of the pod template: a new one is a new revision to analyse."""
    template = (deployment.get("spec") or {}).get("template") or {}
    text = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def selector_of(deployment: Mapping[str, Any]) -> dict[str, str]:
    spec = deployment.get("spec") or {}
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    return {str(key): str(value) for key, value in labels.items()}


def primary_selector(spec: CanarySpec, target: Mapping[str, Any]) -> dict[str, str]:
    selector = selector_of(target)
    if spec.provider == "replicas":
        return {**selector, ROLE_LABEL: "primary"}
    return {key: f"{value}-primary" for key, value in selector.items()}


def primary_deployment(
    spec: CanarySpec, target: Mapping[str, Any], replicas: int, revision: str
) -> dict[str, Any]:
    """The primary: the target's pod template under the primary's labels, at `replicas`."""
    target_spec = target.get("spec") or {}
    template = copy.deepcopy(target_spec.get("template") or {})
    selector = primary_selector(spec, target)
    metadata = template.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), **selector}
    body_spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": selector},
        "template": template,
    }
    for key in ("strategy", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"):
        if key in target_spec:
            body_spec[key] = copy.deepcopy(target_spec[key])
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": spec.primary,
            "namespace": spec.key.namespace,
            "labels": dict(MANAGED_BY),
            "annotations": {REVISION_ANNOTATION: revision},
        },
        "spec": body_spec,
    }


def services(spec: CanarySpec, target: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Apex, primary and canary Services."""
    primary = primary_selector(spec, target)
    canary = selector_of(target)
    apex = canary if spec.provider == "replicas" else primary
    return [
        _service(spec, spec.apex, apex),
        _service(spec, spec.primary_service, primary),
        _service(spec, spec.canary_service, canary),
    ]


def _service(spec: CanarySpec, name: str, selector: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": spec.key.namespace, "labels": dict(MANAGED_BY)},
        "spec": {
            "type": "ClusterIP",
            "selector": dict(selector),
            "ports": [
                {
                    "name": spec.port_name,
                    "port": spec.port,
                    "targetPort": spec.target_port,
                    "protocol": "TCP",
                }
            ],
        },
    }


def primary_hpa(spec: CanarySpec, target_hpa: Mapping[str, Any]) -> dict[str, Any]:
    """``<hpa>-primary``: the target's HorizontalPodAutoscaler aimed at the primary
    Deployment, as Flagger makes it (bounds, metrics and behavior copied)."""
    source = dict(target_hpa.get("spec") or {})
    body = {key: copy.deepcopy(source[key]) for key in ("minReplicas", "maxReplicas", "metrics",
                                                         "behavior") if key in source}  # fmt: skip
    body["scaleTargetRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.primary}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": f"{spec.autoscaler}-primary",
            "namespace": spec.key.namespace,
            "labels": dict(MANAGED_BY),
        },
        "spec": body,
    }


def http_route(spec: CanarySpec, weight: int, *, ab: bool = False) -> dict[str, Any]:
    """The HTTPRoute of ``gatewayapi:v1``: primary and canary backends at 100-w / w,
    for ``spec.service.hosts`` as its hostnames (as Flagger's router). With `ab`
    (A/B testing while analysing), a first rule sends requests that match
    ``analysis.match`` to the canary and the rest go to the primary."""
    route: dict[str, Any] = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {
            "name": spec.apex,
            "namespace": spec.key.namespace,
            "labels": dict(MANAGED_BY),
        },
        "spec": {
            "parentRefs": [
                {"name": ref.name, "namespace": ref.namespace} for ref in spec.gateway_refs
            ],
            "rules": [
                {
                    "backendRefs": [
                        {"name": spec.primary_service, "port": spec.port, "weight": 100 - weight},
                        {"name": spec.canary_service, "port": spec.port, "weight": weight},
                    ]
                }
            ],
        },
    }
    if spec.hosts:
        route["spec"]["hostnames"] = list(spec.hosts)
    if ab and spec.analysis.match:
        matches = [
            {"headers": [{"type": h.type, "name": h.name, "value": h.value} for h in item]}
            for item in spec.analysis.match
        ]
        backends = route["spec"]["rules"][0]["backendRefs"]
        to_canary = [{**backends[0], "weight": 0}, {**backends[1], "weight": 100}]
        to_primary = [{**backends[0], "weight": 100}, {**backends[1], "weight": 0}]
        route["spec"]["rules"] = [
            {"matches": matches, "backendRefs": to_canary},
            {"backendRefs": to_primary},
        ]
    return route


def route_current(live: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> bool:
    """Whether the live HTTPRoute already has the wanted weights and hostnames."""
    if live is None:
        return False
    return bool(_route_key(live) == _route_key(wanted))


def _route_key(route: Mapping[str, Any]) -> Any:
    """What the tool sets on an HTTPRoute, leaving out the API server's defaults."""
    spec = route.get("spec") or {}
    rules = []
    for rule in spec.get("rules") or []:
        headers = tuple(
            tuple(
                (h.get("name"), h.get("type", "Exact"), h.get("value"))
                for h in match.get("headers") or []
            )
            for match in rule.get("matches") or []
        )
        weights = tuple(
            (ref.get("name"), ref.get("weight", 1)) for ref in rule.get("backendRefs") or []
        )
        rules.append((tuple(h for h in headers if h), weights))
    return (tuple(spec.get("hostnames") or []), tuple(rules))


def route_weights(route: Mapping[str, Any]) -> dict[str, int]:
    """Backend name -> weight of the first rule of an HTTPRoute."""
    rules = (route.get("spec") or {}).get("rules") or [{}]
    refs = rules[0].get("backendRefs") or []
    return {str(ref.get("name")): int(ref.get("weight", 1)) for ref in refs}


def canary_replicas(spec: CanarySpec, weight: int, primary_replicas: int) -> int:
    """Target pods while analysing.

    ``replicas``: enough pods that canary / (canary + primary) is as close to
    `weight` % as whole pods allow, never fewer than one (so a small weight
    over few primary pods gets more than it asked for: 10 % over 2 primary
    pods is 1 canary pod, 33 %). Other routers: as many pods as the primary.
    Of the whole pod counts, the one whose share is nearest `weight` wins
    (the smaller on a tie).
    """
    base = max(primary_replicas, 1)
    if spec.provider != "replicas" or weight >= 100:
        return base
    exact = base * weight / (100 - weight)
    candidates = {max(1, math.floor(exact)), max(1, math.ceil(exact))}
    return min(candidates, key=lambda count: (abs(effective_weight(count, base) - weight), count))


def effective_weight(canary: int, primary: int) -> float:
    """The share of pods (so, of requests) the canary gets behind the apex Service."""
    total = canary + primary
    return 100.0 * canary / total if total else 0.0


def status_config_map(spec: CanarySpec, record: Mapping[str, Any]) -> dict[str, Any]:
    """The status ConfigMap: the full record as JSON, plus the headline fields as keys."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": status_name(spec),
            "namespace": spec.key.namespace,
            "labels": dict(MANAGED_BY),
        },
        "data": {
            "phase": str(record.get("phase", "")),
            "canaryWeight": str(record.get("canaryWeight", 0)),
            "failedChecks": str(record.get("failedChecks", 0)),
            "message": str(record.get("message", "")),
            STATUS_KEY: json.dumps(record, sort_keys=True),
        },
    }


def status_name(spec: CanarySpec) -> str:
    return f"{spec.key.name}-canary-status"


def images_of(deployment: Mapping[str, Any]) -> dict[str, str]:
    """Container name -> image of a Deployment's pod template."""
    pod = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    return {
        str(container.get("name")): str(container.get("image"))
        for container in pod.get("containers") or []
    }
