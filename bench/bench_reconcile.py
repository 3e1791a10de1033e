"""`reconcile` against real services: a bump run, then idle runs (DESIGN §6).

Services (started in this process, as the tests start them): Distribution 2.8
with htpasswd, smart-HTTP git with Basic auth, and a real Kubernetes control
plane (testbed/kube_cluster.py, kube-apiserver v1.35.4 with kwok nodes); the
write counts are the API server's own, read from its audit log for the tool's
ServiceAccount.

1. **New tag to bump commit**: a tag is pushed to the registry, then ONE
   `reconcile` run: the time from the tag push to the run's end, by which the
   bump commit is on the remote (and synced).
2. **Idle runs** (`--runs`, nothing new): wall time, peak RSS of the run's
   process tree (`resource.getrusage(RUSAGE_CHILDREN)`, max so far, so measured
   in a fresh child per figure), registry tags requests, git pushes, API write
   calls (by resource).

    .venv/bin/python bench/bench_reconcile.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import GITOPS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testbed.audit import AuditLog  # noqa: E402
from testbed.git_server import GitHttpServer  # noqa: E402
from testbed.gitenv import git_env  # noqa: E402
from testbed.kube import Kube  # noqa: E402
from testbed.kube_cluster import ControlPlane  # noqa: E402
from testbed.kustomize import ENV as KUSTOMIZE_ENV  # noqa: E402
from testbed.kustomize import kustomize_binary  # noqa: E402
from testbed.process import start_with_port_retry  # noqa: E402
from testbed.registry import RegistryService  # noqa: E402
from tests.integration.automate_support import cli_env, seed_files  # noqa: E402
from tests.integration.reconcile_support import INSTALL_RENDER  # noqa: E402

_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:], capture_output=True).returncode\n"
    "w = time.perf_counter() - t\n"
    "print(code, w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def measured(env: dict[str, str]) -> tuple[int, float, float]:
    """(exit code, wall s, peak RSS MB) of one `reconcile`, in a fresh measuring parent."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, GITOPS, "reconcile"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), float(out[1]), int(out[2]) / 1024


def tag_lists(log: Path, repo: str) -> int:
    return len(
        re.findall(rf'"GET /v2/{re.escape(repo)}/tags/list', log.read_text(errors="replace"))
    )


def main() -> None:
    os.environ.setdefault(KUSTOMIZE_ENV, str(kustomize_binary()))  # sync's kustomize
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as name:
        tmp = Path(name)
        base = git_env(tmp / "home")
        registry = start_with_port_retry(lambda: RegistryService(tmp / "registry"))
        git = start_with_port_retry(lambda: GitHttpServer(tmp / "git", base))
        plane = ControlPlane(tmp / "cluster").start()
        (tmp / "kube").mkdir()
        kube = Kube(plane.kubeconfig, tmp / "kube", audit=AuditLog(plane.audit_log),
                    proxy=None)  # fmt: skip
        kube.setup()
        try:
            bench(args.runs, tmp, base, registry, git, kube)
        finally:
            kube.teardown()
            plane.stop()
            git.stop()
            registry.stop()


def bench(
    runs: int,
    tmp: Path,
    base: dict[str, str],
    registry: RegistryService,
    git: GitHttpServer,
    kube: Kube,
) -> None:
    repo = "bench-rec/app"
    registry.push_image(repo, "v1.0.0")
    image = f"{registry.host}/{repo}"
    files = seed_files(image)
    files["cluster/deployment.yaml"] = files["cluster/deployment.yaml"].replace(
        "namespace: default", f"namespace: {kube.namespace}"
    )
    files["cluster/gitops-system/gitops-action.yaml"] = INSTALL_RENDER.read_text()
    git.create_repo("bench-rec", files)
    env = cli_env(
        base,
        cache=tmp / "cache",
        docker_config=registry.write_docker_config(tmp / "docker").parent,
        git_user=git.username,
        git_password=git.password,
        insecure=registry.host,
    )
    env.update(
        KUBECONFIG=str(kube.kubeconfig),
        GITOPS_REPO=git.repo_url("bench-rec", auth=False),
        GITOPS_NAMESPACE=kube.namespace,
        GITOPS_TARGET_NAMESPACE=kube.namespace,
    )
    measured(env)  # first sync of the seed: creates the objects
    log = registry.workdir / "registry.log"

    start = time.perf_counter()
    registry.push_image(repo, "v1.1.0")
    git.reset()
    code, _wall, rss_bump = measured(env)
    to_commit = time.perf_counter() - start
    assert code == 0 and git.counters().pushes == 1

    walls, rss, tags, pushes, writes, lease_writes = [], [], [], [], [], []
    for _ in range(runs):
        git.reset()
        kube.reset_counters()
        before = tag_lists(log, repo)
        code, wall, peak = measured(env)
        assert code == 0
        walls.append(wall)
        rss.append(peak)
        tags.append(tag_lists(log, repo) - before)
        pushes.append(git.counters().pushes)
        writes.append(kube.writes())
        lease_writes.append(kube.writes(resource="leases"))

    print(f"\n## reconcile (1 image, seed repo, {runs} idle runs)")
    print("| measure | value | target |")
    print("|---|---:|---|")
    print(f"| new tag -> bump commit pushed and synced (one run) | {to_commit * 1000:.0f} ms | - |")
    print(f"| peak RSS, bump run | {rss_bump:.1f} MB | < 120 MB |")
    print(f"| idle run wall (median) | {statistics.median(walls) * 1000:.0f} ms | - |")
    print(f"| idle run peak RSS (max) | {max(rss):.1f} MB | < 120 MB |")
    print(f"| tags requests per idle run | {max(tags)} | 1 per image |")
    print(f"| git pushes per idle run | {max(pushes)} | 0 |")
    print(f"| API writes per idle run | {max(writes)} (leases {max(lease_writes)}) | lease only |")


if __name__ == "__main__":
    main()
