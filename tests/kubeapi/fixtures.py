"""Fixtures for the in-process Kubernetes API stand-in.

`kube_api` is the session's stand-in server. `kube` is what tests use: a fresh
cluster state per test (store, counters and knobs reset), a fresh namespace
(`kube.namespace`), a kubeconfig file, configured clients, and the stand-in's
counters and knobs. When GITOPS_TEST_KUBECONFIG names a kubeconfig, `kube` points at
that real cluster instead (kind, k3d...): the same tests run there, and those that
need counters or knobs skip, saying why.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from tests.kubeapi.controllers import Failure
from tests.kubeapi.knobs import Injection, Rule
from tests.kubeapi.recorder import Request
from tests.kubeapi.server import KubeApiServer

REAL_CLUSTER_ENV = "GITOPS_TEST_KUBECONFIG"
T = TypeVar("T")


class Kube:
    """What a test gets from the `kube` fixture; stand-in-only methods skip on a real cluster."""

    is_standin = False

    def __init__(self, kubeconfig: Path, url: str, tmp: Path) -> None:
        self.kubeconfig = kubeconfig
        self.url = url
        self.namespace = f"gitops-test-{uuid.uuid4().hex[:8]}"
        self._tmp = tmp
        self._clients: list[Any] = []
        self._cleanups: list[Callable[[], None]] = []

    # ------------------------------------------------------------ clients
    def api_client(self) -> Any:
        """A `kubernetes.client.ApiClient` loaded from the kubeconfig file (closed at teardown)."""
        from kubernetes import config

        client = config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]
        self._clients.append(client)
        return client

    def dynamic_client(self) -> Any:
        """A DynamicClient with its own discovery cache file (never a stale shared one)."""
        from kubernetes.dynamic import DynamicClient

        cache = self._tmp / f"discovery-{uuid.uuid4().hex[:8]}.json"
        return DynamicClient(self.api_client(), cache_file=str(cache))  # type: ignore[no-untyped-call]

    def wait_for(
        self, probe: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.05
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
        """Run `cleanup` at teardown (for cluster-scoped objects on a real cluster)."""
        self._cleanups.append(cleanup)

    # --------------------------------------------------------- lifecycle
    def setup(self) -> None:
        from kubernetes import client

        core = client.CoreV1Api(self.api_client())
        core.create_namespace({"metadata": {"name": self.namespace}})  # type: ignore[arg-type]

    def teardown(self) -> None:
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        for api in self._clients:
            api.close()

    # ------------------------------------------------ stand-in only (skip)
    def require_standin(self, what: str) -> None:
        pytest.skip(
            f"needs the Kubernetes stand-in's {what}; {REAL_CLUSTER_ENV} points at a real cluster"
        )

    def writes(self, **filters: str | None) -> int:
        self.require_standin("request counters")
        return 0

    def reads(self, **filters: str | None) -> int:
        self.require_standin("request counters")
        return 0

    def requests(self, **filters: str | None) -> list[Request]:
        self.require_standin("request log")
        return []

    def reset_counters(self) -> None:
        self.require_standin("request counters")

    def changes(self) -> int:
        self.require_standin("change counter")
        return 0

    def deny(
        self,
        verb: str,
        resource: str,
        group: str = "",
        namespace: str | None = None,
        name: str | None = None,
    ) -> None:
        self.require_standin("permission knob")

    def allow_all(self) -> None:
        self.require_standin("permission knob")

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
    ) -> None:
        self.require_standin("failure injection")

    def fail_rollout(
        self,
        namespace: str,
        name: str,
        kind: str = "Deployment",
        *,
        ready: int = 0,
        deadline: float = 1.0,
    ) -> None:
        self.require_standin("rollout failure knob")

    def heal_rollout(self, namespace: str, name: str, kind: str = "Deployment") -> None:
        self.require_standin("rollout failure knob")

    def set_rollout_delay(self, seconds: float) -> None:
        self.require_standin("rollout delay knob")

    def advance(self, seconds: float) -> None:
        self.require_standin("clock")

    @property
    def user(self) -> str:
        self.require_standin("user name")
        return ""


class StandInKube(Kube):
    is_standin = True

    def __init__(self, server: KubeApiServer, tmp: Path) -> None:
        kubeconfig = server.write_kubeconfig(tmp / "kubeconfig")
        super().__init__(kubeconfig, server.url, tmp)
        self.server = server
        self.standin = server.standin

    def setup(self) -> None:
        super().setup()
        self.reset_counters()

    def require_standin(self, what: str) -> None:
        """Nothing to skip: this is the stand-in."""

    def writes(self, **filters: str | None) -> int:
        """Write calls (create/update/patch/delete[collection], not dry-run), any outcome."""
        with self.standin.lock:
            return len(self.standin.recorder.writes(**filters))

    def reads(self, **filters: str | None) -> int:
        with self.standin.lock:
            return len(self.standin.recorder.reads(**filters))

    def requests(self, **filters: str | None) -> list[Request]:
        with self.standin.lock:
            return [r for r in self.standin.recorder.requests if r.matches(**filters)]

    def reset_counters(self) -> None:
        with self.standin.lock:
            self.standin.recorder.reset()
            self.standin.store.commits_by_requests = 0

    def changes(self) -> int:
        """Stored changes made by requests (controller status writes excluded)."""
        with self.standin.lock:
            return self.standin.store.commits_by_requests

    def deny(
        self,
        verb: str,
        resource: str,
        group: str = "",
        namespace: str | None = None,
        name: str | None = None,
    ) -> None:
        """Refuse (verb, group, resource[, namespace[, name]]) with an RBAC-style 403.
        `resource` may be a subresource (`deployments/status`); "*" matches anything."""
        with self.standin.lock:
            self.standin.knobs.denied.append(Rule(verb, group, resource, namespace, name))

    def allow_all(self) -> None:
        with self.standin.lock:
            self.standin.knobs.denied.clear()

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
    ) -> None:
        """Answer the next `times` matching requests with `code` (e.g. 429 + retry_after)."""
        with self.standin.lock:
            rule = Rule(verb, group, resource)
            self.standin.knobs.injections.append(
                Injection(rule, code, reason, message, times, retry_after)
            )

    def fail_rollout(
        self,
        namespace: str,
        name: str,
        kind: str = "Deployment",
        *,
        ready: int = 0,
        deadline: float = 1.0,
    ) -> None:
        """New pods of this workload never get ready (or only `ready` of them); a Deployment
        reports ProgressDeadlineExceeded `deadline` seconds after the rollout's delay."""
        with self.standin.lock:
            self.standin.controllers.failures[(kind, namespace, name)] = Failure(ready, deadline)

    def heal_rollout(self, namespace: str, name: str, kind: str = "Deployment") -> None:
        with self.standin.lock:
            self.standin.controllers.failures.pop((kind, namespace, name), None)

    def set_rollout_delay(self, seconds: float) -> None:
        with self.standin.lock:
            self.standin.controllers.delay = seconds

    def advance(self, seconds: float) -> None:
        """Move the stand-in's clock (rollout timers, timestamps) forward without sleeping."""
        with self.standin.lock:
            self.standin.clock.advance(seconds)

    @property
    def user(self) -> str:
        return self.standin.knobs.user


class ClusterKube(Kube):
    """A real cluster named by GITOPS_TEST_KUBECONFIG."""

    def __init__(self, kubeconfig: Path, tmp: Path) -> None:
        config = yaml.safe_load(kubeconfig.read_text())
        contexts = {c["name"]: c["context"] for c in config.get("contexts") or []}
        clusters = {c["name"]: c["cluster"] for c in config.get("clusters") or []}
        cluster = contexts[config["current-context"]]["cluster"]
        super().__init__(kubeconfig, str(clusters[cluster]["server"]), tmp)

    def setup(self) -> None:
        super().setup()

        def drop_namespace() -> None:
            from kubernetes import client

            client.CoreV1Api(self.api_client()).delete_namespace(self.namespace)

        self.defer(drop_namespace)


@pytest.fixture(scope="session")
def kube_api() -> Iterator[KubeApiServer | None]:
    """The session's stand-in API server (None when testing against a real cluster)."""
    if os.environ.get(REAL_CLUSTER_ENV):
        yield None
        return
    server = KubeApiServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kube(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Kube]:
    """A clean cluster for one test: the stand-in reset, or the real cluster + a namespace."""
    real = os.environ.get(REAL_CLUSTER_ENV)
    handle: Kube
    if real:
        handle = ClusterKube(Path(real), tmp_path)
    else:
        server = request.getfixturevalue("kube_api")
        server.standin.reset()
        handle = StandInKube(server, tmp_path)
    handle.setup()
    try:
        yield handle
    finally:
        handle.teardown()
