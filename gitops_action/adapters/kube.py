"""The Kubernetes API, for any kind: discovery, get/list, server-side apply, delete.

Built on the official client's `DynamicClient`: its lazy discovery resolves an
apiVersion/kind to a resource (plural, namespaced or not) fetching only the
group versions asked for, and re-reads discovery once on a miss (a CRD applied
a moment ago). Requests go through the same client with `serialize=False`
and come back as plain dicts: the sync compares and renders objects as data,
and wrapping hundreds of them in `ResourceInstance` only to unwrap them again
would be most of an idle run's time.

Server-side apply uses the field manager `gitops-action` with `force=true`:
git is the source of truth for every field it sets, so a field someone else
took over (a `kubectl edit`, another apply) is drift to correct, not a
conflict to stop on; this is what Flux does for its own manager. Fields git
leaves out (an HPA's or a canary's replicas) are never sent, so force never
takes those.

Throttling and transient server errors (429, 500, 502, 503, 504) are retried
a few times with backoff (Retry-After honoured); everything else becomes one
of our errors naming the verb and the object (see `kube_errors`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

from gitops_action.adapters import kube_config
from gitops_action.adapters.kube_errors import translate, unreachable
from gitops_action.domain.manifests import FIELD_MANAGER, split_api_version
from gitops_action.domain.sync_plan import ResourceType

T = TypeVar("T")
_RETRY_CODES: Final = frozenset({429, 500, 502, 503, 504})
_ATTEMPTS: Final = 4
_BACKOFF: Final = 0.2
_MAX_RETRY_AFTER: Final = 10.0
_REQUEST_TIMEOUT: Final = 60
_PAGE: Final = 500


class Kube:
    """One connection to one cluster (close it, or use `connect`)."""

    def __init__(self, api_client: Any) -> None:
        self._api = api_client
        self._dynamic: Any = None
        self._cache_dir: str | None = None
        self.host = str(api_client.configuration.host)
        self.sleep: Callable[[float], None] = time.sleep

    # ----------------------------------------------------------- discovery
    @property
    def dynamic(self) -> Any:
        """The DynamicClient, created on first use; its discovery cache is private to this
        connection (a shared cache file could describe another cluster or an older one)."""
        if self._dynamic is None:
            from kubernetes.dynamic import DynamicClient

            self._cache_dir = tempfile.mkdtemp(prefix="gitops-action-discovery-")
            cache = str(Path(self._cache_dir) / "discovery.json")
            self._dynamic = self._call(
                "discover",
                "the API",
                lambda: DynamicClient(self._api, cache_file=cache),  # type: ignore[no-untyped-call]
            )
        return self._dynamic

    def resolve(self, api_version: str, kind: str) -> ResourceType | None:
        """How the server serves apiVersion/kind, or None when it does not."""
        from kubernetes.dynamic.exceptions import ResourceNotFoundError, ResourceNotUniqueError

        group, version = split_api_version(api_version)
        search: dict[str, str] = {"api_version": version, "kind": kind}
        search.update({"prefix": "apis", "group": group} if group else {"prefix": "api"})
        dynamic = self.dynamic

        def lookup() -> Any:
            try:
                return dynamic.resources.get(**search)
            except (ResourceNotFoundError, ResourceNotUniqueError):
                return None

        found = self._call("discover", f"{kind} ({api_version})", lookup)
        if found is None:
            return None
        return ResourceType(group, version, kind, str(found.name), bool(found.namespaced))

    # -------------------------------------------------------------- verbs
    def get(self, resource: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        """The live object, or None when it does not exist."""
        what = _describe(resource, namespace, name)
        return self._request("get", what, "GET", resource.path(namespace, name), missing_ok=True)

    def list(self, resource: ResourceType, namespace: str = "") -> list[dict[str, Any]]:
        """Every object of a type (in a namespace, or cluster-wide), following pages."""
        what = f"{resource.plural}" + (f" in namespace {namespace}" if namespace else "")
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._request(
                "list",
                what,
                "GET",
                resource.path(namespace),
                missing_ok=True,
                limit=_PAGE,
                _continue=token,
            )
            if page is None:
                return items
            for item in page.get("items") or []:
                item.setdefault("apiVersion", resource.api_version)
                item.setdefault("kind", resource.kind)
                items.append(item)
            token = (page.get("metadata") or {}).get("continue") or None
            if not token:
                return items

    def apply(
        self,
        resource: ResourceType,
        body: Mapping[str, Any],
        *,
        field_manager: str = FIELD_MANAGER,
    ) -> dict[str, Any]:
        """Server-side apply `body` as `field_manager` (force: see the module doc).

        Sync applies as `gitops-action`; the canary manager as its own manager, so
        each owns (and may later drop) only the fields it sent.
        """
        metadata = body["metadata"]
        namespace, name = str(metadata.get("namespace") or ""), str(metadata["name"])
        result = self._request(
            "apply",
            _describe(resource, namespace, name),
            "PATCH",
            resource.path(namespace, name),
            body=dict(body),
            content_type="application/apply-patch+yaml",
            field_manager=field_manager,
            force_conflicts=True,
        )
        assert result is not None
        return result

    def create(self, resource: ResourceType, namespace: str, body: Mapping[str, Any]) -> None:
        """POST a new object (Events, for instance: they are created, never applied)."""
        kind = str(body.get("kind") or resource.kind)
        self._request(
            "create", f"{kind} in {namespace}", "POST", resource.path(namespace), body=dict(body)
        )

    def replace(self, resource: ResourceType, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT `body` (an update guarded by its `metadata.resourceVersion`: a 409
        `KubeConflict` when the object changed since it was read, which is how a Lease is
        taken without two holders)."""
        metadata = body["metadata"]
        namespace, name = str(metadata.get("namespace") or ""), str(metadata["name"])
        result = self._request(
            "update",
            _describe(resource, namespace, name),
            "PUT",
            resource.path(namespace, name),
            body=dict(body),
        )
        assert result is not None
        return result

    def delete(self, resource: ResourceType, namespace: str, name: str) -> bool:
        """Delete (dependents in the background, as kubectl does); False when already gone."""
        result = self._request(
            "delete",
            _describe(resource, namespace, name),
            "DELETE",
            resource.path(namespace, name),
            missing_ok=True,
            propagation_policy="Background",
        )
        return result is not None

    # ------------------------------------------------------------ plumbing
    def _request(
        self,
        verb: str,
        what: str,
        method: str,
        path: str,
        *,
        missing_ok: bool = False,
        **params: Any,
    ) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        params = {key: value for key, value in params.items() if value is not None}
        dynamic = self.dynamic

        def send() -> dict[str, Any] | None:
            try:
                response = dynamic.request(
                    method, path, serialize=False, _request_timeout=_REQUEST_TIMEOUT, **params
                )
            except ApiException as err:
                if missing_ok and err.status == 404:
                    return None
                raise
            data = json.loads(response.data or b"null")
            return data if isinstance(data, dict) else None

        return self._call(verb, what, send)

    def _call(self, verb: str, what: str, action: Callable[[], T]) -> T:
        """Run one API call: retry transient failures, translate the rest."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return action()
            except ApiException as err:
                if err.status not in _RETRY_CODES or attempt == _ATTEMPTS:
                    raise translate(err, verb, what) from err
                self.sleep(_retry_delay(err, attempt))
            except HTTPError as err:
                raise unreachable(err, self.host) from err
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def impersonating(self, user: str) -> Iterator[Kube]:
        """The same cluster, every request made as `user` (`Impersonate-User`): how a Flux
        Kustomization's `serviceAccountName` is honoured, so the API server's RBAC for that
        ServiceAccount decides what its objects may touch. Needs `impersonate` on
        serviceaccounts for our own identity."""
        from kubernetes import client

        api = client.ApiClient(self._api.configuration)
        api.user_agent = self._api.user_agent
        api.set_default_header("Impersonate-User", user)  # type: ignore[no-untyped-call]
        other = Kube(api)
        other.sleep = self.sleep
        try:
            yield other
        finally:
            other.close()

    def close(self) -> None:
        self._api.close()
        if self._cache_dir is not None:
            shutil.rmtree(self._cache_dir, ignore_errors=True)


def _retry_delay(error: Any, attempt: int) -> float:
    headers = getattr(error, "headers", None) or {}
    after = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        if after is not None:
            return min(float(after), _MAX_RETRY_AFTER)
    except ValueError:
        pass
    return float(_BACKOFF * 2 ** (attempt - 1))


def _describe(resource: ResourceType, namespace: str, name: str) -> str:
    return f"{resource.kind} {namespace}/{name}" if namespace else f"{resource.kind} {name}"


@contextmanager
def connect(kubeconfig: str | None = None, context: str | None = None) -> Iterator[Kube]:
    """A `Kube` for the configured cluster, closed on exit."""
    kube = Kube(kube_config.api_client(kubeconfig, context))
    try:
        yield kube
    finally:
        kube.close()
