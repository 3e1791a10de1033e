"""`gitops-action automate` against the real registry (htpasswd) and the real smart-HTTP git server.

The config repo is the seed tutorial's cluster/ (v1beta1 automation,
`update.path: ./cluster`, messageTemplate `{{range .Updated.Images}}{{println .}}{{end}}`),
with the image pointed at the test registry.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.git_server import GitHttpServer
from testbed.registry import RegistryService
from tests.integration.automate_support import (
    Cli,
    cli_env,
    commit_diff,
    log_records,
    seed_files,
    tag_list_statuses,
)

pytestmark = pytest.mark.services


@pytest.fixture
def setup(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
):
    name = tmp_path.name.replace("_", "-").lower()[:40]
    repo = f"auto-{name}/app"
    registry.push_image(repo, "v1.0.0")
    image = f"{registry.host}/{repo}"
    git_server.create_repo(name, seed_files(image))
    env = cli_env(
        git_env,
        cache=tmp_path / "cache",
        docker_config=registry.write_docker_config(tmp_path / "docker").parent,
        git_user=git_server.username,
        git_password=git_server.password,
        insecure=registry.host,
    )
    return name, repo, image, Cli(env)


def test_new_tag_gives_one_commit_of_only_the_marked_bytes_then_idle(
    setup, registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str]
) -> None:
    name, repo, image, cli = setup
    url = git_server.repo_url(name, auth=False)
    seed_head = git_server.head(name)
    registry.push_image(repo, "v1.1.0")
    registry.push_image(repo, "v2.0.0")  # outside ^v1.0.0

    first = cli.run("automate", "--repo", url, "--output", "json")
    report = first.json()
    assert report["branch"] == "main" and report["path"] == "cluster"
    assert [p["action"] for p in report["policies"]] == ["updated"]
    assert report["policies"][0]["selected"] == "v1.1.0"
    bare = git_server.repos.path(name)
    log = log_records(bare, git_env)
    assert len(log) == 2 and log[1]["sha"] == seed_head
    bump = log[0]
    assert bump["subject"] == f"{image}:v1.1.0"
    assert (bump["name"], bump["email"]) == ("fluxcdbot", "fluxcdbot@users.noreply.github.com")
    assert bump["trailer"] == "automate"
    diff = commit_diff(bare, git_env, bump["sha"])
    removed = [
        line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")
    ]
    added = [
        line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")
    ]
    marker = ' # {"$imagepolicy": "flux-system:app"}'
    assert removed == [f"-          image: {image}:v1.0.0{marker}"]
    assert added == [f"+          image: {image}:v1.1.0{marker}"]
    expected = seed_files(image)["cluster/deployment.yaml"].replace(
        f"{image}:v1.0.0", f"{image}:v1.1.0"
    )
    assert git_server.repos.read_file(name, "cluster/deployment.yaml") == expected

    git_server.reset()
    registry_log = registry.workdir / "registry.log"
    before = len(tag_list_statuses(registry_log, repo))
    second = cli.run("automate", "--repo", url, "--output", "json").json()
    assert [p["action"] for p in second["policies"]] == ["unchanged"]
    assert second["commits"] == [] and second["pushed"] is False
    # One tags request per image: Basic credentials are offered up front, no 401 first.
    assert second["registryRequests"] == 1
    assert tag_list_statuses(registry_log, repo)[before:] == [200]
    counters = git_server.counters()
    assert counters.pushes == 0 and counters.fetches == 1
    assert git_server.head(name) == bump["sha"]
