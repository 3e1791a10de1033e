"""`canary run` with Canaries that set no spec.provider (as 21 of Flagger's own samples):
the provider comes from --default-provider / GITOPS_DEFAULT_PROVIDER (Flagger's
-mesh-provider), and every error says where the provider came from. Config is
validated before any cluster call, so no cluster is needed here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).with_name("gitops-action")

CANARY = """\
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 30s
    maxWeight: 50
    stepWeight: 10
"""


def run(tree: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "GITOPS_DEFAULT_PROVIDER"}
    return subprocess.run(
        [str(CLI), "canary", "run", str(tree), "--kubeconfig", str(tree / "none"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**environ, **env},
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "canary.yaml").write_text(CANARY)
    return tmp_path


def test_without_a_default_the_error_says_the_provider_is_the_tools_default(tree: Path) -> None:
    done = run(tree)
    assert done.returncode == 2
    assert "spec.analysis.iterations: provider kubernetes (spec.provider is not set: " in (
        done.stderr
    )
    assert "--default-provider or GITOPS_DEFAULT_PROVIDER" in done.stderr


@pytest.mark.parametrize(
    ("args", "env", "origin"),
    [
        (("--default-provider", "istio"), {}, "--default-provider"),
        ((), {"GITOPS_DEFAULT_PROVIDER": "istio"}, "GITOPS_DEFAULT_PROVIDER"),
    ],
)
def test_the_error_names_where_the_default_came_from(
    tree: Path, args: tuple[str, ...], env: dict[str, str], origin: str
) -> None:
    done = run(tree, *args, **env)
    assert done.returncode == 2
    assert (
        "spec.provider: unsupported provider istio "
        f"(spec.provider is not set: the default from {origin})"
    ) in done.stderr
