"""Where the Kubernetes credentials come from, in kubectl's order.

1. `--kubeconfig PATH` (with `--context`);
2. `KUBECONFIG` (a `:`-separated list, merged as kubectl merges it);
3. `~/.kube/config`;
4. in a pod (no kubeconfig anywhere, `KUBERNETES_SERVICE_HOST` set): the
   ServiceAccount token and CA mounted by Kubernetes, which is how the
   CronJob in `cluster/` runs.

The `kubernetes` package is imported here, lazily, and nowhere above adapters.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from gitops_action import __version__
from gitops_action.domain.errors import KubeConfigError

USER_AGENT: Final = f"gitops-action/{__version__}"
_DEFAULT_KUBECONFIG: Final = "~/.kube/config"


def in_cluster(kubeconfig: str | None) -> bool:
    """True when no kubeconfig is named or present and we run in a pod."""
    if kubeconfig or os.environ.get("KUBECONFIG"):
        return False
    if Path(_DEFAULT_KUBECONFIG).expanduser().exists():
        return False
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def api_client(kubeconfig: str | None = None, context: str | None = None) -> Any:
    """A configured `kubernetes.client.ApiClient` (the caller closes it)."""
    from kubernetes import client, config

    pod = in_cluster(kubeconfig)
    try:
        if pod:
            if context:
                raise KubeConfigError(f"--context {context!r}: no kubeconfig (running in a pod)")
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            api = client.ApiClient(configuration)
        else:
            api = config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=str(Path(kubeconfig).expanduser()) if kubeconfig else None,
                context=context,
                persist_config=False,
            )
    except config.ConfigException as err:
        where = "the pod's ServiceAccount" if pod else _kubeconfig_source(kubeconfig)
        detail = " ".join(str(err).split())
        raise KubeConfigError(f"cannot load Kubernetes config from {where}: {detail}") from err
    api.user_agent = USER_AGENT
    return api


def _kubeconfig_source(kubeconfig: str | None) -> str:
    return kubeconfig or os.environ.get("KUBECONFIG") or _DEFAULT_KUBECONFIG
