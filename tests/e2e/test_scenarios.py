"""The seed's scenarios end to end, Given/When/Then in the test names.

CI half: `gitops-action ci run` with the real dockerd and the real registry.
CD half: one CronJob run after another (`reconcile_once`, tests/e2e/support.py)
against the real smart-HTTP git server (Basic auth), the real registry, the
real Prometheus scraping the test exporter, and the Kubernetes API stand-in.
Canary intervals are a second, so runs a second apart stand for a CronJob.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from testbed.dockerd import DockerEngine
from testbed.gitenv import run_git
from testbed.kube import Kube
from testbed.metrics_exporter import MetricsExporter
from testbed.prometheus import PrometheusService
from testbed.registry import RegistryService
from tests.e2e.support import (
    APP,
    HAS_RECONCILE,
    World,
    reconcile_ok,
    reconcile_until,
    start_canary_traffic,
)
from tests.integration.automate_support import human_commit
from tests.integration.test_ci_run import ci_run, credentials
from tests.integration.test_holds import HUMAN

pytestmark = pytest.mark.services

SHA_TAG = "sha-89abcde"  # testbed.actionrunner.scenario.SHA, the commit CI builds


def _writes(kube: Kube, **filters: str) -> int | None:
    """API write calls since the last reset, from the API server's audit log (None on a
    cluster named by GITOPS_TEST_KUBECONFIG: no audit log of ours there)."""
    return kube.writes(**filters) if kube.counts_requests else None


def _reset(kube: Kube) -> None:
    if kube.counts_requests:
        kube.reset_counters()


def test_given_an_app_when_a_developer_pushes_a_release_with_passing_tests_then_the_image_is_built_bumped_applied_and_the_canary_promoted(  # noqa: E501
    app_world: Callable[..., World],
    tmp_path: Path,
    registry: RegistryService,
    dockerd: DockerEngine,
    prometheus: PrometheusService,
    metrics_exporter: MetricsExporter,
) -> None:
    world = app_world(canary=True)
    start_canary_traffic(prometheus, metrics_exporter, error_rate=0.0)
    reconcile_ok(world)
    assert world.canary_phase() == "Initialized"
    assert world.cluster_image(f"{APP}-primary") == f"{world.image}:v1.0.0"
    seed = world.head()

    # CI: a release tag with passing tests builds and pushes the image.
    ran = tmp_path / "tests-ran"
    ci = ci_run(
        tmp_path,
        image=world.image,
        docker_host=dockerd.docker_host,
        ref="refs/tags/v1.1.0",
        extra_env={**credentials(registry), "GITOPS_TEST_COMMAND": f"touch {ran}"},
    )
    assert ci.code == 0, ci.stderr
    assert ran.exists() and ci.outputs["test-outcome"] == "success"
    assert registry.list_tags(world.repo) == ["latest", SHA_TAG, "v1.0.0", "v1.1.0"]
    assert registry.manifest_digest(world.repo, "v1.1.0") == ci.outputs["digest"]

    # CD: runs until the canary analysis is over.
    runs = reconcile_until(world, lambda: world.canary_phase() in ("Succeeded", "Failed"))
    assert world.canary_phase() == "Succeeded", runs[-1].describe()
    (check,) = world.canary_checks()  # analysed over the real Prometheus, not skipped
    assert check["name"] == "request-success-rate" and check["ok"] and check["value"] == 100
    log = world.log()
    assert [c["trailer"] for c in log] == ["automate", ""]  # one bump on the seed, no rollback
    assert log[1]["sha"] == seed
    assert log[0]["subject"] == f"{world.image}:v1.1.0"
    assert world.marker_image() == f"{world.image}:v1.1.0"
    assert world.exclusions() == []
    assert world.cluster_image(f"{APP}-primary") == f"{world.image}:v1.1.0"
    assert world.cluster_image(APP) == f"{world.image}:v1.1.0"
    assert world.deployment(APP).spec.replicas == 0  # the canary pods are gone after promotion
    primary = world.kube.wait_for(lambda: world.deployment(f"{APP}-primary").status.ready_replicas)
    assert primary >= 1
    if HAS_RECONCILE:  # reconcile's own Event for the promotion, on the target Deployment
        events = world.core.list_namespaced_event(world.kube.namespace).items
        promoted = [e for e in events if e.reason == "CanaryPromoted"]
        assert len(promoted) == 1, [(e.reason, e.message) for e in events]
        assert promoted[0].involved_object.name == APP


def test_given_an_app_when_a_developer_pushes_commits_with_failing_tests_then_no_image_is_built_and_nothing_changes(  # noqa: E501
    app_world: Callable[..., World],
    tmp_path: Path,
    kube: Kube,
    registry: RegistryService,
    dockerd: DockerEngine,
) -> None:
    world = app_world(canary=True)
    reconcile_ok(world)
    _reset(kube)
    world.git_server.reset()
    reconcile_ok(world)
    idle_writes = _writes(kube)
    assert world.git_server.counters().pushes == 0
    head = world.head()

    # A release tag, so that an image built despite the failure would be selected.
    ci = ci_run(
        tmp_path,
        image=world.image,
        docker_host=dockerd.docker_host,
        ref="refs/tags/v1.1.0",
        extra_env={**credentials(registry), "GITOPS_TEST_COMMAND": "exit 3"},
    )
    assert ci.code == 1, ci.stderr
    assert ci.outputs["test-outcome"] == "failure" and ci.outputs["digest"] == ""
    assert registry.list_tags(world.repo) == ["v1.0.0"]
    with dockerd.client() as engine:
        assert engine.images.list(name=world.image) == []

    _reset(kube)
    world.git_server.reset()
    reconcile_ok(world)
    assert world.head() == head and len(world.log()) == 1
    assert world.git_server.counters().pushes == 0
    assert _writes(kube) == idle_writes
    assert _writes(kube, resource="deployments") in (0, None)
    assert world.marker_image() == f"{world.image}:v1.0.0"
    assert world.cluster_image(APP) == f"{world.image}:v1.0.0"
    assert world.cluster_image(f"{APP}-primary") == f"{world.image}:v1.0.0"
    assert world.canary_phase() == "Initialized"


def test_given_a_bad_canary_when_it_is_analysed_then_it_is_rolled_back_and_git_holds_the_rollback_with_an_exclusion(  # noqa: E501
    app_world: Callable[..., World],
    registry: RegistryService,
    prometheus: PrometheusService,
    metrics_exporter: MetricsExporter,
) -> None:
    world = app_world(canary=True)
    start_canary_traffic(prometheus, metrics_exporter, error_rate=0.1)
    reconcile_ok(world)
    assert world.canary_phase() == "Initialized"
    registry.push_image(world.repo, "v1.1.0")  # what CI pushes for a release (scenario 1)

    runs = reconcile_until(
        world, lambda: world.canary_phase() in ("Succeeded", "Failed"), codes=(0, 1)
    )
    assert world.canary_phase() == "Failed", runs[-1].describe()
    assert runs[-1].code == 1  # a rolled-back canary fails the run
    (check,) = world.canary_checks()
    assert not check["ok"] and 80 < check["value"] < 97  # 10 % of the canary's requests fail
    log = world.log()
    assert [c["trailer"] for c in log] == ["rollback", "automate", ""]
    assert log[0]["subject"] == f"Roll back canary {world.kube.namespace}/{APP}"
    assert log[1]["subject"] == f"{world.image}:v1.1.0"
    assert world.marker_image() == f"{world.image}:v1.0.0"
    assert world.exclusions() == ["^.*\\.sig$", "^v1\\.1\\.0$"]
    hold = f"# gitops-action hold: v1.1.0 held by canary {world.kube.namespace}/{APP}"
    assert hold in world.read("cluster/app-registry.yaml")
    assert world.cluster_image(f"{APP}-primary") == f"{world.image}:v1.0.0"
    assert world.deployment(APP).spec.replicas == 0

    # The next run applies what git now says and brings nothing back.
    head = world.head()
    reconcile_ok(world)
    assert world.head() == head
    assert world.cluster_image(APP) == f"{world.image}:v1.0.0"
    assert world.cluster_image(f"{APP}-primary") == f"{world.image}:v1.0.0"
    assert world.canary_phase() == "Failed"


def test_given_a_bump_when_a_human_reverts_it_then_the_next_run_holds_the_policy_and_does_not_rebump(  # noqa: E501
    app_world: Callable[..., World], registry: RegistryService, tmp_path: Path
) -> None:
    world = app_world(canary=False)
    reconcile_ok(world)
    registry.push_image(world.repo, "v1.1.0")
    reconcile_ok(world)
    bump = world.log()[0]
    assert bump["trailer"] == "automate" and bump["subject"] == f"{world.image}:v1.1.0"
    assert world.cluster_image(APP) == f"{world.image}:v1.1.0"

    human = {**world.git_env, **HUMAN}
    work = tmp_path / "human"
    run_git("clone", "-q", str(world.bare), str(work), env=human)
    run_git("revert", "--no-edit", bump["sha"], cwd=work, env=human)
    run_git("push", "-q", "origin", "HEAD:main", cwd=work, env=human)
    revert = run_git("rev-parse", "HEAD", cwd=work, env=human).stdout.strip()

    reconcile_ok(world)
    log = world.log()
    assert [c["trailer"] for c in log] == ["hold", "", "automate", ""]
    assert log[0]["subject"] == "Hold flux-system:app off v1.1.0 (reverted to v1.0.0)"
    assert log[1]["sha"] == revert
    assert world.exclusions() == ["^.*\\.sig$", "^v1\\.1\\.0$"]
    assert world.marker_image() == f"{world.image}:v1.0.0"
    assert world.cluster_image(APP) == f"{world.image}:v1.0.0"

    world.git_server.reset()
    reconcile_ok(world)
    assert world.head() == log[0]["sha"]
    assert world.git_server.counters().pushes == 0
    assert world.cluster_image(APP) == f"{world.image}:v1.0.0"


def test_given_the_cluster_when_replicas_are_edited_in_git_then_the_cluster_follows(
    app_world: Callable[..., World], kube: Kube, tmp_path: Path
) -> None:
    world = app_world(canary=False)
    reconcile_ok(world)
    assert world.deployment(APP).spec.replicas == 2
    manifest = world.read("cluster/deployment.yaml")
    assert manifest.count("replicas: 2") == 1
    edited = human_commit(
        world.bare,
        world.git_env,
        tmp_path / "human",
        {"cluster/deployment.yaml": manifest.replace("replicas: 2", "replicas: 3")},
        "Scale demo to 3",
    )

    _reset(kube)
    reconcile_ok(world)
    assert world.head() == edited  # no bot commit: nothing to automate
    assert world.deployment(APP).spec.replicas == 3
    ready = kube.wait_for(lambda: world.deployment(APP).status.ready_replicas == 3)
    assert ready
    assert world.cluster_image(APP) == f"{world.image}:v1.0.0"
    assert _writes(kube, resource="deployments", name=APP) in (1, None)
    assert _writes(kube, resource="services") in (0, None)
