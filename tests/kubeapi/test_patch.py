"""Non-apply patches: strategic merge (by merge key), JSON merge, JSON patch."""

from __future__ import annotations

from kubernetes import client

from tests.kubeapi.helpers import JSON_PATCH, MERGE, STRATEGIC, api_error, deployment


def two_containers(ns: str) -> dict[str, object]:
    return deployment(
        "web",
        ns,
        containers=[
            {"name": "app", "image": "example.com/app:1", "env": [{"name": "A", "value": "1"}]},
            {"name": "proxy", "image": "example.com/proxy:1"},
        ],
    )


def test_strategic_merge_patch_merges_containers_and_env_by_name(
    apps: client.AppsV1Api, ns: str
) -> None:
    apps.create_namespaced_deployment(ns, two_containers(ns))
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "example.com/app:2",
                            "env": [{"name": "B", "value": "2"}],
                        }
                    ]
                }
            }
        }
    }
    live = apps.patch_namespaced_deployment("web", ns, patch, _content_type=STRATEGIC)
    containers = live.spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [
        ("app", "example.com/app:2"),
        ("proxy", "example.com/proxy:1"),
    ]
    assert [(e.name, e.value) for e in containers[0].env] == [("A", "1"), ("B", "2")]


def test_strategic_merge_patch_delete_directive(apps: client.AppsV1Api, ns: str) -> None:
    apps.create_namespaced_deployment(ns, two_containers(ns))
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "proxy", "$patch": "delete"}]}}}
    }
    live = apps.patch_namespaced_deployment("web", ns, patch, _content_type=STRATEGIC)
    assert [c.name for c in live.spec.template.spec.containers] == ["app"]


def test_merge_patch_replaces_lists_and_null_deletes(apps: client.AppsV1Api, ns: str) -> None:
    apps.create_namespaced_deployment(ns, two_containers(ns))
    patch = {
        "metadata": {"labels": {"a": "1"}},
        "spec": {
            "template": {"spec": {"containers": [{"name": "only", "image": "example.com/x:1"}]}}
        },
    }
    live = apps.patch_namespaced_deployment("web", ns, patch, _content_type=MERGE)
    assert [c.name for c in live.spec.template.spec.containers] == ["only"]
    live = apps.patch_namespaced_deployment(
        "web", ns, {"metadata": {"labels": {"a": None}}}, _content_type=MERGE
    )
    assert not (live.metadata.labels or {}).get("a")


def test_json_patch_operations_and_failed_test(apps: client.AppsV1Api, ns: str) -> None:
    apps.create_namespaced_deployment(ns, two_containers(ns))
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/labels", "value": {"x": "y"}},
    ]
    live = apps.patch_namespaced_deployment("web", ns, ops, _content_type=JSON_PATCH)
    assert live.spec.replicas == 4
    assert live.metadata.labels == {"x": "y"}
    stale = [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 9},
    ]
    code, _ = api_error(
        lambda: apps.patch_namespaced_deployment("web", ns, stale, _content_type=JSON_PATCH)
    )
    assert code == 422
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 4


def test_patch_with_stale_resource_version_conflicts(apps: client.AppsV1Api, ns: str) -> None:
    made = apps.create_namespaced_deployment(ns, two_containers(ns))
    apps.patch_namespaced_deployment("web", ns, {"spec": {"replicas": 3}})
    guarded = {
        "metadata": {"resourceVersion": made.metadata.resource_version},
        "spec": {"replicas": 5},
    }
    code, status = api_error(
        lambda: apps.patch_namespaced_deployment("web", ns, guarded, _content_type=MERGE)
    )
    assert (code, status["reason"]) == (409, "Conflict")


def test_scale_subresource(apps: client.AppsV1Api, ns: str) -> None:
    apps.create_namespaced_deployment(ns, two_containers(ns))
    scale = apps.read_namespaced_deployment_scale("web", ns)
    assert scale.spec.replicas == 2
    assert scale.status.selector == "app=web"
    apps.patch_namespaced_deployment_scale(
        "web", ns, {"spec": {"replicas": 6}}, _content_type=MERGE
    )
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 6
