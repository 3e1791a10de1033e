"""Humans pushing while `automate` runs: their commits survive, the bump lands on top, once.

Two ways to race:
- deterministic: a `pre-push` hook in the run's cached clone pushes a human
  commit after the run fetched and committed, just before its push reaches
  the server (so the server refuses the push as stale);
- concurrent: 20 automate processes with their own caches start together
  while a human keeps pushing.
"""

from __future__ import annotations

import json
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from testbed.git_server import GitHttpServer
from testbed.registry import RegistryService
from tests.integration.automate_support import (
    CONSOLE,
    Cli,
    cli_env,
    human_commit,
    log_records,
    seed_files,
)

pytestmark = pytest.mark.services

_HOOK = """#!/bin/sh
[ -e "{mark}" ] && exit 0
touch "{mark}"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX GIT_CONFIG_COUNT
cd "{work}" || exit 1
git fetch -q origin && git reset -q --hard origin/main || exit 1
echo "edited during the run" > docs/human.txt
git add -A && git commit -qm "human commit during the run" && git push -q origin HEAD:main
"""


def _setup(
    registry: RegistryService, git_server: GitHttpServer, git_env, tmp_path: Path, name: str
):
    repo = f"race-{name}/app"
    registry.push_image(repo, "v1.0.0")
    image = f"{registry.host}/{repo}"
    git_server.create_repo(name, {**seed_files(image), "docs/human.txt": "seed\n"})
    env = cli_env(
        git_env,
        cache=tmp_path / "cache",
        docker_config=registry.write_docker_config(tmp_path / "docker").parent,
        git_user=git_server.username,
        git_password=git_server.password,
        insecure=registry.host,
    )
    return repo, image, env


def test_human_push_between_fetch_and_push_survives_and_the_bump_lands_on_top(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    repo, image, env = _setup(registry, git_server, git_env, tmp_path, "race-hook")
    cli = Cli(env)
    url = git_server.repo_url("race-hook", auth=False)
    cli.run("automate", "--repo", url)  # idle: creates the cached clone
    (clone,) = [p for p in (tmp_path / "cache" / "repos").iterdir() if p.is_dir()]
    human_work = tmp_path / "human"
    subprocess.run(
        ["git", "clone", "-q", str(git_server.repos.path("race-hook")), str(human_work)],
        env=git_env,
        check=True,
    )
    hook = clone / ".git" / "hooks" / "pre-push"
    hook.write_text(_HOOK.format(mark=tmp_path / "hook-ran", work=human_work))
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)

    registry.push_image(repo, "v1.1.0")
    git_server.reset()
    report = cli.run("automate", "--repo", url, "--output", "json").json()

    assert (tmp_path / "hook-ran").exists()
    assert report["attempts"] == 2 and report["pushed"] is True
    log = log_records(git_server.repos.path("race-hook"), git_env)
    assert [entry["subject"] for entry in log] == [
        f"{image}:v1.1.0",
        "human commit during the run",
        "seed",
    ]
    assert git_server.repos.read_file("race-hook", "docs/human.txt") == "edited during the run\n"
    assert f"{image}:v1.1.0" in git_server.repos.read_file("race-hook", "cluster/deployment.yaml")
    assert git_server.counters().pushes == 2  # the refused one, then the one on top


def test_twenty_concurrent_runs_with_humans_pushing_never_lose_or_duplicate(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    repo, image, env = _setup(registry, git_server, git_env, tmp_path, "race-many")
    url = git_server.repo_url("race-many", auth=False)
    bare = git_server.repos.path("race-many")
    registry.push_image(repo, "v1.1.0")
    # A date of its own per run, so two runs' bump commits never share a sha (which would
    # hide a duplicate: the second push would find the branch already there).
    runs = []
    for number in range(20):
        date = f"2024-01-02T00:00:{number:02d}+00:00"
        run_env = {
            **env,
            "GITOPS_CACHE_DIR": str(tmp_path / f"cache-{number}"),
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        runs.append(
            subprocess.Popen(
                [
                    str(CONSOLE),
                    "automate",
                    "--repo",
                    url,
                    "--push-retries",
                    "8",
                    "--output",
                    "json",
                ],
                env=run_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    human_subjects = [f"human {number}" for number in range(6)]

    def humans() -> None:
        for number, subject in enumerate(human_subjects):
            human_commit(
                bare, env, tmp_path / "human", {f"docs/human-{number}.txt": subject}, subject
            )
            time.sleep(0.15)

    pusher = threading.Thread(target=humans)
    pusher.start()
    outputs = [run.communicate(timeout=240) for run in runs]
    pusher.join(timeout=120)

    failures = [
        (run.returncode, err)
        for run, (_out, err) in zip(runs, outputs, strict=True)
        if run.returncode
    ]
    assert failures == []
    reports = [json.loads(out) for out, _err in outputs]
    assert sum(1 for report in reports if report["pushed"]) == 1
    # The race really happened: runs were refused and re-planned on a moved head.
    print("attempts:", sorted(report["attempts"] for report in reports))
    subjects = [entry["subject"] for entry in log_records(bare, git_env)]
    assert subjects.count(f"{image}:v1.1.0") == 1
    for subject in human_subjects:
        assert subjects.count(subject) == 1
    assert subjects[-1] == "seed" and len(subjects) == len(human_subjects) + 2
    assert f"{image}:v1.1.0" in git_server.repos.read_file("race-many", "cluster/deployment.yaml")
