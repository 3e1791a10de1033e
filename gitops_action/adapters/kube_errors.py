"""Turning Kubernetes API failures into our errors, each one line naming what failed.

The API answers errors with a `Status` object whose `message` is written for
people (`deployments.apps "demo" is forbidden: User "..." cannot patch
resource "deployments" in API group "apps" in the namespace "default"`). A
403 is reworded to say exactly which permission the ServiceAccount lacks, so
the fix (a Role rule) can be written from the message alone.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from gitops_action.domain.errors import KubeApiError, KubeConflict, KubeForbidden, KubeInvalid

_RBAC: Final = re.compile(
    r'User "(?P<user>[^"]*)" cannot (?P<verb>\S+) resource "(?P<resource>[^"]+)"'
    r'(?: in API group "(?P<group>[^"]*)")?'
    r'(?: in the namespace "(?P<namespace>[^"]+)"| at the cluster scope)?'
)


def status_of(error: Any) -> dict[str, Any]:
    """The `Status` body of an ApiException (empty when it is not JSON)."""
    body = getattr(error, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        status = json.loads(body) if isinstance(body, str) and body else {}
    except ValueError:
        status = {}
    return status if isinstance(status, dict) else {}


def message_of(error: Any) -> str:
    status = status_of(error)
    message = status.get("message") or getattr(error, "reason", None) or str(error)
    return " ".join(str(message).split())


def translate(error: Any, verb: str, what: str) -> KubeApiError:
    """Our error for an ApiException raised while doing `verb` on `what` (e.g. `Deployment
    default/demo`)."""
    code = int(getattr(error, "status", 0) or 0)
    message = message_of(error)
    if code == 403:
        return forbidden(message, verb, what)
    if code == 401:
        return KubeApiError(
            f"{verb} {what}: the API server rejected our credentials (401 Unauthorized)"
        )
    if code == 404:
        return KubeApiError(f"{verb} {what}: not found ({message})")
    if code == 409:
        return KubeConflict(f"{verb} {what}: conflict ({message})")
    if code == 422:
        return KubeInvalid(f"{verb} {what}: rejected as invalid by the API server ({message})")
    return KubeApiError(f"{verb} {what}: API error {code or ''} ({message})".replace("  ", " "))


def forbidden(message: str, verb: str, what: str) -> KubeForbidden:
    match = _RBAC.search(message)
    if match is None:
        return KubeForbidden(f"{verb} {what}: forbidden ({message})")
    group = match.group("group") or ""
    resource = match.group("resource") + (f".{group}" if group else "")
    namespace = match.group("namespace")
    scope = f'in namespace "{namespace}"' if namespace else "at cluster scope"
    return KubeForbidden(
        f"{verb} {what}: forbidden: {match.group('user')} lacks RBAC permission to "
        f'"{match.group("verb")}" {resource} (API group "{group}") {scope}'
    )


def unreachable(error: Exception, host: str) -> KubeApiError:
    reason = getattr(error, "reason", None) or error
    return KubeApiError(
        f"cannot reach the Kubernetes API server at {host}: {' '.join(str(reason).split())}"
    )
