"""kstatus rules for every kind (`health.evaluate_any`), as Flux's wait and health checks."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_action.domain.health import State, evaluate_any


def cond(kind: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


@pytest.mark.parametrize(
    ("group", "kind", "obj", "state"),
    [
        ("", "PersistentVolumeClaim", {"status": {"phase": "Bound"}}, State.HEALTHY),
        ("", "PersistentVolumeClaim", {"status": {"phase": "Pending"}}, State.PROGRESSING),
        ("", "Service", {"spec": {"type": "ClusterIP"}}, State.HEALTHY),
        ("", "Service", {"spec": {"type": "LoadBalancer"}, "status": {}}, State.PROGRESSING),
        (
            "",
            "Service",
            {"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{}]}}},
            State.HEALTHY,
        ),
        (
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            {"status": {"conditions": [cond("Established", "True")]}},
            State.HEALTHY,
        ),
        ("apiextensions.k8s.io", "CustomResourceDefinition", {}, State.PROGRESSING),
        (
            "apiregistration.k8s.io",
            "APIService",
            {"status": {"conditions": [cond("Available", "False")]}},
            State.PROGRESSING,
        ),
        (
            "example.com",
            "Widget",
            {"status": {"conditions": [cond("Ready", "True")]}},
            State.HEALTHY,
        ),
        (
            "example.com",
            "Widget",
            {"status": {"conditions": [cond("Ready", "False")]}},
            State.PROGRESSING,
        ),
        (
            "example.com",
            "Widget",
            {"status": {"conditions": [cond("Stalled", "True", "X")]}},
            State.FAILED,
        ),
        (
            "example.com",
            "Widget",
            {"status": {"conditions": [cond("Reconciling", "True"), cond("Ready", "True")]}},
            State.PROGRESSING,
        ),
        (
            "example.com",
            "Widget",
            {
                "metadata": {"generation": 3},
                "status": {"observedGeneration": 2, "conditions": [cond("Ready", "True")]},
            },
            State.PROGRESSING,
        ),
        ("", "ConfigMap", {"data": {}}, State.HEALTHY),
        (
            "apps",
            "Deployment",
            {
                "metadata": {"generation": 1},
                "spec": {"replicas": 1},
                "status": {
                    "observedGeneration": 1,
                    "updatedReplicas": 1,
                    "availableReplicas": 1,
                    "replicas": 1,
                },
            },
            State.HEALTHY,
        ),
    ],
)
def test_each_kind(group: str, kind: str, obj: dict[str, Any], state: State) -> None:
    assert evaluate_any(group, kind, obj).state is state


def test_a_not_ready_object_says_why() -> None:
    obj = {"status": {"conditions": [cond("Ready", "False", "Waiting", "dependency missing")]}}
    assert evaluate_any("example.com", "Widget", obj).reason == "Ready=False: dependency missing"
