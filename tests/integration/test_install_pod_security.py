"""The Pod Security labels `install --export` puts on target namespaces, enforced by
the real API server: a privileged, hostPath pod is refused in a `restricted`
namespace, a pod that meets the profile is admitted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from testbed.kube import Kube

pytestmark = pytest.mark.services
CONSOLE = Path(sys.executable).with_name("gitops-action")


def _namespace_labels(namespace: str, level: str) -> dict[str, str]:
    render = subprocess.run(
        [str(CONSOLE), "install", "--export", "--repo", "https://git.example/config",
         "--target-namespace", namespace, "--pod-security", level],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    labels: dict[str, str] = {}
    for doc in yaml.safe_load_all(render):  # no Namespace document: no labels
        if doc and doc["kind"] == "Namespace" and doc["metadata"]["name"] == namespace:
            labels.update(doc["metadata"].get("labels") or {})
    return labels


def _pod(name: str, *, privileged: bool) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "app:v1"}
    spec: dict[str, Any] = {"containers": [container]}
    if privileged:
        container["securityContext"] = {"privileged": True}
        container["volumeMounts"] = [{"name": "host", "mountPath": "/host"}]
        spec["volumes"] = [{"name": "host", "hostPath": {"path": "/"}}]
    else:
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    return {"metadata": {"name": name}, "spec": spec}


def test_restricted_target_namespace_refuses_a_privileged_hostpath_pod(kube: Kube) -> None:
    labels = _namespace_labels(kube.namespace, "restricted")
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    core = client.CoreV1Api(kube.api_client())
    core.patch_namespace(kube.namespace, {"metadata": {"labels": labels}})

    with pytest.raises(client.ApiException) as refused:
        core.create_namespaced_pod(kube.namespace, _pod("root", privileged=True))
    assert refused.value.status == 403
    message = json.loads(refused.value.body)["message"]
    assert 'violates PodSecurity "restricted' in message
    assert "privileged" in message and "hostPath" in message

    admitted = core.create_namespaced_pod(kube.namespace, _pod("fine", privileged=False))
    assert admitted.metadata.name == "fine"


def test_pod_security_none_leaves_the_namespace_unlabelled(kube: Kube) -> None:
    labels = _namespace_labels(kube.namespace, "none")
    assert not [key for key in labels if key.startswith("pod-security.kubernetes.io/")]
