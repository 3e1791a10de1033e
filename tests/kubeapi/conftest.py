"""Client fixtures for the stand-in's own tests (the `kube` fixture comes from fixtures.py)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from tests.kubeapi.fixtures import Kube


@pytest.fixture
def api(kube: Kube) -> Any:
    return kube.api_client()


@pytest.fixture
def core(api: Any) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: Any) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def ns(kube: Kube) -> str:
    return kube.namespace


@pytest.fixture
def as_dict(api: Any) -> Any:
    """Typed model -> the JSON dict the server sent (camelCase keys)."""
    return api.sanitize_for_serialization
