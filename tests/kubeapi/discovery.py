"""Discovery documents in the legacy (unaggregated) format.

`kubernetes.dynamic.DynamicClient` and kubectl find resources through `/api`,
`/apis` and one `APIResourceList` per group version. Aggregated discovery (a
different Accept) is not offered; clients fall back to these documents when the
response is plain `application/json`, as they do with older servers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tests.kubeapi.resources import Registry

SERVER_ADDRESS = [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]
VERSION_INFO = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0+gitops-standin",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T00:00:00Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: GA above beta above alpha, higher numbers first."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (0, 0, 0)
    stage = {"alpha": 1, "beta": 2, None: 3}[match.group(2)]
    return (stage, int(match.group(1)), int(match.group(3) or 0))


def core_versions() -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": SERVER_ADDRESS}


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    ordered = sorted(versions, key=version_priority, reverse=True)
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in ordered]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def group_list(registry: Registry) -> dict[str, Any]:
    groups = [_group(name, versions) for name, versions in registry.groups().items()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def group(registry: Registry, name: str) -> dict[str, Any] | None:
    versions = registry.groups().get(name)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def resource_list(registry: Registry, group_name: str, version: str) -> dict[str, Any] | None:
    types = registry.in_group_version(group_name, version)
    if not types:
        return None
    resources = [entry for rt in sorted(types, key=lambda r: r.plural) for entry in rt.discovery()]
    group_version = f"{group_name}/{version}" if group_name else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def openapi_v3_index(registry: Registry) -> dict[str, Any]:
    """The `/openapi/v3` index: one document per group version.

    kubectl reads these documents only to learn whether a PATCH accepts the
    `fieldValidation` query parameter; when it does, kubectl leaves validation to
    the server instead of downloading full schemas, which the stand-in has none of.
    """
    paths = {}
    for rt in registry:
        key = f"apis/{rt.group}/{rt.version}" if rt.group else "api/v1"
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash=standin"}
    return {"paths": paths}


def openapi_v3_document(registry: Registry, group_name: str, version: str) -> dict[str, Any] | None:
    types = registry.in_group_version(group_name, version)
    if not types:
        return None
    prefix = f"/apis/{group_name}/{version}" if group_name else "/api/v1"
    field_validation = {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}
    paths: dict[str, Any] = {}
    for rt in types:
        scope = f"{prefix}/namespaces/{{namespace}}" if rt.namespaced else prefix
        operation = {
            "x-kubernetes-group-version-kind": {
                "group": rt.group,
                "version": rt.version,
                "kind": rt.kind,
            },
            "parameters": [field_validation],
            "responses": {"200": {"description": "OK"}},
        }
        paths[f"{scope}/{rt.plural}/{{name}}"] = {"patch": operation, "put": operation}
        paths[f"{scope}/{rt.plural}"] = {"post": operation}
    return {
        "openapi": "3.0.0",
        "info": {
            "title": "Kubernetes (gitops-action stand-in)",
            "version": VERSION_INFO["gitVersion"],
        },
        "paths": paths,
        "components": {"schemas": {}},
    }


def _age(created: str, now: datetime) -> str:
    try:
        then = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    seconds = int((now - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def table(body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A get/list answer as the `Table` kubectl asks for: name and age (and, for
    Deployments, readiness) - enough for `kubectl get` to print something useful."""
    items = body.get("items") if "items" in body else [body]
    columns = [
        {"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}
    ]
    deployments = body.get("kind") in ("Deployment", "DeploymentList")
    if deployments:
        for name in ("Ready", "Up-to-date", "Available"):
            columns.append(
                {"name": name, "type": "string", "format": "", "description": name, "priority": 0}
            )
    columns.append(
        {"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0}
    )
    rows = []
    for item in items or []:
        meta = item.get("metadata") or {}
        cells: list[Any] = [meta.get("name", "")]
        if deployments:
            spec, status = item.get("spec") or {}, item.get("status") or {}
            cells += [
                f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
                status.get("updatedReplicas", 0),
                status.get("availableReplicas", 0),
            ]
        cells.append(_age(meta.get("creationTimestamp", ""), now))
        partial = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": meta,
        }
        rows.append({"cells": cells, "object": partial})
    meta_out = {"resourceVersion": (body.get("metadata") or {}).get("resourceVersion", "")}
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta_out,
        "columnDefinitions": columns,
        "rows": rows,
    }
