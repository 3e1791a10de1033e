"""Revert-aware holds and `hold`/`release`, against the real registry and smart-HTTP git.

A human `git revert` of a bump makes the next run hold the reverted-from tag
(an exclusionList entry in git, with a comment naming the revert), never
re-bump to it, and still take a newer tag.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from testbed.git_server import GitHttpServer
from testbed.gitenv import run_git
from testbed.registry import RegistryService
from tests.integration.automate_support import (
    Cli,
    cli_env,
    commit_diff,
    log_records,
    seed_files,
)

pytestmark = pytest.mark.services

HUMAN = {
    "GIT_AUTHOR_NAME": "Jane Reverter",
    "GIT_AUTHOR_EMAIL": "jane@example.test",
    "GIT_COMMITTER_NAME": "Jane Reverter",
    "GIT_COMMITTER_EMAIL": "jane@example.test",
}


@pytest.fixture
def world(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
):
    name = "holds-" + tmp_path.name.replace("_", "-").lower()[:30]
    repo = f"{name}/app"
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
    return name, repo, image, Cli(env), git_server.repo_url(name, auth=False)


def _exclusions(git_server: GitHttpServer, name: str) -> list[str] | None:
    text = git_server.repos.read_file(name, "cluster/app-registry.yaml")
    docs = [doc for doc in yaml.safe_load_all(text) if doc]
    return docs[0]["spec"].get("exclusionList")


def test_a_reverted_bump_is_held_not_rebumped_and_a_newer_tag_is_taken(
    world,
    registry: RegistryService,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    name, repo, image, cli, url = world
    bare = git_server.repos.path(name)
    registry.push_image(repo, "v1.1.0")
    cli.run("automate", "--repo", url)
    bump = log_records(bare, git_env)[0]
    assert bump["subject"] == f"{image}:v1.1.0"

    work = tmp_path / "human"
    human_env = {**git_env, **HUMAN}
    run_git("clone", "-q", str(bare), str(work), env=human_env)
    run_git("revert", "--no-edit", bump["sha"], cwd=work, env=human_env)
    run_git("push", "-q", "origin", "HEAD:main", cwd=work, env=human_env)
    revert_sha = run_git("rev-parse", "HEAD", cwd=work, env=human_env).stdout.strip()
    registry_before = git_server.repos.read_file(name, "cluster/app-registry.yaml")

    report = cli.run("automate", "--repo", url, "--output", "json").json()

    assert [p["action"] for p in report["policies"]] == ["held"]
    assert report["holds"][0]["tag"] == "v1.1.0" and report["holds"][0]["reverted_to"] == "v1.0.0"
    assert report["holds"][0]["commit"] == revert_sha
    log = log_records(bare, git_env)
    assert log[0]["subject"] == "Hold flux-system:app off v1.1.0 (reverted to v1.0.0)"
    assert log[0]["trailer"] == "hold" and log[0]["email"] == "fluxcdbot@users.noreply.github.com"
    assert log[1]["sha"] == revert_sha
    assert f"{image}:v1.0.0" in git_server.repos.read_file(name, "cluster/deployment.yaml")
    assert _exclusions(git_server, name) == ["^.*\\.sig$", "^v1\\.1\\.0$"]
    # Only lines were added to the ImageRepository, right after spec.image.
    diff = commit_diff(bare, git_env, log[0]["sha"])
    changed = [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        "+  exclusionList:",
        "+    - ^.*\\.sig$",
        f"+    # gitops-action hold: v1.1.0 reverted to v1.0.0 by Jane Reverter "
        f"<jane@example.test> in {revert_sha[:7]} on 2024-01-01T00:00:00+00:00",
        "+    - ^v1\\.1\\.0$",
    ]
    after = git_server.repos.read_file(name, "cluster/app-registry.yaml")
    assert (
        after.replace("  exclusionList:\n" + "\n".join(line[1:] for line in changed[1:]) + "\n", "")
        == registry_before
    )

    git_server.reset()
    idle = cli.run("automate", "--repo", url, "--output", "json").json()
    assert idle["commits"] == [] and idle["holds"] == []
    assert idle["policies"][0]["selected"] == "v1.0.0"
    assert git_server.counters().pushes == 0

    registry.push_image(repo, "v1.2.0")
    newer = cli.run("automate", "--repo", url, "--output", "json").json()
    assert [p["action"] for p in newer["policies"]] == ["updated"]
    assert log_records(bare, git_env)[0]["subject"] == f"{image}:v1.2.0"
    assert _exclusions(git_server, name) == ["^.*\\.sig$", "^v1\\.1\\.0$"]


def test_hold_and_release_on_the_remote_repo(
    world, registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str]
) -> None:
    name, repo, image, cli, url = world
    bare = git_server.repos.path(name)
    registry.push_image(repo, "v1.1.0")

    held = cli.run(
        "hold", "flux-system:app", "v1.1.0", "--repo", url, "--by", "ops", "--output", "json"
    ).json()
    assert held["action"] == "held" and held["pushed"] is True
    assert held["file"] == "cluster/app-registry.yaml"
    assert log_records(bare, git_env)[0]["subject"] == "Hold flux-system:app off v1.1.0 by ops"
    assert log_records(bare, git_env)[0]["trailer"] == "hold"
    again = cli.run("hold", "flux-system:app", "v1.1.0", "--repo", url, "--output", "json").json()
    assert again["action"] == "already held" and again["commit"] is None

    report = cli.run("automate", "--repo", url, "--output", "json").json()
    assert report["policies"][0]["selected"] == "v1.0.0" and report["commits"] == []

    released = cli.run("release", "flux-system:app", "v1.1.0", "--repo", url, "--output", "json")
    assert released.json()["action"] == "released"
    assert _exclusions(git_server, name) == ["^.*\\.sig$"]
    assert log_records(bare, git_env)[0]["trailer"] == "release"
    report = cli.run("automate", "--repo", url, "--output", "json").json()
    assert report["policies"][0]["action"] == "updated"
    assert log_records(bare, git_env)[0]["subject"] == f"{image}:v1.1.0"


def test_hold_and_release_in_a_local_checkout_edit_only_the_list(
    world, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    name, _repo, _image, cli, _url = world
    checkout = tmp_path / "checkout"
    run_git("clone", "-q", str(git_server.repos.path(name)), str(checkout), env=git_env)
    path = checkout / "cluster" / "app-registry.yaml"
    original = path.read_text()

    out = cli.run(
        "hold",
        "flux-system:app",
        "v2.0.0",
        "--dir",
        str(checkout),
        "--by",
        "me",
        "--reason",
        "broken migrations",
    )
    assert out.stdout == "cluster/app-registry.yaml\n"
    text = path.read_text()
    assert "    # gitops-action hold: v2.0.0 held by me on " in text
    assert text.splitlines()[-3].endswith(": broken migrations")
    assert yaml.safe_load(text.split("---\n", 1)[1])["spec"]["exclusionList"] == [
        "^.*\\.sig$",
        "^v2\\.0\\.0$",
    ]
    cli.run("hold", "flux-system:app", "v2.1.0", "--dir", str(checkout))
    cli.run("release", "flux-system:app", "v2.0.0", "--dir", str(checkout))
    spec = yaml.safe_load(path.read_text().split("---\n", 1)[1])["spec"]
    assert spec["exclusionList"] == ["^.*\\.sig$", "^v2\\.1\\.0$"]
    assert "v2.0.0" not in path.read_text()
    cli.run("release", "flux-system:app", "v2.1.0", "--dir", str(checkout))
    assert path.read_text() == original.replace(
        "\n  interval: 30s", "\n  exclusionList:\n    - ^.*\\.sig$\n  interval: 30s"
    )
    status = run_git("status", "--porcelain", cwd=checkout, env=git_env).stdout
    assert status == " M cluster/app-registry.yaml\n"  # edited, never committed

    bad = cli.run("hold", "flux-system:nope", "v1", "--dir", str(checkout), check=2)
    assert "ImagePolicy flux-system/nope is not in the config" in bad.stderr
    usage = cli.run("hold", "app", "v1", "--dir", str(checkout), check=2)
    assert "expected NS:NAME" in usage.stderr
