"""Workload controllers: status follows spec after a while, or a rollout fails.

On the stand-in, a failure is the `fail_rollout` knob; on a real cluster the same
tests use an image that cannot be pulled, so both fail the same way.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from tests.kubeapi.fixtures import Kube
from tests.kubeapi.helpers import MERGE, deployment

BROKEN_IMAGE = "127.0.0.1:1/gitops-test/never:missing"


def condition(obj: Any, kind: str) -> Any:
    return next((c for c in (obj.status.conditions or []) if c.type == kind), None)


def rolled_out(apps: client.AppsV1Api, ns: str, name: str) -> Any:
    """The Deployment once `kubectl rollout status` would call it complete, else None."""
    live = apps.read_namespaced_deployment(name, ns)
    status, want = live.status, live.spec.replicas
    if status is None or (status.observed_generation or 0) < live.metadata.generation:
        return None
    if (status.updated_replicas or 0) < want or (status.replicas or 0) > (
        status.updated_replicas or 0
    ):
        return None
    return live if (status.available_replicas or 0) >= want else None


def test_deployment_status_follows_spec(apps: client.AppsV1Api, kube: Kube) -> None:
    ns = kube.namespace
    made = apps.create_namespaced_deployment(ns, deployment("web", ns, replicas=2))
    assert not (made.status and made.status.ready_replicas)
    ready = kube.wait_for(lambda: rolled_out(apps, ns, "web"), timeout=120)
    assert ready.status.ready_replicas == 2
    assert ready.status.observed_generation == 1
    assert condition(ready, "Available").status == "True"
    assert condition(ready, "Progressing").reason == "NewReplicaSetAvailable"
    apps.patch_namespaced_deployment("web", ns, {"spec": {"replicas": 3}}, _content_type=MERGE)
    scaled = kube.wait_for(lambda: rolled_out(apps, ns, "web"), timeout=120)
    assert scaled.status.ready_replicas == 3
    assert scaled.status.observed_generation == 2


def test_status_lags_until_the_rollout_delay_passes(apps: client.AppsV1Api, kube: Kube) -> None:
    kube.set_rollout_delay(30)
    ns = kube.namespace
    apps.create_namespaced_deployment(ns, deployment("web", ns, replicas=2))
    pending = apps.read_namespaced_deployment("web", ns)
    assert pending.status.observed_generation == 1  # the controller saw it...
    assert not pending.status.ready_replicas  # ...but nothing is ready yet
    assert condition(pending, "Progressing").reason == "ReplicaSetUpdated"
    kube.advance(30)
    assert apps.read_namespaced_deployment("web", ns).status.ready_replicas == 2


def test_a_failed_first_rollout_never_becomes_ready(apps: client.AppsV1Api, kube: Kube) -> None:
    ns = kube.namespace
    if kube.is_standin:
        kube.fail_rollout(ns, "web", deadline=0.5)
    body = deployment("web", ns, image=BROKEN_IMAGE, replicas=2)
    body["spec"]["progressDeadlineSeconds"] = 3
    made = apps.create_namespaced_deployment(ns, body)

    def timed_out() -> Any:
        live = apps.read_namespaced_deployment("web", ns)
        progressing = condition(live, "Progressing") if live.status else None
        return live if progressing and progressing.reason == "ProgressDeadlineExceeded" else None

    failed = kube.wait_for(timed_out, timeout=120)
    assert condition(failed, "Progressing").status == "False"
    assert failed.status.observed_generation == made.metadata.generation
    assert not failed.status.ready_replicas
    assert not failed.status.available_replicas
    assert condition(failed, "Available").status == "False"
    assert rolled_out(apps, ns, "web") is None


def test_a_failed_update_keeps_old_pods_ready_but_is_not_rolled_out(
    apps: client.AppsV1Api, kube: Kube
) -> None:
    ns = kube.namespace
    body = deployment("web", ns, replicas=2)
    body["spec"]["progressDeadlineSeconds"] = 3
    apps.create_namespaced_deployment(ns, body)
    kube.wait_for(lambda: rolled_out(apps, ns, "web"), timeout=120)
    if kube.is_standin:
        kube.fail_rollout(ns, "web", deadline=0.5)
    broken = {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": BROKEN_IMAGE}]}}}
    }
    apps.patch_namespaced_deployment("web", ns, broken)

    def timed_out() -> Any:
        live = apps.read_namespaced_deployment("web", ns)
        progressing = condition(live, "Progressing")
        return live if progressing and progressing.reason == "ProgressDeadlineExceeded" else None

    failed = kube.wait_for(timed_out, timeout=120)
    # readyReplicas alone would lie: the old pods are still ready.
    assert failed.status.ready_replicas == 2
    assert (failed.status.updated_replicas or 0) < 2
    assert failed.status.observed_generation == 2
    assert rolled_out(apps, ns, "web") is None


def test_healing_a_rollout_lets_it_finish(apps: client.AppsV1Api, kube: Kube) -> None:
    ns = kube.namespace
    kube.fail_rollout(ns, "web")
    apps.create_namespaced_deployment(ns, deployment("web", ns, replicas=1))
    kube.advance(5)
    assert rolled_out(apps, ns, "web") is None
    kube.heal_rollout(ns, "web")
    assert rolled_out(apps, ns, "web") is not None


def test_statefulset_revisions_and_readiness(apps: client.AppsV1Api, kube: Kube) -> None:
    ns = kube.namespace
    body: dict[str, Any] = deployment("db", ns, replicas=2)
    body["kind"] = "StatefulSet"
    body["spec"]["serviceName"] = "db"
    apps.create_namespaced_stateful_set(ns, body)

    def ready() -> Any:
        live = apps.read_namespaced_stateful_set("db", ns)
        status = live.status
        done = (
            status
            and status.ready_replicas == 2
            and status.current_revision == status.update_revision
        )
        return live if done and status.observed_generation == live.metadata.generation else None

    live = kube.wait_for(ready, timeout=120)
    assert live.status.update_revision.startswith("db-")


def test_daemonset_becomes_ready_on_every_node(apps: client.AppsV1Api, kube: Kube) -> None:
    ns = kube.namespace
    body: dict[str, Any] = deployment("agent", ns, replicas=None)
    body["kind"] = "DaemonSet"
    apps.create_namespaced_daemon_set(ns, body)

    def ready() -> Any:
        status = apps.read_namespaced_daemon_set("agent", ns).status
        scheduled = status and status.desired_number_scheduled
        return (
            status if scheduled and status.number_ready == status.desired_number_scheduled else None
        )

    status = kube.wait_for(ready, timeout=120)
    assert status.number_ready >= 1


def test_job_completes(api: Any, kube: Kube) -> None:
    batch = client.BatchV1Api(api)
    ns = kube.namespace
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once", "namespace": ns},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "run", "image": "busybox:1.36", "command": ["true"]}],
                }
            },
        },
    }
    made = batch.create_namespaced_job(ns, job)
    assert made.spec.selector.match_labels  # the server picked the selector

    def complete() -> Any:
        status = batch.read_namespaced_job("once", ns).status
        conditions = (status.conditions or []) if status else []
        return (
            status if any(c.type == "Complete" and c.status == "True" for c in conditions) else None
        )

    assert kube.wait_for(complete, timeout=180).succeeded == 1
