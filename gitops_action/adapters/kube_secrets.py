"""Registry credentials from an ImageRepository `secretRef`, read through the Kubernetes API.

In a cluster (the CronJob), `spec.secretRef.name` names a Secret in the
ImageRepository's namespace, of type `kubernetes.io/dockerconfigjson` (or the
legacy `kubernetes.io/dockercfg`), exactly as Flux reads it. The tool reads it
with its service account (RBAC: `get` on `secrets` in that namespace).

Outside a cluster there is no API to ask, and the docker config is used
instead: `pull_secrets(environ)` returns None and callers fall back. Set
`GITOPS_KUBECONFIG` to a kubeconfig to read secrets from a cluster while
running elsewhere (and in tests, against the API stand-in).

The `kubernetes` client is imported only when a secret is actually read: it
costs about half a second, and most runs never need it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops_action.adapters.docker_config import Keychain, parse_docker_config
from gitops_action.domain.errors import InvalidDockerConfig, PullSecretError

KUBECONFIG_ENV = "GITOPS_KUBECONFIG"
SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
DOCKER_KEYS = (".dockerconfigjson", ".dockercfg")
TIMEOUT = 10


def in_cluster(environ: Mapping[str, str], token: Path = SERVICE_ACCOUNT_TOKEN) -> bool:
    """True inside a pod: the service host variable and a mounted service-account token."""
    return bool(environ.get("KUBERNETES_SERVICE_HOST")) and token.is_file()


class PullSecrets:
    """Reads pull secrets (one request per secret per run: answers are cached)."""

    def __init__(self, *, kubeconfig: str | None = None) -> None:
        self.kubeconfig = kubeconfig
        self._api: Any = None
        self._cache: dict[tuple[str, str], Keychain] = {}
        self.requests = 0

    @property
    def describe(self) -> str:
        return f"kubeconfig {self.kubeconfig}" if self.kubeconfig else "the in-cluster API"

    def keychain(self, namespace: str, name: str) -> Keychain:
        """The credentials in Secret `namespace/name`; `PullSecretError` when unusable."""
        key = (namespace, name)
        if key not in self._cache:
            self._cache[key] = self._read(namespace, name)
        return self._cache[key]

    def _core(self) -> Any:
        if self._api is None:
            from kubernetes import client

            from gitops_action.adapters.kube_config import api_client

            self._api = client.CoreV1Api(api_client(self.kubeconfig))
        return self._api

    def _read(self, namespace: str, name: str) -> Keychain:
        from kubernetes.client.exceptions import ApiException

        from gitops_action.domain.errors import KubeConfigError

        what = f"secret {namespace}/{name}"
        self.requests += 1
        try:
            secret = self._core().read_namespaced_secret(name, namespace, _request_timeout=TIMEOUT)
        except ApiException as error:
            raise PullSecretError(f"{what}: {_api_reason(error, self.describe)}") from None
        except KubeConfigError as error:
            raise PullSecretError(f"{what}: {error}") from None
        except Exception as error:  # urllib3/connection errors carry no secret
            reason = " ".join(str(error).split())[:200] or type(error).__name__
            raise PullSecretError(f"{what}: cannot read it via {self.describe}: {reason}") from None
        data: Mapping[str, str] = secret.data or {}
        for key in DOCKER_KEYS:
            if key in data:
                try:
                    text = base64.b64decode(data[key]).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    raise PullSecretError(f"{what}: {key} is not base64 UTF-8 text") from None
                try:
                    return parse_docker_config(text, what)
                except InvalidDockerConfig as error:
                    raise PullSecretError(str(error)) from None
        raise PullSecretError(
            f"{what}: has no .dockerconfigjson (type {secret.type or 'unknown'}); "
            "an ImageRepository secretRef must be a kubernetes.io/dockerconfigjson Secret"
        )


def _api_reason(error: Any, describe: str) -> str:
    status = getattr(error, "status", None)
    if status == 404:
        return "not found"
    if status == 403:
        return f"forbidden (the service account needs `get` on secrets; via {describe})"
    if status == 401:
        return f"unauthorized (via {describe})"
    return f"HTTP {status} {getattr(error, 'reason', '')}".strip()


def pull_secrets(environ: Mapping[str, str]) -> PullSecrets | None:
    """The secret reader for this environment, None when not in a cluster."""
    if environ.get(KUBECONFIG_ENV):
        return PullSecrets(kubeconfig=environ[KUBECONFIG_ENV])
    if in_cluster(environ):
        return PullSecrets()
    return None
