"""A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok, built from their Go modules
(tools/kube, tools/kwok) at pinned versions.

Why kwok: there is no container runtime to run kubelets here. kwok plays the
nodes and moves pods through their lifecycle (scheduled -> Running -> Ready,
Job pods -> Succeeded, deletions), so the real Deployment, ReplicaSet,
StatefulSet, Job and garbage-collector controllers run and rollouts complete.

Identities, and why they differ: the components and kwok use client
certificates in `system:masters` and are left out of the audit log; the test
code gets an admin certificate (user `gitops-test-admin`); the code under test
runs with ServiceAccount tokens (see testbed/kube.py), so the audit log can
count exactly its requests per test.

Faults come from real mechanisms only: RBAC, a second field manager, kwok
stages (pods carrying the label NEVER_READY_LABEL never become Ready), a fault
proxy in front of the API server (testbed/fault_proxy.py), and stopping
processes (`stop_apiserver`, `stop_etcd`).
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from testbed.crds import gateway_api_crds
from testbed.go_tools import program
from testbed.pki import KeyPair, Pki
from testbed.ports import LOCALHOST, free_port
from testbed.process import ServiceProcess, ServiceStartError

KUBERNETES_VERSION = "v1.35.4"
NEVER_READY_LABEL = "gitops-test-never-ready"
FAIL_LABEL = "gitops-test-fail"  # such a pod's containers exit 1 at once
NODE_NAME = "kwok-node-0"
ADMIN_USER = "gitops-test-admin"
# Users whose requests the audit log leaves out: the control plane talking to itself.
QUIET_USERS = [
    "system:apiserver",
    "system:kube-controller-manager",
    "system:kube-scheduler",
    "kwok",
    ADMIN_USER,
]

_AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["ResponseStarted"],
    "rules": [
        {"level": "None", "users": QUIET_USERS},
        {"level": "None", "userGroups": ["system:serviceaccounts:kube-system", "system:nodes"]},
        {"level": "None", "nonResourceURLs": ["/healthz*", "/readyz*", "/livez*"]},
        {"level": "Metadata"},
    ],
}

# kwok's own "pod-fast" stages, plus two rules: a pod labelled NEVER_READY_LABEL is
# scheduled and Running but never Ready (a rollout that never completes); one
# labelled FAIL_LABEL fails at once (a Job that fails).
_READY_STATUS = """\
{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: "%(ready)s"
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: "%(ready)s"
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: %(ready_bool)s
  restartCount: 0
  started: true
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) \
( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
phase: Running
startTime: {{ $now | Quote }}
"""


def _terminated(code: int, reason: str, phase: str) -> str:
    """kwok status template: every container exited with `code`, the pod in `phase`."""
    return f"""\
{{{{ $now := Now }}}}
containerStatuses:
{{{{ range .spec.containers }}}}
- image: {{{{ .image | Quote }}}}
  name: {{{{ .name | Quote }}}}
  ready: false
  restartCount: 0
  started: false
  state:
    terminated:
      exitCode: {code}
      finishedAt: {{{{ $now | Quote }}}}
      reason: {reason}
      startedAt: {{{{ $now | Quote }}}}
{{{{ end }}}}
hostIP: {{{{ NodeIPWith .spec.nodeName | Quote }}}}
phase: {phase}
"""


_COMPLETE_STATUS = _terminated(0, "Completed", "Succeeded")
_FAILED_STATUS = _terminated(1, "Error", "Failed")


def _stage(name: str, expressions: list[dict[str, Any]], nxt: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": name},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
            "selector": {"matchExpressions": expressions},
            "next": nxt,
        },
    }


def _pod_stages() -> list[dict[str, Any]]:
    alive = {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"}
    fresh = {"key": ".status.podIP", "operator": "DoesNotExist"}
    label = f'.metadata.labels["{NEVER_READY_LABEL}"]'
    fails = f'.metadata.labels["{FAIL_LABEL}"]'
    healthy = {"key": fails, "operator": "DoesNotExist"}
    ready = {"ready": "True", "ready_bool": "true"}
    unready = {"ready": "False", "ready_bool": "false"}
    return [
        _stage(
            "pod-ready",
            [alive, fresh, healthy, {"key": label, "operator": "DoesNotExist"}],
            {"statusTemplate": _READY_STATUS % ready},
        ),
        _stage(
            "pod-never-ready",
            [alive, fresh, healthy, {"key": label, "operator": "Exists"}],
            {"statusTemplate": _READY_STATUS % unready},
        ),
        _stage(
            "pod-fail",
            [
                alive,
                {"key": ".status.phase", "operator": "NotIn", "values": ["Failed"]},
                {"key": fails, "operator": "Exists"},
            ],
            {"statusTemplate": _FAILED_STATUS},
        ),
        _stage(
            "pod-complete",
            [
                alive,
                {"key": ".status.phase", "operator": "In", "values": ["Running"]},
                {"key": ".metadata.ownerReferences.[].kind", "operator": "In", "values": ["Job"]},
                {"key": label, "operator": "DoesNotExist"},
            ],
            {"statusTemplate": _COMPLETE_STATUS},
        ),
        _stage(
            "pod-delete",
            [{"key": ".metadata.deletionTimestamp", "operator": "Exists"}],
            {"finalizers": {"empty": True}, "delete": True},
        ),
    ]


def write_kubeconfig(
    path: Path, cluster: dict[str, Any], user: dict[str, Any], namespace: str | None = None
) -> Path:
    """A one-context kubeconfig (mode 0600): `cluster` is its `cluster:` entry (server and
    CA), `user` its credentials (client certificate or token)."""
    context: dict[str, Any] = {"cluster": "gitops-test", "user": "user"}
    if namespace:
        context["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "gitops-test", "cluster": cluster}],
        "users": [{"name": "user", "user": user}],
        "contexts": [{"name": "gitops-test", "context": context}],
        "current-context": "gitops-test",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


def _cert_user(pair: KeyPair) -> dict[str, Any]:
    return {"client-certificate": str(pair.cert), "client-key": str(pair.key)}


class ControlPlane:
    """The control plane's processes and files under `workdir`; start() then stop()."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pki = Pki(workdir / "pki")
        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self.port = free_port()
        self.url = f"https://{LOCALHOST}:{self.port}"
        self.audit_log = workdir / "audit.log"
        self.admin = self.pki.issue("admin", ADMIN_USER, org="system:masters")
        self.kubeconfig = self._kubeconfig("admin", self.admin)
        self.processes: dict[str, ServiceProcess] = {}

    # ------------------------------------------------------------ helpers
    def _kubeconfig(self, name: str, pair: KeyPair) -> Path:
        cluster = {"server": self.url, "certificate-authority": str(self.pki.ca.cert)}
        return write_kubeconfig(self.dir / f"{name}.kubeconfig", cluster, _cert_user(pair))

    def _component_kubeconfig(self, name: str, user: str) -> Path:
        return self._kubeconfig(name, self.pki.issue(name, user, org="system:masters"))

    def user_kubeconfig(self, user: str) -> Path:
        """A kubeconfig for `user` (client certificate, system:masters), counted in the
        audit log under that name (benchmarks give each tool its own)."""
        return self._kubeconfig(user, self.pki.issue(user, user, org="system:masters"))

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.pki.ca.cert))
        context.load_cert_chain(str(self.admin.cert), str(self.admin.key))
        return context

    def get(self, path: str, timeout: float = 5) -> Any:
        """GET a path as admin and decode the JSON answer."""
        with urllib.request.urlopen(
            self.url + path, context=self.ssl_context(), timeout=timeout
        ) as answer:
            return json.loads(answer.read())

    def _ok(self, path: str) -> bool:
        with urllib.request.urlopen(
            self.url + path, context=self.ssl_context(), timeout=2
        ) as answer:
            return bool(answer.status == 200)

    def _process(self, name: str, argv: list[str]) -> ServiceProcess:
        service = ServiceProcess(name, argv, log_path=self.dir / f"{name}.log")
        self.processes[name] = service
        return service

    # ------------------------------------------------------------ etcd
    def start_etcd(self) -> None:
        """Start etcd (again, after stop_etcd: same ports, same data)."""
        peer = self.etcd_peer_port
        etcd = self._process(
            "etcd",
            [
                str(program("kube", "server")),  # go.etcd.io/etcd/server/v3's main: etcd
                "--name",
                "default",
                "--data-dir",
                str(self.dir / "etcd"),
                "--listen-client-urls",
                f"http://{LOCALHOST}:{self.etcd_port}",
                "--advertise-client-urls",
                f"http://{LOCALHOST}:{self.etcd_port}",
                "--listen-peer-urls",
                f"http://{LOCALHOST}:{peer}",
                "--initial-advertise-peer-urls",
                f"http://{LOCALHOST}:{peer}",
                "--initial-cluster",
                f"default=http://{LOCALHOST}:{peer}",
                "--listen-metrics-urls",
                f"http://{LOCALHOST}:{free_port()}",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
            ],
        )
        etcd.start()

        def healthy() -> bool:
            with urllib.request.urlopen(
                f"http://{LOCALHOST}:{self.etcd_port}/health", timeout=2
            ) as answer:
                return bool(json.loads(answer.read()).get("health") == "true")

        etcd.wait_ready(healthy, timeout=60)

    def stop_etcd(self) -> None:
        self.processes["etcd"].stop()

    # ------------------------------------------------------------ apiserver
    def start_apiserver(self) -> None:
        serving = self.pki.issue(
            "apiserver",
            "kube-apiserver",
            server=True,
            hosts=(
                LOCALHOST,
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "10.96.0.1",
            ),
        )
        policy = self.dir / "audit-policy.yaml"
        policy.write_text(yaml.safe_dump(_AUDIT_POLICY))
        sa = self.pki.service_account
        apiserver = self._process(
            "kube-apiserver",
            [
                str(program("kube", "kube-apiserver")),
                "--etcd-servers",
                f"http://{LOCALHOST}:{self.etcd_port}",
                "--bind-address",
                LOCALHOST,
                "--advertise-address",
                LOCALHOST,
                "--secure-port",
                str(self.port),
                "--cert-dir",
                str(self.dir / "apiserver-certs"),
                "--tls-cert-file",
                str(serving.cert),
                "--tls-private-key-file",
                str(serving.key),
                "--client-ca-file",
                str(self.pki.ca.cert),
                "--service-account-issuer",
                "https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file",
                str(sa.cert),
                "--service-account-signing-key-file",
                str(sa.key),
                "--api-audiences",
                "https://kubernetes.default.svc.cluster.local",
                "--service-cluster-ip-range",
                "10.96.0.0/16",
                "--authorization-mode",
                "Node,RBAC",
                "--endpoint-reconciler-type",
                "none",
                "--allow-privileged",
                "--audit-policy-file",
                str(policy),
                "--audit-log-path",
                str(self.audit_log),
                "--audit-log-format",
                "json",
                "--audit-log-mode",
                "blocking",
                # A request the server cannot finish (etcd stopped) fails after 15 s, not 60.
                "--request-timeout",
                "15s",
                "--audit-log-maxsize",
                "0",
                "--v",
                "1",
            ],
        )
        apiserver.start()
        apiserver.wait_ready(lambda: self._ok("/readyz"), timeout=120, interval=0.2)

    def stop_apiserver(self) -> None:
        self.processes["kube-apiserver"].stop()

    # ------------------------------------------------------------ the rest
    def start_controllers(self) -> None:
        kcm_config = self._component_kubeconfig(
            "controller-manager", "system:kube-controller-manager"
        )
        self._process(
            "kube-controller-manager",
            [
                str(program("kube", "kube-controller-manager")),
                "--kubeconfig",
                str(kcm_config),
                "--authentication-kubeconfig",
                str(kcm_config),
                "--authorization-kubeconfig",
                str(kcm_config),
                "--bind-address",
                LOCALHOST,
                "--secure-port",
                str(free_port()),
                "--leader-elect=false",
                "--service-account-private-key-file",
                str(self.pki.service_account.key),
                "--root-ca-file",
                str(self.pki.ca.cert),
                "--cluster-signing-cert-file",
                str(self.pki.ca.cert),
                "--cluster-signing-key-file",
                str(self.pki.ca.key),
                "--controllers",
                "*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller",
                "--concurrent-deployment-syncs",
                "10",
                "--v",
                "1",
            ],
        ).start()
        sched_config = self._component_kubeconfig("scheduler", "system:kube-scheduler")
        self._process(
            "kube-scheduler",
            [
                str(program("kube", "kube-scheduler")),
                "--kubeconfig",
                str(sched_config),
                "--authentication-kubeconfig",
                str(sched_config),
                "--authorization-kubeconfig",
                str(sched_config),
                "--bind-address",
                LOCALHOST,
                "--secure-port",
                str(free_port()),
                "--leader-elect=false",
                "--v",
                "1",
            ],
        ).start()
        kwok_config = self._component_kubeconfig("kwok", "kwok")
        stages = self.dir / "kwok-stages.yaml"
        stages.write_text(yaml.safe_dump_all(_pod_stages(), sort_keys=False))
        self._process(
            "kwok",
            [
                str(program("kwok", "kwok")),
                "--kubeconfig",
                str(kwok_config),
                "--config",
                str(stages),
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector",
                "kwok.x-k8s.io/node=fake",
                "--server-address",
                f"{LOCALHOST}:{free_port()}",
                "--node-lease-duration-seconds",
                "40",
            ],
        ).start()

    def _add_node(self) -> None:
        from kubernetes import client, config

        api = config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]
        try:
            core = client.CoreV1Api(api)
            core.create_node(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": NODE_NAME,
                        "annotations": {
                            "kwok.x-k8s.io/node": "fake",
                            "node.alpha.kubernetes.io/ttl": "0",
                        },
                        "labels": {
                            "type": "kwok",
                            "kubernetes.io/hostname": NODE_NAME,
                            "kubernetes.io/os": "linux",
                        },
                    },
                }
            )  # type: ignore[arg-type]
        finally:
            api.close()

    def install_crds(self) -> None:
        """Gateway API's CRDs, so the canary's gatewayapi router has HTTPRoutes to write."""
        kubectl = str(program("kube", "kubectl"))
        files = [arg for path in gateway_api_crds() for arg in ("-f", str(path))]
        done = subprocess.run(
            [kubectl, "--kubeconfig", str(self.kubeconfig), "apply", "--server-side", *files],
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise ServiceStartError(f"installing the Gateway API CRDs failed: {done.stderr}")
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
        deadline = time.monotonic() + 60
        for name in ("httproutes", "gateways"):
            while not any(
                c["type"] == "Established" and c["status"] == "True"
                for c in self.get(f"{path}{name}.gateway.networking.k8s.io")
                .get("status", {})
                .get("conditions")
                or []
            ):
                if time.monotonic() > deadline:
                    raise ServiceStartError(f"CRD {name} not Established after 60s")
                time.sleep(0.1)

    def _cluster_ready(self) -> bool:
        node = self.get(f"/api/v1/nodes/{NODE_NAME}")
        ready = any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in node.get("status", {}).get("conditions", [])
        )
        account = self.get("/api/v1/namespaces/default/serviceaccounts")
        return ready and bool(account.get("items"))

    def start(self) -> ControlPlane:
        """Start everything and wait until a pod could be scheduled and run."""
        try:
            self.start_etcd()
            self.start_apiserver()
            self.start_controllers()
            self._add_node()
            self.install_crds()
            deadline = time.monotonic() + 120
            while True:
                try:
                    if self._cluster_ready():
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    logs = "\n".join(p.log_tail(10) for p in self.processes.values())
                    raise ServiceStartError(f"control plane not ready after 120s:\n{logs}")
                for process in self.processes.values():
                    if not process.running():
                        raise process.fail("exited before the control plane was ready")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in ("kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"):
            if name in self.processes:
                self.processes[name].stop()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
