"""What a fresh cluster already holds, so code under test meets it as on kind.

System namespaces (each with its `default` ServiceAccount and `kube-root-ca.crt`
ConfigMap, added by Api on namespace creation), the `kubernetes` Service, and the
Gateway API's HTTPRoute CRD standing in for an installed Gateway API.
"""

from __future__ import annotations

from typing import Any

from tests.kubeapi.operations import Api, Options, Target

_SCHEMA_ANY: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
HTTPROUTE_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {
        "name": "httproutes.gateway.networking.k8s.io",
        "annotations": {
            "gateway.networking.k8s.io/bundle-version": "v1.2.0",
            "gateway.networking.k8s.io/channel": "standard",
        },
    },
    "spec": {
        "group": "gateway.networking.k8s.io",
        "names": {
            "kind": "HTTPRoute",
            "listKind": "HTTPRouteList",
            "plural": "httproutes",
            "singular": "httproute",
            "categories": ["gateway-api"],
        },
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": _SCHEMA_ANY},
            },
            {
                "name": "v1beta1",
                "served": True,
                "storage": False,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": _SCHEMA_ANY},
            },
        ],
    },
}


def seed_cluster(api: Api) -> None:
    """The objects a fresh cluster has: system namespaces, the `kubernetes` Service and
    (standing in for an installed Gateway API) the HTTPRoute CRD."""
    ns_rt = api.store.registry.lookup("", "v1", "namespaces")
    svc_rt = api.store.registry.lookup("", "v1", "services")
    crd_rt = api.store.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    assert ns_rt is not None and svc_rt is not None and crd_rt is not None
    system = Options(user_agent="kube-apiserver/v1.31.0")
    for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
        api.create(Target(ns_rt, "", ""), {"metadata": {"name": name}}, system)
    api.create(
        Target(svc_rt, "default", ""),
        {
            "metadata": {
                "name": "kubernetes",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
                "clusterIP": "10.96.0.1",
            },
        },
        system,
    )
    api.create(Target(crd_rt, "", ""), HTTPROUTE_CRD, system)
    api.store.commits_by_requests = 0
