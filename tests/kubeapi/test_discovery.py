"""Discovery, DynamicClient, and CRDs registered at runtime."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import NotFoundError

from tests.kubeapi.fixtures import Kube
from tests.kubeapi.helpers import APPLY, api_error, deployment


def test_version_and_group_discovery(kube: Kube) -> None:
    dyn = kube.dynamic_client()
    version = dyn.version["kubernetes"]
    assert version["major"] == "1"
    apps_v1 = dyn.request("get", "/apis/apps/v1")
    entries = {r["name"]: r for r in apps_v1.to_dict()["resources"]}
    assert entries["deployments"]["namespaced"] is True
    assert entries["deployments"]["kind"] == "Deployment"
    assert "deploy" in entries["deployments"]["shortNames"]
    assert {"get", "list", "create", "update", "patch", "delete"} <= set(
        entries["deployments"]["verbs"]
    )
    assert set(entries["deployments/status"]["verbs"]) == {"get", "patch", "update"}
    core = {r["name"]: r for r in dyn.request("get", "/api/v1").to_dict()["resources"]}
    assert core["namespaces"]["namespaced"] is False
    assert core["configmaps"]["namespaced"] is True
    groups = {g["name"] for g in dyn.request("get", "/apis").to_dict()["groups"]}
    assert {
        "apps",
        "batch",
        "rbac.authorization.k8s.io",
        "coordination.k8s.io",
        "events.k8s.io",
        "apiextensions.k8s.io",
        "policy",
        "networking.k8s.io",
    } <= groups


@pytest.mark.parametrize(
    ("api_version", "kind", "namespaced"),
    [
        ("v1", "Namespace", False),
        ("v1", "Secret", True),
        ("v1", "ServiceAccount", True),
        ("apps/v1", "StatefulSet", True),
        ("batch/v1", "CronJob", True),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", False),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", True),
        ("coordination.k8s.io/v1", "Lease", True),
        ("events.k8s.io/v1", "Event", True),
        ("policy/v1", "PodDisruptionBudget", True),
        ("networking.k8s.io/v1", "Ingress", True),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", False),
    ],
)
def test_dynamic_client_finds_builtin_kinds(
    kube: Kube, api_version: str, kind: str, namespaced: bool
) -> None:
    resource = kube.dynamic_client().resources.get(api_version=api_version, kind=kind)
    assert resource.namespaced is namespaced
    assert resource.get(namespace=kube.namespace) if namespaced else resource.get()


def test_dynamic_client_crud(kube: Kube) -> None:
    deployments = kube.dynamic_client().resources.get(api_version="apps/v1", kind="Deployment")
    made = deployments.create(body=deployment("web", kube.namespace), namespace=kube.namespace)
    assert made.metadata.generation == 1
    applied = deployments.server_side_apply(
        body=deployment("web", kube.namespace, replicas=4),
        namespace=kube.namespace,
        field_manager="sync",
        force_conflicts=True,
    )
    assert applied.spec.replicas == 4
    listed = deployments.get(namespace=kube.namespace, label_selector="")
    assert [i.metadata.name for i in listed.items] == ["web"]
    deployments.delete(name="web", namespace=kube.namespace)
    with pytest.raises(NotFoundError):
        deployments.get(name="web", namespace=kube.namespace)


def widget_crd(group: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "size": {"type": "integer"},
                    "parts": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "colour": {"type": "string"},
                            },
                        },
                    },
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "plural": "widgets",
                "singular": "widget",
                "kind": "Widget",
                "shortNames": ["wd"],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def test_crd_created_at_runtime_is_discovered_and_served(kube: Kube, api: Any) -> None:
    group = f"t{uuid.uuid4().hex[:6]}.gitops-test.example.com"
    dyn = kube.dynamic_client()  # discovery cached before the CRD exists
    crds = client.ApiextensionsV1Api(api)
    crds.create_custom_resource_definition(widget_crd(group))
    kube.defer(lambda: crds.delete_custom_resource_definition(f"widgets.{group}"))

    def established() -> bool:
        conditions = (
            crds.read_custom_resource_definition(f"widgets.{group}").status.conditions or []
        )
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    kube.wait_for(established, timeout=30)
    widgets = kube.wait_for(lambda: _try_get(dyn, f"{group}/v1", "Widget"), timeout=30)
    assert widgets.namespaced
    ns = kube.namespace
    body = {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": ns},
        "spec": {"size": 1, "parts": [{"name": "a", "colour": "red"}], "tags": ["x"]},
    }
    made = kube.wait_for(lambda: _try_create(widgets, body, ns), timeout=30)
    assert made.metadata.generation == 1
    theirs = {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": ns},
        "spec": {"parts": [{"name": "b", "colour": "blue"}], "tags": ["y"]},
    }
    merged = widgets.server_side_apply(
        body=theirs, namespace=ns, field_manager="other", force_conflicts=True
    )  # tags belong to the creator
    assert [p["name"] for p in merged.spec.parts] == ["a", "b"]  # map-list: merged by key
    assert list(merged.spec.tags) == ["y"]  # atomic list: replaced
    assert merged.metadata.generation == 2
    status = widgets.status.patch(
        body={"metadata": {"name": "w"}, "status": {"ready": True}},
        namespace=ns,
        content_type="application/merge-patch+json",
    )
    assert status.metadata.generation == 2
    assert status.status.ready is True
    custom = client.CustomObjectsApi(api)
    code, _ = api_error(
        lambda: custom.patch_namespaced_custom_object(
            group,
            "v1",
            ns,
            "widgets",
            "w",
            {"spec": {"size": 2}},
            _content_type="application/strategic-merge-patch+json",
        )
    )
    assert code == 415  # custom resources have no strategic merge patch
    crds.delete_custom_resource_definition(f"widgets.{group}")

    def kind_gone() -> bool:
        try:
            custom.list_namespaced_custom_object(group, "v1", ns, "widgets")
        except ApiException as err:
            return err.status == 404
        return False

    kube.wait_for(kind_gone, timeout=60)


def _try_get(dyn: Any, api_version: str, kind: str) -> Any:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    try:
        return dyn.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError:
        return None


def _try_create(resource: Any, body: dict[str, Any], ns: str) -> Any:
    try:
        return resource.create(body=body, namespace=ns)
    except NotFoundError:  # a real server may serve the new kind a moment after Established
        return None


def test_unknown_resources_are_404(kube: Kube) -> None:
    dyn = kube.dynamic_client()
    for path in (
        f"/apis/apps/v1/namespaces/{kube.namespace}/widgets",
        "/apis/no.such.group/v1",
        "/api/v1/namespaces/default/deployments",
    ):
        with pytest.raises(NotFoundError):
            dyn.request("get", path)


def test_apply_with_the_typed_client_through_dynamic_discovery(kube: Kube, api: Any) -> None:
    apps = client.AppsV1Api(api)
    apps.patch_namespaced_deployment(
        "web",
        kube.namespace,
        deployment("web", kube.namespace),
        field_manager="sync",
        _content_type=APPLY,
    )
    found = kube.dynamic_client().resources.get(api_version="apps/v1", kind="Deployment")
    assert (
        found.get(name="web", namespace=kube.namespace).metadata.managedFields[0].manager == "sync"
    )
