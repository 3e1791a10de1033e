"""One-line `RegistryError` messages for what registries answer, or fail to.

Every message names the image, the registry host and the HTTP status (or the
transport failure), and says what to do when there is something to do (fix the
credentials, set `spec.insecure`, lower the rate). Text the registry sent (its
`errors[0].code/message`) or the network stack produced is scrubbed of every
secret the request used before it goes into a message: a password or token must
never reach a log, a terminal or a CI summary.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from gitops_action.adapters.docker_config import Credentials
from gitops_action.domain.errors import RegistryError

_DETAIL_MAX = 200
_MIN_SECRET = 3
"""Shorter strings are not scrubbed: they would mangle every word, and hide nothing."""


@dataclass(frozen=True)
class Target:
    """What a request was for, as messages name it."""

    image: str  # canonical image name, e.g. 127.0.0.1:5000/team/app
    host: str  # registry host[:port]
    action: str  # "listing tags of 127.0.0.1:5000/team/app"
    credentials: Credentials | None
    notices: tuple[str, ...] = ()


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` on one line with each secret replaced by `***`."""
    line = " ".join(text.split())
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True):
        line = line.replace(secret, "***")
    return line


def registry_detail(response: httpx.Response) -> str:
    """`CODE: message` of the first error in a distribution error body, or ""."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return ""
    code = str(errors[0].get("code") or "")
    message = str(errors[0].get("message") or "")
    text = ": ".join(part for part in (code, message) if part)
    return text[:_DETAIL_MAX]


def status_error(
    target: Target,
    response: httpx.Response,
    *,
    attempts: int,
    missing: str,
    secrets: Iterable[str],
) -> RegistryError:
    """The error for a final non-success answer; `missing` says what a 404 means."""
    status = response.status_code
    detail = scrub(registry_detail(response), secrets)
    suffix = f" [{detail}]" if detail else ""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    http = f"HTTP {status} {target.action}{tries}{suffix}"
    if status == 401:
        return RegistryError(f"unauthorized: {_credentials_hint(target)}: {http}")
    if status == 403:
        who = target.credentials.describe() if target.credentials else "anonymous access"
        return RegistryError(f"forbidden: {who} may not pull {target.image}: {http}")
    if status == 404:
        return RegistryError(f"{missing} not found on {target.host}: {http}")
    if status == 429:
        return RegistryError(
            f"too many requests: registry {target.host} answered {http}; "
            "try again later or lower the request rate"
        )
    if status >= 500:
        return RegistryError(f"registry {target.host} failed: {http}")
    return RegistryError(f"registry {target.host} refused the request: {http}")


def token_error(target: Target, realm_host: str, response: httpx.Response) -> RegistryError:
    """The token service refused to issue a token (wrong credentials, usually)."""
    status = response.status_code
    where = f"token service {realm_host} answered HTTP {status} {target.action}"
    if status in (401, 403):
        return RegistryError(f"unauthorized: {_credentials_hint(target)}: {where}")
    return RegistryError(f"registry {target.host}: {where}")


def transport_error(
    target: Target, host: str, error: httpx.HTTPError, timeouts: httpx.Timeout, secrets: list[str]
) -> RegistryError:
    """The error for a request that got no HTTP answer at all."""
    what = f"registry {host}" if host == target.host else f"token service {host}"
    reason = scrub(str(error), secrets) or type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        kind, limit = _timeout_kind(error, timeouts)
        return RegistryError(
            f"{what} did not answer within {limit:g}s ({kind} timeout) {target.action}"
        )
    if isinstance(error, httpx.ConnectError) and _is_tls(error):
        return RegistryError(
            f"TLS with {what} failed {target.action}: {reason}; "
            "a plain-HTTP registry needs spec.insecure: true"
        )
    if isinstance(error, httpx.ConnectError):
        if "refused" in reason.lower():
            reason = "connection refused"
        return RegistryError(f"cannot connect to {what} {target.action}: {reason}")
    return RegistryError(f"request to {what} failed {target.action}: {reason}")


def _credentials_hint(target: Target) -> str:
    if target.credentials is not None:
        return f"check the credentials for {target.host} ({target.credentials.describe()})"
    hint = (
        f"registry {target.host} wants credentials and none were found for it "
        "(set the ImageRepository secretRef or add it to the docker config)"
    )
    if target.notices:
        hint += "; note: " + "; ".join(target.notices)
    return hint


def _timeout_kind(error: httpx.TimeoutException, timeouts: httpx.Timeout) -> tuple[str, float]:
    if isinstance(error, httpx.ConnectTimeout):
        return "connect", timeouts.connect or 0.0
    if isinstance(error, httpx.WriteTimeout):
        return "write", timeouts.write or 0.0
    if isinstance(error, httpx.PoolTimeout):
        return "pool", timeouts.pool or 0.0
    return "read", timeouts.read or 0.0


def _is_tls(error: BaseException) -> bool:
    """True when an SSL error is anywhere in the cause chain."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return True
        current = current.__cause__ or current.__context__
    text = str(error)
    return "SSL" in text or "CERTIFICATE" in text.upper()
