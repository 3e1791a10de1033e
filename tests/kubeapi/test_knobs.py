"""The stand-in's test knobs: 403s, counters, injected failures, kubeconfig, clock."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client, config

from tests.kubeapi.fixtures import Kube
from tests.kubeapi.helpers import APPLY, api_error, configmap, deployment


def test_denied_verb_is_a_real_looking_403(apps: client.AppsV1Api, kube: Kube) -> None:
    ns = kube.namespace
    kube.deny("get", "deployments", group="apps", namespace=ns)
    code, status = api_error(lambda: apps.read_namespaced_deployment("web", ns))
    assert code == 403
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        f'deployments.apps "web" is forbidden: User "{kube.user}" '
        f'cannot get resource "deployments" in API group "apps" in the namespace "{ns}"'
    )
    assert status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    assert kube.user == "system:serviceaccount:gitops-system:gitops-action"
    apps.list_namespaced_deployment(ns)  # other verbs still allowed


def test_denials_cover_lists_subresources_and_cluster_scope(
    api: Any, apps: client.AppsV1Api, kube: Kube
) -> None:
    ns = kube.namespace
    apps.create_namespaced_deployment(ns, deployment("web", ns))
    kube.deny("list", "deployments", group="apps")
    kube.deny("patch", "deployments/status", group="apps")
    kube.deny("delete", "namespaces")
    code, status = api_error(lambda: apps.list_namespaced_deployment(ns))
    assert status["message"] == (
        f'deployments.apps is forbidden: User "{kube.user}" cannot list resource "deployments" '
        f'in API group "apps" in the namespace "{ns}"'
    )
    code, status = api_error(
        lambda: apps.patch_namespaced_deployment_status("web", ns, {"status": {}})
    )
    assert code == 403
    assert 'cannot patch resource "deployments/status"' in status["message"]
    apps.patch_namespaced_deployment("web", ns, {"metadata": {"labels": {"a": "b"}}})  # main: fine
    code, status = api_error(lambda: client.CoreV1Api(api).delete_namespace(ns))
    assert status["message"] == (
        f'namespaces "{ns}" is forbidden: User "{kube.user}" cannot delete resource "namespaces" '
        f'in API group "" in the namespace "{ns}"'
    )
    kube.deny("list", "namespaces")
    code, status = api_error(lambda: client.CoreV1Api(api).list_namespace())
    assert status["message"] == (
        f'namespaces is forbidden: User "{kube.user}" cannot list resource "namespaces" '
        'in API group "" at the cluster scope'
    )
    kube.allow_all()
    apps.list_namespaced_deployment(ns)


def test_counters_split_reads_and_writes_per_verb_and_resource(
    core: client.CoreV1Api, apps: client.AppsV1Api, kube: Kube
) -> None:
    ns = kube.namespace
    assert kube.writes() == kube.reads() == 0
    core.create_namespaced_config_map(ns, configmap("a", ns))
    core.patch_namespaced_config_map("a", ns, {"data": {"k": "v"}})
    core.read_namespaced_config_map("a", ns)
    core.list_namespaced_config_map(ns)
    core.create_namespaced_config_map(ns, configmap("b", ns), dry_run="All")
    apps.patch_namespaced_deployment(
        "web", ns, deployment("web", ns), field_manager="sync", _content_type=APPLY
    )
    apps.read_namespaced_deployment_status("web", ns)
    assert kube.writes() == 3
    assert kube.writes(resource="configmaps") == 2
    assert kube.writes(verb="create") == 1  # the dry run is not a write
    assert kube.writes(verb="patch", resource="deployments") == 1
    assert kube.reads(resource="configmaps") == 2
    assert kube.reads(resource="deployments/status") == 1
    assert kube.changes() == 3
    applied = [r for r in kube.requests(resource="deployments") if r.verb == "patch"]
    assert applied[0].field_manager == "sync"
    assert applied[0].code == 201
    kube.reset_counters()
    assert kube.writes() == kube.reads() == 0


def test_injected_failures_then_recovery(core: client.CoreV1Api, kube: Kube) -> None:
    ns = kube.namespace
    kube.fail_next(
        "create",
        "configmaps",
        code=429,
        reason="TooManyRequests",
        message="slow down",
        retry_after=1,
    )
    code, status = api_error(lambda: core.create_namespaced_config_map(ns, configmap("a", ns)))
    assert (code, status["reason"], status["details"]["retryAfterSeconds"]) == (
        429,
        "TooManyRequests",
        1,
    )
    core.create_namespaced_config_map(ns, configmap("a", ns))
    assert kube.writes(verb="create") == 2


def test_kubeconfig_file_is_loadable(kube: Kube) -> None:
    loaded = client.Configuration()
    config.load_kube_config(config_file=str(kube.kubeconfig), client_configuration=loaded)
    assert loaded.host == kube.url
    with client.ApiClient(loaded) as api:
        names = {n.metadata.name for n in client.CoreV1Api(api).list_namespace().items}
    assert {"default", "kube-system", kube.namespace} <= names


def test_a_wrong_token_is_401(kube: Kube) -> None:
    kube.require_standin("authentication")  # (a real cluster says the same, but needs no test)
    wrong = client.Configuration(host=kube.url)
    wrong.api_key = {"BearerToken": "Bearer nope"}
    with client.ApiClient(wrong) as api:
        code, status = api_error(lambda: client.CoreV1Api(api).list_namespace())
    assert (code, status["reason"]) == (401, "Unauthorized")


def test_bare_host_configuration_works(kube: Kube) -> None:
    kube.require_standin("anonymous access")
    with client.ApiClient(client.Configuration(host=kube.url)) as api:
        assert client.CoreV1Api(api).read_namespace("default").metadata.name == "default"


def test_watch_is_refused_plainly(core: client.CoreV1Api, kube: Kube) -> None:
    kube.require_standin("watch refusal")
    code, status = api_error(lambda: core.list_namespaced_config_map(kube.namespace, watch=True))
    assert code == 400
    assert "watch is not supported" in status["message"]


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet"])
def test_advancing_the_clock_replaces_sleeping(
    apps: client.AppsV1Api, kube: Kube, kind: str
) -> None:
    ns = kube.namespace
    kube.set_rollout_delay(600)
    body = deployment("web", ns, replicas=2)
    body["kind"] = kind
    create = (
        apps.create_namespaced_deployment
        if kind == "Deployment"
        else apps.create_namespaced_stateful_set
    )
    read = (
        apps.read_namespaced_deployment
        if kind == "Deployment"
        else apps.read_namespaced_stateful_set
    )
    create(ns, body)
    assert not read("web", ns).status.ready_replicas
    kube.advance(600)
    assert read("web", ns).status.ready_replicas == 2
