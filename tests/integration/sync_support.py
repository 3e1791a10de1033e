"""Helpers for the sync tests (no tests here): run the real console script against the
`kube` fixture's cluster, build manifest trees, read objects back.

Every tree is written into the test's own namespace (the real control plane is
shared by the session; GITOPS_TEST_KUBECONFIG may name another cluster); the
inventory goes to that namespace too (`--inventory NS/inventory`) except where a
test checks the default location.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from testbed.kube import Kube
from testbed.kube_cluster import NEVER_READY_LABEL

BIN = Path(sys.executable).parent / "gitops-action"
REPO = Path(__file__).resolve().parents[2]
INVENTORY = "inventory"


def run_sync(
    kube: Kube, path: Path, *args: str, inventory: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`gitops-action sync PATH --kubeconfig ... [--inventory NS/inventory] ARGS`."""
    argv = [str(BIN), "sync", str(path), "--kubeconfig", str(kube.kubeconfig)]
    if inventory:
        argv += ["--inventory", f"{kube.namespace}/{INVENTORY}"]
    return subprocess.run(
        [*argv, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.splitlines()


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def example_tree(kube: Kube, tmp: Path) -> Path:
    """A copy of the repo's cluster/ (Deployment + Service `demo`, Flux config), moved
    from `default` into the test's namespace. The image stays as the repo has it:
    kwok runs pods without pulling anything."""
    root = tmp / "repo"
    # cluster/gitops-system/ is the tool's own install (RBAC, CronJob), applied
    # by an admin, never by sync: the example app is the rest of cluster/.
    # canary.yaml is left out too: a Canary makes sync drop the target's spec.replicas
    # (the canary code owns it), and these tests change replicas through git.
    shutil.copytree(
        REPO / "cluster", root, ignore=shutil.ignore_patterns("gitops-system", "canary.yaml")
    )
    for path in root.glob("*.yaml"):
        path.write_text(
            path.read_text().replace("namespace: default", f"namespace: {kube.namespace}")
        )
    return root


def example_namespace(kube: Kube) -> str:
    return kube.namespace


def deployment(
    name: str,
    namespace: str,
    replicas: int = 1,
    image: str = "",
    *,
    never_ready: bool = False,
    progress_deadline: int | None = None,
) -> str:
    """A Deployment; `never_ready` pods are Running but never Ready (a kwok stage)."""
    image = image or "registry.k8s.io/pause:3.9"
    extra = f'\n                {NEVER_READY_LABEL}: "yes"' if never_ready else ""
    deadline = (
        f"\n          progressDeadlineSeconds: {progress_deadline}" if progress_deadline else ""
    )
    return _text(f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          namespace: {namespace}
        spec:
          replicas: {replicas}{deadline}
          selector:
            matchLabels:
              app: {name}
          template:
            metadata:
              labels:
                app: {name}{extra}
            spec:
              containers:
                - name: app
                  image: {image}
        """)


def configmap(name: str, namespace: str, **data: str) -> str:
    entries = "".join(f"\n          {key}: {value!r}" for key, value in data.items()) or " {}"
    return _text(f"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {name}
          namespace: {namespace}
        data:{entries}
        """)


def _text(block: str) -> str:
    return textwrap.dedent(block).lstrip()


def get(kube: Kube, api_version: str, kind: str, name: str, namespace: str | None) -> Any:
    """The live object as a dict, or None."""
    from kubernetes.dynamic.exceptions import NotFoundError

    resource = kube.dynamic_client().resources.get(api_version=api_version, kind=kind)
    try:
        return resource.get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return None


def inventory_lines(kube: Kube, namespace: str, name: str = INVENTORY) -> list[str]:
    cm = get(kube, "v1", "ConfigMap", name, namespace)
    assert cm is not None, "no inventory ConfigMap"
    return str(cm["data"]["objects"]).splitlines()
