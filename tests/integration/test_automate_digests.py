"""ImagePolicy `digestReflectionPolicy` in `automate`, against the real registry and git server.

As in Flux: with a policy that reflects digests, full markers get
`IMAGE:TAG@DIGEST` and `:digest` markers the digest, taken by `HEAD` of the
selected tag's manifest; `Always` looks again at every run (a re-pushed tag is
noticed), `IfNotPresent` keeps what git records for the tag.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.git_server import GitHttpServer
from testbed.registry import RegistryService
from tests.integration.automate_support import Cli, cli_env, seed_files

pytestmark = pytest.mark.services

PIN = 'digest: sha256:{zeros} # {{"$imagepolicy": "flux-system:app:digest"}}\n'


def _setup(
    mode: str,
    registry: RegistryService,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
) -> tuple[str, str, str, Cli]:
    name = tmp_path.name.replace("_", "-").lower()[:40]
    repo = f"digest-{name}/app"
    registry.push_image(repo, "v1.0.0")
    image = f"{registry.host}/{repo}"
    files = seed_files(image)
    files["cluster/app-policy.yaml"] = files["cluster/app-policy.yaml"].replace(
        "spec:\n", f"spec:\n  interval: 1m\n  digestReflectionPolicy: {mode}\n"
    )
    files["cluster/pin.yaml"] = PIN.format(zeros="0" * 64)
    git_server.create_repo(name, files)
    env = cli_env(
        git_env,
        cache=tmp_path / "cache",
        docker_config=registry.write_docker_config(tmp_path / "docker").parent,
        git_user=git_server.username,
        git_password=git_server.password,
        insecure=registry.host,
    )
    return name, repo, image, Cli(env)


@pytest.mark.parametrize("mode", ["Always", "IfNotPresent"])
def test_digest_markers_get_the_selected_tags_digest(
    mode: str,
    registry: RegistryService,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    name, repo, image, cli = _setup(mode, registry, git_server, git_env, tmp_path)
    digest = registry.push_image(repo, "v1.1.0")
    url = git_server.repo_url(name, auth=False)

    report = cli.run("automate", "--repo", url, "--output", "json").json()

    assert [p["action"] for p in report["policies"]] == ["updated"]
    assert digest == registry.manifest_digest(repo, "v1.1.0")
    deployment = git_server.repos.read_file(name, "cluster/deployment.yaml")
    assert f"image: {image}:v1.1.0@{digest} # " in deployment
    pin = git_server.repos.read_file(name, "cluster/pin.yaml")
    assert pin == f'digest: {digest} # {{"$imagepolicy": "flux-system:app:digest"}}\n'


def test_always_notices_a_repushed_tag_and_if_not_present_keeps_git(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    for mode in ("Always", "IfNotPresent"):
        name, repo, _image, cli = _setup(mode, registry, git_server, git_env, tmp_path / mode)
        first = registry.push_image(repo, "v1.1.0")
        url = git_server.repo_url(name, auth=False)
        cli.run("automate", "--repo", url)
        repushed = registry.push_image(repo, "v1.1.0", files={"tag.txt": f"rebuilt {mode}"})
        assert repushed != first

        cli.run("automate", "--repo", url)

        pin = git_server.repos.read_file(name, "cluster/pin.yaml")
        expected = repushed if mode == "Always" else first
        assert pin.startswith(f"digest: {expected} "), (mode, pin)


def test_a_bad_digest_reflection_policy_is_named(
    registry: RegistryService, git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    name, _repo, _image, cli = _setup("Sometimes", registry, git_server, git_env, tmp_path)
    url = git_server.repo_url(name, auth=False)
    done = cli.run("automate", "--repo", url, check=2)
    assert "spec.digestReflectionPolicy: 'Sometimes' is not one of Never, IfNotPresent, Always" in (
        done.stderr
    )
