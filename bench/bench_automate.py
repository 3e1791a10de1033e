"""`automate` and `scan` against real services: an idle run, 50 policies, 10,000 tags.

Services (started in this process, as the tests start them): Distribution 2.8
with htpasswd (`docker-registry`), smart-HTTP git with Basic auth
(`git http-backend`), and the paging tags/list server.

1. **Idle run** (DESIGN §6: one tags request per image, zero pushes): the seed
   tutorial's repo, already up to date, `automate` run `--runs` times with its
   cache; side by side with `git fetch` in a clone (what any git-based
   automation must at least do). Per run: wall time, registry requests (the
   report's count and the registry's own log), git fetches and pushes (the
   server's counters), peak RSS of the process tree.
2. **50 policies**: 50 ImageRepositories/ImagePolicies/marked Deployments, a
   new tag for each: one run that bumps all 50 (one commit), then an idle run.
3. **10,000 tags** in one repository on the paging registry (1,000 per page):
   `scan` (list + select + read markers), side by side with `policy select`
   over the same tags from stdin.

    .venv/bin/python bench/bench_automate.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import GITOPS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testbed.git_server import GitHttpServer  # noqa: E402
from testbed.gitenv import git_env, run_git  # noqa: E402
from testbed.paging_registry import PagingRegistry  # noqa: E402
from testbed.process import start_with_port_retry  # noqa: E402
from testbed.registry import RegistryService  # noqa: E402
from tests.integration.automate_support import seed_files  # noqa: E402


def run(argv: list[str], env: dict[str, str], stdin: str = "") -> tuple[float, str, int]:
    """(wall seconds, stdout, peak RSS in MiB of the process tree) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[:2]} exited {done.returncode}: {done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, done.stdout, max(peak, before) // 1024


def tag_lists(log: Path, repo: str) -> int:
    pattern = re.compile(rf'"GET /v2/{re.escape(repo)}/tags/list[^"]*" 200 ')
    return len(pattern.findall(log.read_text(errors="replace")))


def environment(
    base: dict[str, str], tmp: Path, registry: RegistryService, git: GitHttpServer, *insecure: str
) -> dict[str, str]:
    return {
        **base,
        "GITOPS_CACHE_DIR": str(tmp / "cache"),
        "DOCKER_CONFIG": str(registry.write_docker_config(tmp / "docker").parent),
        "GITOPS_GIT_USERNAME": git.username,
        "GITOPS_GIT_PASSWORD": git.password,
        "GITOPS_INSECURE_REGISTRIES": " ".join(insecure),
    }


def idle(
    runs: int, tmp: Path, base: dict[str, str], registry: RegistryService, git: GitHttpServer
) -> None:
    repo = "bench-idle/app"
    for tag in ("v1.0.0", "v1.1.0"):
        registry.push_image(repo, tag)
    git.create_repo("bench-idle", seed_files(f"{registry.host}/{repo}"))
    env = environment(base, tmp / "idle", registry, git, registry.host)
    url = git.repo_url("bench-idle", auth=False)
    run([GITOPS, "automate", "--repo", url], env)  # the bump, and the cache
    clone = tmp / "idle-clone"
    run_git("clone", "-q", git.repo_url("bench-idle"), str(clone), env=base)
    log = registry.workdir / "registry.log"
    rows = []
    for _ in range(runs):
        git.reset()
        lists = tag_lists(log, repo)
        seconds, out, rss = run([GITOPS, "automate", "--repo", url, "--output", "json"], env)
        report = json.loads(out)
        counters = git.counters()
        fetch_s, _, _fetch_rss = run(["git", "-C", str(clone), "fetch", "-q"], base)
        rows.append(
            (
                seconds,
                report["registryRequests"],
                tag_lists(log, repo) - lists,
                counters.fetches,
                counters.pushes,
                rss,
                fetch_s,
            )
        )
    auto = statistics.median(r[0] for r in rows)
    fetch = statistics.median(r[6] for r in rows)
    print(
        "\n## Idle run: seed tutorial repo, 1 policy, nothing new (target: 1 tags request per "
        "image, 0 pushes, peak RSS < 120 MB)"
    )
    print(
        "| command | median ms | ratio vs git fetch | registry requests | tags/list 200s "
        "(registry log) | git fetches | git pushes | peak RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| git fetch (clone up to date) | {fetch * 1000:.0f} | 1.00x | 0 | 0 | 1 | 0 | - |")
    last = rows[-1]
    print(
        f"| gitops-action automate | {auto * 1000:.0f} | {auto / fetch:.2f}x | {last[1]} | "
        f"{last[2]} | {last[3]} | {last[4]} | {max(r[5] for r in rows)} |"
    )


MANY_REPO = """apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: app{i}
  namespace: flux-system
spec:
  image: {image}
  interval: 1m
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: app{i}
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: app{i}
  policy:
    semver:
      range: ^v1.0.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app{i}
  namespace: default
spec:
  template:
    spec:
      containers:
        - name: app
          image: {image}:v1.0.0 # {{"$imagepolicy": "flux-system:app{i}"}}
"""


def many(
    tmp: Path, base: dict[str, str], registry: RegistryService, git: GitHttpServer, count: int = 50
) -> None:
    files = {"cluster/demo-automation.yaml": (ROOT / "cluster/demo-automation.yaml").read_text()}
    for i in range(count):
        repo = f"bench-many/app{i}"
        registry.push_image(repo, "v1.0.0")
        registry.push_image(repo, "v1.1.0")
        files[f"cluster/app{i}.yaml"] = MANY_REPO.format(i=i, image=f"{registry.host}/{repo}")
    git.create_repo("bench-many", files)
    env = environment(base, tmp / "many", registry, git, registry.host)
    url = git.repo_url("bench-many", auth=False)
    git.reset()
    bump_s, out, bump_rss = run([GITOPS, "automate", "--repo", url, "--output", "json"], env)
    bump = json.loads(out)
    bump_counters = git.counters()
    git.reset()
    idle_s, out, idle_rss = run([GITOPS, "automate", "--repo", url, "--output", "json"], env)
    idle_report = json.loads(out)
    idle_counters = git.counters()
    git.reset()
    free_s, out, free_rss = run(
        [GITOPS, "automate", "--repo", url, "--output", "json", "--registry-rate", "0"], env
    )
    free = json.loads(out)
    free_counters = git.counters()
    print(f"\n## {count} policies, {count} images on one registry")
    print(
        "| run | wall ms | markers changed | commits | registry requests | git fetches | "
        "git pushes | peak RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| all {count} bumped | {bump_s * 1000:.0f} | {len(bump['changes'])} | "
        f"{len(bump['commits'])} | {bump['registryRequests']} | {bump_counters.fetches} | "
        f"{bump_counters.pushes} | {bump_rss} |"
    )
    print(
        f"| idle | {idle_s * 1000:.0f} | {len(idle_report['changes'])} | "
        f"{len(idle_report['commits'])} | {idle_report['registryRequests']} | "
        f"{idle_counters.fetches} | {idle_counters.pushes} | {idle_rss} |"
    )
    print(
        f"| idle, --registry-rate 0 (no client-side limit) | {free_s * 1000:.0f} | "
        f"{len(free['changes'])} | {len(free['commits'])} | {free['registryRequests']} | "
        f"{free_counters.fetches} | {free_counters.pushes} | {free_rss} |"
    )


def big(
    runs: int,
    tmp: Path,
    base: dict[str, str],
    paging: PagingRegistry,
    registry: RegistryService,
    git: GitHttpServer,
) -> None:
    tags = [f"v1.{minor}.{patch}" for minor in range(100) for patch in range(95)]
    tags += [f"main-{i:05d}" for i in range(500)]  # 10,000 in all, 500 not semver
    paging.set_tags("bench/big", tags)
    paging.default_page_size = 1000
    image = f"{paging.host}/bench/big"
    checkout = tmp / "big"
    for name, text in seed_files(image).items():
        path = checkout / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    env = environment(base, tmp / "big-env", registry, git, paging.host)
    stdin = "\n".join(tags) + "\n"
    scan_rows, select_rows = [], []
    for _ in range(runs):
        before = paging.request_count
        seconds, out, rss = run([GITOPS, "scan", str(checkout), "--output", "json"], env)
        record = json.loads(out)[0]
        scan_rows.append((seconds, paging.request_count - before, record["selected"], rss))
        select_s, selected, _ = run([GITOPS, "policy", "select", "--semver", "^v1.0.0"], env, stdin)
        select_rows.append((select_s, selected.strip()))
    scan = statistics.median(r[0] for r in scan_rows)
    select = statistics.median(r[0] for r in select_rows)
    print(f"\n## 10,000 tags in one repository (paging registry, 1,000 per page), {runs} runs")
    print("| command | median ms | ratio vs policy select | requests | selected | peak RSS MiB |")
    print("|---|---:|---:|---:|---|---:|")
    print(
        f"| policy select --semver ^v1.0.0 (tags on stdin) | {select * 1000:.0f} | 1.00x | 0 | "
        f"{select_rows[-1][1]} | - |"
    )
    print(
        f"| gitops-action scan (list 10 pages + select + markers) | {scan * 1000:.0f} | "
        f"{scan / select:.2f}x | {scan_rows[-1][1]} | {scan_rows[-1][2]} | "
        f"{max(r[3] for r in scan_rows)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-automate-") as name:
        tmp = Path(name)
        base = git_env(tmp / "home")
        registry = start_with_port_retry(lambda: RegistryService(tmp / "registry"))
        git = start_with_port_retry(lambda: GitHttpServer(tmp / "git", base))
        paging = PagingRegistry()
        paging.start()
        try:
            idle(args.runs, tmp, base, registry, git)
            many(tmp, base, registry, git)
            big(args.runs, tmp, base, paging, registry, git)
        finally:
            paging.stop()
            git.stop()
            registry.stop()


if __name__ == "__main__":
    main()
