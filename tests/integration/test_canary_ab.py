"""A/B testing as Flagger does it on the Gateway API router: while the canary is
analysed, requests with the `x-canary: insider` header go to it (a first HTTPRoute
rule with that header match) and every other request to the primary; after the
iterations it is promoted and the route sends everything to the primary again."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from testbed.kube import Kube
from tests.integration.test_canary_cli import invoke, tree
from tests.integration.test_canary_run import canary_yaml, deployment

pytestmark = pytest.mark.services

AB = """\
    interval: 1s
    iterations: 2
    match:
      - headers:
          x-canary:
            exact: insider
"""


def test_ab_header_match_routes_the_canary_while_analysing(
    kube: Kube, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = kube.namespace
    apps = client.AppsV1Api(kube.api_client())
    apps.create_namespaced_deployment(ns, deployment(ns, "v1"))
    text = canary_yaml(ns, AB, "gatewayapi:v1").replace(
        "    port: 9898\n", "    port: 9898\n    gatewayRefs:\n      - name: public\n"
    )
    args = ["run", str(tree(tmp_path, text)), "--kubeconfig", str(kube.kubeconfig)]
    args += ["--output", "json"]
    custom = client.CustomObjectsApi(kube.api_client())

    def rules() -> list[dict[str, Any]]:
        route = custom.get_namespaced_custom_object(
            "gateway.networking.k8s.io", "v1", ns, "httproutes", "podinfo"
        )
        return list(route["spec"]["rules"])

    def weights(rule: dict[str, Any]) -> dict[str, int]:
        return {ref["name"]: ref["weight"] for ref in rule["backendRefs"]}

    assert invoke(*args) == 0
    assert json.loads(capsys.readouterr().out)[0]["phase"] == "Initialized"
    assert [weights(rule) for rule in rules()] == [{"podinfo-primary": 100, "podinfo-canary": 0}]

    body = {"spec": {"template": deployment(ns, "v2")["spec"]["template"]}}
    apps.patch_namespaced_deployment("podinfo", ns, body)
    seen: list[list[dict[str, Any]]] = []
    for _ in range(20):
        assert invoke(*args) == 0
        (record,) = json.loads(capsys.readouterr().out)
        seen.append(rules())
        if record["phase"] == "Succeeded":
            break
        time.sleep(0.6)

    analysing = [found for found in seen if len(found) == 2]
    assert analysing, seen
    first, rest = analysing[0]
    headers = first["matches"][0]["headers"]
    assert headers == [{"type": "Exact", "name": "x-canary", "value": "insider"}]
    assert weights(first) == {"podinfo-primary": 0, "podinfo-canary": 100}
    assert weights(rest) == {"podinfo-primary": 100, "podinfo-canary": 0}
    assert record["phase"] == "Succeeded"
    assert [weights(rule) for rule in seen[-1]] == [{"podinfo-primary": 100, "podinfo-canary": 0}]
    image = apps.read_namespaced_deployment("podinfo-primary", ns).spec.template.spec
    assert image.containers[0].image.endswith(":v2")
