"""Shared set-up of the end-to-end scenarios (no tests here).

A *world* is one app as the seed tutorial has it: its image in the real
registry (htpasswd), its config repo on the real smart-HTTP git server (Basic
auth), the Kubernetes API stand-in (or a real cluster), and, for apps with a
Canary, the real Prometheus scraping the test exporter. Every command runs as
the real console script in a subprocess.

`reconcile_once` is the one place that knows how a CronJob run is made: the
`gitops-action reconcile` command when the installed package has it, else its
phases in order (`automate`, then `sync` of a fresh checkout, then `canary
run`), which is what `reconcile` does under its Lease.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from testbed.git_server import GitHttpServer
from testbed.gitenv import run_git
from testbed.kube import Kube
from testbed.metrics_exporter import MetricsExporter
from testbed.prometheus import PrometheusService
from testbed.registry import RegistryService
from tests.integration.automate_support import CONSOLE, cli_env, log_records, seed_files

APP = "demo"
"""The seed tutorial's Deployment (cluster/deployment.yaml)."""
POLICY_MARKER = ' # {"$imagepolicy": "flux-system:app"}'


def _has_reconcile() -> bool:
    """Whether the installed console script has `reconcile` (checked once, at import)."""
    try:
        done = subprocess.run(
            [str(CONSOLE), "reconcile", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


HAS_RECONCILE = os.environ.get("GITOPS_E2E_PHASES") != "1" and _has_reconcile()
"""`GITOPS_E2E_PHASES=1` runs the phases even when `reconcile` exists (to compare the two)."""

CANARY = """\
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: {app}
  namespace: {namespace}
spec:
  provider: replicas
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {app}
  progressDeadlineSeconds: 60
  service:
    port: 80
  analysis:
    interval: 1s
    threshold: 1
    maxWeight: 50
    stepWeight: 50
    metrics:
      - name: request-success-rate
        interval: 5s
        thresholdRange:
          min: 99
"""


def config_files(image: str, namespace: str, *, canary: bool) -> dict[str, str]:
    """The seed's cluster/ with the image in the test registry and the app in `namespace`.

    With a Canary the seed's Service stays in git, as a user's would: sync
    leaves a Canary's Services (apex, -primary, -canary) to the canary code,
    which owns them as Flagger does, so the two never fight over a selector.
    """
    files = seed_files(image)
    deployment = files["cluster/deployment.yaml"].replace(
        "namespace: default", f"namespace: {namespace}"
    )
    if canary:
        files["cluster/canary.yaml"] = CANARY.format(app=APP, namespace=namespace)
    files["cluster/deployment.yaml"] = deployment
    return files


@dataclass
class Phase:
    """One command of a run: its argv tail, exit code and output."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (
            f"$ gitops-action {' '.join(self.args)}\nexit {self.code}\n{self.stdout}{self.stderr}"
        )


@dataclass
class Run:
    """One reconcile run: every command it took (one with `reconcile`, three without)."""

    phases: list[Phase] = field(default_factory=list)

    @property
    def code(self) -> int:
        """The run's exit code: the first failing command's, else 0."""
        return next((phase.code for phase in self.phases if phase.code), 0)

    def describe(self) -> str:
        return "\n".join(phase.describe() for phase in self.phases)


@dataclass
class World:
    """One app, its config repo, its registry repository and its cluster namespace."""

    name: str
    repo: str
    image: str
    canary: bool
    env: dict[str, str]
    work: Path
    kube: Kube
    registry: RegistryService
    git_server: GitHttpServer
    git_env: dict[str, str]
    prometheus_url: str = ""
    _apps: Any = None
    _core: Any = None

    # ------------------------------------------------------------ git
    @property
    def url(self) -> str:
        """The config repo without credentials (they come from GITOPS_GIT_*)."""
        return self.git_server.repo_url(self.name, auth=False)

    @property
    def bare(self) -> Path:
        return self.git_server.repos.path(self.name)

    def log(self) -> list[dict[str, str]]:
        """The config repo's history, newest first (sha, name, email, subject, trailer)."""
        return log_records(self.bare, self.git_env)

    def head(self) -> str | None:
        return self.git_server.head(self.name)

    def read(self, rel: str) -> str:
        return self.git_server.repos.read_file(self.name, rel)

    def marker_image(self) -> str:
        """The image the marked line of cluster/deployment.yaml holds in git."""
        for line in self.read("cluster/deployment.yaml").splitlines():
            if line.endswith(POLICY_MARKER):
                return line.removesuffix(POLICY_MARKER).split("image:", 1)[1].strip()
        raise AssertionError("no marked image line in cluster/deployment.yaml")

    def exclusions(self) -> list[str]:
        """The ImageRepository's exclusionList in git ([] when it has none)."""
        docs = [d for d in yaml.safe_load_all(self.read("cluster/app-registry.yaml")) if d]
        return list(docs[0]["spec"].get("exclusionList") or [])

    # ------------------------------------------------------------ cluster
    @property
    def apps(self) -> Any:
        if self._apps is None:
            self._apps = client.AppsV1Api(self.kube.api_client())
        return self._apps

    @property
    def core(self) -> Any:
        if self._core is None:
            self._core = client.CoreV1Api(self.kube.api_client())
        return self._core

    def deployment(self, name: str = APP) -> Any:
        return self.apps.read_namespaced_deployment(name, self.kube.namespace)

    def cluster_image(self, name: str = APP) -> str:
        return str(self.deployment(name).spec.template.spec.containers[0].image)

    def canary_phase(self) -> str | None:
        """The phase the canary code keeps in `<canary>-canary-status` (None before any run)."""
        items = self.core.list_namespaced_config_map(
            self.kube.namespace, field_selector=f"metadata.name={APP}-canary-status"
        ).items
        return str(items[0].data["phase"]) if items else None

    def canary_checks(self) -> list[dict[str, Any]]:
        """The last metric checks the canary code recorded (`status.json` of its ConfigMap)."""
        status = self.core.read_namespaced_config_map(
            f"{APP}-canary-status", self.kube.namespace
        ).data["status.json"]
        return list(json.loads(status).get("checks") or [])


def make_world(
    *,
    kube: Kube,
    registry: RegistryService,
    git_server: GitHttpServer,
    git_env: Mapping[str, str],
    tmp: Path,
    canary: bool,
    prometheus_url: str = "",
) -> World:
    """An app at v1.0.0: the tag in the registry, the seed config repo on the git server."""
    name = f"e2e-{uuid.uuid4().hex[:10]}"
    repo = f"{name}/app"
    image = f"{registry.host}/{repo}"
    registry.push_image(repo, "v1.0.0")
    git_server.create_repo(name, config_files(image, kube.namespace, canary=canary))
    env = cli_env(
        git_env,
        cache=tmp / "cache",
        docker_config=registry.write_docker_config(tmp / "docker").parent,
        git_user=git_server.username,
        git_password=git_server.password,
        insecure=registry.host,
    )
    env.update(
        {
            "GITOPS_REPO": git_server.repo_url(name, auth=False),
            "KUBECONFIG": str(kube.kubeconfig),
            "GITOPS_KUBECONFIG": str(kube.kubeconfig),
            "GITOPS_SYNC_TIMEOUT": "30s",
            "GITOPS_NAMESPACE": kube.namespace,
            "GITOPS_CANARY_READY_WAIT": "10",
        }
    )
    if prometheus_url:
        env["GITOPS_PROMETHEUS_URL"] = prometheus_url
    work = tmp / "work"
    work.mkdir()
    return World(
        name=name,
        repo=repo,
        image=image,
        canary=canary,
        env=env,
        work=work,
        kube=kube,
        registry=registry,
        git_server=git_server,
        git_env=dict(git_env),
        prometheus_url=prometheus_url,
    )


def _command(world: World, *args: str) -> Phase:
    done = subprocess.run(
        [str(CONSOLE), *args],
        env=world.env,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    return Phase(args, done.returncode, done.stdout, done.stderr)


def _checkout(world: World) -> Path:
    """What the run applies: the branch head after automation (a plain clone, kept)."""
    checkout = world.work / "checkout"
    if not (checkout / ".git").exists():
        run_git("clone", "--quiet", str(world.bare), str(checkout), env=world.git_env)
    run_git("fetch", "--quiet", "origin", cwd=checkout, env=world.git_env)
    run_git("reset", "--quiet", "--hard", "origin/main", cwd=checkout, env=world.git_env)
    return checkout


def reconcile_once(world: World) -> Run:
    """One CronJob run. The single switch between `reconcile` and its phases."""
    if HAS_RECONCILE:
        return Run([_command(world, "reconcile")])
    run = Run([_command(world, "automate", "--repo", world.url)])
    if run.code:
        return run
    path = str(_checkout(world) / "cluster")
    run.phases.append(
        _command(
            world, "sync", path, "--kubeconfig", str(world.kube.kubeconfig), "--timeout", "30s"
        )
    )
    if run.code:
        return run
    canary = ["canary", "run", path, "--kubeconfig", str(world.kube.kubeconfig)]
    canary += ["--repo", world.url]
    if world.prometheus_url:
        canary += ["--prometheus-url", world.prometheus_url]
    run.phases.append(_command(world, *canary))
    return run


def reconcile_ok(world: World) -> Run:
    """A run that must succeed (exit 0)."""
    run = reconcile_once(world)
    assert run.code == 0, run.describe()
    return run


def reconcile_until(
    world: World,
    done: Callable[[], bool],
    *,
    runs: int = 20,
    pause: float = 1.0,
    codes: tuple[int, ...] = (0,),
) -> list[Run]:
    """Run as the CronJob would (every `pause` s) until `done()`; each run's exit in `codes`."""
    seen: list[Run] = []
    for _ in range(runs):
        run = reconcile_once(world)
        seen.append(run)
        assert run.code in codes, run.describe()
        if done():
            return seen
        time.sleep(pause)
    raise AssertionError(f"not done after {runs} runs; last run:\n{seen[-1].describe()}")


def start_canary_traffic(
    prometheus: PrometheusService, exporter: MetricsExporter, *, error_rate: float
) -> None:
    """Requests to the canary pods (`app="demo-canary"`), seen by Prometheus before analysis."""
    app = f"{APP}-canary"
    exporter.set_traffic(app, rps=200, error_rate=error_rate)
    prometheus.wait_for(
        f'sum(rate(http_requests_total{{app="{app}"}}[5s]))', lambda v: v > 50, timeout=20
    )
    if error_rate:
        errors = f'sum(rate(http_requests_total{{app="{app}",status="500"}}[5s]))'
        prometheus.wait_for(errors, lambda v: v > 0, timeout=20)
