"""Canary acceptance: the stand-in cluster, a real Prometheus scraping the exporter, real git.

Intervals are seconds, so each scenario runs `canary run` passes a second or so
apart, as the CronJob would run them minutes apart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from gitops_action.app.canary import CanaryOutcome, CanaryRequest, run
from gitops_action.app.holds import RepoTarget
from gitops_action.domain.canary_objects import STATUS_KEY
from testbed.git_server import GitDaemon
from testbed.kube import Kube
from testbed.metrics_exporter import MetricsExporter
from testbed.ports import free_port
from testbed.prometheus import PrometheusService
from testbed.threaded_server import ThreadedHttpServer

pytestmark = pytest.mark.services
CONSOLE = Path(sys.executable).with_name("gitops-action")

IMAGE = "ghcr.io/acme/podinfo"
CANARY_RATE = 'sum(rate(http_requests_total{app="podinfo-canary"}[5s]))'


def deployment(namespace: str, tag: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "podinfo", "namespace": namespace},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "podinfo"}},
            "template": {
                "metadata": {"labels": {"app": "podinfo"}},
                "spec": {"containers": [{"name": "podinfo", "image": f"{IMAGE}:{tag}"}]},
            },
        },
    }


def canary_yaml(
    namespace: str, analysis: str, provider: str = "replicas", target: str = "podinfo"
) -> str:
    return f"""\
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: {namespace}
spec:
  provider: {provider}
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {target}
  progressDeadlineSeconds: 60
  service:
    port: 9898
  analysis:
{analysis}"""


PROGRESSIVE = """\
    interval: 2s
    threshold: 2
    maxWeight: 50
    stepWeight: 25
    metrics:
      - name: request-success-rate
        interval: 5s
        thresholdRange:
          min: 99
"""


class Scenario:
    def __init__(self, kube: Kube, root: Path, request: CanaryRequest) -> None:
        self.kube = kube
        self.root = root
        self.request = request
        self.apps = client.AppsV1Api(kube.api_client())
        self.core = client.CoreV1Api(kube.api_client())
        self.ns = kube.namespace

    def run(self) -> CanaryOutcome:
        (outcome,) = run(self.request)
        return outcome

    def release(self, tag: str) -> None:
        """What `sync` does for a new tag: apply the target's new template (no replicas)."""
        body = {"spec": {"template": deployment(self.ns, tag)["spec"]["template"]}}
        self.apps.patch_namespaced_deployment("podinfo", self.ns, body)

    def image(self, name: str) -> str:
        live = self.apps.read_namespaced_deployment(name, self.ns)
        return str(live.spec.template.spec.containers[0].image)

    def replicas(self, name: str) -> int:
        return int(self.apps.read_namespaced_deployment(name, self.ns).spec.replicas)

    def status(self) -> dict[str, Any]:
        config_map = self.core.read_namespaced_config_map("podinfo-canary-status", self.ns)
        return dict(json.loads(config_map.data[STATUS_KEY]))

    def until(self, phases: set[str], runs: int = 40) -> list[CanaryOutcome]:
        seen = []
        for _ in range(runs):
            outcome = self.run()
            seen.append(outcome)
            if outcome.phase in phases:
                return seen
            time.sleep(0.5)
        raise AssertionError(f"never reached {phases}: {[o.phase for o in seen]}")


def make_scenario(
    kube: Kube,
    tmp_path: Path,
    analysis: str = PROGRESSIVE,
    *,
    prometheus_url: str | None = None,
    repo: RepoTarget | None = None,
    provider: str = "replicas",
) -> Scenario:
    root = tmp_path / "config"
    root.mkdir()
    (root / "canary.yaml").write_text(canary_yaml(kube.namespace, analysis, provider))
    client.AppsV1Api(kube.api_client()).create_namespaced_deployment(
        kube.namespace, deployment(kube.namespace, "v1.0.0")
    )
    request = CanaryRequest(
        path=root,
        kubeconfig=str(kube.kubeconfig),
        prometheus_url=prometheus_url,
        repo=repo,
        ready_wait=5,
    )
    return Scenario(kube, root, request)


def start_traffic(
    prometheus: PrometheusService, exporter: MetricsExporter, error_rate: float
) -> None:
    exporter.set_traffic("podinfo-canary", rps=200, error_rate=error_rate)
    prometheus.wait_for(CANARY_RATE, lambda v: v > 50, timeout=20)
    if error_rate:
        errors = 'sum(rate(http_requests_total{app="podinfo-canary",status="500"}[5s]))'
        prometheus.wait_for(errors, lambda v: v > 0, timeout=20)


def test_healthy_canary_is_promoted_after_its_steps(
    kube: Kube, tmp_path: Path, prometheus: PrometheusService, metrics_exporter: MetricsExporter
) -> None:
    start_traffic(prometheus, metrics_exporter, 0.0)
    scenario = make_scenario(kube, tmp_path, prometheus_url=prometheus.url)
    first = scenario.run()
    assert first.phase == "Initialized"
    assert scenario.image("podinfo-primary") == f"{IMAGE}:v1.0.0"
    assert scenario.replicas("podinfo-primary") == 2 and scenario.replicas("podinfo") == 0
    services = {s.metadata.name for s in scenario.core.list_namespaced_service(scenario.ns).items}
    assert {"podinfo", "podinfo-primary", "podinfo-canary"} <= services
    kube.reset_counters()
    assert scenario.run().phase == "Initialized"
    assert kube.writes() == 0  # an idle run writes nothing

    scenario.release("v1.1.0")
    outcomes = scenario.until({"Succeeded", "Failed"})
    assert outcomes[-1].phase == "Succeeded", [o.as_record() for o in outcomes]
    assert [o.promoted for o in outcomes].count(True) == 1 and outcomes[-1].promoted
    assert not scenario.run().promoted  # an idle run after it promotes nothing
    weights = [o.weight for o in outcomes if o.phase == "Progressing"]
    assert max(weights) == 50 and 25 in weights
    assert scenario.image("podinfo-primary") == f"{IMAGE}:v1.1.0"
    assert scenario.replicas("podinfo") == 0
    checks = scenario.status()["checks"]
    assert checks[0]["name"] == "request-success-rate" and checks[0]["value"] == 100
    assert any("Promotion completed" in e for o in outcomes for e in o.events)
    events = scenario.core.list_namespaced_event(scenario.ns).items
    assert any("Promotion completed" in (e.message or "") for e in events)


def test_erroring_canary_is_rolled_back_and_written_to_git(
    kube: Kube,
    tmp_path: Path,
    prometheus: PrometheusService,
    metrics_exporter: MetricsExporter,
    git_daemon: GitDaemon,
    git_env: dict[str, str],
) -> None:
    repo_name = f"canary-{kube.namespace}"
    git_daemon.create_repo(repo_name, seed_repo())
    repo = RepoTarget(
        url=git_daemon.repo_url(repo_name),
        branch=None,
        cache_dir=tmp_path / "cache",
        environ=git_env,
    )
    start_traffic(prometheus, metrics_exporter, 0.1)
    scenario = make_scenario(kube, tmp_path, prometheus_url=prometheus.url, repo=repo)
    scenario.run()
    scenario.release("v1.1.0")
    outcomes = scenario.until({"Succeeded", "Failed"})
    last = outcomes[-1]
    assert last.phase == "Failed" and last.rolled_back
    assert last.failed_checks == 2
    assert all(o.phase != "Promoting" for o in outcomes)
    value = scenario.status()["checks"][0]["value"]
    assert 80 < value < 97
    assert scenario.image("podinfo-primary") == f"{IMAGE}:v1.0.0"
    assert scenario.replicas("podinfo") == 0
    assert last.writeback is not None and last.writeback.commit
    log = git_daemon.log(repo_name)
    assert log[0] == "Roll back canary " + f"{kube.namespace}/podinfo" and len(log) == 2
    manifest = git_daemon.repos.read_file(repo_name, "apps/deployment.yaml")
    assert f'image: {IMAGE}:v1.0.0 # {{"$imagepolicy": "flux-system:podinfo"}}' in manifest
    registry = git_daemon.repos.read_file(repo_name, "flux/registry.yaml")
    repository = next(yaml.safe_load_all(registry))
    assert repository["spec"]["exclusionList"] == ["^.*\\.sig$", "^v1\\.1\\.0$"]
    assert f"# gitops-action hold: v1.1.0 held by canary {kube.namespace}/podinfo" in registry
    # A second run after the rollback: no new commit, no new analysis of the failed revision.
    assert scenario.run().phase == "Failed"
    assert len(git_daemon.log(repo_name)) == 2


def seed_repo() -> dict[str, str]:
    return {
        "apps/deployment.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n"
            "  template:\n    spec:\n      containers:\n        - name: podinfo\n"
            f'          image: {IMAGE}:v1.1.0 # {{"$imagepolicy": "flux-system:podinfo"}}\n'
        ),
        "flux/registry.yaml": (
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata:\n"
            f"  name: podinfo\n  namespace: flux-system\nspec:\n  image: {IMAGE}\n"
            "  interval: 1m\n  exclusionList:\n    - '^.*\\.sig$'\n"
            "---\n"
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n"
            "  name: podinfo\n  namespace: flux-system\nspec:\n  imageRepositoryRef:\n"
            "    name: podinfo\n  policy:\n    semver:\n      range: '>=1.0.0'\n"
        ),
    }


def test_prometheus_down_never_promotes(
    kube: Kube, tmp_path: Path, metrics_exporter: MetricsExporter
) -> None:
    metrics_exporter.set_traffic("podinfo-canary", rps=200)
    scenario = make_scenario(kube, tmp_path, prometheus_url=f"http://127.0.0.1:{free_port()}")
    scenario.run()
    scenario.release("v1.1.0")
    outcomes = scenario.until({"Succeeded", "Failed"})
    assert outcomes[-1].phase == "Failed"
    assert all(o.phase not in ("Promoting", "Succeeded") for o in outcomes)
    check = scenario.status()["checks"][0]
    assert not check["ok"] and check["value"] is None and "unreachable" in check["message"]
    assert scenario.image("podinfo-primary") == f"{IMAGE}:v1.0.0"


def test_prometheus_stopped_mid_analysis_never_promotes(
    kube: Kube, tmp_path: Path, metrics_exporter: MetricsExporter
) -> None:
    """A real Prometheus of this test's own answers the first checks, then is stopped."""
    own = PrometheusService(tmp_path / "prometheus", metrics_exporter)
    own.start()
    try:
        start_traffic(own, metrics_exporter, 0.0)
        scenario = make_scenario(kube, tmp_path, prometheus_url=own.url)
        scenario.run()
        scenario.release("v1.1.0")
        scenario.until({"Progressing"})
        while not any(c.get("ok") for c in scenario.status().get("checks", [])):
            scenario.run()
            time.sleep(0.5)
        # A check has passed, the one that would allow promotion has not run yet.
        assert scenario.status()["phase"] == "Progressing"
        assert scenario.image("podinfo-primary") == f"{IMAGE}:v1.0.0"
    finally:
        own.stop()
    outcomes = scenario.until({"Succeeded", "Failed"})
    assert outcomes[-1].phase == "Failed", [o.as_record() for o in outcomes]
    assert all(o.phase not in ("Promoting", "Succeeded") for o in outcomes)
    check = scenario.status()["checks"][0]
    assert not check["ok"] and check["value"] is None and "unreachable" in check["message"]
    assert scenario.image("podinfo-primary") == f"{IMAGE}:v1.0.0"


class Gate:
    """A webhook that answers a fixed status and counts calls."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.calls: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                outer.calls.append(json.loads(self.rfile.read(length)))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadedHttpServer(Handler, name="canary-gate")
        self._http.start()
        self.url = f"http://{self._http.host}/gate"

    def close(self) -> None:
        self._http.stop()


@pytest.fixture
def gate() -> Iterator[Gate]:
    server = Gate(500)
    yield server
    server.close()


def test_confirm_promotion_500_halts_unpromoted(
    kube: Kube,
    tmp_path: Path,
    prometheus: PrometheusService,
    metrics_exporter: MetricsExporter,
    gate: Gate,
) -> None:
    start_traffic(prometheus, metrics_exporter, 0.0)
    analysis = PROGRESSIVE + (
        "    webhooks:\n"
        "      - name: approve\n"
        "        type: confirm-promotion\n"
        f"        url: {gate.url}\n"
        "        timeout: 2s\n"
    )
    scenario = make_scenario(kube, tmp_path, analysis, prometheus_url=prometheus.url)
    scenario.run()
    scenario.release("v1.1.0")
    outcomes = scenario.until({"WaitingPromotion"})
    for _ in range(3):
        time.sleep(2.1)
        outcomes.append(scenario.run())
    assert [o.phase for o in outcomes[-3:]] == ["WaitingPromotion"] * 3
    assert scenario.image("podinfo-primary") == f"{IMAGE}:v1.0.0"
    assert len(gate.calls) >= 3
    assert gate.calls[0]["name"] == "podinfo" and gate.calls[0]["namespace"] == kube.namespace
    gate.status = 200
    time.sleep(2.1)
    assert scenario.until({"Succeeded"})[-1].phase == "Succeeded"
    assert scenario.image("podinfo-primary") == f"{IMAGE}:v1.1.0"


def test_killed_run_resumes_at_the_same_step(
    kube: Kube, tmp_path: Path, prometheus: PrometheusService, metrics_exporter: MetricsExporter
) -> None:
    start_traffic(prometheus, metrics_exporter, 0.0)
    scenario = make_scenario(kube, tmp_path, prometheus_url=prometheus.url)
    scenario.run()
    scenario.release("v1.1.0")
    scenario.until({"Progressing"})
    while scenario.status()["canaryWeight"] != 25 or not scenario.status()["analysing"]:
        scenario.run()
        time.sleep(0.3)
    time.sleep(2.1)  # the analysis interval (2s): the next step is due
    replicas_before = scenario.replicas("podinfo")
    # The run that advances 25 -> 50 is SIGKILLed right after saving its status,
    # before it moves the cluster (the failpoint `after-canary-status`).
    killed = subprocess.run(
        [str(CONSOLE), "canary", "run", str(scenario.root), "--kubeconfig", str(kube.kubeconfig),
         "--prometheus-url", prometheus.url, "--ready-wait", "5"],
        env={**os.environ, "GITOPS_FAILPOINTS": "after-canary-status"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert "failpoint after-canary-status" in killed.stderr
    saved = scenario.status()
    assert saved["canaryWeight"] == 50 and saved["iterations"] == 1
    assert scenario.replicas("podinfo") == replicas_before  # the cluster was not moved
    resumed = scenario.run()  # reconciles the cluster to the saved step (or goes on)
    assert resumed.weight >= 50 or resumed.phase in {"Promoting", "Finalising", "Succeeded"}
    assert scenario.status()["iterations"] >= 1  # the saved progress was never lost
    if resumed.phase == "Progressing" and resumed.weight == 50:
        assert scenario.replicas("podinfo") == 2 != replicas_before  # 50 % of 2 primary pods
    assert scenario.until({"Succeeded"})[-1].phase == "Succeeded"
