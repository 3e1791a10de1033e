"""action.yml under a real workflow engine: `act` (self-hosted mode) runs a release
workflow with `uses: ./`, as examples/workflows/app-release.yml does, on a push
of tag v1.2.3 and on a bot's push to main.

The application repository holds a copy of the action (action.yml,
entrypoint.py, the package) and the app (Dockerfile, tests). The tool runs
preinstalled (`GITOPS_ACTION_PYTHON`, the project's venv); the build goes to
the tests' dockerd through buildx's default builder, the push to the tests'
registry. See testbed/act.py for what act is told and why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testbed.act import run_act
from testbed.actionrunner.scenario import BOT
from testbed.dockerd import DockerEngine
from testbed.githubapi.runner import parse_file_command
from testbed.registry import RegistryService
from tests.integration.ci_run_support import unique_repo

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = """name: release
on:
  push:
    branches: [main]
    tags: ["v*"]
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Test, build and push
        id: image
        uses: ./
        with:
          images: ${{ vars.IMAGE }}
          test-command: sh tests.sh
          bot: gitops-bot
          username: ${{ vars.REGISTRY_USERNAME }}
          password: ${{ secrets.REGISTRY_PASSWORD }}
      - name: Record the outputs
        env:
          SKIPPED: ${{ steps.image.outputs.skipped }}
          DIGEST: ${{ steps.image.outputs.digest }}
          TAGS: ${{ steps.image.outputs.tags }}
          TEST_OUTCOME: ${{ steps.image.outputs.test-outcome }}
        run: |
          {
            printf 'skipped<<EOT\\n%s\\nEOT\\n' "$SKIPPED"
            printf 'digest<<EOT\\n%s\\nEOT\\n' "$DIGEST"
            printf 'tags<<EOT\\n%s\\nEOT\\n' "$TAGS"
            printf 'test-outcome<<EOT\\n%s\\nEOT\\n' "$TEST_OUTCOME"
          } > "$RESULT_FILE"
"""


def app_repo(root: Path, git_env: dict[str, str], *, by_bot: bool) -> tuple[Path, str]:
    """A git repo with the action and an app; returns (path, head sha)."""
    root.mkdir(parents=True)
    for name in ("action.yml", "entrypoint.py", "pyproject.toml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(
        ROOT / "gitops_action", root / "gitops_action", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "Dockerfile").write_text("FROM scratch\nCOPY app.txt /app.txt\n")
    (root / "app.txt").write_text("hello\n")
    (root / "tests.sh").write_text(
        "touch \"$GITHUB_WORKSPACE/../tests-ran\"; echo 'tests: 3 passed'\n"
    )
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "release.yml").write_text(WORKFLOW)
    env = {**os.environ, **git_env}
    if by_bot:
        env.update({"GIT_AUTHOR_NAME": BOT["name"], "GIT_COMMITTER_NAME": BOT["name"]})
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"]):
        subprocess.run(argv, cwd=root, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "release"], cwd=root, env=env, check=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    return root, sha


def act_push(
    tmp_path: Path,
    registry: RegistryService,
    dockerd: DockerEngine,
    git_env: dict[str, str],
    *,
    ref: str,
    by_bot: bool,
) -> tuple[str, dict[str, str], str, str]:
    repo, sha = app_repo(tmp_path / "app", git_env, by_bot=by_bot)
    person = BOT if by_bot else {"name": "Ada", "email": "ada@acme.example", "username": "ada"}
    commit = {"id": sha, "message": "release", "author": person, "committer": person}
    event = tmp_path / "event.json"
    commits = [] if ref.startswith("refs/tags/") else [commit]
    event.write_text(
        json.dumps({"ref": ref, "after": sha, "commits": commits, "head_commit": commit})
    )
    name = unique_repo("act")
    result = tmp_path / "result.txt"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITOPS_", "DOCKER_"))
    }
    env["HOME"] = str(tmp_path / "home")
    run = run_act(
        repo,
        workflow=repo / ".github" / "workflows" / "release.yml",
        event=event,
        work=tmp_path,
        env=env,
        variables={"IMAGE": f"{registry.host}/{name}", "REGISTRY_USERNAME": registry.username},
        secrets={"REGISTRY_PASSWORD": registry.password},
        job_env={
            "GITOPS_ACTION_PYTHON": sys.executable,
            "DOCKER_HOST": dockerd.docker_host,
            "RESULT_FILE": str(result),
        },
    )
    assert run.code == 0, run.log[-6000:]
    assert "Job succeeded" in run.log
    outputs = parse_file_command(result.read_text())
    return name, outputs, sha, run.log


def test_tag_push_under_act_pushes_version_latest_and_sha_with_the_registry_digest(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine, git_env: dict[str, str]
) -> None:
    name, outputs, sha, log = act_push(
        tmp_path, registry, dockerd, git_env, ref="refs/tags/v1.2.3", by_bot=False
    )
    assert registry.list_tags(name) == sorted(["v1.2.3", "latest", f"sha-{sha[:7]}"])
    digest = registry.manifest_digest(name, "v1.2.3")
    assert outputs["digest"] == digest
    assert {registry.manifest_digest(name, t) for t in ("latest", f"sha-{sha[:7]}")} == {digest}
    assert outputs["skipped"] == "false" and outputs["test-outcome"] == "success"
    assert "tests: 3 passed" in log
    assert registry.password not in log


def test_bot_push_under_act_is_skipped_with_nothing_installed(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine, git_env: dict[str, str]
) -> None:
    name, outputs, _sha, log = act_push(
        tmp_path, registry, dockerd, git_env, ref="refs/heads/main", by_bot=True
    )
    assert outputs["skipped"] == "true"
    assert outputs["digest"] == ""
    assert registry.list_tags(name) == []
    assert "using the preinstalled" not in log  # the install step did not run
    assert "tests: 3 passed" not in log
