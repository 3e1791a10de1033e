"""Fixtures of the end-to-end scenarios only: one app world per test (tests/e2e/support.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from testbed.git_server import GitHttpServer
from testbed.kube import Kube
from testbed.registry import RegistryService
from tests.e2e.support import World, make_world


@pytest.fixture
def app_world(
    request: pytest.FixtureRequest,
    kube: Kube,
    registry: RegistryService,
    git_server: GitHttpServer,
    git_env: dict[str, str],
    tmp_path: Path,
) -> Callable[..., World]:
    """`app_world(canary=...)`: the seed app at v1.0.0, nothing reconciled yet.

    Prometheus (session, about 6 s to start) is only asked for by apps with a Canary.
    """

    def build(*, canary: bool) -> World:
        prometheus_url = request.getfixturevalue("prometheus").url if canary else ""
        return make_world(
            kube=kube,
            registry=registry,
            git_server=git_server,
            git_env=git_env,
            tmp=tmp_path,
            canary=canary,
            prometheus_url=prometheus_url,
        )

    return build
