"""The oracle (tools/oracle, built once by tools/build.sh) for the property tests here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testbed.oracle import Oracle


@pytest.fixture(scope="session")
def oracle() -> Iterator[Oracle]:
    running = Oracle()
    yield running
    running.close()
