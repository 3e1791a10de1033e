"""Every manifest `sync` would apply from cluster/ is valid Kubernetes (offline schemas).

`kubernetes-validate` ships the OpenAPI schemas of each Kubernetes release, so this
runs without a cluster. Strict mode also refuses unknown fields (a typo such as
`replica:` that a real API server would silently drop). The tool's own config kinds
(Flux image automation, Flagger) are skipped exactly as `sync` skips them: they have
no schema there and are never applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import ValidationError

from gitops_action.app.sync import load

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
# Pinned: bump deliberately, together with the kind/kubectl versions the docs name.
KUBERNETES_VERSION = "1.32.0"


def _problems(body: Any) -> str | None:
    try:
        kubernetes_validate.validate(dict(body), KUBERNETES_VERSION, strict=True)
    except ValidationError as err:
        path = ".".join(str(part) for part in err.path) or "(top)"
        return f"{path}: {err.message}"
    return None


def test_every_manifest_in_cluster_validates() -> None:
    loaded = load(CLUSTER)
    assert loaded.manifests, "cluster/ holds nothing to apply"
    problems = [
        f"{m.location} ({m.kind} {m.name}): {problem}"
        for m in loaded.manifests
        if (problem := _problems(m.body)) is not None
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"replicas": "two"}, "spec.replicas: 'two' is not of type 'integer', 'null'"),
        ({"replica": 2}, "spec: Additional properties are not allowed ('replica' was unexpected)"),
    ],
)
def test_the_validator_catches_broken_manifests(edit: dict[str, Any], expected: str) -> None:
    deployment = next(m for m in load(CLUSTER).manifests if m.kind == "Deployment")
    body = dict(deployment.body)
    spec = {k: v for k, v in body["spec"].items() if k != "replicas"}
    body["spec"] = {**spec, **edit}
    assert _problems(body) == expected
