"""`ci run` on a real buildkitd (buildx `remote` driver) and the tests' registry.

The Dockerfiles users bring from docker/build-push-action: cache and secret
mounts, `COPY --chmod`/`--link`, heredocs, multi-stage with a target; an
image index for two platforms; a registry build cache read back by a fresh
daemon (a new runner); bad BuildKit inputs refused with exit 2. `RUN` steps
run on a busybox base image made here from Debian's busybox-static.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from testbed.actionrunner.scenario import make_project
from testbed.buildkit import BuildKitDaemon, BuildxConfig
from testbed.dockerd import DockerEngine
from testbed.registry import RegistryService
from tests.integration.ci_run_support import (
    Run,
    ci_run,
    credentials,
    image_config,
    layer_files,
    platform_manifests,
    unique_repo,
)

pytestmark = pytest.mark.services

TAGS = ["latest", "sha-89abcde", "v1.2.3"]
SECRET = "build-secret-7d41c9e2"


def release(
    tmp_path: Path,
    registry: RegistryService,
    config: BuildxConfig,
    repo: str,
    dockerfile: str,
    *,
    files: dict[str, str] | None = None,
    ref: str = "refs/tags/v1.2.3",
    env: dict[str, str] | None = None,
) -> Run:
    workspace = make_project(
        tmp_path / f"ws-{repo.rsplit('/', 1)[1]}", dockerfile=dockerfile, files=files
    )
    return ci_run(
        tmp_path,
        image=f"{registry.host}/{repo}",
        docker_host=config.docker_host,
        workspace=workspace,
        ref=ref,
        extra_env={**config.env(), **credentials(registry), **(env or {})},
    )


def one_digest(registry: RegistryService, repo: str, run: Run, tags: list[str] = TAGS) -> str:
    assert registry.list_tags(repo) == sorted(tags)
    digests = {registry.manifest_digest(repo, tag) for tag in tags}
    assert len(digests) == 1
    (digest,) = digests
    assert digest is not None and run.outputs["digest"] == digest
    return digest


DOCKERFILES = {
    "run-cache-mount": (
        "FROM {base}\n"
        "RUN --mount=type=cache,target=/cache echo dep >> /cache/log && cp /cache/log /dep\n"
    ),
    "copy-chmod": "FROM {base}\nCOPY --chmod=0751 app.txt /app.txt\nRUN test -x /app.txt\n",
    "copy-link": "FROM {base}\nCOPY --link app.txt /srv/app.txt\n",
    "heredoc": "FROM {base}\nCOPY <<EOF /etc/greeting\nhello from a heredoc\nEOF\n"
    "RUN <<EOF\nset -e\ngrep -q heredoc /etc/greeting\necho ok > /ran\nEOF\n",
    "multi-stage-target": (
        "FROM {base} AS build\nRUN echo built > /artifact\n"
        "FROM {base} AS release\nCOPY --from=build /artifact /artifact\nLABEL stage=release\n"
        "FROM release AS debug\nLABEL stage=debug\n"
    ),
}


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_buildkit_dockerfiles_build_and_push_with_one_digest(
    tmp_path: Path,
    registry: RegistryService,
    buildx_remote: BuildxConfig,
    busybox_base: str,
    name: str,
) -> None:
    repo = unique_repo(name)
    env = {"GITOPS_TARGET": "release"} if name == "multi-stage-target" else {}
    run = release(
        tmp_path,
        registry,
        buildx_remote,
        repo,
        DOCKERFILES[name].format(base=busybox_base),
        env=env,
    )
    assert run.code == 0, run.stderr
    one_digest(registry, repo, run)
    assert "docker buildx build (builder gitops-remote, driver remote)" in run.summary
    files = layer_files(registry, repo, "v1.2.3")
    config = image_config(registry, repo, "v1.2.3")["config"]
    assert config["Labels"]["org.opencontainers.image.version"] == "v1.2.3"
    if name == "multi-stage-target":
        assert files["artifact"] == b"built\n"
        assert config["Labels"]["stage"] == "release"  # the target, not the last stage
    if name == "heredoc":
        assert files["etc/greeting"] == b"hello from a heredoc\n"
        assert files["ran"] == b"ok\n"
    if name == "copy-link":
        assert files["srv/app.txt"] == b"hello\n"
    if name == "run-cache-mount":
        assert files["dep"] == b"dep\n"
        assert "cache" not in {path.split("/")[0] for path in files}  # the mount is not a layer


def test_secret_mount_is_used_but_in_no_layer_log_output_or_summary(
    tmp_path: Path, registry: RegistryService, buildx_remote: BuildxConfig, busybox_base: str
) -> None:
    repo = unique_repo("secret")
    dockerfile = (
        f"FROM {busybox_base}\n"
        "RUN --mount=type=secret,id=npm_token,required=true "
        "sha256sum /run/secrets/npm_token | cut -d' ' -f1 > /token.sha256 && "
        "wc -c < /run/secrets/npm_token > /token.len\n"
    )
    run = release(
        tmp_path,
        registry,
        buildx_remote,
        repo,
        dockerfile,
        env={"GITOPS_SECRETS": f"npm_token={SECRET}", "GITHUB_ACTIONS": "true"},
    )
    assert run.code == 0, run.stderr
    one_digest(registry, repo, run)
    files = layer_files(registry, repo, "v1.2.3")
    assert files["token.sha256"].decode().strip() == hashlib.sha256(SECRET.encode()).hexdigest()
    assert files["token.len"].decode().strip() == str(len(SECRET))  # the secret was there
    for path, content in files.items():
        assert SECRET.encode() not in content, path
    masks = [line for line in run.stderr.splitlines() if line.startswith("::add-mask::")]
    assert f"::add-mask::{SECRET}" in masks
    unmasked = [line for line in run.stderr.splitlines() if not line.startswith("::add-mask::")]
    for text in ("\n".join(unmasked), run.stdout, run.output_text, run.summary):
        assert SECRET not in text


def test_two_platforms_push_one_index_with_both_manifests(
    tmp_path: Path, registry: RegistryService, buildx_remote: BuildxConfig
) -> None:
    """COPY-only: no emulation needed, though the daemon only runs linux/amd64 and 386."""
    repo = unique_repo("multiarch")
    run = release(
        tmp_path,
        registry,
        buildx_remote,
        repo,
        "FROM scratch\nCOPY app.txt /app.txt\n",
        env={"GITOPS_PLATFORM": "linux/amd64,linux/arm64", "GITOPS_PROVENANCE": "false"},
    )
    assert run.code == 0, run.stderr
    digest = one_digest(registry, repo, run)
    media_type, index = registry.get_manifest(repo, "v1.2.3")
    assert media_type == "application/vnd.oci.image.index.v1+json"
    assert sorted(platform_manifests(registry, repo, "v1.2.3")) == ["linux/amd64", "linux/arm64"]
    assert len(index["manifests"]) == 2
    assert run.outputs["imageid"] == digest  # the iidfile of an index is the index
    assert "`linux/amd64,linux/arm64`" in run.summary


def test_cache_from_the_registry_on_a_fresh_daemon_reports_the_dependency_step_cached(
    tmp_path: Path,
    registry: RegistryService,
    dockerd: DockerEngine,
    new_buildkitd: Callable[[], BuildKitDaemon],
    busybox_base: str,
) -> None:
    """v1.0.0 exports its cache to the registry; v1.1.0, only app.txt changed, on an empty
    daemon (a new runner) with cache-from: the dependency step comes from the cache."""
    repo = unique_repo("cache")
    first = _cache_release(
        tmp_path,
        registry,
        new_buildkitd(),
        dockerd.docker_host,
        repo,
        "v1.0.0",
        "one\n",
        busybox_base,
    )
    assert first.code == 0, first.stderr
    assert not _run_step_cached(first)
    assert "buildcache" in registry.list_tags(repo)
    second = _cache_release(
        tmp_path,
        registry,
        new_buildkitd(),
        dockerd.docker_host,
        repo,
        "v1.1.0",
        "two\n",
        busybox_base,
    )
    assert second.code == 0, second.stderr
    assert _run_step_cached(second), second.stderr
    report = json.loads(second.outputs["metadata"])
    assert report["containerimage.digest"] == second.outputs["digest"]
    cached_line = next(x for x in second.summary.splitlines() if "**Cached steps**" in x)
    cached, total = (int(n) for n in cached_line.split("|")[2].strip().split(" of "))
    assert total == 4 and cached >= 2  # COPY deps, RUN deps (FROM too, once pulled)
    new, old = layer_files(registry, repo, "v1.1.0"), layer_files(registry, repo, "v1.0.0")
    assert new["app.txt"] == b"two\n"
    # The RUN writes a random UUID: the same bytes prove it did not run again.
    assert new["deps.installed"] == old["deps.installed"]


def _cache_release(
    tmp_path: Path,
    registry: RegistryService,
    daemon: BuildKitDaemon,
    docker_host: str,
    repo: str,
    version: str,
    app: str,
    base: str,
) -> Run:
    config = BuildxConfig(tmp_path / f"docker-{version}", docker_host)
    config.use_remote(f"runner-{version.replace('.', '-')}", daemon)
    cache = f"type=registry,ref={registry.host}/{repo}:buildcache"
    dockerfile = (
        f"FROM {base}\n"
        "COPY deps.txt /deps.txt\n"
        "RUN cat /deps.txt /proc/sys/kernel/random/uuid > /deps.installed\n"
        "COPY app.txt /app.txt\n"
    )
    return release(
        tmp_path / version,
        registry,
        config,
        repo,
        dockerfile,
        files={"deps.txt": "left-pad==1.3.0\n", "app.txt": app},
        ref=f"refs/tags/{version}",
        env={"GITOPS_CACHE_FROM": cache, "GITOPS_CACHE_TO": f"{cache},mode=max"},
    )


def _run_step_cached(run: Run) -> bool:
    """True when the log says the `RUN sha256sum` step's vertex was CACHED."""
    lines = run.stderr.splitlines()
    vertex = next(line.split()[0] for line in lines if "RUN cat /deps.txt" in line)
    return f"{vertex} CACHED" in lines


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITOPS_SECRETS": "=no-id-s3cret"}, "secrets: line 1 is not id=value (no id)"),
        ({"GITOPS_CACHE_TO": "type=floppy,dest=/x"}, "cache-to: unknown cache type 'floppy'"),
        ({"GITOPS_PLATFORM": "linux/arm64"}, "platforms: linux/arm64 cannot be built"),
    ],
)
def test_bad_buildkit_input_is_exit_2_naming_it_and_nothing_is_pushed(
    tmp_path: Path,
    registry: RegistryService,
    buildx_remote: BuildxConfig,
    busybox_base: str,
    env: dict[str, str],
    message: str,
) -> None:
    """A RUN step on linux/arm64: this daemon runs amd64 and 386 only, and no QEMU is set up."""
    repo = unique_repo("bad-input")
    run = release(
        tmp_path, registry, buildx_remote, repo, f"FROM {busybox_base}\nRUN true\n", env=env
    )
    assert run.code == 2, run.stderr
    (error,) = run.errors()
    assert error.startswith(f"gitops-action: error: {message}")
    assert "s3cret" not in run.stderr + run.stdout
    assert registry.list_tags(repo) == []
