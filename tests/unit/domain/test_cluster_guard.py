"""What `sync` refuses without --allow-cluster-admin-changes."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_action.domain.cluster_guard import refusal

RBAC = "rbac.authorization.k8s.io/v1"


def binding(kind: str, role: str) -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": kind,
        "metadata": {"name": "b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "x", "namespace": "apps"}],
    }


def role(kind: str, **rule: list[str]) -> dict[str, Any]:
    return {"apiVersion": RBAC, "kind": kind, "metadata": {"name": "r"}, "rules": [rule]}


@pytest.mark.parametrize(
    ("body", "namespace", "why"),
    [
        (binding("ClusterRoleBinding", "cluster-admin"), None, "binds the cluster-admin"),
        (binding("RoleBinding", "cluster-admin"), "apps", "binds the cluster-admin"),
        (role("ClusterRole", apiGroups=["*"], resources=["*"], verbs=["*"]), None, "every verb"),
        (role("Role", apiGroups=[""], resources=["roles"], verbs=["escalate"]), "apps", "escalate"),
        (role("ClusterRole", apiGroups=[""], resources=["users"], verbs=["impersonate"]), None,
         "impersonate"),
        ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}, "kube-system",
         "kube-system"),
        ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}, None,
         "kube-system"),
        ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps", "labels": {
            "pod-security.kubernetes.io/enforce": "privileged"}}}, None, "privileged"),
    ],
)  # fmt: skip
def test_refused(body: dict[str, Any], namespace: str | None, why: str) -> None:
    assert why in str(refusal(body, namespace))


@pytest.mark.parametrize(
    ("body", "namespace"),
    [
        (binding("RoleBinding", "edit"), "apps"),
        (role("Role", apiGroups=["apps"], resources=["deployments"], verbs=["*"]), "apps"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, "apps"),
        ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, None),
    ],
)
def test_allowed(body: dict[str, Any], namespace: str | None) -> None:
    assert refusal(body, namespace) is None
