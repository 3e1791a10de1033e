"""Upstream CustomResourceDefinitions the tests need, taken from their published Go
modules (the module zip carries the YAML), never written by hand here.

Gateway API: the canary's `gatewayapi` router writes HTTPRoutes, so the cluster
needs the real HTTPRoute CRD (with its validation) installed first.
"""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from pathlib import Path

GATEWAY_API = "sigs.k8s.io/gateway-api@v1.3.0"


@cache
def module_dir(module: str) -> Path:
    """Download `module@version` through the Go module proxy (cached) and return its dir."""
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    done = subprocess.run(
        ["go", "mod", "download", "-json", module],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd="/",
    )
    return Path(json.loads(done.stdout)["Dir"])


def gateway_api_crds() -> list[Path]:
    """The standard-channel Gateway API CRDs (HTTPRoute, Gateway, ...)."""
    return sorted((module_dir(GATEWAY_API) / "config" / "crd" / "standard").glob("*.yaml"))
