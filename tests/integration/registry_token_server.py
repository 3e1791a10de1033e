"""A registry that wants Bearer tokens, and the token service that issues them.

Docker Hub, GHCR, Harbor and Quay all use the distribution token flow, and
neither fixture registry does (Distribution here is htpasswd/Basic, the paging
registry Basic), so this stdlib server plays both halves on one port to
exercise the whole flow for real:

- the registry front (`/v2/...`) answers 401 with
  `WWW-Authenticate: Bearer realm="<url>/token",service="token-test",scope="repository:NAME:pull"`
  unless the request carries a live token granting that scope
  (`error="invalid_token"` for an unknown or expired one,
  `error="insufficient_scope"` for one without the grant);
- the realm (`/token`) checks Basic credentials when sent (401 when wrong),
  grants pull on public repositories to anyone and on private ones to their
  readers, and issues a random token with `expires_in` (or leaves it out), under
  the field name `token` or `access_token` as configured.

Tag lists page with `n`/`last` and an ABSOLUTE `Link` URL (the paging fixture
sends relative ones). Every request is recorded. It runs in a thread of the
test process, like the paging fixture.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlsplit

from testbed.ports import LOCALHOST
from testbed.threaded_server import ThreadedHttpServer

SERVICE = "token-test"


@dataclass
class Repo:
    tags: list[str]
    public: bool = False
    readers: set[str] = field(default_factory=set)
    digests: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    subject: str | None
    scopes: frozenset[str]
    expires_at: float


@dataclass(frozen=True)
class TokenRequest:
    username: str | None  # who the Basic header claimed to be, None if anonymous
    service: str | None
    scope: str | None
    status: int


@dataclass(frozen=True)
class RegistryRequest:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    accept: str | None
    status: int


class TokenRegistry:
    """Configuration, records and lifecycle; setters are thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.users: dict[str, str] = {}
        self.repos: dict[str, Repo] = {}
        self.grants: dict[str, Grant] = {}
        self.token_field = "token"
        self.expires_in: int | None = 300
        self.token_requests: list[TokenRequest] = []
        self.registry_requests: list[RegistryRequest] = []
        self._http: ThreadedHttpServer | None = None
        self.port = 0

    def start(self) -> None:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._http = ThreadedHttpServer(Handler, name="token-registry", poll_interval=0.05)
        self._http.start()
        self.port = self._http.port

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()

    @property
    def host(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def add_user(self, username: str, password: str) -> None:
        with self._lock:
            self.users[username] = password

    def add_repo(
        self,
        name: str,
        tags: list[str],
        *,
        public: bool = False,
        readers: tuple[str, ...] = (),
        digests: dict[str, str] | None = None,
    ) -> None:
        with self._lock:
            self.repos[name] = Repo(sorted(tags), public, set(readers), dict(digests or {}))

    def revoke_tokens(self) -> None:
        """Forget every token issued: the next use gets 401 invalid_token."""
        with self._lock:
            self.grants.clear()

    def tags_requests(self) -> list[RegistryRequest]:
        with self._lock:
            return [r for r in self.registry_requests if r.path.endswith("/tags/list")]

    # -- used by the handler ------------------------------------------------
    def issue(self, username: str | None, scope: str | None) -> tuple[str, dict[str, object]]:
        granted: set[str] = set()
        with self._lock:
            for item in (scope or "").split():
                kind, _, rest = item.partition(":")
                name, _, actions = rest.rpartition(":")
                repo = self.repos.get(name)
                allowed = repo is not None and (
                    repo.public or (username is not None and username in repo.readers)
                )
                if kind == "repository" and "pull" in actions.split(",") and allowed:
                    granted.add(f"repository:{name}:pull")
            token = secrets.token_hex(16)
            lifetime = self.expires_in if self.expires_in is not None else 60
            self.grants[token] = Grant(username, frozenset(granted), time.monotonic() + lifetime)
            body: dict[str, object] = {self.token_field: token}
            if self.expires_in is not None:
                body["expires_in"] = self.expires_in
        return token, body

    def grant(self, token: str) -> Grant | None:
        with self._lock:
            grant = self.grants.get(token)
        if grant is None or time.monotonic() >= grant.expires_at:
            return None
        return grant


class _Handler(BaseHTTPRequestHandler):
    server_owner: TokenRegistry
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall
    _record: Callable[[int], None]  # set per request, called just before the reply

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: requests are recorded on the TokenRegistry."""

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> int:
        # Record before answering: once the client has the answer, a test may read the record.
        self._record(status)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status

    def _error(self, status: int, code: str, headers: dict[str, str] | None = None) -> int:
        body = {"errors": [{"code": code, "message": code.lower().replace("_", " ")}]}
        return self._send(status, body, headers)

    # -- realm ---------------------------------------------------------------
    def _token(self, query: dict[str, str]) -> None:
        owner = self.server_owner
        username: str | None = None
        header = self.headers.get("Authorization")
        status = 200
        if header is not None:
            decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
            username, _, password = decoded.partition(":")
            if owner.users.get(username) != password:
                status = 401
        if query.get("service") != SERVICE:
            status = 400

        def record(status: int) -> None:
            with owner._lock:
                owner.token_requests.append(
                    TokenRequest(username, query.get("service"), query.get("scope"), status)
                )

        self._record = record
        if status == 200:
            _, body = owner.issue(username, query.get("scope"))
            self._send(200, body)
        else:
            self._error(status, "UNAUTHORIZED" if status == 401 else "BAD_REQUEST")

    # -- registry --------------------------------------------------------------
    def _challenge(self, scope: str | None, error: str | None) -> dict[str, str]:
        owner = self.server_owner
        value = f'Bearer realm="{owner.url}/token",service="{SERVICE}"'
        if scope is not None:
            value += f',scope="{scope}"'
        if error is not None:
            value += f',error="{error}"'
        return {"WWW-Authenticate": value}

    def _registry(self, path: str, query: dict[str, str]) -> int:
        owner = self.server_owner
        if path in ("/v2", "/v2/"):
            return self._error(401, "UNAUTHORIZED", self._challenge(None, None))
        if "/tags/list" in path:
            name, kind, ref = path[len("/v2/") : -len("/tags/list")], "tags", ""
        elif "/manifests/" in path:
            name, _, ref = path[len("/v2/") :].partition("/manifests/")
            kind = "manifest"
        else:
            return self._error(404, "NOT_FOUND")
        scope = f"repository:{name}:pull"
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Bearer "):
            return self._error(401, "UNAUTHORIZED", self._challenge(scope, None))
        grant = owner.grant(header.removeprefix("Bearer "))
        if grant is None:
            return self._error(401, "UNAUTHORIZED", self._challenge(scope, "invalid_token"))
        if scope not in grant.scopes:
            return self._error(401, "UNAUTHORIZED", self._challenge(scope, "insufficient_scope"))
        repo = owner.repos.get(name)
        if repo is None:
            return self._error(404, "NAME_UNKNOWN")
        if kind == "manifest":
            digest = repo.digests.get(ref)
            if digest is None:
                return self._error(404, "MANIFEST_UNKNOWN")
            return self._send(200, {}, {"Docker-Content-Digest": digest})
        return self._tags(name, repo, query)

    def _tags(self, name: str, repo: Repo, query: dict[str, str]) -> int:
        rest = [t for t in repo.tags if "last" not in query or t > query["last"]]
        size = int(query["n"]) if "n" in query else len(rest)
        page = rest[:size]
        headers: dict[str, str] = {}
        if len(rest) > size and page:
            link = f"{self.server_owner.url}/v2/{name}/tags/list?n={size}&last={quote(page[-1])}"
            headers["Link"] = f'<{link}>; rel="next"'
        return self._send(200, {"name": name, "tags": page}, headers)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path == "/token":
            self._token(query)
            return
        owner = self.server_owner

        def record(status: int) -> None:
            with owner._lock:
                owner.registry_requests.append(
                    RegistryRequest(
                        self.command,
                        parts.path,
                        query,
                        self.headers.get("Authorization"),
                        self.headers.get("Accept"),
                        status,
                    )
                )

        self._record = record
        self._registry(parts.path, query)

    do_HEAD = do_GET
