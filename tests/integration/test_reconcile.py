"""`gitops-action reconcile` through the real console script: real registry, real git
smart-HTTP server, the API stand-in."""

from __future__ import annotations

import json
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes import client

from testbed.git_server import GitHttpServer
from testbed.kube import Kube
from testbed.registry import RegistryService
from tests.integration.automate_support import CONSOLE, log_records, tag_list_statuses
from tests.integration.reconcile_support import setup

pytestmark = pytest.mark.services


def _status(kube: Kube) -> dict[str, str]:
    core = client.CoreV1Api(kube.api_client())
    return dict(core.read_namespaced_config_map("gitops-action-status", kube.namespace).data)


def _events(kube: Kube) -> list[tuple[str, str, str]]:
    core = client.CoreV1Api(kube.api_client())
    items = core.list_namespaced_event(kube.namespace).items
    return [(e.reason, e.involved_object.kind, e.involved_object.name) for e in items]


def test_new_tag_is_bumped_synced_and_reported_then_an_idle_run_writes_only_the_lease(
    registry: RegistryService,
    git_server: GitHttpServer,
    kube: Kube,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    s = setup("bump", registry, git_server, kube, git_env, tmp_path)
    git_server.reset()

    first = s.cli.run("reconcile", "--output", "json").json()

    assert [(p["phase"], p["result"]) for p in first["phases"]] == [
        ("automate", "ok"),
        ("sync", "ok"),
        ("canary", "ok"),
    ]
    bump = log_records(git_server.repos.path(s.name), git_env)[0]
    assert bump["trailer"] == "automate" and bump["subject"] == f"{s.image}:v1.1.0"
    assert first["phases"][0]["commit"] == bump["sha"] == first["phases"][1]["commit"]
    assert git_server.counters().pushes == 1
    apps = client.AppsV1Api(kube.api_client())
    live = apps.read_namespaced_deployment("demo", kube.namespace)
    assert live.spec.template.spec.containers[0].image == f"{s.image}:v1.1.0"
    # The install render in the tree was left out: no RBAC, no Secret templates applied.
    rbac = client.RbacAuthorizationV1Api(kube.api_client())
    assert not [r for r in rbac.list_cluster_role().items if r.metadata.name.startswith("gitops")]
    status = _status(kube)
    assert status["automate.result"] == "ok" and status["automate.commit"] == bump["sha"]
    record = json.loads(status["status.json"])
    assert record["phases"][0]["counts"] == {"bumped": 1, "held": 0, "commits": 1}
    assert ("ImageBumped", "ConfigMap", "gitops-action-status") in _events(kube)
    lease = client.CoordinationV1Api(kube.api_client()).read_namespaced_lease(
        "gitops-action", kube.namespace
    )
    assert lease.spec.holder_identity == ""  # released at the end

    git_server.reset()
    kube.reset_counters()
    registry_log = registry.workdir / "registry.log"
    before = len(tag_list_statuses(registry_log, s.repo))

    second = s.cli.run("reconcile", "--output", "json").json()

    assert second["statusWritten"] is False and second["events"] == []
    assert second["phases"][0]["counts"] == {"bumped": 0, "held": 0, "commits": 0}
    assert git_server.counters().pushes == 0
    assert tag_list_statuses(registry_log, s.repo)[before:] == [200]
    # The documented idle writes: take the Lease and hand it back. Nothing else.
    assert kube.writes(resource="leases") == 2
    assert kube.writes() == 2
    assert _status(kube) == status


def test_a_held_lease_makes_a_run_do_nothing(
    registry: RegistryService,
    git_server: GitHttpServer,
    kube: Kube,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    s = setup("held", registry, git_server, kube, git_env, tmp_path)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # a MicroTime
    # The dynamic client sends the body as written (the typed one re-formats times).
    leases = kube.dynamic_client().resources.get(api_version="coordination.k8s.io/v1", kind="Lease")
    leases.create(
        namespace=kube.namespace,
        body={
            "metadata": {"name": "gitops-action"},
            "spec": {"holderIdentity": "other-pod_7", "leaseDurationSeconds": 300,
                     "acquireTime": now, "renewTime": now},
        },
    )  # fmt: skip
    git_server.reset()
    kube.reset_counters()

    held = s.cli.run("reconcile")

    assert held.stdout == ""
    assert "another run holds the lease (other-pod_7, until " in held.stderr
    assert git_server.counters().pushes == 0 and git_server.counters().fetches == 0
    assert kube.writes() == 0

    # An expired claim is taken over.
    past = "2020-01-01T00:00:00.000000Z"
    leases.patch(
        name="gitops-action",
        namespace=kube.namespace,
        body={"spec": {"renewTime": past}},
        content_type="application/merge-patch+json",
    )
    taken = s.cli.run("reconcile", "--output", "json").json()
    assert taken["lease"]["verdict"] == "take" and taken["lease"]["holder"] == "other-pod_7"
    assert git_server.counters().pushes == 1
    after = leases.get(name="gitops-action", namespace=kube.namespace)
    assert after.spec.leaseTransitions == 1


def test_registry_failure_still_syncs_and_reports_both(
    registry: RegistryService,
    git_server: GitHttpServer,
    kube: Kube,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    s = setup("fail", registry, git_server, kube, git_env, tmp_path)
    bad = tmp_path / "bad-docker"
    bad.mkdir()
    (bad / "config.json").write_text(
        json.dumps({"auths": {registry.host: {"auth": "d3Jvbmc6d3Jvbmc="}}})  # wrong:wrong
    )
    cli = s.cli.with_env(DOCKER_CONFIG=str(bad))

    result = cli.run("reconcile", "--output", "json", check=1)

    report = result.json()
    phases = {p["phase"]: p for p in report["phases"]}
    assert phases["automate"]["result"] == "failed"
    assert "401" in phases["automate"]["error"] or "auth" in phases["automate"]["error"].lower()
    assert phases["sync"]["result"] == "ok" and phases["sync"]["counts"]["created"] == 2
    assert report["exitCode"] == 1
    assert result.stderr.strip().splitlines()[-1].startswith("gitops-action: error: automate: ")
    apps = client.AppsV1Api(kube.api_client())
    live = apps.read_namespaced_deployment("demo", kube.namespace)
    assert live.spec.template.spec.containers[0].image == f"{s.image}:v1.0.0"
    assert _status(kube)["automate.result"] == "failed"


def test_json_logs_parse_and_hold_no_secret(
    registry: RegistryService,
    git_server: GitHttpServer,
    kube: Kube,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    s = setup("logs", registry, git_server, kube, git_env, tmp_path)

    result = s.cli.run("reconcile", "--log-format", "json")

    lines = result.stderr.strip().splitlines()
    records = [json.loads(line) for line in lines]
    assert {"ts", "level", "phase", "msg", "fields"} <= set(records[0])
    assert {"automate", "sync"} <= {r["phase"] for r in records}
    assert git_server.password not in result.stderr and git_server.password not in result.stdout


def test_loop_runs_until_sigterm_and_exits_zero(
    registry: RegistryService,
    git_server: GitHttpServer,
    kube: Kube,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    s = setup("loop", registry, git_server, kube, git_env, tmp_path)
    process = subprocess.Popen(
        [str(CONSOLE), "reconcile", "--loop", "--interval", "1s", "--output", "json"],
        env=s.cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    reports = [json.loads(process.stdout.readline()) for _ in range(2)]
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert [r["exitCode"] for r in reports] == [0, 0]
    assert reports[0]["phases"][0]["counts"]["bumped"] == 1
    assert reports[1]["phases"][0]["counts"]["bumped"] == 0
    assert "SIGTERM: stopping after this run" in err and "stopped after" in err
