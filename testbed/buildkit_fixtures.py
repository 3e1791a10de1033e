"""Fixtures for the BuildKit tests: buildkitd, a buildx config pointed at it, base images.

- `buildkitd`: one session daemon (tools/buildkit), trusting the registry fixture.
- `buildx_remote`: a DOCKER_CONFIG whose current builder is `gitops-remote`
  (driver `remote`) at that daemon, with the engine fixture as DOCKER_HOST
  (`docker login` goes through it).
- `busybox_base`: `HOST/base/busybox:1` in the registry, for `RUN` steps.
- `new_buildkitd`: a factory of fresh daemons (an empty cache: a new runner),
  each stopped at the end of the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from testbed.base_images import push_busybox
from testbed.buildkit import BuildKitDaemon, BuildxConfig
from testbed.dockerd import DockerEngine
from testbed.fixtures import require_programs
from testbed.registry import RegistryService


@pytest.fixture(scope="session")
def buildkitd(
    tmp_path_factory: pytest.TempPathFactory, registry: RegistryService
) -> Iterator[BuildKitDaemon]:
    require_programs("runc", "docker")
    daemon = BuildKitDaemon(tmp_path_factory.mktemp("buildkitd"), insecure_registry=registry.host)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def buildx_remote(
    tmp_path_factory: pytest.TempPathFactory, buildkitd: BuildKitDaemon, dockerd: DockerEngine
) -> BuildxConfig:
    config = BuildxConfig(tmp_path_factory.mktemp("buildx-config"), dockerd.docker_host)
    config.use_remote("gitops-remote", buildkitd)
    return config


@pytest.fixture(scope="session")
def busybox_base(registry: RegistryService) -> str:
    require_programs("busybox")
    return push_busybox(registry)


@pytest.fixture
def new_buildkitd(
    tmp_path: Path, registry: RegistryService
) -> Iterator[Callable[[], BuildKitDaemon]]:
    started: list[BuildKitDaemon] = []

    def start() -> BuildKitDaemon:
        daemon = BuildKitDaemon(tmp_path, insecure_registry=registry.host)
        started.append(daemon)
        daemon.start()
        return daemon

    try:
        yield start
    finally:
        for daemon in started:
            daemon.stop()
