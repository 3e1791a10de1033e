"""Set-up for the reconcile tests: the seed config repo, its registry images, the CLI env."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client

from testbed.git_server import GitHttpServer
from testbed.gitenv import run_git
from testbed.kube import Kube
from testbed.registry import RegistryService
from tests.integration.automate_support import ROOT, Cli, cli_env, log_records, seed_files

HELD = "another run holds the lease ("
MARKER = ' # {"$imagepolicy": "flux-system:app"}'

INSTALL_RENDER = ROOT / "cluster" / "gitops-system" / "gitops-action.yaml"


@dataclass
class Setup:
    cli: Cli
    repo: str  # registry repository
    image: str
    name: str  # git repository
    url: str


def setup(
    name: str,
    registry: RegistryService,
    git_server: GitHttpServer,
    kube: Kube,
    git_env: dict[str, str],
    tmp_path: Path,
    tags: tuple[str, ...] = ("v1.1.0",),
) -> Setup:
    repo = f"rec-{name}/app"
    for tag in ("v1.0.0", *tags):
        registry.push_image(repo, tag)
    image = f"{registry.host}/{repo}"
    files = seed_files(image)
    files["cluster/deployment.yaml"] = files["cluster/deployment.yaml"].replace(
        "namespace: default", f"namespace: {kube.namespace}"
    )
    # The checked-in install render sits in the synced tree, as in this repo: never applied.
    files["cluster/gitops-system/gitops-action.yaml"] = INSTALL_RENDER.read_text()
    git_server.create_repo(f"rec-{name}", files)
    url = git_server.repo_url(f"rec-{name}", auth=False)
    env = cli_env(
        git_env,
        cache=tmp_path / "cache",
        docker_config=registry.write_docker_config(tmp_path / "docker").parent,
        git_user=git_server.username,
        git_password=git_server.password,
        insecure=registry.host,
    )
    env.update(
        {
            "KUBECONFIG": str(kube.kubeconfig),
            "GITOPS_REPO": url,
            "GITOPS_NAMESPACE": kube.namespace,
            "GITOPS_TARGET_NAMESPACE": kube.namespace,
            "GITOPS_SYNC_TIMEOUT": "20s",
        }
    )
    return Setup(Cli(env), repo, image, f"rec-{name}", url)


def leases(kube: Kube) -> client.CoordinationV1Api:
    return client.CoordinationV1Api(kube.api_client())


def lease_holder(kube: Kube) -> str:
    try:
        lease = leases(kube).read_namespaced_lease("gitops-action", kube.namespace)
    except client.ApiException as error:
        if error.status == 404:
            return ""
        raise
    return str(lease.spec.holder_identity or "")


def wait_for_holder(kube: Kube, holder: str) -> None:
    assert kube.wait_for(lambda: lease_holder(kube) == holder, 60), holder


def deployment_image(kube: Kube) -> str:
    apps = client.AppsV1Api(kube.api_client())
    live = apps.read_namespaced_deployment("demo", kube.namespace)
    return str(live.spec.template.spec.containers[0].image)


def marker_image(git_server: GitHttpServer, name: str) -> str:
    text = git_server.repos.read_file(name, "cluster/deployment.yaml")
    line = next(line for line in text.splitlines() if line.endswith(MARKER))
    return line.removesuffix(MARKER).split("image:", 1)[1].strip()


def until_idle(cli: Cli, *, deadline: float) -> list[dict[str, Any]]:
    """Run reconcile to completion until a run that acted bumped nothing; the reports."""
    reports: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        result = cli.run("reconcile", "--output", "json")
        report = result.json()
        reports.append(report)
        if not report["phases"]:  # a dead run's claim has not lapsed yet
            assert HELD in result.stderr
            time.sleep(0.5)
            continue
        assert report["exitCode"] == 0, result.stderr
        if report["phases"][0]["counts"]["commits"] == 0:
            return reports
    raise AssertionError(f"reconcile did not become idle: {reports}")


def assert_converged(
    s: Setup,
    git_server: GitHttpServer,
    kube: Kube,
    git_env: dict[str, str],
    *,
    heads: list[str],
    humans: list[str],
    newest: str,
    cache: Path,
) -> None:
    """What DESIGN.md section 4 promises after any kill: every human commit once, one
    bump per selected tag and each moving forward, a linear history in which every
    head the remote ever had survives (never forced), marker = newest allowed tag =
    the cluster's image, the Lease released, no git lock left in the cache."""
    bare = git_server.repos.path(s.name)
    records = log_records(bare, git_env)
    subjects = [r["subject"] for r in records]
    for message in humans:
        assert subjects.count(message) == 1, (message, subjects)
    bumps = [r["subject"] for r in reversed(records) if r["trailer"] == "automate"]
    assert len(bumps) == len(set(bumps)), bumps
    versions = [tuple(int(p) for p in b.rpartition(":v")[2].split(".")) for b in bumps]
    assert versions == sorted(versions), bumps
    assert bumps[-1] == f"{s.image}:{newest}"
    assert len(records) == 1 + len(humans) + len(bumps)  # seed + humans + bumps, nothing else
    merges = run_git("--git-dir", str(bare), "rev-list", "--min-parents=2", "main", env=git_env)
    assert merges.stdout == ""
    final = git_server.head(s.name)
    for head in heads:
        ancestor = run_git(
            "--git-dir", str(bare), "merge-base", "--is-ancestor", head, final,
            env=git_env, check=False,
        )  # fmt: skip
        assert ancestor.returncode == 0, f"{head} is not an ancestor of {final}"
    assert marker_image(git_server, s.name) == f"{s.image}:{newest}"
    assert deployment_image(kube) == marker_image(git_server, s.name)
    assert lease_holder(kube) == ""
    assert [p for p in cache.rglob("*.lock") if ".git" in p.parts] == []
