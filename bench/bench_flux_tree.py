"""`sync` of a bootstrapped Flux repository (all its Kustomizations) on the real control
plane, cold and idle, and what one kustomize build per Kustomization costs.

The repository is the acceptance tests' (tests/integration/test_sync_flux_tree.py:
root `flux-system`, `infrastructure`, `apps` dependsOn infrastructure, overlays
with patches, images, components, a generator, postBuild). Side by side, in one
run, interleaved:

- **sync cold**: a fresh namespace each run, everything created (and waited for);
- **sync idle**: the same tree synced again, nothing changed;
- **kubectl idle**: the baseline a script would run for the same tree: one
  `kustomize build` per Kustomization path piped to `kubectl apply --server-side`
  with the variables replaced in Python (no dependsOn order, no prune, no health, no
  inventory: less than sync does);
- **kustomize builds**: the three `kustomize build`s alone.

    .venv/bin/python bench/bench_flux_tree.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import GITOPS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testbed.kube_cluster import ControlPlane
from testbed.kustomize import kustomize_binary
from tests.integration.test_sync_flux_tree import bootstrap_repo

PATHS = ("clusters/production", "infrastructure", "apps/production")
VARIABLES = {
    "${cluster_name}": "production",
    "${domain}": "example.com",
    "${token_name}": "t",
    "${region:=eu-west-1}": "eu-west-1",
}


def kubectl() -> str:
    out = subprocess.run(
        ["bash", "tools/build.sh", "--path", "kube"], capture_output=True, text=True, check=True
    )
    return str(Path(out.stdout.strip()) / "kubectl")


def run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.chdir(Path(__file__).resolve().parents[1])
    binary = str(kustomize_binary())
    env = {**os.environ, "GITOPS_KUSTOMIZE": binary}
    work = Path(tempfile.mkdtemp(prefix="bench-flux-tree-"))
    plane = ControlPlane(work / "plane").start()
    kube = str(plane.kubeconfig)
    ctl = kubectl()
    try:
        samples: dict[str, list[float]] = {
            "sync cold": [],
            "sync idle": [],
            "kubectl idle": [],
            "kustomize builds": [],
        }
        writes: dict[str, int] = {}

        def namespace() -> tuple[str, Path]:
            ns = f"bench-{uuid.uuid4().hex[:8]}"
            run([ctl, "--kubeconfig", kube, "create", "namespace", ns], env)
            run(
                [
                    ctl,
                    "--kubeconfig",
                    kube,
                    "-n",
                    ns,
                    "create",
                    "secret",
                    "generic",
                    "cluster-secrets",
                    "--from-literal=token_name=t",
                ],
                env,
            )
            return ns, bootstrap_repo(work / ns, ns)

        def sync(ns: str, repo: Path) -> dict[str, int]:
            out = run(
                [
                    GITOPS,
                    "sync",
                    str(repo),
                    "--kubeconfig",
                    kube,
                    "--inventory",
                    f"{ns}/inventory",
                    "--output",
                    "json",
                ],
                env,
            )
            counts: dict[str, int] = json.loads(out)["counts"]
            return counts

        idle_ns, idle_repo = namespace()
        sync(idle_ns, idle_repo)
        base_ns, base_repo = namespace()
        root = base_repo.parent.parent
        # kustomize alone cannot build a path without a kustomization (sync generates one)
        (root / "infrastructure" / "kustomization.yaml").write_text(
            "resources: [controller.yaml, settings.yaml]\n"
        )

        def baseline() -> None:
            for rel in PATHS[1:]:
                rendered = run([binary, "build", str(root / rel)], env)
                rendered = rendered.replace("$${", "\0")  # what `flux envsubst` would do
                for var, value in VARIABLES.items():
                    rendered = rendered.replace(var, value)
                rendered = rendered.replace("\0", "${")
                run(
                    [ctl, "--kubeconfig", kube, "-n", base_ns, "apply", "--server-side", "-f", "-"],
                    env,
                    stdin=rendered,
                )

        def builds() -> None:
            for rel in PATHS[1:]:
                run([binary, "build", str(root / rel)], env)
            run([binary, "build", str(idle_repo / "flux-system")], env)

        baseline()

        def written(counts: dict[str, int]) -> int:
            return counts.get("created", 0) + counts.get("configured", 0)

        for _ in range(args.runs):
            ns, repo = namespace()
            start = time.perf_counter()
            writes["cold"] = written(sync(ns, repo))
            samples["sync cold"].append(time.perf_counter() - start)
            start = time.perf_counter()
            writes["idle"] = written(sync(idle_ns, idle_repo))
            samples["sync idle"].append(time.perf_counter() - start)
            samples["kubectl idle"].append(timed(baseline))
            samples["kustomize builds"].append(timed(builds))
        medians = {name: statistics.median(values) for name, values in samples.items()}
        base = medians["kubectl idle"]
        print(f"\n## sync of the Flux test repository (3 Kustomizations), {args.runs} runs")
        print("| command | median ms | ratio vs kubectl idle |")
        print("|---|---:|---:|")
        for name, value in medians.items():
            print(f"| {name} | {value * 1000:.0f} | {value / base:.2f}x |")
        print(f"\nobject writes: cold {writes.get('cold')}, idle {writes.get('idle')}")
        share = medians["kustomize builds"] / medians["sync idle"]
        print(
            f"kustomize builds are {share:.0%} of an idle sync "
            f"({medians['kustomize builds'] / 3 * 1000:.0f} ms per Kustomization)"
        )
    finally:
        plane.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
