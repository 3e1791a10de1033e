"""The least-privilege RBAC of `install --export`, proven on the real control plane:
the render is applied as an admin would, a token is minted for the tool's
ServiceAccount (TokenRequest), and `reconcile` runs with that token, not as admin.
Then the server itself is asked (SelfSubjectAccessReview) and real requests are
made: the token reads no Secret, binds or escalates no role, impersonates no one
and touches no namespace it was not given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from testbed.audit import AuditLog
from testbed.git_server import GitHttpServer
from testbed.kube import Kube
from testbed.kube_cluster import ControlPlane
from testbed.registry import RegistryService
from tests.integration.automate_support import Cli, log_records
from tests.integration.reconcile_support import deployment_image, setup

pytestmark = pytest.mark.services
CONSOLE = Path(sys.executable).with_name("gitops-action")
ACCOUNT = "gitops-action"


def _apply_render(kube: Kube, render: str, tmp_path: Path) -> None:
    from testbed.go_tools import program

    path = tmp_path / "install.yaml"
    path.write_text(render)
    done = subprocess.run(
        [str(program("kube", "kubectl")), "--kubeconfig", str(kube.admin_kubeconfig),
         "apply", "--server-side", "-f", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for doc in yaml.safe_load_all(render):
        if doc and "namespace" not in doc["metadata"] and doc["kind"] != "Namespace":
            kube.delete_later(doc["apiVersion"], doc["kind"], doc["metadata"]["name"])


def _allowed(api: Any, verb: str, resource: str, namespace: str = "", **extra: str) -> bool:
    review = client.AuthorizationV1Api(api).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": verb, "resource": resource,
                                         "namespace": namespace, **extra}}}
    )  # fmt: skip
    return bool(review.status.allowed)


def test_reconcile_runs_with_the_install_s_own_token_and_no_more_rights(
    registry: RegistryService,
    git_server: GitHttpServer,
    kube: Kube,
    control_plane: ControlPlane | None,
    git_env: dict[str, str],
    tmp_path: Path,
) -> None:
    if control_plane is None:
        pytest.skip("counts the token's requests in the testbed apiserver's audit log")
    app, tool = kube.namespace, f"{kube.namespace}-sys"
    kube.defer(lambda: client.CoreV1Api(kube.api_client()).delete_namespace(tool))
    s = setup("rbac", registry, git_server, kube, git_env, tmp_path)
    render = subprocess.run(
        [str(CONSOLE), "install", "--export", "--repo", s.url, "--namespace", tool,
         "--target-namespace", app,
         # The seed tutorial's Deployment sets no securityContext: Pod Security
         # `restricted` (the default) would rightly keep its pods from being created.
         "--pod-security", "baseline"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    _apply_render(kube, render, tmp_path)
    token_config = kube.token_kubeconfig(ACCOUNT, tool, tmp_path / "tool-token.kubeconfig")
    audit = AuditLog(control_plane.audit_log)
    audit.mark()
    user = f"system:serviceaccount:{tool}:{ACCOUNT}"

    cli = Cli({**s.cli.env, "KUBECONFIG": str(token_config), "GITOPS_NAMESPACE": tool})
    report = cli.run("reconcile", "--output", "json").json()

    assert [(p["phase"], p["result"]) for p in report["phases"]] == [
        ("automate", "ok"), ("sync", "ok"), ("canary", "ok"),
    ]  # fmt: skip
    assert log_records(git_server.repos.path(s.name), git_env)[0]["subject"] == (
        f"{s.image}:v1.1.0"
    )
    assert deployment_image(kube) == f"{s.image}:v1.1.0"
    core = client.CoreV1Api(kube.api_client())
    status = core.read_namespaced_config_map("gitops-action-status", tool)
    assert status.data["automate.result"] == "ok"
    lease = client.CoordinationV1Api(kube.api_client()).read_namespaced_lease(ACCOUNT, tool)
    assert lease.spec.holder_identity == ""
    reasons = {e.reason for e in core.list_namespaced_event(tool).items}
    assert "ImageBumped" in reasons
    denied = [r for r in audit.requests(user) if r.code == 403]
    assert denied == [], denied  # it never needed a right it lacks

    again = AuditLog(control_plane.audit_log)
    again.mark()
    cli.run("reconcile", "--output", "json")
    writes = [r for r in again.requests(user) if r.is_write]
    assert {r.resource for r in writes} == {"leases"}, writes  # idle: only the Lease

    api = config.new_client_from_config(config_file=str(token_config))
    try:
        # Sanity: the rights it needs, so that the denials below can fail.
        assert _allowed(api, "patch", "deployments", app, group="apps")
        assert _allowed(api, "update", "leases", tool, group="coordination.k8s.io",
                        name=ACCOUNT)  # fmt: skip
        # Secrets: none anywhere, not even in its own namespace or the one it serves.
        for namespace in ("kube-system", "default", app, tool):
            assert not _allowed(api, "get", "secrets", namespace)
            assert not _allowed(api, "list", "secrets", namespace)
        # No binding, escalation or impersonation.
        assert not _allowed(api, "create", "clusterrolebindings",
                            group="rbac.authorization.k8s.io")  # fmt: skip
        assert not _allowed(api, "create", "rolebindings", app, group="rbac.authorization.k8s.io")
        assert not _allowed(api, "bind", "clusterroles", group="rbac.authorization.k8s.io")
        assert not _allowed(api, "escalate", "clusterroles", group="rbac.authorization.k8s.io")
        assert not _allowed(api, "impersonate", "users")
        assert not _allowed(api, "impersonate", "serviceaccounts", app)
        # Namespaces it was not given.
        for namespace in ("default", "kube-system"):
            assert not _allowed(api, "create", "deployments", namespace, group="apps")
            assert not _allowed(api, "create", "configmaps", namespace)
        # And for real: the server answers 403.
        with pytest.raises(client.ApiException) as secret:
            client.CoreV1Api(api).read_namespaced_secret("gitops-action-git", tool)
        assert secret.value.status == 403
        with pytest.raises(client.ApiException) as binding:
            client.RbacAuthorizationV1Api(api).create_cluster_role_binding({
                "metadata": {"name": f"{tool}-escalate"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": "cluster-admin"},
                "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": tool}],
            })  # fmt: skip
        assert binding.value.status == 403
        with pytest.raises(client.ApiException) as elsewhere:
            client.CoreV1Api(api).create_namespaced_config_map(
                "default", {"metadata": {"name": f"{tool}-probe"}}
            )
        assert elsewhere.value.status == 403
    finally:
        api.close()
