"""`reconcile` never holds the Lease past its own deadline (issue 14, item 3).

One ImageRepository points at a registry that trickles a byte a second: the
automate phase is stuck on it (its request deadline is set long here). The
run's deadline is 6 s and its Lease claims 5 s: the Lease must lapse by the
deadline while the stuck run is still alive, so the next CronJob run can work.
"""

from __future__ import annotations

import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kubernetes import client

from testbed.git_server import GitHttpServer
from testbed.hostile import hostile_server, trickle
from testbed.kube import Kube
from testbed.registry import RegistryService
from tests.integration.automate_support import CONSOLE
from tests.integration.reconcile_support import lease_holder, leases, setup

STUCK = """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: stuck
  namespace: flux-system
spec:
  image: {image}
  interval: 1m
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: stuck
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: stuck
  policy:
    semver:
      range: ">=1.0.0"
"""


def _lapsed(kube: Kube) -> bool:
    try:
        lease = leases(kube).read_namespaced_lease("gitops-action", kube.namespace)
    except client.ApiException:
        return False
    spec = lease.spec
    if not spec.holder_identity or spec.renew_time is None:
        return True
    until = spec.renew_time + timedelta(seconds=spec.lease_duration_seconds or 0)
    return datetime.now(UTC) > until


def test_a_stuck_run_lets_its_lease_lapse_by_its_deadline(
    registry: RegistryService,
    git_server: GitHttpServer,
    kube: Kube,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    stop = threading.Event()
    slow = trickle(200, "application/json", b" ", every=1.0, limit=90, stop=stop,
                   prefix=b'{"tags": ["v1.0.0"]', suffix=b"}")  # fmt: skip
    with hostile_server(slow, "stuck-registry") as (port, seen):
        ctx = setup("deadline", registry, git_server, kube, git_env, tmp_path)
        git_server.seed(ctx.name, {"cluster/stuck.yaml": STUCK.format(
            image=f"127.0.0.1:{port}/stuck/app")})  # fmt: skip
        env = {
            **ctx.cli.env,
            "GITOPS_INSECURE_REGISTRIES": f"{registry.host} 127.0.0.1:{port}",
            "GITOPS_REGISTRY_TIMEOUT": "80",
            "GITOPS_DEADLINE": "6s",
            "GITOPS_LEASE_DURATION": "5",
        }
        run = subprocess.Popen([str(CONSOLE), "reconcile"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            assert kube.wait_for(lambda: bool(seen.requests), 30), "the stuck registry was asked"
            assert lease_holder(kube), "the run took the Lease"
            lapsed = kube.wait_for(lambda: _lapsed(kube), 15)
            still_running = run.poll() is None
        finally:
            stop.set()
            run.kill()
            _out, err = run.communicate(timeout=30)
    assert still_running, err[-2000:]
    assert lapsed, "the stuck run kept the Lease past its 6 s deadline"
