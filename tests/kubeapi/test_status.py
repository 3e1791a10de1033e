"""The status subresource: main writes cannot change status, status writes nothing else."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from tests.kubeapi.fixtures import Kube
from tests.kubeapi.helpers import MERGE, deployment


def test_main_resource_writes_ignore_status(apps: client.AppsV1Api, ns: str, as_dict: Any) -> None:
    apps.create_namespaced_deployment(ns, deployment("web", ns))
    live = as_dict(apps.read_namespaced_deployment("web", ns))
    live["status"] = {"replicas": 42, "observedGeneration": 42}
    live["spec"]["replicas"] = 3
    after = as_dict(apps.replace_namespaced_deployment("web", ns, live))
    assert after["spec"]["replicas"] == 3
    assert (after.get("status") or {}).get("observedGeneration") != 42
    patched = as_dict(
        apps.patch_namespaced_deployment(
            "web", ns, {"status": {"replicas": 42}}, _content_type=MERGE
        )
    )
    assert (patched.get("status") or {}).get("replicas") != 42


def test_status_writes_change_only_status(apps: client.AppsV1Api, ns: str, as_dict: Any) -> None:
    made = apps.create_namespaced_deployment(ns, deployment("web", ns, replicas=2))
    body = as_dict(apps.read_namespaced_deployment_status("web", ns))
    body["spec"]["replicas"] = 9
    body["metadata"]["labels"] = {"sneaky": "yes"}
    body["status"] = {
        "observedGeneration": 1,
        "replicas": 2,
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "Testing",
                "message": "set by a test",
            }
        ],
    }
    after = apps.replace_namespaced_deployment_status("web", ns, body)
    assert after.spec.replicas == 2
    assert not (after.metadata.labels or {}).get("sneaky")
    assert after.metadata.generation == made.metadata.generation
    assert any(c.reason == "Testing" for c in after.status.conditions)
    merged = apps.patch_namespaced_deployment_status(
        "web", ns, {"spec": {"replicas": 7}, "status": {"replicas": 1}}, _content_type=MERGE
    )
    assert merged.spec.replicas == 2


def test_custom_resource_status_subresource(kube: Kube, api: Any) -> None:
    """A CR with a status subresource: spec changes bump generation, status writes do not."""
    custom = client.CustomObjectsApi(api)
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": kube.namespace},
        "spec": {
            "hostnames": ["web.example.com"],
            "rules": [{"backendRefs": [{"name": "web", "port": 80}]}],
        },
    }
    group, version, plural = "gateway.networking.k8s.io", "v1", "httproutes"
    made = custom.create_namespaced_custom_object(group, version, kube.namespace, plural, route)
    assert made["metadata"]["generation"] == 1
    status = {"status": {"parents": []}, "spec": {"hostnames": ["ignored.example.com"]}}
    after = custom.patch_namespaced_custom_object_status(
        group, version, kube.namespace, plural, "web", status, _content_type=MERGE
    )
    assert after["metadata"]["generation"] == 1
    assert after["spec"]["hostnames"] == ["web.example.com"]
    changed = custom.patch_namespaced_custom_object(
        group,
        version,
        kube.namespace,
        plural,
        "web",
        {"spec": {"hostnames": ["new.example.com"]}},
        _content_type=MERGE,
    )
    assert changed["metadata"]["generation"] == 2
