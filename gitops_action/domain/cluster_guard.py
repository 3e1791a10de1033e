"""Defence in depth for `sync`: objects a config-repo writer must not slip into the cluster.

The tool's RBAC is the first line: it should be unable to do these things at
all. But an install with `--cluster-scope`, a hand-widened ClusterRole, or a
run with an admin kubeconfig would apply whatever git says. So `sync`
refuses, before its first write and unless `--allow-cluster-admin-changes`,
any object that:

- binds the `cluster-admin` ClusterRole (ClusterRoleBinding or RoleBinding);
- is a Role or ClusterRole granting `*` verbs on `*` resources, or the
  `escalate`, `bind` or `impersonate` verbs (each is a path to cluster-admin);
- lives in, or is, the `kube-system` namespace;
- labels a Namespace `pod-security.kubernetes.io/enforce: privileged`
  (undoing the install's Pod Security labels).

Pure: a rule over object bodies, named by `where` (file and document).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

ALLOW_FLAG: Final = "--allow-cluster-admin-changes"
PROTECTED_NAMESPACES: Final = frozenset({"kube-system"})
ESCALATING_VERBS: Final = frozenset({"escalate", "bind", "impersonate"})
_RBAC: Final = "rbac.authorization.k8s.io"
_ENFORCE: Final = "pod-security.kubernetes.io/enforce"


def refusal(body: Mapping[str, Any], namespace: str | None) -> str | None:
    """Why `body` (to be applied in `namespace`, None when cluster-scoped) is refused; else None."""
    kind = str(body.get("kind", ""))
    metadata = body.get("metadata") or {}
    name = str(metadata.get("name", "")) if isinstance(metadata, Mapping) else ""
    if namespace in PROTECTED_NAMESPACES:
        return f"writes into the {namespace} namespace"
    if kind == "Namespace" and name in PROTECTED_NAMESPACES:
        return f"changes the {name} namespace"
    group = str(body.get("apiVersion", "")).partition("/")[0]
    if group == _RBAC and kind in ("ClusterRoleBinding", "RoleBinding"):
        ref = body.get("roleRef") or {}
        admin = {"kind": "ClusterRole", "name": "cluster-admin"}
        if isinstance(ref, Mapping) and all(ref.get(key) == value for key, value in admin.items()):
            return "binds the cluster-admin ClusterRole"
    if group == _RBAC and kind in ("ClusterRole", "Role"):
        return _rules_refusal(body.get("rules"))
    if kind == "Namespace" and isinstance(metadata, Mapping):
        labels = metadata.get("labels") or {}
        if isinstance(labels, Mapping) and labels.get(_ENFORCE) == "privileged":
            return f"sets {_ENFORCE}: privileged"
    return None


def _rules_refusal(rules: Any) -> str | None:
    if not isinstance(rules, list):
        return None
    for rule in rules:
        if not isinstance(rule, Mapping):
            continue
        verbs = {str(verb) for verb in rule.get("verbs") or ()}
        resources = {str(resource) for resource in rule.get("resources") or ()}
        if "*" in verbs and "*" in resources:
            return "grants every verb on every resource (cluster-admin-like)"
        escalating = sorted(verbs & ESCALATING_VERBS)
        if escalating:
            return f"grants the {', '.join(escalating)} verb(s) (a path to cluster-admin)"
    return None


def message(where: str, kind: str, name: str, why: str) -> str:
    """The one-line refusal `sync` prints for one object."""
    return (
        f"{where}: {kind} {name} {why}; refused (defence in depth, docs/install.md), "
        f"pass {ALLOW_FLAG} if this is intended"
    )
