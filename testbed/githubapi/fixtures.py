"""Pytest fixture for the GitHub API stub.

Until tests/conftest.py lists this module in `pytest_plugins`, a test module
imports the fixture itself:

    from testbed.githubapi.fixtures import github_api  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testbed.githubapi.server import GitHubApiStub


@pytest.fixture
def github_api() -> Iterator[GitHubApiStub]:
    """A fresh, started stub per test (token auth on; see `GitHubApiStub.token`).

    Starting one costs about a millisecond and stopping it one poll interval
    (20 ms), so each test gets its own data, routes and request log.
    """
    with GitHubApiStub() as stub:
        yield stub
