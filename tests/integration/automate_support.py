"""Shared set-up for the scan / automate / hold integration tests.

The config repo is the seed tutorial's `cluster/` directory, unchanged except
that the image points at the test registry (`registry.host/<repo>`), which is
what a user of the local registry would do. The CLI always runs as the real
console script in a subprocess, with the pinned git environment.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.gitenv import run_git

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "cluster"
CONSOLE = Path(sys.executable).with_name("gitops-action")
SEED_FILES = ("app-registry.yaml", "app-policy.yaml", "demo-automation.yaml", "deployment.yaml")


def seed_files(image: str, tag: str = "v1.0.0") -> dict[str, str]:
    """The tutorial's cluster/ files with the image moved to `image` (starting at `tag`)."""
    files = {f"cluster/{name}": (CLUSTER / name).read_text() for name in SEED_FILES}
    files["cluster/app-registry.yaml"] = files["cluster/app-registry.yaml"].replace(
        "image: chripp/app", f"image: {image}"
    )
    files["cluster/deployment.yaml"] = files["cluster/deployment.yaml"].replace(
        "image: chripp/app:v1.0.0", f"image: {image}:{tag}"
    )
    return files


@dataclass
class Cli:
    """Runs `gitops-action` with a fixed environment."""

    env: dict[str, str]

    def run(self, *args: str, check: int | None = 0, timeout: float = 120) -> Result:
        completed = subprocess.run(
            [str(CONSOLE), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = Result(completed.returncode, completed.stdout, completed.stderr)
        if check is not None:
            assert completed.returncode == check, (
                f"exit {completed.returncode}, expected {check}\n"
                f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
            )
        return result

    def with_env(self, **extra: str) -> Cli:
        return Cli({**self.env, **extra})


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def cli_env(
    git_env: Mapping[str, str],
    *,
    cache: Path,
    docker_config: Path | None = None,
    git_user: str = "",
    git_password: str = "",
    insecure: str = "",
) -> dict[str, str]:
    env = dict(git_env)
    env["GITOPS_CACHE_DIR"] = str(cache)
    env["DOCKER_CONFIG"] = str(docker_config or cache / "no-docker-config")
    if git_user:
        env["GITOPS_GIT_USERNAME"] = git_user
    if git_password:
        env["GITOPS_GIT_PASSWORD"] = git_password
    if insecure:
        env["GITOPS_INSECURE_REGISTRIES"] = insecure
    return env


def human_commit(
    bare: Path,
    env: Mapping[str, str],
    work: Path,
    files: Mapping[str, str],
    message: str,
    *,
    branch: str = "main",
    tries: int = 30,
) -> str:
    """Commit `files` as a human on top of the branch in the bare repo (retrying races)."""
    human = {
        **env,
        "GIT_AUTHOR_NAME": "Human Dev",
        "GIT_AUTHOR_EMAIL": "human@example.test",
        "GIT_COMMITTER_NAME": "Human Dev",
        "GIT_COMMITTER_EMAIL": "human@example.test",
    }
    if not (work / ".git").exists():
        run_git("clone", "--quiet", "--branch", branch, str(bare), str(work), env=human)
    for _ in range(tries):
        run_git("fetch", "--quiet", "origin", env=human, cwd=work)
        run_git("reset", "--quiet", "--hard", f"origin/{branch}", env=human, cwd=work)
        for rel, content in files.items():
            path = work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        run_git("add", "--all", env=human, cwd=work)
        run_git("commit", "--quiet", "-m", message, env=human, cwd=work)
        pushed = run_git(
            "push", "--quiet", "origin", f"HEAD:{branch}", env=human, cwd=work, check=False
        )
        if pushed.returncode == 0:
            return run_git("rev-parse", "HEAD", env=human, cwd=work).stdout.strip()
    raise AssertionError(f"could not push {message!r} after {tries} tries")


def commit_diff(bare: Path, env: Mapping[str, str], sha: str) -> str:
    """The patch of one commit (no header), as git shows it."""
    return run_git("--git-dir", str(bare), "show", "--format=", "--no-color", sha, env=env).stdout


def log_records(bare: Path, env: Mapping[str, str], branch: str = "main") -> list[dict[str, str]]:
    out = run_git(
        "--git-dir",
        str(bare),
        "log",
        "--format=%H%x1f%an%x1f%ae%x1f%s%x1f%(trailers:key=Gitops-Action,valueonly)%x1e",
        branch,
        env=env,
    ).stdout
    records = []
    for raw in out.split("\x1e"):
        raw = raw.strip("\n")
        if raw:
            sha, name, email, subject, trailer = raw.split("\x1f")
            records.append(
                {
                    "sha": sha,
                    "name": name,
                    "email": email,
                    "subject": subject,
                    "trailer": trailer.strip(),
                }
            )
    return records


def tag_list_statuses(registry_log: Path, repo: str) -> list[int]:
    """HTTP statuses of the registry's answers to `GET /v2/<repo>/tags/list`, in order."""
    pattern = re.compile(rf'"GET /v2/{re.escape(repo)}/tags/list[^"]*" (\d{{3}}) ')
    text = registry_log.read_text(errors="replace")
    return [int(match.group(1)) for match in pattern.finditer(text)]
