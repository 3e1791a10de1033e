"""Fixtures for the real Kubernetes control plane (testbed/kube_cluster.py).

`control_plane` starts etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok once per session (about 10 s once the binaries are
built) and stops them by PID. `kube` is what tests use: a fresh namespace, the
tool's own ServiceAccount identity and kubeconfig, the server's request counts
and the fault proxy (testbed/kube.py). With GITOPS_TEST_KUBECONFIG set, `kube`
works on that cluster instead and no control plane is started.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.audit import AuditLog
from testbed.fault_proxy import FaultProxy
from testbed.kube import Kube
from testbed.kube_cluster import ControlPlane

REAL_CLUSTER_ENV = "GITOPS_TEST_KUBECONFIG"


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane | None]:
    """The session's control plane (None when GITOPS_TEST_KUBECONFIG names another cluster)."""
    if os.environ.get(REAL_CLUSTER_ENV):
        yield None
        return
    plane = ControlPlane(tmp_path_factory.mktemp("control-plane")).start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def fault_proxy(control_plane: ControlPlane | None) -> Iterator[FaultProxy | None]:
    """The HTTPS fault proxy in front of the session's apiserver."""
    if control_plane is None:
        yield None
        return
    serving = control_plane.pki.issue(
        "fault-proxy", "fault-proxy", server=True, hosts=("127.0.0.1",)
    )
    proxy = FaultProxy(control_plane.port, serving, str(control_plane.pki.ca.cert)).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def kube(
    control_plane: ControlPlane | None, fault_proxy: FaultProxy | None, tmp_path: Path
) -> Iterator[Kube]:
    """A namespace and the tool's identity on the real cluster, for one test."""
    if control_plane is None:
        handle = Kube(Path(os.environ[REAL_CLUSTER_ENV]), tmp_path, audit=None, proxy=None)
    else:
        handle = Kube(
            control_plane.kubeconfig,
            tmp_path,
            audit=AuditLog(control_plane.audit_log),
            proxy=fault_proxy,
        )
    handle.setup()
    try:
        yield handle
    finally:
        handle.teardown()
