"""What a test gets from the `kube` fixture: a namespace on a real cluster, the
identity the code under test runs as, and the server's own request counts.

The code under test never runs as admin: each test gets a ServiceAccount
(`gitops-tool` in its own namespace) bound to a ClusterRole that starts with
every right, and a kubeconfig with a token minted for it (TokenRequest). So
- the audit log counts exactly that test's requests (by user name);
- `deny()` takes one right away for real (RBAC answers 403);
- `fail_next()` routes that kubeconfig through the fault proxy.
The test's own checks use `api_client()`, which is admin and never counted.

On another cluster (GITOPS_TEST_KUBECONFIG: kind, k3d, GKE) the same holds, but
there is no audit log or fault proxy of ours: tests that need one skip, saying so.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from testbed.audit import AuditLog, Request
from testbed.fault_proxy import Fault, FaultProxy
from testbed.kube_cluster import FAIL_LABEL, NEVER_READY_LABEL, write_kubeconfig

T = TypeVar("T")
TOOL_ACCOUNT = "gitops-tool"
ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]


class Kube:
    """One test's view of the cluster (see the module docstring)."""

    never_ready_label = NEVER_READY_LABEL
    fail_label = FAIL_LABEL

    def __init__(
        self,
        admin_kubeconfig: Path,
        tmp: Path,
        *,
        audit: AuditLog | None,
        proxy: FaultProxy | None,
    ) -> None:
        self.admin_kubeconfig = admin_kubeconfig
        self.tmp = tmp
        self.namespace = f"gitops-test-{uuid.uuid4().hex[:8]}"
        self.kubeconfig = tmp / "tool.kubeconfig"
        self.user = f"system:serviceaccount:{self.namespace}:{TOOL_ACCOUNT}"
        self._audit = audit
        self._proxy = proxy
        self._clients: list[Any] = []
        self._cleanups: list[Callable[[], None]] = []
        config = yaml.safe_load(admin_kubeconfig.read_text())
        context = {c["name"]: c["context"] for c in config["contexts"]}[config["current-context"]]
        cluster = {c["name"]: c["cluster"] for c in config["clusters"]}[context["cluster"]]
        self.url = str(cluster["server"])
        self._cluster = cluster
        self._token = ""

    # ------------------------------------------------------------ clients
    def api_client(self) -> Any:
        """An admin `kubernetes.client.ApiClient` (closed at teardown; never counted)."""
        from kubernetes import config

        client = config.new_client_from_config(config_file=str(self.admin_kubeconfig))  # type: ignore[no-untyped-call]
        self._clients.append(client)
        return client

    def dynamic_client(self) -> Any:
        from kubernetes.dynamic import DynamicClient

        cache = self.tmp / f"discovery-{uuid.uuid4().hex[:8]}.json"
        return DynamicClient(self.api_client(), cache_file=str(cache))  # type: ignore[no-untyped-call]

    def wait_for(
        self, probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.05
    ) -> T:
        """Poll `probe` until it returns something truthy; fail the test on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"condition not met within {timeout}s (last value {value!r})")
            time.sleep(interval)

    def defer(self, cleanup: Callable[[], None]) -> None:
        """Run `cleanup` at teardown (cluster-scoped objects a test made)."""
        self._cleanups.append(cleanup)

    def delete_later(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> None:
        """Delete that object at teardown: cluster-scoped objects (and those outside the
        test's namespace) outlive the test's namespace otherwise."""

        def drop() -> None:
            resource = self.dynamic_client().resources.get(api_version=api_version, kind=kind)
            resource.delete(name=name, namespace=namespace)

        self.defer(drop)

    # ------------------------------------------------------------ lifecycle
    def setup(self) -> None:
        from kubernetes import client

        api = self.api_client()
        core = client.CoreV1Api(api)
        rbac = client.RbacAuthorizationV1Api(api)
        core.create_namespace({"metadata": {"name": self.namespace}})  # type: ignore[arg-type]
        self.defer(lambda: core.delete_namespace(self.namespace))
        core.create_namespaced_service_account(
            self.namespace,
            {"metadata": {"name": TOOL_ACCOUNT}},  # type: ignore[arg-type]
        )
        role = self._role_name()
        rbac.create_cluster_role(self._role(self._all_rules()))  # type: ignore[arg-type]
        self.defer(lambda: rbac.delete_cluster_role(role))
        rbac.create_cluster_role_binding(
            {  # type: ignore[arg-type]
                "metadata": {"name": role},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": role,
                },
                "subjects": [
                    {"kind": "ServiceAccount", "name": TOOL_ACCOUNT, "namespace": self.namespace}
                ],
            }
        )
        self.defer(lambda: rbac.delete_cluster_role_binding(role))
        self._token = self._mint(TOOL_ACCOUNT, self.namespace)
        self._write_kubeconfig(self.url)
        self.wait_for(lambda: self.can("list", "pods"), timeout=10)
        if self._audit is not None:
            self._audit.mark()

    def teardown(self) -> None:
        if self._proxy is not None:
            self._proxy.clear()
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        for api in self._clients:
            api.close()

    def _write_kubeconfig(self, server: str) -> None:
        cluster = {k: v for k, v in self._cluster.items() if k.startswith("certificate-auth")}
        user = {"token": self._token}
        write_kubeconfig(self.kubeconfig, {**cluster, "server": server}, user, self.namespace)

    def _mint(self, account: str, namespace: str) -> str:
        """A 2-hour token for ServiceAccount `namespace/account` (TokenRequest)."""
        from kubernetes import client

        answer = client.CoreV1Api(self.api_client()).create_namespaced_service_account_token(
            account,
            namespace,
            {"spec": {"expirationSeconds": 7200}},  # type: ignore[arg-type]
        )
        return str(answer.status.token)

    def token_kubeconfig(self, account: str, namespace: str, path: Path) -> Path:
        """A kubeconfig for ServiceAccount `namespace/account` on this cluster's server."""
        return write_kubeconfig(path, self._cluster, {"token": self._mint(account, namespace)})

    @property
    def token(self) -> str:
        """The tool's bearer token (for in-cluster mounts)."""
        return self._token

    def ca_data(self) -> bytes:
        """The cluster CA certificate, PEM."""
        if "certificate-authority-data" in self._cluster:
            return base64.b64decode(self._cluster["certificate-authority-data"])
        return Path(self._cluster["certificate-authority"]).read_bytes()

    # ------------------------------------------------------------ RBAC
    def _role_name(self) -> str:
        return f"testbed-tool-{self.namespace.removeprefix('gitops-test-')}"

    def _role(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        return {"metadata": {"name": self._role_name()}, "rules": rules}

    @staticmethod
    def _all_rules() -> list[dict[str, Any]]:
        return [
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            {"nonResourceURLs": ["*"], "verbs": ["*"]},
        ]

    def _discovered(self) -> list[tuple[str, str]]:
        """(group, resource[/sub]) for everything the server serves."""
        from kubernetes import client

        api = self.api_client()
        dynamic = self.dynamic_client()
        found = [("", r.name) for r in client.CoreV1Api(api).get_api_resources().resources]
        for group in client.ApisApi(api).get_api_versions().groups:
            version = group.preferred_version.group_version
            answer = dynamic.request("get", f"/apis/{version}").to_dict()
            found += [(group.name, r["name"]) for r in answer["resources"]]
        return found

    def deny(self, verb: str, resource: str, group: str = "") -> None:
        """Take `verb` on `group/resource` away from the tool (RBAC 403 from now on).

        RBAC only adds rights, so the role becomes an explicit list of every
        served resource with every verb, less the one denied."""
        from kubernetes import client

        rules = [
            {"nonResourceURLs": ["*"], "verbs": ["*"]},
            {
                "apiGroups": ["*"],
                "resources": ["*"],
                "verbs": ["impersonate", "bind", "escalate", "use", "approve", "sign"],
            },
        ]
        for g, r in self._discovered():
            verbs = [v for v in ALL_VERBS if (g, r, v) != (group, resource, verb)]
            rules.append({"apiGroups": [g], "resources": [r], "verbs": verbs})
        rbac = client.RbacAuthorizationV1Api(self.api_client())
        rbac.replace_cluster_role(self._role_name(), self._role(rules))  # type: ignore[arg-type]
        self.wait_for(lambda: not self.can(verb, resource, group), timeout=10)

    def allow_all(self) -> None:
        from kubernetes import client

        rbac = client.RbacAuthorizationV1Api(self.api_client())
        rbac.replace_cluster_role(self._role_name(), self._role(self._all_rules()))  # type: ignore[arg-type]
        self.wait_for(lambda: self.can("get", "namespaces"), timeout=10)

    def can(self, verb: str, resource: str, group: str = "", namespace: str = "") -> bool:
        """The server's answer (SubjectAccessReview) for the tool's identity."""
        from kubernetes import client

        sub, _, subresource = resource.partition("/")
        review = client.AuthorizationV1Api(self.api_client()).create_subject_access_review(
            {  # type: ignore[arg-type]
                "spec": {
                    "user": self.user,
                    "groups": [
                        "system:serviceaccounts",
                        f"system:serviceaccounts:{self.namespace}",
                        "system:authenticated",
                    ],
                    "resourceAttributes": {
                        "verb": verb,
                        "resource": sub,
                        "group": group,
                        "subresource": subresource,
                        "namespace": namespace,
                    },
                },
            }
        )
        return bool(review.status.allowed)

    # ------------------------------------------------------------ the server's counts
    @property
    def counts_requests(self) -> bool:
        """True on the testbed control plane (its audit log); False on another cluster."""
        return self._audit is not None

    def _audit_log(self) -> AuditLog:
        if self._audit is None:
            pytest.skip(
                "request counts come from the testbed control plane's audit log; "
                "GITOPS_TEST_KUBECONFIG points at another cluster"
            )
        return self._audit

    def requests(self, **filters: str | None) -> list[Request]:
        """The tool's requests since setup or `reset_counters()`, as the server logged them."""
        return [r for r in self._audit_log().requests(self.user) if r.matches(**filters)]

    def writes(self, **filters: str | None) -> int:
        return sum(1 for r in self.requests(**filters) if r.is_write)

    def reads(self, **filters: str | None) -> int:
        return sum(1 for r in self.requests(**filters) if r.is_read)

    def reset_counters(self) -> None:
        self._audit_log().mark()

    # ------------------------------------------------------------ faults on the wire
    def fail_next(
        self,
        verb: str | None = None,
        resource: str | None = None,
        *,
        code: int = 500,
        reason: str = "InternalError",
        message: str = "injected failure",
        times: int = 1,
        retry_after: int | None = None,
        group: str | None = None,
        delay: float = 0.0,
        drop: bool = False,
    ) -> None:
        """The next `times` matching requests of the tool fail on the wire (see fault_proxy)."""
        if self._proxy is None:
            pytest.skip("the fault proxy fronts the testbed control plane only")
        self._proxy.add(
            Fault(verb, resource, group, times, code, reason, message, retry_after, delay, drop)
        )
        self._write_kubeconfig(self._proxy.url)

    def hold_next(self, verb: str, resource: str, group: str | None = None) -> Fault:
        """Hold the tool's next matching request at the proxy: wait on `.reached`, then
        `.gate.set()` lets it through (to the real server, unchanged)."""
        if self._proxy is None:
            pytest.skip("the fault proxy fronts the testbed control plane only")
        fault = Fault(verb, resource, group, 1, gate=threading.Event())
        self._proxy.add(fault)
        self._write_kubeconfig(self._proxy.url)
        self.defer(fault.gate.set)  # never leave a request held past the test
        return fault

    def faults_fired(self) -> list[tuple[str, str, str]]:
        return list(self._proxy.fired) if self._proxy is not None else []
