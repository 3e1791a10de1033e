"""The should-skip fast path runs on a bare interpreter, before any install.

The action runs `python3 $ACTION_PATH/gitops_action/app/should_skip.py` with
the runner's stock Python, so the module chain must import only the standard
library and must work on Python 3.9+. These tests run it with `-I -S` (no
site-packages, no user env vars, no script dir on sys.path) and on older
interpreters when the machine has them. Timing is measured and printed (run
with `-s` to see it), never asserted.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from testbed.githubapi.runner import parse_file_command

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "gitops_action" / "app" / "should_skip.py"
BOT = {"name": "gitops-bot", "email": "gitops@acme.example"}
ACTIONS_BOT = {"name": "github-actions[bot]", "email": "4+github-actions[bot]@x", "username": ""}

PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
before = set(sys.modules)
import gitops_action.app.should_skip
new = sorted(set(sys.modules) - before)
foreign = [m for m in new
           if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "gitops_action"]
print(json.dumps({"new": new, "foreign": foreign}))
"""


def bare_env(**extra: str) -> dict[str, str]:
    """Only what a runner step would have that matters here (no PYTHON* leaking in)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def push_event(tmp_path: Path, commits: list[dict[str, Any]]) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "ref": "refs/heads/main",
                "deleted": False,
                "commits": [
                    {"id": f"{i + 1:040x}", "message": "bump", "author": c, "committer": c}
                    for i, c in enumerate(commits)
                ],
                "repository": {"full_name": "acme/app"},
            }
        ),
        encoding="utf-8",
    )
    output = tmp_path / "out"
    output.write_text("", encoding="utf-8")
    return {
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_ACTOR": "gitops-bot",
        "GITHUB_REPOSITORY": "acme/app",
        "GITHUB_OUTPUT": str(output),
    }


def run_file(
    python: str, env: dict[str, str], cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-I", "-S", str(FILE), *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=30, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("flags", [["-I", "-S"], ["-I"]], ids=["no-site", "with-site"])
def test_module_chain_imports_only_the_standard_library(flags: list[str]) -> None:
    """Even with site-packages available (click, semver, PyGithub installed), none loads."""
    result = subprocess.run(
        [sys.executable, *flags, "-c", PROBE, str(ROOT)],
        capture_output=True, text=True, env=bare_env(), timeout=30, check=True,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["foreign"] == []
    assert "gitops_action.app.should_skip" in report["new"]
    for heavy in ("click", "semver", "yaml", "github", "requests", "gitops_action.cli"):
        assert heavy not in report["new"]


def test_file_mode_in_isolation_decides_and_writes_output(tmp_path: Path) -> None:
    env = bare_env(**push_event(tmp_path, [BOT, ACTIONS_BOT]))
    result = run_file(sys.executable, env, tmp_path, "--bot", "gitops-bot")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("skip=true\nreason=all 2 commits")
    written = parse_file_command(Path(env["GITHUB_OUTPUT"]).read_bytes().decode())
    assert written["skip"] == "true"


def test_module_mode_with_only_the_repo_on_pythonpath(tmp_path: Path) -> None:
    env = bare_env(PYTHONPATH=str(ROOT), **push_event(tmp_path, [BOT]))
    result = subprocess.run(
        [sys.executable, "-S", "-m", "gitops_action.app.should_skip"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("skip=false\n")  # gitops-bot is not declared a bot here
    assert "gitops-bot" in result.stdout


def test_pull_request_without_pygithub_says_the_author_was_not_checked(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    payload = {"number": 4, "pull_request": {"number": 4, "head": {"sha": "a" * 40}}}
    event.write_text(json.dumps(payload), encoding="utf-8")
    env = bare_env(
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(event),
        GITHUB_REF="refs/pull/4/merge",
        GITHUB_REPOSITORY="acme/app",
        GITHUB_TOKEN="ghs_whatever",
    )
    result = run_file(sys.executable, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("skip=false\n")
    assert "could not check the author of pull request #4" in result.stdout
    assert "PyGithub is not installed" in result.stdout


def test_help_and_bad_flags() -> None:
    ok = subprocess.run(
        [sys.executable, "-I", "-S", str(FILE), "--help"],
        capture_output=True, text=True, env=bare_env(), timeout=30, check=False,
    )  # fmt: skip
    assert ok.returncode == 0
    assert "--bot" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-I", "-S", str(FILE), "--nope"],
        capture_output=True, text=True, env=bare_env(), timeout=30, check=False,
    )  # fmt: skip
    assert bad.returncode == 2


def test_fast_path_speed_is_reported(tmp_path: Path, record_property: Any) -> None:
    """Measured side by side with a bare interpreter start; printed, not asserted."""
    env = bare_env(**push_event(tmp_path, [BOT]))

    def best(command: list[str]) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        return min(times)

    bare = best([sys.executable, "-I", "-S", "-c", "pass"])
    skip = best([sys.executable, "-I", "-S", str(FILE), "--bot", "gitops-bot"])
    record_property("should_skip_seconds", round(skip, 4))
    record_property("bare_python_seconds", round(bare, 4))
    print(
        f"\nshould-skip fast path: {skip * 1000:.1f} ms (bare python -I -S: {bare * 1000:.1f} ms)"
    )
    assert skip > 0


def older_interpreter(version: str) -> str | None:
    """A runnable python<version> on this machine, if any (PATH or pyenv)."""
    home = os.path.expanduser("~")
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(f"{home}/.pyenv/versions/{version}.*/bin/python{version}"))
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-I", "-S", "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        if probe.returncode == 0:
            return candidate
    return None


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.12", "3.13"])
def test_runs_on_other_stock_pythons(tmp_path: Path, version: str) -> None:
    python = older_interpreter(version)
    if python is None:
        pytest.skip(f"no python{version} on this machine")
    env = bare_env(**push_event(tmp_path, [BOT, ACTIONS_BOT]))
    result = run_file(python, env, tmp_path, "--bot", "gitops-bot")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("skip=true\n")
    written = parse_file_command(Path(env["GITHUB_OUTPUT"]).read_bytes().decode())
    assert written["skip"] == "true"
