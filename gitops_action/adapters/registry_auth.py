"""What the registry client remembers about logging in: schemes and tokens.

The distribution auth flow: a request without (or with stale) credentials gets
`401` and a challenge. `Basic` means "send user:password on every request";
`Bearer realm=R,service=S,scope=X` means "GET R?service=S&scope=X (with Basic
credentials if you have them), and send the `token` you get back as
`Authorization: Bearer`". Docker Hub, GHCR, Harbor, Quay all use Bearer.

Remembering the scheme per registry saves the 401 round trip on every later
request (an idle run is then one tags request per image), and caching tokens per
(registry, scope, credentials) until they expire saves the token request.
Expiry is read from `expires_in` (60 s when absent, per the token spec) minus a
small margin, against an injectable clock.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass

from gitops_action.adapters.docker_config import Credentials

DEFAULT_TOKEN_LIFETIME = 60.0
"""Seconds a token lives when the token service does not say (`expires_in`)."""


@dataclass(frozen=True)
class HostAuth:
    """How a registry host asked to be authenticated, learnt from its challenge."""

    scheme: str  # "basic" or "bearer"
    realm: str | None = None
    service: str | None = None


@dataclass(frozen=True)
class CachedToken:
    value: str
    expires_at: float


TokenKey = tuple[str, str, Credentials | None]
"""(registry host, scope, credentials used to get it)."""


def pull_scope(repository: str) -> str:
    """The token scope for reading a repository."""
    return f"repository:{repository}:pull"


def basic_authorization(credentials: Credentials) -> str:
    """The `Authorization` header value for Basic auth."""
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def token_lifetime(expires_in: object) -> float:
    """Seconds to keep a token: `expires_in` less a margin for clock skew and transit."""
    seconds = (
        float(expires_in)
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
        else 0.0
    )
    if seconds <= 0:
        seconds = DEFAULT_TOKEN_LIFETIME
    return seconds - min(5.0, seconds / 10)


class AuthState:
    """Per-host schemes and per-scope tokens for one client (not thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hosts: dict[str, HostAuth] = {}
        self._tokens: dict[TokenKey, CachedToken] = {}

    def host(self, host: str) -> HostAuth | None:
        return self._hosts.get(host)

    def learn(self, host: str, auth: HostAuth) -> None:
        self._hosts[host] = auth

    def token(self, key: TokenKey) -> str | None:
        """A cached token that has not expired, else None (and the stale one is dropped)."""
        cached = self._tokens.get(key)
        if cached is None:
            return None
        if self._clock() >= cached.expires_at:
            del self._tokens[key]
            return None
        return cached.value

    def store(self, key: TokenKey, value: str, expires_in: object) -> None:
        self._tokens[key] = CachedToken(value, self._clock() + token_lifetime(expires_in))

    def forget(self, key: TokenKey) -> None:
        self._tokens.pop(key, None)

    def secrets(self) -> list[str]:
        """Every token held, for scrubbing error messages."""
        return [cached.value for cached in self._tokens.values()]
