"""`sync` of 500 unchanged objects, side by side with `kubectl apply --server-side`
(DESIGN.md §6: sync of unchanged objects makes zero writes).

Both tools apply the same 500 objects (300 ConfigMaps, 100 Services, 100
Deployments; each tool in its own namespace) to one real API server (the
testbed control plane, kube-apiserver v1.35.4, started here), first once to
create them, then `--runs` times unchanged, interleaved. kubectl is built from
the same Kubernetes release (tools/kube). Per run: wall time of the whole
command (process start included), and the write and read calls the API
server's audit log recorded for that tool's user (each tool has a client
certificate of its own). kubectl keeps its discovery cache between runs (its
normal behaviour), so its reads are its steady state.

    .venv/bin/python bench/bench_sync.py [--runs 3] [--objects 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import GITOPS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testbed.audit import AuditLog
from testbed.go_tools import program
from testbed.kube_cluster import ControlPlane
from testbed.kustomize import ENV as KUSTOMIZE_ENV
from testbed.kustomize import kustomize_binary


def configmap(i: int, ns: str) -> str:
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{i}
  namespace: {ns}
  labels: {{app: bench}}
data:
  key: value-{i}
  other: "{i}"
"""


def service(i: int, ns: str) -> str:
    return f"""apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
  namespace: {ns}
spec:
  selector: {{app: app-{i}}}
  ports:
    - name: http
      port: 80
      targetPort: 8080
"""


def deployment(i: int, ns: str) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels: {{app: app-{i}}}
    spec:
      containers:
        - name: app
          image: registry.example/app:v1.{i}.0
          ports:
            - containerPort: 8080
          resources:
            requests: {{cpu: 10m, memory: 32Mi}}
"""


def make_tree(root: Path, ns: str, objects: int) -> None:
    """`objects` manifests in 10 files: 60% ConfigMaps, 20% Services, 20% Deployments."""
    root.mkdir(parents=True)
    (root / "namespace.yaml").write_text(
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"
    )
    kinds = [configmap] * 3 + [service, deployment]
    docs = [kinds[i % 5](i, ns) for i in range(objects - 1)]
    for part in range(10):
        (root / f"part-{part}.yaml").write_text("---\n".join(docs[part::10]))


def run(audit: AuditLog, user: str, argv: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(wall seconds, write calls, read calls) of one command, as the API server logged them."""
    audit.mark()
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}):\n{done.stderr}")
    requests = audit.requests(user)
    return wall, sum(r.is_write for r in requests), sum(r.is_read for r in requests)


def main() -> None:
    os.environ.setdefault(KUSTOMIZE_ENV, str(kustomize_binary()))  # sync's kustomize
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--objects", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plane = ControlPlane(work / "cluster").start()
        try:
            audit = AuditLog(plane.audit_log)
            kubectl = str(program("kube", "kubectl"))
            make_tree(work / "gitops", "bench-gitops", args.objects)
            make_tree(work / "kubectl", "bench-kubectl", args.objects)
            commands: dict[str, tuple[str, list[str]]] = {
                "gitops-action sync": (
                    "bench-gitops",
                    [GITOPS, "sync", str(work / "gitops"), "--timeout", "120s"],
                ),
                "kubectl apply --server-side": (
                    "bench-kubectl",
                    [kubectl, "apply", "--server-side", "-R", "-f", str(work / "kubectl"),
                     "--cache-dir", str(work / "kubectl-cache")],
                ),
            }  # fmt: skip
            envs = {
                user: {**os.environ, "KUBECONFIG": str(plane.user_kubeconfig(user))}
                for user, _ in commands.values()
            }
            for user, argv in commands.values():  # create everything (and warm caches)
                run(audit, user, argv, envs[user])
            samples: dict[str, list[tuple[float, int, int]]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, (user, argv) in commands.items():
                    samples[name].append(run(audit, user, argv, envs[user]))
        finally:
            plane.stop()
    report(samples, args.objects)


def report(samples: dict[str, list[tuple[float, int, int]]], objects: int) -> None:
    base = statistics.median(wall for wall, _, _ in samples["kubectl apply --server-side"])
    print(f"\n## sync of {objects} unchanged objects (target: zero writes)")
    print("| command | median wall ms | write calls | read calls | wall vs kubectl |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in samples.items():
        wall = statistics.median(w for w, _, _ in runs)
        writes = statistics.median(w for _, w, _ in runs)
        reads = statistics.median(r for _, _, r in runs)
        print(f"| {name} | {wall * 1000:.0f} | {writes:.0f} | {reads:.0f} | {wall / base:.2f}x |")


if __name__ == "__main__":
    main()
