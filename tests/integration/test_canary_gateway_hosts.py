"""`spec.service.hosts` on the `gatewayapi:v1` router: the HTTPRoute's hostnames, as
Flagger's Gateway API router sets them (on the test cluster's real HTTPRoute CRD)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from testbed.kube import Kube
from tests.integration.test_canary_cli import invoke, tree
from tests.integration.test_canary_run import canary_yaml, deployment

pytestmark = pytest.mark.services


def test_hosts_become_the_httproute_hostnames(
    kube: Kube, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = kube.namespace
    client.AppsV1Api(kube.api_client()).create_namespaced_deployment(ns, deployment(ns, "v1"))
    analysis = "    interval: 1s\n    maxWeight: 30\n    stepWeight: 15\n"
    service = (
        "    port: 9898\n"
        "    hosts:\n      - podinfo.example.com\n"
        "    gatewayRefs:\n      - name: public\n"
    )
    text = canary_yaml(ns, analysis, "gatewayapi:v1").replace("    port: 9898\n", service)
    root = tree(tmp_path, text)
    args = ["run", str(root), "--kubeconfig", str(kube.kubeconfig), "--output", "json"]

    assert invoke(*args) == 0, capsys.readouterr().err

    custom = client.CustomObjectsApi(kube.api_client())
    route = custom.get_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", ns, "httproutes", "podinfo"
    )
    assert route["spec"]["hostnames"] == ["podinfo.example.com"]
    # A changed host list is applied on the next run (weights alone are not the whole route).
    (root / "canary.yaml").write_text(text.replace("podinfo.example.com", "app.example.com"))
    assert invoke(*args) == 0, capsys.readouterr().err
    route = custom.get_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", ns, "httproutes", "podinfo"
    )
    assert route["spec"]["hostnames"] == ["app.example.com"]
