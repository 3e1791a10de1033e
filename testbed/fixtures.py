"""Session fixtures for the real services (registry, dockerd, git, prometheus).

Each service starts once per pytest session, on the first test that asks for
it, on a free 127.0.0.1 port, with its files (config, data, log) in its own
pytest temp dir (`<basetemp>/<service>0/`). It is stopped at session end by
PID and process group. A service that does not come up raises
`ServiceStartError` with the tail of its log. See docs/testing.md.

Services with state a test can change (counters, failure modes, tags, traffic)
have a function-scoped fixture that hands out the session instance freshly
reset: `git_server`, `paging_registry`, `metrics_exporter`. The `*_session`
fixtures are the same objects without the reset.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed import gitenv
from testbed.dockerd import DockerEngine
from testbed.git_server import GitDaemon, GitHttpServer
from testbed.metrics_exporter import MetricsExporter
from testbed.paging_registry import PagingRegistry
from testbed.process import start_with_port_retry
from testbed.prometheus import PrometheusService
from testbed.registry import RegistryService


def require_programs(*names: str) -> None:
    """Fail with a pointer to the bootstrap script when a service binary is missing."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not on PATH: run scripts/bootstrap.sh "
            "(installs the Debian packages behind the test services)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def git_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME for git with only a tiny .gitconfig (default branch main)."""
    return tmp_path_factory.mktemp("git-home")


@pytest.fixture(scope="session")
def git_env(git_home: Path) -> dict[str, str]:
    """Environment for running git: pinned identity and dates, no user/system config."""
    return gitenv.git_env(git_home)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryService]:
    """Distribution 2.8 with htpasswd (bcrypt) auth and deletes enabled."""
    require_programs("docker-registry", "htpasswd")
    workdir = tmp_path_factory.mktemp("registry")
    service = start_with_port_retry(lambda: RegistryService(workdir))
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def paging_registry_session() -> Iterator[PagingRegistry]:
    server = PagingRegistry()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def paging_registry(paging_registry_session: PagingRegistry) -> Iterator[PagingRegistry]:
    """The paging tags/list server, with no tags, failures or recorded requests."""
    paging_registry_session.reset()
    yield paging_registry_session
    paging_registry_session.reset()


@pytest.fixture(scope="session")
def dockerd(
    tmp_path_factory: pytest.TempPathFactory, registry: RegistryService
) -> Iterator[DockerEngine]:
    """A private dockerd that trusts the registry fixture over plain HTTP."""
    require_programs("dockerd", "containerd", "runc")
    engine = DockerEngine(tmp_path_factory.mktemp("dockerd"), insecure_registry=registry.host)
    try:
        engine.start()
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def git_server_session(
    tmp_path_factory: pytest.TempPathFactory, git_env: dict[str, str]
) -> Iterator[GitHttpServer]:
    require_programs("git")
    workdir = tmp_path_factory.mktemp("git-http")
    server = start_with_port_retry(lambda: GitHttpServer(workdir, git_env))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def git_server(git_server_session: GitHttpServer) -> Iterator[GitHttpServer]:
    """Smart-HTTP git with Basic auth; counters zeroed and answering normally."""
    git_server_session.reset()
    yield git_server_session
    if git_server_session.process.running():
        git_server_session.reset()


@pytest.fixture(scope="session")
def git_daemon(
    tmp_path_factory: pytest.TempPathFactory, git_env: dict[str, str]
) -> Iterator[GitDaemon]:
    """`git daemon` (git://, no auth, push enabled)."""
    require_programs("git")
    workdir = tmp_path_factory.mktemp("git-daemon")
    daemon = start_with_port_retry(lambda: GitDaemon(workdir, git_env))
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def metrics_exporter_session() -> Iterator[MetricsExporter]:
    exporter = start_with_port_retry(MetricsExporter)
    try:
        yield exporter
    finally:
        exporter.stop()


@pytest.fixture
def metrics_exporter(metrics_exporter_session: MetricsExporter) -> Iterator[MetricsExporter]:
    """The exporter Prometheus scrapes, with no traffic or test gauges left over."""
    metrics_exporter_session.reset()
    yield metrics_exporter_session
    metrics_exporter_session.reset()


@pytest.fixture(scope="session")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, metrics_exporter_session: MetricsExporter
) -> Iterator[PrometheusService]:
    """Prometheus scraping the exporter every second; ready once a sample is queryable."""
    require_programs("prometheus")
    workdir = tmp_path_factory.mktemp("prometheus")
    service = start_with_port_retry(lambda: PrometheusService(workdir, metrics_exporter_session))
    try:
        yield service
    finally:
        service.stop()
