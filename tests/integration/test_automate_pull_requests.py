"""Pull-request mode: bot branches on the real git server, pull requests on the GitHub API stub."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.git_server import GitHttpServer
from testbed.githubapi.pulls import PullRequests
from testbed.githubapi.server import GitHubApiStub
from testbed.registry import RegistryService
from tests.integration.automate_support import Cli, cli_env, human_commit, log_records, seed_files

pytestmark = pytest.mark.services


def _world(registry, git_server, git_env, tmp_path, github_api, name, files_hook=None):
    repo = f"{name}/app"
    registry.push_image(repo, "v1.0.0")
    image = f"{registry.host}/{repo}"
    files = seed_files(image)
    if files_hook:
        files = files_hook(files)
    git_server.create_repo(name, files)
    github_api.add_repo("org/config")
    pulls = PullRequests.install(github_api)
    env = cli_env(
        git_env,
        cache=tmp_path / "cache",
        docker_config=registry.write_docker_config(tmp_path / "docker").parent,
        git_user=git_server.username,
        git_password=git_server.password,
        insecure=registry.host,
    )
    env.update(
        GITOPS_GITHUB_TOKEN=github_api.token or "",
        GITHUB_API_URL=github_api.url,
        GITOPS_GITHUB_REPOSITORY="org/config",
    )
    return repo, image, Cli(env), pulls


def test_pull_request_per_policy_and_tag_then_idle(
    registry: RegistryService,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
    github_api: GitHubApiStub,
) -> None:
    name = "pr-per-policy"
    repo, image, cli, pulls = _world(registry, git_server, git_env, tmp_path, github_api, name)
    url = git_server.repo_url(name, auth=False)
    main = git_server.head(name)
    registry.push_image(repo, "v1.1.0")

    report = cli.run("automate", "--repo", url, "--pull-request", "--output", "json").json()

    branch = "gitops/flux-system/app-v1.1.0"
    assert report["pushBranches"] == [branch]
    assert git_server.head(name) == main  # main untouched
    assert f"{image}:v1.1.0" in git_server.repos.read_file(name, "cluster/deployment.yaml", branch)
    assert log_records(git_server.repos.path(name), git_env, branch)[0]["trailer"] == "automate"
    (pr,) = pulls.open("org/config")
    assert (pr["head"]["ref"], pr["base"]["ref"]) == (branch, "main")
    assert pr["title"] == f"{image}:v1.1.0"
    assert "cluster/deployment.yaml" in pr["body"] and f"`{image}:v1.0.0`" in pr["body"]
    assert report["pullRequests"][0]["action"] == "created"

    # Main moves on (a human commit); the branch already carries the bump: no push, PR as is.
    human_commit(
        git_server.repos.path(name), git_env, tmp_path / "human", {"README": "x\n"}, "docs"
    )
    git_server.reset()
    again = cli.run("automate", "--repo", url, "--pull-request", "--output", "json").json()
    assert again["pushBranches"] == [] and git_server.counters().pushes == 0
    assert again["pullRequests"][0]["action"] == "unchanged"
    assert len(pulls.open("org/config")) == 1
    assert len(github_api.requests_to("POST", "/repos/org/config/pulls")) == 1

    registry.push_image(repo, "v1.2.0")
    newer = cli.run("automate", "--repo", url, "--pull-request", "--output", "json").json()
    assert newer["pushBranches"] == ["gitops/flux-system/app-v1.2.0"]
    assert len(pulls.open("org/config")) == 2


def test_flux_push_branch_gets_the_commit_and_one_pull_request(
    registry: RegistryService,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
    github_api: GitHubApiStub,
) -> None:
    def push_branch(files: dict[str, str]) -> dict[str, str]:
        automation = files["cluster/demo-automation.yaml"]
        files["cluster/demo-automation.yaml"] = automation.replace(
            "    push:\n      branch: main", "    push:\n      branch: image-updates"
        )
        return files

    name = "pr-flux-branch"
    repo, image, cli, pulls = _world(
        registry, git_server, git_env, tmp_path, github_api, name, push_branch
    )
    url = git_server.repo_url(name, auth=False)
    main = git_server.head(name)
    registry.push_image(repo, "v1.1.0")

    report = cli.run("automate", "--repo", url, "--output", "json").json()

    assert report["pushBranches"] == ["image-updates"] and git_server.head(name) == main
    assert git_server.repos.log(name, "image-updates") == [f"{image}:v1.1.0", "seed"]
    (pr,) = pulls.open("org/config")
    assert (pr["head"]["ref"], pr["base"]["ref"]) == ("image-updates", "main")

    git_server.reset()
    idle = cli.run("automate", "--repo", url, "--output", "json").json()
    assert idle["pushBranches"] == [] and git_server.counters().pushes == 0
    assert git_server.repos.log(name, "image-updates") == [f"{image}:v1.1.0", "seed"]

    # A human commit on the bot's branch is never overwritten.
    human_commit(
        git_server.repos.path(name),
        git_env,
        tmp_path / "h",
        {"x.txt": "x"},
        "human on branch",
        branch="image-updates",
    )
    registry.push_image(repo, "v1.2.0")
    refused = cli.run("automate", "--repo", url, check=1)
    assert "has commits not made by the automation" in refused.stderr
    assert git_server.repos.log(name, "image-updates")[0] == "human on branch"
