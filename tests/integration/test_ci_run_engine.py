"""`ci run` without the buildx plugin: `DOCKER_BUILDKIT=1 docker build` on the engine's
own BuildKit, then `docker push` per tag.

The plugin is installed machine-wide by bootstrap, so each run here gets a
private mount namespace (`unshare --mount`, root) with an empty tmpfs over
the system plugin directory, and Debian's docker CLI 20.10 (which still has
its own BuildKit client) first on PATH: exactly a runner with an older docker
and no buildx.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import pytest

from gitops_action.adapters.docker_build import PLUGIN_DIRS
from testbed.actionrunner.scenario import make_project
from testbed.dockerd import DockerEngine
from testbed.registry import RegistryService
from tests.integration.ci_run_support import Run, ci_run, credentials, unique_repo

pytestmark = pytest.mark.services

OLD_CLI = Path("/usr/bin/docker")


def without_buildx(tmp_path: Path) -> tuple[str, ...]:
    """argv prefix: run the command where no buildx plugin can be found."""
    if shutil.which("unshare") is None or os.geteuid() != 0 or not OLD_CLI.exists():
        pytest.fail("needs root, unshare and Debian's docker CLI (scripts/bootstrap.sh)")
    bin_dir = tmp_path / "old-docker"
    bin_dir.mkdir()
    (bin_dir / "docker").symlink_to(OLD_CLI)
    mounts = " && ".join(
        f"mount -t tmpfs none {shlex.quote(d)}" for d in PLUGIN_DIRS if Path(d).is_dir()
    )
    script = f'{mounts or "true"} && PATH={shlex.quote(str(bin_dir))}:"$PATH" exec "$@"'
    return ("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh")


def engine_run(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine, repo: str, env: dict[str, str]
) -> Run:
    workspace = make_project(tmp_path / "ws", dockerfile="FROM scratch\nCOPY app.txt /app.txt\n")
    return ci_run(
        tmp_path,
        image=f"{registry.host}/{repo}",
        docker_host=dockerd.docker_host,
        workspace=workspace,
        extra_env={**credentials(registry), "DOCKER_CONFIG": str(tmp_path / "cfg"), **env},
        prefix=without_buildx(tmp_path),
    )


def test_without_buildx_the_engines_buildkit_builds_and_each_tag_is_pushed(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("engine")
    run = engine_run(tmp_path, registry, dockerd, repo, {})
    assert run.code == 0, run.stderr
    assert "building with DOCKER_BUILDKIT=1 docker build (the engine's BuildKit)" in run.stderr
    assert registry.list_tags(repo) == ["latest", "sha-89abcde", "v1.2.3"]
    digests = {registry.manifest_digest(repo, t) for t in ("v1.2.3", "latest", "sha-89abcde")}
    assert digests == {run.outputs["digest"]}
    assert "the engine's BuildKit" in run.summary


def test_without_buildx_inputs_only_buildx_can_do_are_exit_2_naming_them(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = unique_repo("engine-refused")
    run = engine_run(
        tmp_path, registry, dockerd, repo, {"GITOPS_CACHE_TO": "type=registry,ref=x.example/a:c"}
    )
    assert run.code == 2, run.stderr
    (error,) = run.errors()
    assert "cache-to (other than type=inline): needs the buildx plugin" in error
    assert registry.list_tags(repo) == []
