"""`automate` run modes: dry run, branch defaults, other transports, deepening, a broken cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.git_server import GitDaemon, GitHttpServer
from testbed.gitenv import run_git
from testbed.registry import RegistryService
from tests.integration.automate_support import Cli, cli_env, human_commit, log_records, seed_files

pytestmark = pytest.mark.services


def _images(registry: RegistryService, name: str, *tags: str) -> tuple[str, str]:
    repo = f"runs-{name}/app"
    for tag in ("v1.0.0", *tags):
        registry.push_image(repo, tag)
    return repo, f"{registry.host}/{repo}"


def _cli(git_env, tmp_path: Path, registry: RegistryService, git_server=None) -> Cli:
    return Cli(
        cli_env(
            git_env,
            cache=tmp_path / "cache",
            docker_config=registry.write_docker_config(tmp_path / "docker").parent,
            git_user=git_server.username if git_server else "",
            git_password=git_server.password if git_server else "",
            insecure=registry.host,
        )
    )


def test_dry_run_prints_the_diff_and_writes_nothing(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    _repo, image = _images(registry, "dry", "v1.1.0")
    git_server.create_repo("runs-dry", seed_files(image))
    head = git_server.head("runs-dry")
    git_server.reset()
    cli = _cli(git_env, tmp_path, registry, git_server)
    url = git_server.repo_url("runs-dry", auth=False)

    text = cli.run("automate", "--repo", url, "--dry-run")

    lines = text.stdout.splitlines()
    assert lines[0].split() == ["POLICY", "IMAGE", "CURRENT", "SELECTED", "ACTION", "WHY"]
    assert lines[1].split()[:5] == [
        "flux-system:app",
        image,
        f"{image}:v1.0.0",
        "v1.1.0",
        "updated",
    ]
    assert "--- a/cluster/deployment.yaml\n+++ b/cluster/deployment.yaml\n" in text.stdout
    assert f"+          image: {image}:v1.1.0 #" in text.stdout
    assert "dry run: would change 1 marker(s) in 1 file(s)" in text.stderr
    report = cli.run("automate", "--repo", url, "--dry-run", "--output", "json").json()
    assert report["changes"][0]["new"] == f"{image}:v1.1.0"
    assert report["message"] == f"{image}:v1.1.0\n" and report["commits"] == []
    assert git_server.counters().pushes == 0 and git_server.head("runs-dry") == head


def test_branch_comes_from_the_automation_over_git_daemon(
    registry: RegistryService, git_daemon: GitDaemon, git_env: dict[str, str], tmp_path: Path
) -> None:
    _repo, image = _images(registry, "branch", "v1.1.0")
    files = seed_files(image)
    files["cluster/demo-automation.yaml"] = files["cluster/demo-automation.yaml"].replace(
        "branch: main", "branch: deploy"
    )
    git_daemon.create_repo("runs-branch", files)
    git_daemon.repos.seed("runs-branch", files, message="deploy seed", branch="deploy")
    main = git_daemon.head("runs-branch")
    cli = _cli(git_env, tmp_path, registry)

    report = cli.run(
        "automate", "--repo", git_daemon.repo_url("runs-branch"), "--output", "json"
    ).json()

    assert report["branch"] == "deploy" and report["pushBranches"] == ["deploy"]
    assert git_daemon.head("runs-branch") == main
    assert git_daemon.log("runs-branch", "deploy")[0] == f"{image}:v1.1.0"


def test_a_repo_without_main_uses_its_default_branch_from_a_local_path(
    registry: RegistryService, git_env: dict[str, str], tmp_path: Path
) -> None:
    from testbed.git_repos import BareRepos

    _repo, image = _images(registry, "master", "v1.1.0")
    files = seed_files(image)
    files["cluster/demo-automation.yaml"] = files["cluster/demo-automation.yaml"].replace(
        "branch: main", "branch: master"
    )
    repos = BareRepos(tmp_path / "repos", git_env)
    bare = repos.create("local")
    repos.seed("local", files, branch="master")
    run_git("--git-dir", str(bare), "symbolic-ref", "HEAD", "refs/heads/master", env=git_env)
    cli = _cli(git_env, tmp_path, registry)

    report = cli.run("automate", "--repo", str(bare), "--output", "json").json()

    assert report["branch"] == "master"
    assert repos.log("local", "master")[0] == f"{image}:v1.1.0"
    missing = cli.run("automate", "--repo", str(bare), "--branch", "nope", check=1)
    assert "branch nope not found" in missing.stderr


def test_holds_deepen_a_shallow_clone_to_find_the_last_bot_commit(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    _repo, image = _images(registry, "deepen", "v1.1.0")
    git_server.create_repo("runs-deepen", seed_files(image))
    bare = git_server.repos.path("runs-deepen")
    cli = _cli(git_env, tmp_path, registry, git_server)
    url = git_server.repo_url("runs-deepen", auth=False)
    cli.run("automate", "--repo", url)
    bump = log_records(bare, git_env)[0]["sha"]
    work = tmp_path / "human"
    run_git("clone", "-q", str(bare), str(work), env=git_env)
    run_git("revert", "--no-edit", bump, cwd=work, env=git_env)
    run_git("push", "-q", "origin", "HEAD:main", cwd=work, env=git_env)
    for number in range(6):
        human_commit(bare, git_env, work, {f"notes/{number}.txt": "n"}, f"note {number}")

    fresh = cli.with_env(GITOPS_CACHE_DIR=str(tmp_path / "fresh-cache"))
    report = fresh.run("automate", "--repo", url, "--depth", "2", "--output", "json").json()

    assert report["holds"][0]["tag"] == "v1.1.0"
    assert report["gitFetches"] >= 2  # the shallow clone was deepened
    assert log_records(bare, git_env)[0]["trailer"] == "hold"
    assert f"{image}:v1.0.0" in git_server.repos.read_file("runs-deepen", "cluster/deployment.yaml")


def test_a_broken_cache_is_cloned_again(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    _repo, image = _images(registry, "broken")
    git_server.create_repo("runs-broken", seed_files(image))
    cli = _cli(git_env, tmp_path, registry, git_server)
    url = git_server.repo_url("runs-broken", auth=False)
    cli.run("automate", "--repo", url)
    (clone,) = [p for p in (tmp_path / "cache" / "repos").iterdir() if p.is_dir()]
    (clone / ".git" / "HEAD").write_text("garbage\n")  # as if a run died mid-write
    (clone / ".git" / "index.lock").write_text("")

    registry.push_image("runs-broken/app", "v1.1.0")
    report = cli.run("automate", "--repo", url, "--output", "json").json()

    assert report["pushed"] is True
    assert git_server.log("runs-broken")[0] == f"{image}:v1.1.0"


def test_a_suspended_policy_is_left_alone(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    _repo, image = _images(registry, "suspend", "v1.1.0")
    files = seed_files(image)
    files["cluster/app-policy.yaml"] = files["cluster/app-policy.yaml"].replace(
        "spec:\n", "spec:\n  suspend: true\n"
    )
    git_server.create_repo("runs-suspend", files)
    head = git_server.head("runs-suspend")
    cli = _cli(git_env, tmp_path, registry, git_server)

    report = cli.run(
        "automate", "--repo", git_server.repo_url("runs-suspend", auth=False), "--output", "json"
    ).json()

    assert [p["action"] for p in report["policies"]] == ["suspended"]
    assert report["registryRequests"] == 0 and git_server.head("runs-suspend") == head
