"""`gitops-action canary run|status` through click and the one error handler; bad input exits 2."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from kubernetes import client

from gitops_action.cli.canary import canary
from gitops_action.cli.errors import report
from testbed.kube import Kube
from tests.integration.test_canary_run import canary_yaml, deployment

BLUE_GREEN = """\
    interval: 1s
    iterations: 2
"""


def invoke(*args: str) -> int:
    """Run the command group as `gitops_action.cli.main` does, returning the exit code."""
    try:
        canary.main(args=list(args), prog_name="gitops-action canary", standalone_mode=False)
    except Exception as error:
        return report(error)
    return 0


def tree(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "config"
    root.mkdir()
    (root / "canary.yaml").write_text(text)
    return root


def test_missing_target_is_named_exit_2_nothing_changed(
    kube: Kube, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tree(tmp_path, canary_yaml(kube.namespace, BLUE_GREEN, "kubernetes", target="ghost"))
    kube.reset_counters()
    code = invoke("run", str(root), "--kubeconfig", str(kube.kubeconfig))
    err = capsys.readouterr().err
    assert code == 2
    assert "canary.yaml: document 1 (Canary" in err and "spec.targetRef.name" in err
    assert f"Deployment {kube.namespace}/ghost does not exist" in err
    assert kube.writes() == 0


def test_metric_template_unknown_provider_exit_2(
    kube: Kube, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = canary_yaml(kube.namespace, BLUE_GREEN, "kubernetes") + (
        "---\napiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata:\n"
        f"  name: errors\n  namespace: {kube.namespace}\nspec:\n"
        "  provider:\n    type: carbon\n  query: up\n"
    )
    root = tree(tmp_path, text)
    kube.reset_counters()
    code = invoke("run", str(root), "--kubeconfig", str(kube.kubeconfig))
    err = capsys.readouterr().err
    assert code == 2
    assert (
        f"canary.yaml: document 2 (MetricTemplate {kube.namespace}/errors): spec.provider.type"
        in err
    )
    assert kube.writes() == 0


def test_blue_green_kubernetes_router_and_status(
    kube: Kube, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apps = client.AppsV1Api(kube.api_client())
    core = client.CoreV1Api(kube.api_client())
    ns = kube.namespace
    apps.create_namespaced_deployment(ns, deployment(ns, "v1.0.0"))
    root = tree(tmp_path, canary_yaml(ns, BLUE_GREEN, "kubernetes"))
    args = ["--kubeconfig", str(kube.kubeconfig)]
    assert invoke("status", "--path", str(root), *args, "--output", "json") == 0
    assert json.loads(capsys.readouterr().out)[0]["phase"] == "NotStarted"
    assert invoke("run", str(root), *args) == 0
    assert "Initialized" in capsys.readouterr().out
    apex = core.read_namespaced_service("podinfo", ns)
    assert apex.spec.selector == {"app": "podinfo-primary"}
    assert core.read_namespaced_service("podinfo-canary", ns).spec.selector == {"app": "podinfo"}
    body = {"spec": {"template": deployment(ns, "v2.0.0")["spec"]["template"]}}
    apps.patch_namespaced_deployment("podinfo", ns, body)
    phases = []
    for _ in range(20):
        assert invoke("run", str(root), *args, "--output", "json", "--ready-wait", "3") == 0
        (record,) = json.loads(capsys.readouterr().out)
        phases.append(record["phase"])
        assert record["canaryWeight"] == 0  # blue/green: no weights
        if record["phase"] == "Succeeded":
            break
        time.sleep(0.6)
    assert phases[-1] == "Succeeded" and "Progressing" in phases
    primary = apps.read_namespaced_deployment("podinfo-primary", ns)
    assert primary.spec.template.spec.containers[0].image.endswith(":v2.0.0")
    assert primary.spec.selector.match_labels == {"app": "podinfo-primary"}
    assert invoke("status", "podinfo", "-n", ns, *args) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["CANARY", "PHASE", "WEIGHT", "FAILED", "CHECKS"]
    assert f"{ns}/podinfo" in out and "Succeeded" in out
    assert invoke("status", "nobody", *args, "--output", "json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_gateway_api_router_weights_the_httproute(
    kube: Kube, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = kube.namespace
    client.AppsV1Api(kube.api_client()).create_namespaced_deployment(ns, deployment(ns, "v1"))
    analysis = "    interval: 1s\n    maxWeight: 30\n    stepWeight: 15\n"
    text = canary_yaml(ns, analysis, "gatewayapi:v1").replace(
        "    port: 9898\n", "    port: 9898\n    gatewayRefs:\n      - name: public\n"
    )
    root = tree(tmp_path, text)
    args = ["run", str(root), "--kubeconfig", str(kube.kubeconfig), "--output", "json"]
    assert invoke(*args) == 0
    assert json.loads(capsys.readouterr().out)[0]["phase"] == "Initialized"
    custom = client.CustomObjectsApi(kube.api_client())

    def weights() -> dict[str, int]:
        route = custom.get_namespaced_custom_object(
            "gateway.networking.k8s.io", "v1", ns, "httproutes", "podinfo"
        )
        # group and kind are the HTTPRoute CRD's defaults, filled in by the API server.
        gateway = {"group": "gateway.networking.k8s.io", "kind": "Gateway"}
        assert route["spec"]["parentRefs"] == [{**gateway, "name": "public", "namespace": ns}]
        return {ref["name"]: ref["weight"] for ref in route["spec"]["rules"][0]["backendRefs"]}

    assert weights() == {"podinfo-primary": 100, "podinfo-canary": 0}
    body = {"spec": {"template": deployment(ns, "v2")["spec"]["template"]}}
    client.AppsV1Api(kube.api_client()).patch_namespaced_deployment("podinfo", ns, body)
    seen = []
    for _ in range(20):
        assert invoke(*args) == 0
        (record,) = json.loads(capsys.readouterr().out)
        seen.append(weights())
        if record["phase"] == "Succeeded":
            break
        time.sleep(0.6)
    assert {"podinfo-primary": 85, "podinfo-canary": 15} in seen
    assert {"podinfo-primary": 70, "podinfo-canary": 30} in seen
    assert seen[-1] == {"podinfo-primary": 100, "podinfo-canary": 0}


def test_canary_pods_never_ready_roll_back_at_the_deadline(
    kube: Kube, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apps = client.AppsV1Api(kube.api_client())
    ns = kube.namespace
    apps.create_namespaced_deployment(ns, deployment(ns, "v1.0.0"))
    root = tree(tmp_path, canary_yaml(ns, BLUE_GREEN, "kubernetes"))
    args = ["run", str(root), "--kubeconfig", str(kube.kubeconfig), "--ready-wait", "3"]
    assert invoke(*args) == 0
    template = deployment(ns, "v1.1.0")["spec"]["template"]
    template["metadata"]["labels"][kube.never_ready_label] = "yes"  # kwok never readies them
    body = {"spec": {"template": template, "progressDeadlineSeconds": 1}}
    apps.patch_namespaced_deployment("podinfo", ns, body)
    codes = [invoke(*args) for _ in range(3)]
    out = capsys.readouterr()
    assert codes[0] == 1 and "rolled back" in out.err  # exit 1: a canary was rolled back
    assert codes[1:] == [0, 0]
    assert "Failed" in out.out.splitlines()[-1]
    assert "canary not ready" in out.out
    primary = apps.read_namespaced_deployment("podinfo-primary", ns)
    assert primary.spec.template.spec.containers[0].image.endswith(":v1.0.0")
    assert apps.read_namespaced_deployment("podinfo", ns).spec.replicas == 0
