"""kustomize for the tests: the pinned build (tools/kustomize) put where `sync` finds it.

`sync` runs kustomize through `GITOPS_KUSTOMIZE`, else `kustomize` on PATH. The
session fixture builds the pinned version once (tools/build.sh caches it by module;
scripts/bootstrap.sh has normally built it already) and exports its path, so the
CLI processes the tests start inherit it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.go_tools import program

ENV = "GITOPS_KUSTOMIZE"


def kustomize_binary() -> Path:
    """The pinned kustomize, built if needed."""
    return program("kustomize", "kustomize")


@pytest.fixture(scope="session", autouse=True)
def kustomize() -> Iterator[Path]:
    """Exports GITOPS_KUSTOMIZE for the session (unless the caller set it)."""
    preset = os.environ.get(ENV)
    path = Path(preset) if preset else kustomize_binary()
    os.environ[ENV] = str(path)
    try:
        yield path
    finally:
        if preset is None:
            os.environ.pop(ENV, None)
