"""Manifests and error capture shared by the stand-in's tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kubernetes.client.exceptions import ApiException

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
# Present on every kind node (it is the sandbox image), so real-cluster runs need no pull.
PAUSE_IMAGE = "registry.k8s.io/pause:3.9"


def deployment(
    name: str,
    namespace: str,
    *,
    image: str = PAUSE_IMAGE,
    replicas: int | None = 2,
    containers: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": containers or [{"name": "app", "image": image}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def configmap(
    name: str,
    namespace: str,
    data: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {}}


def api_error(call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
    """Run `call`, which must fail with an ApiException; return (status, Status body)."""
    try:
        call()
    except ApiException as err:
        return int(err.status or 0), json.loads(err.body or "{}")
    raise AssertionError("the call was expected to fail with an API error")


def owned_fields(obj: dict[str, Any], manager: str) -> dict[str, Any]:
    """The fieldsV1 of `manager`'s entries (merged), from a raw object dict."""
    out: dict[str, Any] = {}
    for entry in obj["metadata"].get("managedFields") or []:
        if entry["manager"] == manager:
            out.update(entry.get("fieldsV1") or {})
    return out
