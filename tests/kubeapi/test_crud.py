"""CRUD semantics through the typed `kubernetes` client: codes, Status bodies, metadata."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.kubeapi.fixtures import Kube
from tests.kubeapi.helpers import MERGE, api_error, configmap, deployment


def test_create_answers_201_and_sets_server_metadata(core: client.CoreV1Api, ns: str) -> None:
    obj, code, _ = core.create_namespaced_config_map_with_http_info(
        ns, configmap("a", ns, {"k": "v"})
    )
    assert code == 201
    meta = obj.metadata
    assert uuid.UUID(meta.uid).version == 4
    assert meta.resource_version.isdigit()
    assert meta.creation_timestamp is not None
    assert meta.namespace == ns
    assert obj.data == {"k": "v"}


def test_duplicate_create_is_409_already_exists(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, configmap("a", ns))
    code, status = api_error(lambda: core.create_namespaced_config_map(ns, configmap("a", ns)))
    assert code == 409
    assert status["kind"] == "Status"
    assert status["status"] == "Failure"
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'configmaps "a" already exists'
    assert status["details"] == {"name": "a", "kind": "configmaps"}


def test_stale_update_is_409_conflict(apps: client.AppsV1Api, ns: str) -> None:
    first = apps.create_namespaced_deployment(ns, deployment("web", ns))
    fresh = apps.read_namespaced_deployment("web", ns)
    fresh.spec.replicas = 3
    apps.replace_namespaced_deployment("web", ns, fresh)
    first.spec.replicas = 4  # still carries the first resourceVersion
    code, status = api_error(lambda: apps.replace_namespaced_deployment("web", ns, first))
    assert code == 409
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 3


def test_missing_object_is_404_for_get_update_delete(apps: client.AppsV1Api, ns: str) -> None:
    code, status = api_error(lambda: apps.read_namespaced_deployment("nope", ns))
    assert (code, status["reason"]) == (404, "NotFound")
    assert status["message"] == 'deployments.apps "nope" not found'
    assert status["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}
    assert (
        api_error(lambda: apps.replace_namespaced_deployment("nope", ns, deployment("nope", ns)))[0]
        == 404
    )
    assert api_error(lambda: apps.delete_namespaced_deployment("nope", ns))[0] == 404
    assert (
        api_error(
            lambda: apps.patch_namespaced_deployment(
                "nope", ns, {"spec": {"replicas": 1}}, _content_type=MERGE
            )
        )[0]
        == 404
    )


def test_delete_answers_status_success_and_removes(core: client.CoreV1Api, ns: str) -> None:
    created = core.create_namespaced_config_map(ns, configmap("a", ns))
    status = core.delete_namespaced_config_map("a", ns, propagation_policy="Foreground")
    # Delete is typed `object` in the client: the Status arrives as a plain dict.
    assert status["kind"] == "Status"
    assert status["status"] == "Success"
    assert status["details"]["uid"] == created.metadata.uid
    assert api_error(lambda: core.read_namespaced_config_map("a", ns))[0] == 404


def test_resource_versions_increase_across_objects(core: client.CoreV1Api, ns: str) -> None:
    a = core.create_namespaced_config_map(ns, configmap("a", ns))
    b = core.create_namespaced_config_map(ns, configmap("b", ns))
    a2 = core.patch_namespaced_config_map("a", ns, {"data": {"x": "1"}})
    versions = [int(o.metadata.resource_version) for o in (a, b, a2)]
    assert versions == sorted(versions)
    assert len(set(versions)) == 3


def test_generate_name_and_missing_name(core: client.CoreV1Api, ns: str) -> None:
    made = core.create_namespaced_config_map(ns, {"metadata": {"generateName": "cfg-"}})
    assert made.metadata.name.startswith("cfg-")
    assert len(made.metadata.name) == len("cfg-") + 5
    code, status = api_error(lambda: core.create_namespaced_config_map(ns, {"metadata": {}}))
    assert (code, status["reason"]) == (422, "Invalid")
    assert status["message"] == (
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    )


def test_names_that_disagree_are_rejected(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, configmap("a", ns))
    body = configmap("b", ns)
    code, status = api_error(lambda: core.replace_namespaced_config_map("a", ns, body))
    assert code == 400
    assert status["message"] == "the name of the object (b) does not match the name on the URL (a)"
    other = configmap("c", "elsewhere")
    code, status = api_error(lambda: core.create_namespaced_config_map(ns, other))
    assert code == 400
    assert "does not match the namespace" in status["message"]


def test_invalid_name_is_422(core: client.CoreV1Api, ns: str) -> None:
    code, status = api_error(
        lambda: core.create_namespaced_config_map(ns, configmap("Bad_Name", ns))
    )
    assert code == 422
    assert status["details"]["causes"][0]["field"] == "metadata.name"


def test_namespace_comes_from_the_url_and_must_exist(core: client.CoreV1Api, ns: str) -> None:
    made = core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    assert made.metadata.namespace == ns
    code, status = api_error(
        lambda: core.create_namespaced_config_map("no-such-ns", configmap("a", "no-such-ns"))
    )
    assert code == 404
    assert status["message"] == 'namespaces "no-such-ns" not found'


def test_new_namespace_gets_default_service_account_and_root_ca(
    core: client.CoreV1Api, kube: Kube
) -> None:
    kube.wait_for(lambda: core.list_namespaced_service_account(kube.namespace).items)
    accounts = [
        sa.metadata.name for sa in core.list_namespaced_service_account(kube.namespace).items
    ]
    assert "default" in accounts
    kube.wait_for(
        lambda: [
            c
            for c in core.list_namespaced_config_map(kube.namespace).items
            if c.metadata.name == "kube-root-ca.crt"
        ]
    )


def test_generation_moves_only_with_spec(apps: client.AppsV1Api, ns: str) -> None:
    made = apps.create_namespaced_deployment(ns, deployment("web", ns))
    assert made.metadata.generation == 1
    labelled = apps.patch_namespaced_deployment("web", ns, {"metadata": {"labels": {"team": "a"}}})
    assert labelled.metadata.generation == 1
    assert int(labelled.metadata.resource_version) > int(made.metadata.resource_version)
    scaled = apps.patch_namespaced_deployment("web", ns, {"spec": {"replicas": 5}})
    assert scaled.metadata.generation == 2
    status_only = apps.read_namespaced_deployment_status("web", ns)
    status_only.status.observed_generation = 2
    status_only.status.replicas = 5
    after = apps.replace_namespaced_deployment_status("web", ns, status_only)
    assert after.metadata.generation == 2


def test_unchanged_update_keeps_resource_version(core: client.CoreV1Api, ns: str) -> None:
    made = core.create_namespaced_config_map(ns, configmap("a", ns, {"k": "v"}))
    again = core.replace_namespaced_config_map("a", ns, made)
    assert again.metadata.resource_version == made.metadata.resource_version
    patched = core.patch_namespaced_config_map("a", ns, {"data": {"k": "v"}})
    assert patched.metadata.resource_version == made.metadata.resource_version


def test_dry_run_validates_and_stores_nothing(core: client.CoreV1Api, ns: str) -> None:
    preview, code, _ = core.create_namespaced_config_map_with_http_info(
        ns, configmap("a", ns, {"k": "v"}), dry_run="All"
    )
    assert code == 201
    assert preview.data == {"k": "v"}
    assert api_error(lambda: core.read_namespaced_config_map("a", ns))[0] == 404
    code, _ = api_error(
        lambda: core.create_namespaced_config_map(ns, configmap("Bad_Name", ns), dry_run="All")
    )
    assert code == 422
    core.create_namespaced_config_map(ns, configmap("a", ns, {"k": "v"}))
    core.patch_namespaced_config_map("a", ns, {"data": {"k": "changed"}}, dry_run="All")
    core.delete_namespaced_config_map("a", ns, dry_run="All")
    assert core.read_namespaced_config_map("a", ns).data == {"k": "v"}


def test_defaults_are_filled_in(
    apps: client.AppsV1Api, core: client.CoreV1Api, ns: str, as_dict: Any
) -> None:
    made = as_dict(apps.create_namespaced_deployment(ns, deployment("web", ns, replicas=None)))
    spec = made["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["progressDeadlineSeconds"] == 600
    container = spec["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    svc = core.create_namespaced_service(
        ns,
        {
            "metadata": {"name": "web"},
            "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}},
        },
    )
    assert svc.spec.type == "ClusterIP"
    assert svc.spec.cluster_ip
    assert svc.spec.ports[0].protocol == "TCP"
    assert svc.spec.ports[0].target_port == 80


def test_workload_selector_must_match_template(apps: client.AppsV1Api, ns: str) -> None:
    bad = deployment("web", ns)
    bad["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    code, status = api_error(lambda: apps.create_namespaced_deployment(ns, bad))
    assert code == 422
    assert status["details"]["causes"][0]["field"] == "spec.template.metadata.labels"
    apps.create_namespaced_deployment(ns, deployment("web", ns))
    moved = {
        "spec": {
            "selector": {"matchLabels": {"app": "web", "x": "y"}},
            "template": {"metadata": {"labels": {"x": "y"}}},
        }
    }
    code, status = api_error(lambda: apps.patch_namespaced_deployment("web", ns, moved))
    assert code == 422
    assert "field is immutable" in status["message"]


def test_finalizers_hold_deletion_until_removed(core: client.CoreV1Api, ns: str) -> None:
    body = configmap("a", ns)
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map(ns, body)
    core.delete_namespaced_config_map("a", ns)
    held = core.read_namespaced_config_map("a", ns)
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map(
        "a", ns, {"metadata": {"finalizers": None}}, _content_type=MERGE
    )
    assert api_error(lambda: core.read_namespaced_config_map("a", ns))[0] == 404


def test_deleting_an_owner_cascades_to_dependents(core: client.CoreV1Api, kube: Kube) -> None:
    ns = kube.namespace
    owner = core.create_namespaced_config_map(ns, configmap("owner", ns))
    dependent = configmap("dependent", ns)
    dependent["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    ]
    core.create_namespaced_config_map(ns, dependent)
    core.delete_namespaced_config_map("owner", ns)
    # The garbage collector is asynchronous on a real cluster: poll.
    kube.wait_for(lambda: "dependent" not in names(core.list_namespaced_config_map(ns)), timeout=30)


def names(listed: Any) -> set[str]:
    return {item.metadata.name for item in listed.items}


def test_deleting_a_namespace_deletes_its_contents(core: client.CoreV1Api, kube: Kube) -> None:
    name = f"{kube.namespace}-gone"
    core.create_namespace({"metadata": {"name": name}})
    kube.defer(lambda: core.delete_namespace(name))
    core.create_namespaced_config_map(name, configmap("a", name))
    answer = core.delete_namespace(name)
    assert answer["status"]["phase"] == "Terminating"  # the namespace, not a Status
    assert answer["metadata"]["deletionTimestamp"]
    kube.wait_for(lambda: name not in names(core.list_namespace()), timeout=120)
    assert "a" not in names(
        core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={name}")
    )


def test_lease_optimistic_locking(api: Any, kube: Kube) -> None:
    leases = client.CoordinationV1Api(api)
    ns = kube.namespace
    body = {
        "metadata": {"name": "gitops-lock"},
        "spec": {
            "holderIdentity": "run-1",
            "leaseDurationSeconds": 60,
            "acquireTime": "2024-01-01T00:00:00.000000Z",
            "renewTime": "2024-01-01T00:00:00.000000Z",
        },
    }
    held = leases.create_namespaced_lease(ns, body)
    assert api_error(lambda: leases.create_namespaced_lease(ns, body))[0] == 409
    mine = leases.read_namespaced_lease("gitops-lock", ns)
    theirs = leases.read_namespaced_lease("gitops-lock", ns)
    mine.spec.holder_identity = "run-2"
    leases.replace_namespaced_lease("gitops-lock", ns, mine)
    theirs.spec.holder_identity = "run-3"
    assert api_error(lambda: leases.replace_namespaced_lease("gitops-lock", ns, theirs))[0] == 409
    final = leases.read_namespaced_lease("gitops-lock", ns)
    assert final.spec.holder_identity == "run-2"
    assert final.metadata.uid == held.metadata.uid


def test_concurrent_read_modify_write_loses_no_update(kube: Kube) -> None:
    """Optimistic concurrency under parallel clients: every increment lands exactly once."""
    ns = kube.namespace
    core = client.CoreV1Api(kube.api_client())
    core.create_namespaced_config_map(ns, configmap("counter", ns, {"n": "0"}))
    conflicts = []

    def increment() -> None:
        mine = client.CoreV1Api(kube.api_client())
        for _ in range(5):
            while True:
                live = mine.read_namespaced_config_map("counter", ns)
                live.data["n"] = str(int(live.data["n"]) + 1)
                try:
                    mine.replace_namespaced_config_map("counter", ns, live)
                    break
                except ApiException as err:
                    assert err.status == 409
                    conflicts.append(1)

    threads = [threading.Thread(target=increment) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert core.read_namespaced_config_map("counter", ns).data["n"] == "20"


def test_post_to_a_named_object_is_405(kube: Kube) -> None:
    dyn = kube.dynamic_client()
    path = f"/api/v1/namespaces/{kube.namespace}/configmaps/a"
    with pytest.raises(ApiException) as caught:
        dyn.request("post", path, body=configmap("a", kube.namespace))
    assert caught.value.status == 405
