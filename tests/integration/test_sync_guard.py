"""`sync` refuses cluster-admin grants and kube-system writes unless told (issue 14, item 10).

A config-repo writer adds a ClusterRoleBinding to cluster-admin and a Secret
in kube-system to an otherwise ordinary tree: nothing of the tree is applied,
whatever the tool's RBAC would have allowed.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from testbed.kube import Kube
from tests.integration.sync_support import example_tree, run_sync, write

ADMIN_BINDING = """
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata:
      name: {namespace}-takeover
    roleRef:
      apiGroup: rbac.authorization.k8s.io
      kind: ClusterRole
      name: cluster-admin
    subjects:
      - kind: ServiceAccount
        name: default
        namespace: {namespace}
    """
SYSTEM_SECRET = """
    apiVersion: v1
    kind: Secret
    metadata:
      name: {namespace}-planted
      namespace: kube-system
    stringData:
      token: x
    """


def test_cluster_admin_grants_and_kube_system_writes_are_refused_before_any_write(
    kube: Kube, tmp_path: Path
) -> None:
    root = example_tree(kube, tmp_path)
    write(root, "takeover.yaml", ADMIN_BINDING.format(namespace=kube.namespace))
    write(root, "planted.yaml", SYSTEM_SECRET.format(namespace=kube.namespace))
    kube.reset_counters()

    result = run_sync(kube, root)

    assert result.returncode == 2, result.stderr
    assert "takeover.yaml" in result.stderr and "binds the cluster-admin" in result.stderr
    assert "planted.yaml" in result.stderr and "kube-system" in result.stderr
    assert "--allow-cluster-admin-changes" in result.stderr
    assert kube.writes() == 0


def test_the_flag_hands_the_decision_back_to_rbac(kube: Kube, tmp_path: Path) -> None:
    root = example_tree(kube, tmp_path)
    write(root, "planted.yaml", SYSTEM_SECRET.format(namespace=kube.namespace))

    core = client.CoreV1Api(kube.api_client())
    name = f"{kube.namespace}-planted"
    kube.defer(lambda: core.delete_namespaced_secret(name, "kube-system"))

    result = run_sync(kube, root, "--allow-cluster-admin-changes")

    assert result.returncode == 0, result.stderr
    assert "refused (defence in depth" not in result.stderr
    # This cluster's RBAC lets the tool write there: the guard was the only line.
    assert core.read_namespaced_secret(name, "kube-system").metadata.name == name


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [
        f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]"
        for level in range(1, levels + 1)
    ]
    return "\n".join("      " + line for line in lines)


def test_an_alias_bomb_or_deep_nesting_is_an_input_error_naming_the_file(
    kube: Kube, tmp_path: Path
) -> None:
    """~1 KB that expands to 3.8 billion nodes; and 500 levels (RecursionError, exit 3, before)."""
    root = example_tree(kube, tmp_path)
    bomb = f"""
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: bomb
      namespace: {kube.namespace}
    data:
{_bomb()}
    """
    write(root, "bomb.yaml", bomb)
    kube.reset_counters()
    result = run_sync(kube, root, timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "bomb.yaml" in result.stderr and "Traceback" not in result.stderr
    assert kube.writes() == 0

    (root / "bomb.yaml").unlink()
    deep = "".join("  " * level + f"k{level}:\n" for level in range(500)) + "  " * 500 + "x\n"
    nested = (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n  namespace: {kube.namespace}\n"
    )
    (root / "deep.yaml").write_text(
        nested + "data:\n" + "".join("  " + line + "\n" for line in deep.splitlines())
    )
    result = run_sync(kube, root, timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "deep.yaml" in result.stderr and "Traceback" not in result.stderr


def test_an_alias_bomb_listed_by_a_kustomization_is_refused_before_kustomize_runs(
    kube: Kube, tmp_path: Path
) -> None:
    """kustomize expands aliases without bound (5 GB in 20 s, measured): the files it may
    read are checked against the YAML limits first, also under a kustomization.yaml."""
    root = tmp_path / "repo"
    root.mkdir()
    write(root, "kustomization.yaml", "resources:\n  - bomb.yaml\n")
    header = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n  namespace: {ns}\n"
    write(root, "bomb.yaml", header.format(ns=kube.namespace) + "data:\n" + _bomb())
    result = run_sync(kube, root, timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "bomb.yaml" in result.stderr and "alias bomb" in result.stderr
    assert kube.writes() == 0


def test_kustomize_resources_outside_the_repository_are_refused(kube: Kube, tmp_path: Path) -> None:
    """Issue 14, item 7 (paths leave the checkout): `../` and absolute resources out of the repo."""
    root = example_tree(kube, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "cm.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\n"
        f"  namespace: {kube.namespace}\ndata:\n  secret: from-outside\n"
    )
    for resource in ("../outside/cm.yaml", str(outside / "cm.yaml")):
        write(root, "kustomization.yaml", f"resources:\n  - deployment.yaml\n  - {resource}\n")
        kube.reset_counters()
        result = run_sync(kube, root, timeout=60)
        assert result.returncode == 2, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        assert kube.writes() == 0
