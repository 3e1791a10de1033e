"""Prometheus credentials go only to the --prometheus-url origin (issue 14, item 2).

A config-repo writer controls MetricTemplates; one names a hostile
`provider.address` on 127.0.0.1 that records what it is sent. The operator's
Prometheus (another hostile recorder here: only what it receives matters)
is plain HTTP, so it gets the credentials only with --allow-insecure-metrics.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from gitops_action.app.canary import CanaryOutcome, CanaryRequest, run
from testbed.hostile import hostile_server

pytestmark = pytest.mark.services

CREDENTIALS = {"GITOPS_PROMETHEUS_USERNAME": "prom", "GITOPS_PROMETHEUS_PASSWORD": "prom-pa55"}


def _vector(handler: BaseHTTPRequestHandler) -> None:
    body = json.dumps(
        {
            "status": "success",
            "data": {"resultType": "vector", "result": [{"metric": {}, "value": [0, "100"]}]},
        }
    ).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _config(namespace: str, address: str) -> str:
    return f"""\
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: elsewhere
  namespace: {namespace}
spec:
  provider:
    type: prometheus
    address: {address}
  query: up
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: {namespace}
spec:
  provider: replicas
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  progressDeadlineSeconds: 60
  service:
    port: 9898
  analysis:
    interval: 1s
    threshold: 5
    maxWeight: 50
    stepWeight: 25
    metrics:
      - name: from-the-template
        interval: 1m
        templateRef:
          name: elsewhere
        thresholdRange:
          min: 1
      - name: request-success-rate
        interval: 1m
        thresholdRange:
          min: 1
"""


def _deployment(namespace: str, tag: str) -> dict[str, Any]:
    labels = {"app": "podinfo"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "podinfo", "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": f"example/app:{tag}"}]},
            },
        },
    }


def _analyse(kube: Any, tmp_path: Path, request: CanaryRequest) -> list[CanaryOutcome]:
    """Initialise, release v2, and run passes until the checks were made once."""
    apps = client.AppsV1Api(kube.api_client())
    apps.create_namespaced_deployment(kube.namespace, _deployment(kube.namespace, "v1"))
    outcomes = run(request)
    body = {"spec": {"template": _deployment(kube.namespace, "v2")["spec"]["template"]}}
    apps.patch_namespaced_deployment("podinfo", kube.namespace, body)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # poll the condition: the analysis made its checks
        outcomes += run(request)
        if any(outcome.checks for outcome in outcomes):
            return outcomes
        threading.Event().wait(0.3)
    raise AssertionError([outcome.as_record() for outcome in outcomes])


@pytest.mark.parametrize("allow_insecure", [False, True])
def test_a_metric_template_address_never_gets_the_prometheus_credentials(
    kube: Any, tmp_path: Path, allow_insecure: bool
) -> None:
    with (
        hostile_server(_vector, "template-address") as (template_port, template),
        hostile_server(_vector, "operator-prometheus") as (prometheus_port, prometheus),
    ):
        root = tmp_path / "config"
        root.mkdir()
        address = f"http://127.0.0.1:{template_port}"
        (root / "canary.yaml").write_text(_config(kube.namespace, address))
        request = CanaryRequest(
            path=root,
            kubeconfig=str(kube.kubeconfig),
            prometheus_url=f"http://127.0.0.1:{prometheus_port}",
            allow_insecure_metrics=allow_insecure,
            ready_wait=5,
            environ=CREDENTIALS,
        )
        outcomes = _analyse(kube, tmp_path, request)
    assert template.requests, "the template's address was queried"
    assert template.authorizations() == []
    assert prometheus.requests or not allow_insecure
    if allow_insecure:
        assert len(prometheus.authorizations()) == len(prometheus.requests)
    else:
        assert prometheus.authorizations() == []
        messages = [check.get("message", "") for o in outcomes for check in o.checks]
        assert any("--allow-insecure-metrics" in message for message in messages), messages
