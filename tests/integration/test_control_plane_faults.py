"""The CronJob's code when the control plane itself fails: the API server stopped in
the middle of a sync and started again, etcd stopped for a whole run. Real
processes are stopped (by PID) and started again on the same ports and data;
nothing is simulated. The held apply (the fault proxy's gate) makes "in the
middle of a sync" a condition, not a guess about timing."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.git_server import GitHttpServer
from testbed.kube import Kube
from testbed.kube_cluster import ControlPlane
from testbed.registry import RegistryService
from tests.integration.reconcile_support import deployment_image, lease_holder, setup
from tests.integration.sync_support import BIN, INVENTORY, configmap, deployment, get, write

pytestmark = pytest.mark.services


@pytest.fixture
def plane(control_plane: ControlPlane | None) -> Iterator[ControlPlane]:
    """The session's control plane, always left running again after the test."""
    if control_plane is None:
        pytest.skip("stops and restarts the testbed's own control plane processes")
    try:
        yield control_plane
    finally:
        if not control_plane.processes["etcd"].running():
            control_plane.start_etcd()
        if not control_plane.processes["kube-apiserver"].running():
            control_plane.start_apiserver()


def _serving(kube: Kube) -> bool:
    from kubernetes import client

    try:
        client.CoreV1Api(kube.api_client()).read_namespace(kube.namespace)
    except client.ApiException:
        return False
    return True


def test_api_server_stopped_mid_sync_fails_clearly_and_the_next_sync_converges(
    kube: Kube, plane: ControlPlane, tmp_path: Path
) -> None:
    ns = kube.namespace
    write(tmp_path, "a.yaml", configmap("a", ns))
    write(tmp_path, "web.yaml", deployment("web", ns))
    held = kube.hold_next("patch", "deployments", group="apps")
    argv = [str(BIN), "sync", str(tmp_path), "--kubeconfig", str(kube.kubeconfig),
            "--inventory", f"{ns}/{INVENTORY}", "--timeout", "30s"]  # fmt: skip
    run = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert held.reached.wait(120), "the sync never reached its Deployment apply"
    plane.stop_apiserver()
    assert held.gate is not None
    held.gate.set()  # the held apply now meets a stopped server
    _out, err = run.communicate(timeout=180)

    assert run.returncode == 1, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("gitops-action: error: "), err

    plane.start_apiserver()
    again = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    assert again.returncode == 0, again.stderr
    assert get(kube, "apps/v1", "Deployment", "web", ns) is not None
    assert get(kube, "v1", "ConfigMap", "a", ns) is not None


def test_etcd_stopped_for_a_run_fails_it_clearly_and_the_next_run_recovers(
    registry: RegistryService,
    git_server: GitHttpServer,
    kube: Kube,
    plane: ControlPlane,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    s = setup("etcd-down", registry, git_server, kube, git_env, tmp_path)
    plane.stop_etcd()
    failed = s.cli.run("reconcile", check=1, timeout=300)
    assert "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith("gitops-action: error: ")
    assert len(git_server.log(s.name)) == 1  # nothing pushed without the Lease

    plane.start_etcd()
    kube.wait_for(lambda: _serving(kube), timeout=60)  # the apiserver reconnects to etcd
    s.cli.run("reconcile", timeout=300)
    assert deployment_image(kube) == f"{s.image}:v1.1.0"
    assert lease_holder(kube) == ""
