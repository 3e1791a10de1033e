"""`gitops-action install --export` through the real console script: the checked-in render
is current, every rendered object is valid Kubernetes 1.32, and it applies with `sync`."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import ValidationError

from testbed.kube import Kube
from tests.integration.sync_support import get, lines, ok, run_sync

BIN = Path(sys.executable).parent / "gitops-action"
REPO = Path(__file__).resolve().parents[2]
RENDERED = REPO / "cluster" / "gitops-system"
KUBERNETES_VERSION = "1.32.0"  # as tests/integration/test_cluster_validate.py
HTTPS = "https://github.com/acme/config.git"


def install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "install", *args], capture_output=True, text=True, timeout=60, check=False
    )


def rendered_command(path: Path) -> list[str]:
    """The command a render file says it came from (its header)."""
    lines = path.read_text().splitlines()
    marker = lines.index("# Re-render with:")
    return shlex.split(lines[marker + 1].removeprefix("#").strip())


def test_checked_in_render_is_what_export_prints_byte_for_byte() -> None:
    files = sorted(p.name for p in RENDERED.iterdir())
    assert files == ["gitops-action.yaml"]
    path = RENDERED / "gitops-action.yaml"
    argv = rendered_command(path)
    assert argv[:3] == ["gitops-action", "install", "--export"]
    result = install(*argv[2:])
    assert result.returncode == 0, result.stderr
    assert result.stdout == path.read_text(), (
        "cluster/gitops-system/ is stale: re-run the command in its header (docs/install.md)"
    )


def problems(body: dict[str, Any]) -> str | None:
    try:
        kubernetes_validate.validate(body, KUBERNETES_VERSION, strict=True)
    except ValidationError as err:
        where = ".".join(str(part) for part in err.path) or "(top)"
        return f"{body['kind']} {body['metadata']['name']}: {where}: {err.message}"
    return None


VARIANTS = [
    ["--repo", HTTPS],
    [
        "--repo", "git@github.com:acme/config.git", "--namespace", "ops", "--cluster-scope",
        "--target-namespace", "team-a", "--target-namespace", "team-b",
        "--registry-secret", "flux-system/regcred", "--branch", "main", "--path", "deploy",
        "--prometheus-url", "http://prometheus.monitoring:9090", "--schedule", "@hourly",
        "--image", "registry.example:5000/tools/gitops-action@sha256:" + "a" * 64,
    ],
    ["--repo", "git://git.example/config.git", "--no-secrets"],
]  # fmt: skip


@pytest.mark.parametrize("args", VARIANTS, ids=["default", "everything", "no-secrets"])
def test_every_rendered_object_validates_against_kubernetes(args: list[str]) -> None:
    result = install("--export", *args)
    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all(result.stdout))
    assert len(documents) >= 8
    assert [p for d in documents if (p := problems(d)) is not None] == []


def test_the_validator_would_catch_a_broken_cronjob() -> None:
    documents = list(yaml.safe_load_all(install("--export", "--repo", HTTPS).stdout))
    cronjob = next(d for d in documents if d["kind"] == "CronJob")
    cronjob["spec"]["concurrencyPolicy"] = "Never"
    cronjob["spec"]["startingDeadline"] = 10
    message = problems(cronjob)
    assert message is not None and "CronJob gitops-action" in message


def test_json_output_is_one_list_of_the_same_objects() -> None:
    as_yaml = list(yaml.safe_load_all(install("--export", "--repo", HTTPS).stdout))
    result = install("--export", "--repo", HTTPS, "--output", "json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert (listing["apiVersion"], listing["kind"]) == ("v1", "List")
    assert listing["items"] == as_yaml


def test_without_export_nothing_is_printed_and_the_user_is_told() -> None:
    result = install("--repo", HTTPS)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("gitops-action: error: install does not apply anything")
    assert "--export" in result.stderr and "kubectl apply -f -" in result.stderr


def test_bad_flag_is_exit_2_naming_it() -> None:
    result = install("--export", "--repo", HTTPS, "--target-namespace", "Team_A")
    assert (result.returncode, result.stdout) == (2, "")
    assert "--target-namespace 'Team_A'" in result.stderr


def test_install_does_not_load_heavy_clients() -> None:
    probe = (
        "import sys\n"
        "from gitops_action.cli import main\n"
        "try:\n"
        "    main(['install', '--export', '--repo', 'x'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('kubernetes', 'docker', 'github', 'httpx') if m in sys.modules]\n"
        "print(heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stderr.strip().splitlines()[-1] == "[]"


INSTALL_FILE = RENDERED / "gitops-action.yaml"


def _unlabel(kube: Kube, namespace: str, labels: dict[str, str]) -> None:
    """Take the render's Pod Security labels off a namespace that must never be deleted."""
    from kubernetes import client

    body = {"metadata": {"labels": {key: None for key in labels}}}
    client.CoreV1Api(kube.api_client()).patch_namespace(namespace, body)


def test_checked_in_render_applies_with_sync_and_then_stays_unchanged(
    kube: Kube, tmp_path: Path
) -> None:
    # The render is cluster-wide (ClusterRoles, labels on `default`): those are removed
    # again, so the session's later tests start without them.
    for doc in yaml.safe_load_all(INSTALL_FILE.read_text()):
        if not doc:
            continue
        kind, meta = doc["kind"], doc["metadata"]
        if kind in ("ClusterRole", "ClusterRoleBinding") or (
            kind == "RoleBinding" and meta.get("namespace") == "default"
        ):
            kube.delete_later(doc["apiVersion"], kind, meta["name"], meta.get("namespace"))
        elif kind == "Namespace" and meta["name"] == "default":
            labels = {k: v for k, v in meta.get("labels", {}).items() if "pod-security" in k}
            kube.defer(lambda labels=labels: _unlabel(kube, "default", labels))
    # gitops-system stays: a namespace still terminating would break a later test that
    # syncs its default inventory there.
    first = ok(run_sync(kube, RENDERED, "--include-install"))
    assert sorted(lines(first)) == sorted(
        [
            "Namespace/gitops-system created",
            "Namespace/default configured",  # labelled for Pod Security
            "ServiceAccount/gitops-system/gitops-action created",
            "Secret/gitops-system/gitops-action-git created",
            "ClusterRole/gitops-action-manage created",
            "ClusterRole/gitops-action-namespace-gitops-system created",
            "ClusterRoleBinding/gitops-action-namespace-gitops-system created",
            "Role/gitops-system/gitops-action created",
            "RoleBinding/gitops-system/gitops-action created",
            "RoleBinding/default/gitops-action-manage created",
            "CronJob/gitops-system/gitops-action created",
        ]
    )
    cronjob = get(kube, "batch/v1", "CronJob", "gitops-action", "gitops-system")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    binding = get(
        kube, "rbac.authorization.k8s.io/v1", "RoleBinding", "gitops-action-manage", "default"
    )
    assert binding["roleRef"]["name"] == "gitops-action-manage"
    kube.reset_counters()
    again = ok(run_sync(kube, RENDERED, "--include-install"))
    assert all(line.endswith(" unchanged") for line in lines(again)), again.stdout
    assert kube.writes() == 0
