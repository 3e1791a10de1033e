"""`install --export`: Pod Security labels on target namespaces, no newline smuggled into YAML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitops_action.domain.errors import InvalidInstallOption
from gitops_action.domain.install import InstallOptions, render

CLI = Path(sys.executable).with_name("gitops-action")


def _namespaces(options: InstallOptions) -> dict[str, dict[str, str]]:
    return {
        obj["metadata"]["name"]: obj["metadata"].get("labels", {})
        for obj in render(options.validate())
        if obj["kind"] == "Namespace"
    }


def test_target_namespaces_enforce_restricted_by_default() -> None:
    namespaces = _namespaces(InstallOptions("https://g/r.git", target_namespaces=("apps", "web")))
    for target in ("apps", "web"):
        labels = namespaces[target]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
        assert "app.kubernetes.io/name" not in labels  # not an install object: sync owns it


def test_pod_security_can_be_changed_or_left_out() -> None:
    base = InstallOptions("https://g/r.git", target_namespaces=("apps",), pod_security="baseline")
    assert _namespaces(base)["apps"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert "--pod-security baseline" in base.command()
    none = InstallOptions("https://g/r.git", target_namespaces=("apps",), pod_security="none")
    assert "apps" not in _namespaces(none)
    with pytest.raises(InvalidInstallOption, match="--pod-security"):
        InstallOptions("https://g/r.git", pod_security="lax").validate()


@pytest.mark.parametrize(
    "url", ["http://p:9090\nmalicious: true", "http://p:9090 x", "http://p\x85"]
)
def test_a_prometheus_url_with_a_line_break_is_refused(url: str) -> None:
    with pytest.raises(InvalidInstallOption, match="--prometheus-url"):
        InstallOptions("https://g/r.git", prometheus_url=url).validate()


def test_the_cli_refuses_it_and_never_prints_broken_yaml() -> None:
    done = subprocess.run(
        [str(CLI), "install", "--export", "--repo", "https://g/r.git",
         "--prometheus-url", "http://p:9090\n  - name: EVIL\n    value: x"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout[-300:]
    assert done.stdout == ""
    assert "--prometheus-url" in done.stderr


def test_a_normal_render_parses() -> None:
    done = subprocess.run(
        [str(CLI), "install", "--export", "--repo", "https://g/r.git",
         "--prometheus-url", "http://prometheus.monitoring:9090"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    kinds = [doc["kind"] for doc in yaml.safe_load_all(done.stdout) if doc]
    assert kinds.count("Namespace") == 2 and kinds[-1] == "CronJob"
