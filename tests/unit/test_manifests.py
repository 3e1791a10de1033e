"""Pure pieces of `sync`: manifest checks, order, drift comparison, inventory, health."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gitops_action.domain.drift import (
    HASH_ANNOTATION,
    applied_hash,
    contains,
    in_sync,
    object_diff,
    quantity,
    shaped_like,
    with_hash,
)
from gitops_action.domain.errors import InvalidManifest, InvalidSyncInput
from gitops_action.domain.health import State, evaluate
from gitops_action.domain.inventory import Entry, Inventory, InventoryRef, applied_by_us
from gitops_action.domain.manifests import (
    KIND_ORDER,
    Location,
    Manifest,
    ObjectId,
    apply_priority,
    canary_services,
    canary_targets,
    clean_body,
    expand,
    is_config_kind,
    read_manifest,
    skipped_summary,
    split_config,
    without_replicas,
)
from gitops_action.domain.sync_plan import ResourceType

HERE = Location("apps/web.yaml", 2)


# ------------------------------------------------------------------ manifests


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("text", "apps/web.yaml: document 2: not a mapping"),
        (
            {"apiVersion": "v1", "metadata": {"name": "x"}},
            "apps/web.yaml: document 2: missing kind",
        ),
        ({"kind": "ConfigMap", "metadata": {"name": "x"}}, "document 2: missing apiVersion"),
        ({"apiVersion": "v1", "kind": "ConfigMap"}, "document 2: ConfigMap has no metadata.name"),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": ""}}, "Pod has no metadata.name"),
        (
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "p-"}},
            "Pod uses metadata.generateName",
        ),
        (
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": 3}},
            "metadata.namespace is not a string",
        ),
    ],
)
def test_read_manifest_names_file_and_document(data: Any, message: str) -> None:
    with pytest.raises(InvalidManifest) as err:
        read_manifest(HERE, data)
    assert message in str(err.value)


def test_list_items_are_expanded_with_their_position() -> None:
    items = [{"kind": "ConfigMap"}, None, {"kind": "Secret"}]
    expanded = expand(HERE, {"apiVersion": "v1", "kind": "List", "items": items})
    assert [(str(where), data["kind"]) for where, data in expanded] == [
        ("apps/web.yaml: document 2, item 1", "ConfigMap"),
        ("apps/web.yaml: document 2, item 3", "Secret"),
    ]
    assert expand(HERE, None) == []
    assert expand(HERE, {"kind": "Pod"}) == [(HERE, {"kind": "Pod"})]


@pytest.mark.parametrize(
    ("api_version", "kind", "config"),
    [
        ("image.toolkit.fluxcd.io/v1beta2", "ImagePolicy", True),
        ("flagger.app/v1beta1", "Canary", True),
        ("flagger.app/v1beta1", "MetricTemplate", True),
        ("source.toolkit.fluxcd.io/v1", "GitRepository", True),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization", True),
        ("source.toolkit.fluxcd.io/v1", "HelmRepository", False),
        ("apps/v1", "Deployment", False),
        ("v1", "ConfigMap", False),
    ],
)
def test_config_kinds(api_version: str, kind: str, config: bool) -> None:
    assert is_config_kind(api_version, kind) is config


def test_skipped_summary_counts_per_kind() -> None:
    manifests = [
        read_manifest(HERE, {"apiVersion": v, "kind": k, "metadata": {"name": n}})
        for v, k, n in [
            ("flagger.app/v1beta1", "Canary", "a"),
            ("flagger.app/v1beta1", "Canary", "b"),
            ("image.toolkit.fluxcd.io/v1beta2", "ImagePolicy", "c"),
            ("v1", "ConfigMap", "d"),
        ]
    ]
    apply, config = split_config(manifests)
    assert [m.name for m in apply] == ["d"]
    assert skipped_summary(config) == (
        "skipped 3 gitops-action config objects, never applied (Canary 2, ImagePolicy 1)"
    )


def test_order_puts_namespaces_and_crds_first_and_custom_kinds_last() -> None:
    kinds = [
        "Widget",
        "Deployment",
        "Service",
        "CustomResourceDefinition",
        "ConfigMap",
        "Namespace",
        "ClusterRole",
    ]
    ordered = sorted(kinds, key=apply_priority)
    assert ordered[:2] == ["Namespace", "CustomResourceDefinition"]
    assert ordered.index("ConfigMap") < ordered.index("Service") < ordered.index("Deployment")
    assert ordered[-1] == "Widget"
    assert apply_priority("Widget") == len(KIND_ORDER)


def test_canary_targets_are_found_in_the_canary_namespace() -> None:
    canary = read_manifest(
        HERE,
        {
            "apiVersion": "flagger.app/v1beta1",
            "kind": "Canary",
            "metadata": {"name": "c"},
            "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}},
        },
    )
    broken = read_manifest(
        HERE,
        {
            "apiVersion": "flagger.app/v1beta1",
            "kind": "Canary",
            "metadata": {"name": "d"},
            "spec": {"targetRef": "web"},
        },
    )
    assert canary_targets([canary, broken], "team") == {
        ObjectId("apps", "Deployment", "team", "web")
    }


def test_canary_services_are_the_apex_and_its_twins_as_flagger_names_them() -> None:
    def canary(name: str, spec: dict[str, Any], namespace: str | None = None) -> Manifest:
        metadata = {"name": name} | ({"namespace": namespace} if namespace else {})
        return read_manifest(
            HERE,
            {
                "apiVersion": "flagger.app/v1beta1",
                "kind": "Canary",
                "metadata": metadata,
                "spec": spec,
            },
        )

    by_target = canary("a", {"targetRef": {"name": "web"}})
    by_service_name = canary("b", {"targetRef": {"name": "api"}, "service": {"name": "edge"}}, "x")
    not_a_canary = read_manifest(
        HERE, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}
    )
    assert canary_services([by_target, by_service_name, not_a_canary], "team") == {
        ObjectId("", "Service", "team", "web"),
        ObjectId("", "Service", "team", "web-primary"),
        ObjectId("", "Service", "team", "web-canary"),
        ObjectId("", "Service", "x", "edge"),
        ObjectId("", "Service", "x", "edge-primary"),
        ObjectId("", "Service", "x", "edge-canary"),
    }


def test_clean_body_drops_server_fields_and_sets_scope() -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "status": {"x": 1},
        "metadata": {
            "name": "a",
            "namespace": "old",
            "uid": "u",
            "resourceVersion": "7",
            "labels": {"k": "v"},
        },
    }
    assert clean_body(body, "new") == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "a", "labels": {"k": "v"}, "namespace": "new"},
    }
    assert "namespace" not in clean_body(body, "")["metadata"]
    spec = {"replicas": 3, "selector": {}}
    assert without_replicas({"spec": spec}) == {"spec": {"selector": {}}}
    assert spec == {"replicas": 3, "selector": {}}  # the input is not changed


def test_resource_paths() -> None:
    deployments = ResourceType("apps", "v1", "Deployment", "deployments", True)
    namespaces = ResourceType("", "v1", "Namespace", "namespaces", False)
    assert deployments.path("team", "web") == "/apis/apps/v1/namespaces/team/deployments/web"
    assert deployments.path() == "/apis/apps/v1/deployments"
    assert namespaces.path("", "team") == "/api/v1/namespaces/team"
    assert namespaces.api_version == "v1"


# ---------------------------------------------------------------------- drift


LIVE: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "team", "uid": "u", "annotations": {"x": "y"}},
    "spec": {
        "replicas": 2,
        "template": {
            "spec": {
                "containers": [
                    {"name": "side", "image": "s:1"},
                    {
                        "name": "app",
                        "image": "a:1",
                        "imagePullPolicy": "IfNotPresent",
                        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    },
                ]
            }
        },
    },
    "status": {"replicas": 2},
}


def _want(**spec: Any) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": "a:1",
        "resources": {"requests": {"cpu": "0.5", "memory": "1024Mi"}},
        "ports": [{"containerPort": 80}],
    }
    base = {"replicas": 2, "template": {"spec": {"containers": [container]}}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "team"},
        "spec": {**base, **spec},
    }


def test_contains_ignores_defaults_status_and_other_managers_items() -> None:
    assert contains(LIVE, _want())


@pytest.mark.parametrize(
    "change",
    [
        {"replicas": 3},
        {"template": {"spec": {"containers": [{"name": "app", "image": "a:2"}]}}},
        {"template": {"spec": {"containers": [{"name": "app", "args": ["-v"]}]}}},
        {"paused": True},
    ],
)
def test_contains_sees_every_field_we_set(change: dict[str, Any]) -> None:
    assert not contains(LIVE, _want(**change))


def test_contains_rules_for_scalars_and_empties() -> None:
    assert contains({"a": 1}, {"a": 1.0})
    assert not contains({"a": 1}, {"a": True})
    assert not contains({"a": "1"}, {"a": 1})
    assert contains({}, {"a": None, "b": {}, "c": []})
    assert contains({"b": {"x": 1}}, {"b": {}})
    assert not contains({"c": [1]}, {"c": []})
    assert not contains({"args": ["a", "b"]}, {"args": ["a"]})
    assert not contains({"storage": "1Gi"}, {"storage": "1G"})
    assert contains({"storage": "1Gi"}, {"storage": "1024Mi"})
    assert not contains({"label": "1k"}, {"label": "1000"})  # quantities only where they are


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", "0.5"),
        ("1", "1"),
        ("1Ki", "1024"),
        ("2M", "2000000"),
        ("1e3", "1000"),
        (".5", "0.5"),
        ("100n", "1.00E-7"),
        (3, "3"),
    ],
)
def test_quantities(text: Any, value: str) -> None:
    assert quantity(text) == Decimal(value)


@pytest.mark.parametrize("text", ["abc", "1Xi", "", True, None, "1.2.3"])
def test_not_quantities(text: Any) -> None:
    assert quantity(text) is None


def test_in_sync_needs_our_hash_and_our_values() -> None:
    applied = with_hash(_want())
    assert applied["metadata"]["annotations"][HASH_ANNOTATION] == applied_hash(_want())
    assert applied_hash(applied) == applied_hash(_want())  # the annotation is not hashed
    live = {
        **LIVE,
        "metadata": {
            **LIVE["metadata"],
            "annotations": {"x": "y", HASH_ANNOTATION: applied_hash(_want())},
        },
    }
    assert in_sync(applied, live)
    assert not in_sync(applied, None)
    assert not in_sync(applied, LIVE)  # applied by someone else (no hash): re-apply
    assert not in_sync(with_hash(_want(paused=False)), live)  # git changed


def test_secret_string_data_compares_as_stored_data() -> None:
    applied = with_hash(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "stringData": {"pw": "hunter2"},
        }
    )
    live = {
        "apiVersion": "v1",
        "kind": "Secret",
        "data": {"pw": "aHVudGVyMg=="},
        "metadata": {"name": "s", "annotations": dict(applied["metadata"]["annotations"])},
    }
    assert in_sync(applied, live)
    live["data"] = {"pw": "aHVudGVyMw=="}
    assert not in_sync(applied, live)


def test_shaped_like_pairs_items_by_identity() -> None:
    shaped = shaped_like(LIVE, _want())
    containers = shaped["spec"]["template"]["spec"]["containers"]
    assert containers == [
        {
            "name": "app",
            "image": "a:1",
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
            "ports": [{"containerPort": 80}],
        }
    ]
    assert "status" not in shaped
    assert "uid" not in shaped["metadata"]


def test_object_diff_of_unchanged_values_is_empty_and_creation_is_all_added() -> None:
    def render(data: Any) -> str:
        return "".join(f"{key}: {data[key]!r}\n" for key in data)

    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": 1}}
    live = {**body, "metadata": {"name": "a", "uid": "x"}, "extra": True}
    assert object_diff("ConfigMap/a", live, with_hash(body), render) == ""
    created = object_diff("ConfigMap/a", None, with_hash(body), render)
    assert created.startswith("--- (absent)\n+++ git ConfigMap/a\n")
    assert "+data: {'k': 1}\n" in created
    assert HASH_ANNOTATION not in created


# ------------------------------------------------------------------ inventory


def test_inventory_round_trips_sorted_lines() -> None:
    entries = [
        Entry(ObjectId("apps", "Deployment", "team", "web"), "apps/v1"),
        Entry(ObjectId("", "Namespace", "", "team"), "v1"),
        Entry(ObjectId("", "ConfigMap", "team", "a"), "v1"),
    ]
    inventory = Inventory.of(entries)
    text = inventory.encode()
    assert text == "apps/v1/Deployment/team/web\nv1/ConfigMap/team/a\nv1/Namespace//team\n"
    assert Inventory.decode(text, "cm") == inventory
    cm = inventory.configmap(InventoryRef("ops", "inv"))
    assert Inventory.from_configmap(cm, "cm") == inventory
    assert Inventory.from_configmap(None, "cm") == Inventory()


def test_inventory_union_prefers_the_newer_api_version() -> None:
    old = Inventory.of(
        [Entry(ObjectId("autoscaling", "HorizontalPodAutoscaler", "t", "h"), "autoscaling/v1")]
    )
    new = Inventory.of(
        [Entry(ObjectId("autoscaling", "HorizontalPodAutoscaler", "t", "h"), "autoscaling/v2")]
    )
    assert old.union(new) == new
    assert old.union(new).without(new.ids) == Inventory()


@pytest.mark.parametrize("line", ["v1/ConfigMap", "a/b/c/d/e/f", "v1//ns/name", "v1/Kind/ns/"])
def test_bad_inventory_lines_are_named(line: str) -> None:
    with pytest.raises(InvalidManifest, match="inventory ConfigMap ops/inv"):
        Inventory.decode(line, "inventory ConfigMap ops/inv")


def test_inventory_ref_parsing() -> None:
    assert InventoryRef.parse("ops/inv") == InventoryRef("ops", "inv")
    assert str(InventoryRef()) == "gitops-system/gitops-action-inventory"
    for bad in ("ops", "/inv", "ops/", "a/b/c"):
        with pytest.raises(InvalidSyncInput):
            InventoryRef.parse(bad)


def test_applied_by_us_needs_our_apply_entry() -> None:
    def managed(*entries: tuple[str, str]) -> dict[str, Any]:
        return {"metadata": {"managedFields": [{"manager": m, "operation": o} for m, o in entries]}}

    assert applied_by_us(managed(("kubectl", "Update"), ("gitops-action", "Apply")))
    assert not applied_by_us(managed(("gitops-action", "Update")))
    assert not applied_by_us(managed(("kubectl-client-side-apply", "Apply")))
    assert not applied_by_us({"metadata": {}})


# --------------------------------------------------------------------- health


def _deployment(status: dict[str, Any], generation: int = 2, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"generation": generation},
        "spec": {"replicas": 2, **spec},
        "status": status,
    }


def test_deployment_rolled_out() -> None:
    status = {
        "observedGeneration": 2,
        "replicas": 2,
        "updatedReplicas": 2,
        "availableReplicas": 2,
        "readyReplicas": 2,
    }
    assert evaluate("apps", "Deployment", _deployment(status)).state is State.HEALTHY


@pytest.mark.parametrize(
    ("status", "state", "reason"),
    [
        (
            {"observedGeneration": 1, "updatedReplicas": 2, "availableReplicas": 2},
            State.PROGRESSING,
            "controller has not observed generation 2 yet",
        ),
        (
            {
                "observedGeneration": 2,
                "replicas": 3,
                "updatedReplicas": 1,
                "availableReplicas": 2,
                "readyReplicas": 2,
            },
            State.PROGRESSING,
            "1 of 2 replicas updated, 2 available",
        ),
        (
            {
                "observedGeneration": 2,
                "replicas": 2,
                "updatedReplicas": 2,
                "availableReplicas": 1,
                "readyReplicas": 2,
            },
            State.PROGRESSING,
            "2 of 2 replicas updated, 1 available",
        ),
        (
            {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2},
            State.PROGRESSING,
            "1 old replicas pending termination",
        ),
        (
            {
                "observedGeneration": 2,
                "replicas": 3,
                "updatedReplicas": 1,
                "availableReplicas": 2,
                "conditions": [
                    {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
                ],
            },
            State.FAILED,
            "1 of 2 replicas updated, 2 available (Progressing=False: ProgressDeadlineExceeded)",
        ),
    ],
)
def test_deployment_not_rolled_out(status: dict[str, Any], state: State, reason: str) -> None:
    health = evaluate("apps", "Deployment", _deployment(status))
    assert (health.state, health.reason) == (state, reason)


def test_ready_replicas_alone_are_not_enough() -> None:
    status = {"observedGeneration": 2, "replicas": 2, "readyReplicas": 2, "availableReplicas": 2}
    assert evaluate("apps", "Deployment", _deployment(status)).state is State.PROGRESSING


def test_statefulset_daemonset_job_and_others() -> None:
    sts = {
        "metadata": {"generation": 1},
        "spec": {"replicas": 2},
        "status": {
            "observedGeneration": 1,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "currentRevision": "a",
            "updateRevision": "a",
        },
    }
    assert evaluate("apps", "StatefulSet", sts).state is State.HEALTHY
    sts["status"]["currentRevision"] = "old"
    assert evaluate("apps", "StatefulSet", sts).state is State.PROGRESSING
    ds = {
        "metadata": {"generation": 1},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 3,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert evaluate("apps", "DaemonSet", ds).reason == "3 of 3 pods updated, 2 available"
    failed = {
        "status": {
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]
        }
    }
    assert evaluate("batch", "Job", failed).state is State.FAILED
    done = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
    assert evaluate("batch", "Job", done).state is State.HEALTHY
    running = {"spec": {"completions": 3}, "status": {"active": 1, "succeeded": 1}}
    assert evaluate("batch", "Job", running).reason == "1 of 3 completions, 1 active"
    assert evaluate("", "ConfigMap", {}).state is State.HEALTHY
