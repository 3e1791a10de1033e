"""The README's main job, end to end: `scripts/demo.py` (what `scripts/demo.sh` runs
after bootstrap) with its real services, checked from the outside.

The driver runs as a subprocess exactly as a user runs it; the test reads its
output, the cluster it synced to, and /proc afterwards: every service it
started must be gone and its temp dirs removed, after a normal run and after
a Ctrl-C in the middle of one.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from testbed.kube import Kube

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "scripts" / "demo.py"
CONSOLE = Path(sys.executable).with_name("gitops-action")

pytestmark = pytest.mark.services


def demo_env(**extra: str) -> dict[str, str]:
    drop = ("GITHUB_", "GITOPS_", "RUNNER_", "DOCKER_", "KUBECONFIG")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


def run_demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DRIVER)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def reconcile_available() -> bool:
    done = subprocess.run(
        [str(CONSOLE), "reconcile", "--help"], capture_output=True, timeout=60, check=False
    )
    return done.returncode == 0


def cmdlines() -> dict[int, str]:
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            found[int(entry)] = raw.replace(b"\0", b" ").decode(errors="replace")
    return found


def assert_cleaned_up(output: str) -> None:
    """No process of the run left (by its dirs and PIDs), and its temp dirs removed."""
    dirs = re.findall(r"demo: (?:work|dockerd) dir (\S+)", output)
    pids = [int(p) for p in re.findall(r"\bpid (\d+)\)", output)]
    assert dirs, output
    deadline = time.monotonic() + 10
    while True:
        left = {
            pid: cmd
            for pid, cmd in cmdlines().items()
            if pid in pids or any(d in cmd for d in dirs)
        }
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert left == {}, f"left behind: {left}"
    for directory in dirs:
        assert not Path(directory).exists(), f"{directory} not removed"


def assert_phases(first: str, second: str, namespace: str) -> None:
    """The automate + sync path: no bump on v1.0.0, then a bump and an update."""
    assert "$ gitops-action automate" in first and "$ gitops-action sync" in first
    assert "unchanged" in first and f"Deployment/{namespace}/demo created" in first
    assert "updated" in second and f"Deployment/{namespace}/demo configured" in second


def section(output: str, title: str) -> str:
    """The lines of one `== TITLE` section of the demo's output."""
    start = output.index(f"== {title}")
    end = output.find("\n== ", start + 1)
    return output[start : end if end >= 0 else len(output)]


def test_demo_runs_the_whole_loop_and_leaves_nothing_behind() -> None:
    result = run_demo(demo_env())
    out = result.stdout
    assert result.returncode == 0, f"stdout:\n{out}\nstderr:\n{result.stderr}"

    # No KUBECONFIG: it says plainly where it applies: a real control plane of its own.
    assert "No KUBECONFIG: starting a real Kubernetes control plane on 127.0.0.1" in out

    # Two releases through ci run: tag, latest, sha-<7>, one digest each, both in the registry.
    image = re.search(r"registry\s+http://(127\.0\.0\.1:\d+)", out)
    assert image is not None
    ref = f"{image.group(1)}/demo/app"
    digests = []
    for version in ("v1.0.0", "v1.1.0"):
        release = section(out, f"Release {version}")
        assert f"tag={ref}:{version}" in release
        assert f"tag={ref}:latest" in release
        assert re.search(rf"tag={re.escape(ref)}:sha-[0-9a-f]{{7}}\b", release)
        assert "test-outcome=success" in release
        digest = re.search(r"^\s*\| digest=(sha256:[0-9a-f]{64})$", release, re.M)
        assert digest is not None, release
        digests.append(digest.group(1))
    assert digests[0] != digests[1]
    assert re.search(r"registry now lists demo/app: .*\bv1\.0\.0, v1\.1\.0\b", out)

    # Reconcile: the path taken is the one this version of the CLI offers.
    first, second = section(out, "Reconcile #1"), section(out, "Reconcile #2")
    if reconcile_available():
        assert "reconcile ran as: gitops-action reconcile" in out
        assert "$ gitops-action reconcile" in first and "$ gitops-action reconcile" in second
        assert "$ gitops-action automate" not in first + second
    else:
        assert_phases(first, second, "default")

    # The bump commit: by the seed automation's author, one line changed.
    history = section(out, "Config repo history")
    assert "fluxcdbot <fluxcdbot@users.noreply.github.com>" in history
    assert f"{ref}:v1.1.0" in history
    changed = [line for line in history.splitlines() if re.match(r"^\s*\| [-+] ", line)]
    assert [line.split("| ")[1][0] for line in changed] == ["-", "+"], history
    assert changed[0].endswith(f'{ref}:v1.0.0 # {{"$imagepolicy": "flux-system:app"}}')
    assert changed[1].endswith(f'{ref}:v1.1.0 # {{"$imagepolicy": "flux-system:app"}}')

    # Converged: a dry run of what git holds changes nothing.
    final = section(out, "What the cluster runs now")
    assert "Deployment/default/demo unchanged (dry run)" in final

    summary = section(out, "Summary")
    assert re.search(r"applied to a real Kubernetes v1\.\d+\.\d+ control plane", summary)
    # Rolled out for real: the Deployment controller reports the new image available.
    assert (
        f"rolled out: Deployment default/demo: image {ref}:v1.1.0, 2/2 pods ready, "
        "Available" in summary
    )
    assert summary.count("released v1.") == 2
    assert re.search(r"config repo commits \(newest first\): 2\b", summary)
    assert re.search(r"wall time \d+\.\d+s", summary)
    assert re.search(r"demo: done in [0-9.]+s, everything cleaned up", out)
    assert_cleaned_up(out)


def test_demo_syncs_to_the_cluster_in_kubeconfig(kube: Kube) -> None:
    from kubernetes import client

    core = client.CoreV1Api(kube.api_client())

    def drop_namespace() -> None:
        core.delete_namespace("gitops-demo")

    kube.defer(drop_namespace)
    # The phase-by-phase path here; the test above takes `reconcile` when it exists.
    result = run_demo(demo_env(KUBECONFIG=str(kube.kubeconfig), GITOPS_DEMO_PHASES="1"))
    out = result.stdout
    assert result.returncode == 0, f"stdout:\n{out}\nstderr:\n{result.stderr}"
    assert "KUBECONFIG is set: syncing to that cluster" in out
    assert "starting a real Kubernetes control plane" not in out
    assert "reconcile ran as: gitops-action automate + sync" in out
    assert_phases(section(out, "Reconcile #1"), section(out, "Reconcile #2"), "gitops-demo")

    apps = client.AppsV1Api(kube.api_client())
    deployment: Any = apps.read_namespaced_deployment("demo", "gitops-demo")
    image = deployment.spec.template.spec.containers[0].image
    assert re.fullmatch(r"127\.0\.0\.1:\d+/demo/app:v1\.1\.0", image), image
    namespace: Any = core.read_namespace("gitops-demo")
    assert namespace.metadata.name == "gitops-demo"
    assert_cleaned_up(out)


def test_ctrl_c_mid_run_stops_every_service() -> None:
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER)],
        env=demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        for line in proc.stdout:  # services are up once the first release starts
            seen.append(line)
            if line.startswith("== Release v1.0.0"):
                proc.send_signal(signal.SIGINT)
                break
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = "".join(seen) + rest
    assert proc.returncode == 130, f"stdout:\n{out}\nstderr:\n{err}"
    assert "interrupted; cleaning up" in err
    assert re.search(r"demo: stopped in [0-9.]+s, everything cleaned up", out)
    assert_cleaned_up(out)
