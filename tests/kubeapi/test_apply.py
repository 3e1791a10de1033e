"""Server-side apply: create, merge by key, removal of dropped fields, conflicts, no-op."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from tests.kubeapi.fixtures import Kube
from tests.kubeapi.helpers import APPLY, api_error, configmap, deployment


def ssa(
    apps: client.AppsV1Api, body: dict[str, Any], manager: str, force: bool | None = None
) -> Any:
    meta = body["metadata"]
    return apps.patch_namespaced_deployment(
        meta["name"],
        meta["namespace"],
        body,
        field_manager=manager,
        force=force,
        _content_type=APPLY,
    )


def apply_entry(obj: dict[str, Any], manager: str) -> dict[str, Any]:
    entries = [
        e
        for e in obj["metadata"]["managedFields"]
        if e["manager"] == manager and e["operation"] == "Apply"
    ]
    assert len(entries) == 1, entries
    return entries[0]["fieldsV1"]


def test_apply_creates_a_missing_object(apps: client.AppsV1Api, ns: str, as_dict: Any) -> None:
    body = deployment("web", ns, replicas=3)
    made, code, _ = apps.patch_namespaced_deployment_with_http_info(
        "web", ns, body, field_manager="sync", _content_type=APPLY
    )
    assert code == 201
    assert made.spec.replicas == 3
    fields = apply_entry(as_dict(made), "sync")
    assert "f:replicas" in fields["f:spec"]
    # System metadata is nobody's field.
    assert "f:name" not in fields.get("f:metadata", {})


def test_apply_merges_containers_by_name(apps: client.AppsV1Api, ns: str) -> None:
    ssa(apps, deployment("web", ns, image="example.com/app:1"), "sync")
    sidecar = deployment(
        "web", ns, replicas=None, containers=[{"name": "proxy", "image": "example.com/proxy:1"}]
    )
    del sidecar["spec"]["selector"]
    ssa(apps, sidecar, "mesh-injector")
    ssa(apps, deployment("web", ns, image="example.com/app:2"), "sync")
    live = apps.read_namespaced_deployment("web", ns)
    images = {c.name: c.image for c in live.spec.template.spec.containers}
    assert images == {"app": "example.com/app:2", "proxy": "example.com/proxy:1"}


def test_apply_merges_env_and_ports_by_key(apps: client.AppsV1Api, ns: str) -> None:
    mine = deployment(
        "web",
        ns,
        containers=[
            {
                "name": "app",
                "image": "example.com/app:1",
                "env": [{"name": "A", "value": "1"}],
                "ports": [{"containerPort": 8080}],
            }
        ],
    )
    ssa(apps, mine, "sync")
    theirs = deployment(
        "web",
        ns,
        replicas=None,
        containers=[
            {
                "name": "app",
                "env": [{"name": "B", "value": "2"}],
                "ports": [{"containerPort": 9090}],
            }
        ],
    )
    ssa(apps, theirs, "other")
    container = apps.read_namespaced_deployment("web", ns).spec.template.spec.containers[0]
    assert [(e.name, e.value) for e in container.env] == [("A", "1"), ("B", "2")]
    assert [p.container_port for p in container.ports] == [8080, 9090]
    assert container.image == "example.com/app:1"


def test_fields_a_manager_stops_applying_are_removed(
    apps: client.AppsV1Api, ns: str, as_dict: Any
) -> None:
    first = deployment(
        "web",
        ns,
        replicas=3,
        containers=[
            {
                "name": "app",
                "image": "example.com/app:1",
                "env": [{"name": "OLD", "value": "1"}, {"name": "KEEP", "value": "1"}],
            }
        ],
    )
    ssa(apps, first, "sync")
    other = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns, "annotations": {"team": "payments"}},
    }
    ssa(apps, other, "labeller")
    second = deployment(
        "web",
        ns,
        replicas=None,
        containers=[
            {"name": "app", "image": "example.com/app:1", "env": [{"name": "KEEP", "value": "1"}]}
        ],
    )
    after = as_dict(ssa(apps, second, "sync"))
    env = after["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "KEEP", "value": "1"}]
    # Nobody owns spec.replicas any more: it is removed, then defaulted as on a real server.
    assert after["spec"]["replicas"] == 1
    assert "f:replicas" not in apply_entry(after, "sync")["f:spec"]
    assert after["metadata"]["annotations"]["team"] == "payments"


def test_dropping_a_whole_list_removes_it_and_bumps_generation(
    apps: client.AppsV1Api, ns: str
) -> None:
    with_env = deployment(
        "web",
        ns,
        containers=[
            {"name": "app", "image": "example.com/app:1", "env": [{"name": "A", "value": "1"}]}
        ],
    )
    first = ssa(apps, with_env, "sync")
    after = ssa(apps, deployment("web", ns, image="example.com/app:1"), "sync")
    assert not after.spec.template.spec.containers[0].env
    assert after.metadata.generation == first.metadata.generation + 1


def test_a_field_another_manager_still_owns_survives(apps: client.AppsV1Api, ns: str) -> None:
    ssa(apps, deployment("web", ns, replicas=4), "sync")
    ssa(apps, deployment("web", ns, replicas=4), "autoscaler")  # same value: shared ownership
    ssa(apps, deployment("web", ns, replicas=None), "sync")
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 4


def test_conflicting_apply_is_409_unless_forced(
    apps: client.AppsV1Api, ns: str, as_dict: Any
) -> None:
    ssa(apps, deployment("web", ns, replicas=2), "sync")
    code, status = api_error(lambda: ssa(apps, deployment("web", ns, replicas=5), "autoscaler"))
    assert code == 409
    assert status["reason"] == "Conflict"
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "sync": .spec.replicas'
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "sync"',
            "field": ".spec.replicas",
        }
    ]
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 2
    forced = as_dict(ssa(apps, deployment("web", ns, replicas=5), "autoscaler", force=True))
    assert forced["spec"]["replicas"] == 5
    assert "f:replicas" not in apply_entry(forced, "sync")["f:spec"]
    assert "f:replicas" in apply_entry(forced, "autoscaler")["f:spec"]


def test_conflict_with_an_update_manager_names_its_api_version(
    apps: client.AppsV1Api, ns: str
) -> None:
    apps.create_namespaced_deployment(
        ns, deployment("web", ns, replicas=2), field_manager="kubectl-create"
    )
    code, status = api_error(lambda: ssa(apps, deployment("web", ns, replicas=7), "sync"))
    assert code == 409
    assert status["message"].startswith(
        'Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1 at '
    )
    assert status["message"].endswith(": .spec.replicas")


def test_unchanged_apply_writes_nothing(core: client.CoreV1Api, ns: str, kube: Kube) -> None:
    body = configmap("cfg", ns, {"k": "v"}, labels={"app": "web"})

    def apply_cm() -> Any:
        return core.patch_namespaced_config_map(
            "cfg", ns, body, field_manager="sync", _content_type=APPLY
        )

    first = apply_cm()
    second = apply_cm()
    assert second.metadata.resource_version == first.metadata.resource_version
    assert second.metadata.managed_fields[0].time == first.metadata.managed_fields[0].time
    if kube.is_standin:
        kube.reset_counters()
        apply_cm()
        assert kube.writes(verb="patch", resource="configmaps") == 1  # a write call...
        assert kube.changes() == 0  # ...that stored nothing


def test_unchanged_apply_keeps_generation(apps: client.AppsV1Api, ns: str, kube: Kube) -> None:
    if kube.is_standin:
        kube.set_rollout_delay(3600)  # no status write can fall between the two reads below
    body = deployment("web", ns, replicas=2, labels={"app": "web"})
    first = ssa(apps, body, "sync")
    live = apps.read_namespaced_deployment("web", ns)  # controllers may have written status
    second = ssa(apps, body, "sync")
    assert second.metadata.generation == first.metadata.generation == 1
    if kube.is_standin:
        assert second.metadata.resource_version == live.metadata.resource_version


def test_changed_apply_bumps_generation_once(apps: client.AppsV1Api, ns: str) -> None:
    first = ssa(apps, deployment("web", ns, image="example.com/app:1"), "sync")
    second = ssa(apps, deployment("web", ns, image="example.com/app:2"), "sync")
    assert second.metadata.generation == first.metadata.generation + 1
    assert int(second.metadata.resource_version) > int(first.metadata.resource_version)


def test_apply_needs_a_field_manager(apps: client.AppsV1Api, ns: str) -> None:
    code, status = api_error(
        lambda: apps.patch_namespaced_deployment(
            "web", ns, deployment("web", ns), _content_type=APPLY
        )
    )
    assert code == 422
    assert "fieldManager: Required value" in status["message"]


def test_dry_run_apply_stores_nothing(apps: client.AppsV1Api, ns: str) -> None:
    preview = apps.patch_namespaced_deployment(
        "web",
        ns,
        deployment("web", ns, replicas=3),
        field_manager="sync",
        dry_run="All",
        _content_type=APPLY,
    )
    assert preview.spec.replicas == 3
    assert api_error(lambda: apps.read_namespaced_deployment("web", ns))[0] == 404


def test_apply_ignores_status_on_the_main_resource(apps: client.AppsV1Api, ns: str) -> None:
    body = deployment("web", ns)
    body["status"] = {"replicas": 99}
    made = ssa(apps, body, "sync")
    assert (made.status is None) or (made.status.replicas != 99)


def test_apply_labels_map_is_granular(core: client.CoreV1Api, ns: str) -> None:
    def apply_cm(labels: dict[str, str], manager: str) -> Any:
        return core.patch_namespaced_config_map(
            "cfg",
            ns,
            configmap("cfg", ns, labels=labels),
            field_manager=manager,
            _content_type=APPLY,
        )

    apply_cm({"a": "1"}, "one")
    apply_cm({"b": "2"}, "two")
    assert apply_cm({}, "one").metadata.labels == {"b": "2"}
