"""`spec.autoscalerRef` as Flagger does it: the target's HorizontalPodAutoscaler is
copied for the primary (`<hpa>-primary`, aimed at `<target>-primary`), on the test
cluster's real autoscaling/v2 API; a missing HPA is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client

from testbed.kube import Kube
from tests.integration.test_canary_cli import invoke, tree
from tests.integration.test_canary_run import canary_yaml, deployment

pytestmark = pytest.mark.services

BLUE_GREEN = "    interval: 1s\n    iterations: 2\n"
REF = (
    "  autoscalerRef:\n"
    "    apiVersion: autoscaling/v2\n"
    "    kind: HorizontalPodAutoscaler\n"
    "    name: podinfo\n"
)


def hpa(namespace: str) -> dict[str, object]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "podinfo", "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
            "minReplicas": 2,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80},
                    },
                }
            ],
        },
    }


def test_the_primary_gets_its_own_hpa(
    kube: Kube, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = kube.namespace
    client.AppsV1Api(kube.api_client()).create_namespaced_deployment(ns, deployment(ns, "v1"))
    autoscaling = client.AutoscalingV2Api(kube.api_client())
    text = canary_yaml(ns, BLUE_GREEN, "kubernetes").replace("  service:\n", REF + "  service:\n")
    args = ["run", str(tree(tmp_path, text)), "--kubeconfig", str(kube.kubeconfig)]

    assert invoke(*args) == 2  # no HPA yet: named
    assert f"spec.autoscalerRef: HorizontalPodAutoscaler {ns}/podinfo does not exist" in (
        capsys.readouterr().err
    )

    autoscaling.create_namespaced_horizontal_pod_autoscaler(ns, hpa(ns))
    assert invoke(*args, "--output", "json") == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)[0]["phase"] == "Initialized"

    primary = autoscaling.read_namespaced_horizontal_pod_autoscaler("podinfo-primary", ns)
    assert primary.spec.scale_target_ref.name == "podinfo-primary"
    assert (primary.spec.min_replicas, primary.spec.max_replicas) == (2, 5)
    assert primary.spec.metrics[0].resource.target.average_utilization == 80
    target = autoscaling.read_namespaced_horizontal_pod_autoscaler("podinfo", ns)
    assert target.spec.scale_target_ref.name == "podinfo"  # the user's HPA is left alone
