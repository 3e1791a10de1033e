"""Bad input for `automate`: per-policy registry failures, config errors, git credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.git_server import GitHttpServer
from testbed.paging_registry import PagingRegistry
from testbed.registry import RegistryService
from tests.integration.automate_support import Cli, cli_env, log_records, seed_files

pytestmark = pytest.mark.services

EXTRA = """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: {name}
  namespace: flux-system
spec:
  image: {image}
  interval: 1m
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: {name}
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: {name}
  policy:
    semver:
      range: {range}
"""

WORKERS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: workers
data:
  missing: {missing}:v1.0.0 # {{"$imagepolicy": "flux-system:missing"}}
  locked: {locked}:v1.0.0 # {{"$imagepolicy": "flux-system:locked"}}
"""


def _env(
    git_env, tmp_path: Path, registry: RegistryService, git_server: GitHttpServer, *hosts: str
):
    return cli_env(
        git_env,
        cache=tmp_path / "cache",
        docker_config=registry.write_docker_config(tmp_path / "docker").parent,
        git_user=git_server.username,
        git_password=git_server.password,
        insecure=" ".join(hosts),
    )


def test_401_and_404_fail_their_policies_and_the_others_still_update(
    registry: RegistryService,
    paging_registry: PagingRegistry,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    repo = "errors-partial/app"
    registry.push_image(repo, ["v1.0.0"])
    registry.push_image(repo, "v1.1.0")
    image = f"{registry.host}/{repo}"
    missing = f"{registry.host}/errors-partial/nope"
    locked = f"{paging_registry.host}/locked/app"
    paging_registry.set_tags("locked/app", ["v1.0.0", "v1.5.0"])
    paging_registry.require_auth("someone", "secret-pass-x")
    files = seed_files(image)
    files["cluster/missing.yaml"] = EXTRA.format(name="missing", image=missing, range="^v1.0.0")
    files["cluster/locked.yaml"] = EXTRA.format(name="locked", image=locked, range="^v1.0.0")
    files["cluster/workers.yaml"] = WORKERS.format(missing=missing, locked=locked)
    git_server.create_repo("errors-partial", files)
    cli = Cli(_env(git_env, tmp_path, registry, git_server, registry.host, paging_registry.host))

    result = cli.run(
        "automate",
        "--repo",
        git_server.repo_url("errors-partial", auth=False),
        "--output",
        "json",
        check=1,
    )

    report = result.json()
    actions = {p["policy"]: p["action"] for p in report["policies"]}
    assert actions == {
        "flux-system:app": "updated",
        "flux-system:locked": "failed",
        "flux-system:missing": "failed",
    }
    errors = {p["policy"]: p["error"] for p in report["policies"] if p["error"]}
    assert "HTTP 401" in errors["flux-system:locked"]
    assert "ImageRepository flux-system/locked" in errors["flux-system:locked"]
    assert "HTTP 404" in errors["flux-system:missing"]
    assert "not found" in errors["flux-system:missing"]
    assert "2 of 3 policies failed" in result.stderr
    assert report["pushed"] is True
    assert log_records(git_server.repos.path("errors-partial"), git_env)[0]["subject"] == (
        f"{image}:v1.1.0"
    )
    workers = git_server.repos.read_file("errors-partial", "cluster/workers.yaml")
    assert workers == files["cluster/workers.yaml"]


def test_an_invalid_policy_is_named_with_its_file_exit_2_nothing_pushed(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    repo = "errors-config/app"
    registry.push_image(repo, ["v1.0.0"])
    registry.push_image(repo, "v1.1.0")
    image = f"{registry.host}/{repo}"
    files = seed_files(image)
    files["cluster/bad-policy.yaml"] = EXTRA.format(name="bad", image=image, range="banana")
    git_server.create_repo("errors-config", files)
    head = git_server.head("errors-config")
    git_server.reset()
    cli = Cli(_env(git_env, tmp_path, registry, git_server, registry.host))

    result = cli.run(
        "automate", "--repo", git_server.repo_url("errors-config", auth=False), check=2
    )

    assert "cluster/bad-policy.yaml" in result.stderr
    assert "ImagePolicy flux-system/bad" in result.stderr
    assert "spec.policy.semver.range" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert git_server.counters().pushes == 0
    assert git_server.head("errors-config") == head


def test_git_credentials_never_leak_into_output_or_the_cached_config(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    repo = "errors-creds/app"
    registry.push_image(repo, ["v1.0.0"])
    image = f"{registry.host}/{repo}"
    git_server.create_repo("errors-creds", seed_files(image))
    env = _env(git_env, tmp_path, registry, git_server, registry.host)
    no_env_creds = {k: v for k, v in env.items() if not k.startswith("GITOPS_GIT_")}

    # Credentials carried by the URL work, and are kept out of .git/config and messages.
    with_creds = Cli(no_env_creds).run(
        "automate", "--repo", git_server.repo_url("errors-creds"), "--output", "json", "-v"
    )
    assert with_creds.json()["repo"] == git_server.repo_url("errors-creds", auth=False)
    (clone,) = [p for p in (tmp_path / "cache" / "repos").iterdir() if p.is_dir()]
    config = (clone / ".git" / "config").read_text()
    assert git_server.password not in config and git_server.username not in config
    assert git_server.password not in with_creds.stdout + with_creds.stderr

    # Wrong password: a clear one-line error, exit 1, the password nowhere.
    wrong = "wrong-pass-777"
    bad = Cli({**env, "GITOPS_GIT_PASSWORD": wrong, "GITOPS_CACHE_DIR": str(tmp_path / "c2")}).run(
        "automate", "--repo", git_server.repo_url("errors-creds", auth=False), check=1
    )
    assert "git authentication failed" in bad.stderr
    assert wrong not in bad.stderr + bad.stdout

    wrong_in_url = git_server.repo_url("errors-creds").replace(git_server.password, wrong)
    bad_url = Cli({**no_env_creds, "GITOPS_CACHE_DIR": str(tmp_path / "c3")}).run(
        "automate", "--repo", wrong_in_url, check=1
    )
    assert wrong not in bad_url.stderr + bad_url.stdout
    assert "***@" in bad_url.stderr or "authentication failed" in bad_url.stderr

    with git_server.failing("503"):
        down = Cli({**env, "GITOPS_CACHE_DIR": str(tmp_path / "c4")}).run(
            "automate", "--repo", git_server.repo_url("errors-creds", auth=False), check=1
        )
    assert "503" in down.stderr and git_server.password not in down.stderr
