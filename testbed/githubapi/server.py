"""A local stand-in for the GitHub REST API, for PyGithub in tests.

A stdlib `ThreadingHTTPServer` on 127.0.0.1 in a thread of the test process.
It serves what our adapters call, with GitHub's JSON shapes (testbed/githubapi/
shapes.py), status codes and auth behaviour, and records every request so a
test can assert what was asked (and how often).

Built in:
    GET  /repos/{owner}/{repo}                          -> repository | 404
    GET  /repos/{owner}/{repo}/commits/{ref}            -> commit | 404 (repo) | 422 (ref)
    POST /repos/{owner}/{repo}/statuses/{sha}           -> 201 status | 404 | 422
    GET  /repos/{owner}/{repo}/commits/{ref}/statuses   -> statuses, newest first
    GET  /repos/{owner}/{repo}/statuses/{ref}           -> the same (older alias PyGithub uses)

Later endpoints (pull requests ...) are added with `route()`:

    def create_status(stub, request, params):
        return Reply(201, {...})
    stub.route("POST", "/repos/{owner}/{repo}/statuses/{sha}", create_status)

Routes added later win over built-in ones with the same pattern. `fail_next()`
injects errors. With `prefix="/api/v3"` it plays GitHub Enterprise Server.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from testbed.githubapi import shapes
from testbed.threaded_server import ThreadedHttpServer

LOCALHOST = "127.0.0.1"
DEFAULT_TOKEN = "ghs_stubtoken0000000000000000000000000000"


@dataclass(frozen=True)
class Recorded:
    """One request as the stub saw it (path without the prefix), and its answer."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Reply:
    """What a route answers; `body` is JSON-encoded (None sends no body)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Params = dict[str, str]
RouteHandler = Callable[["GitHubApiStub", Recorded, Params], Reply]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: RouteHandler


def _compile(template: str) -> re.Pattern[str]:
    """`/repos/{owner}/{repo}` -> a regex with named groups (one path segment each)."""
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
        for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


class GitHubApiStub:
    """The server, its data and its request log; methods are thread-safe."""

    def __init__(self, *, token: str | None = DEFAULT_TOKEN, prefix: str = "") -> None:
        self.token = token
        """Required in `Authorization` (`token X` or `Bearer X`); None: no auth."""
        self.prefix = prefix.rstrip("/")
        self._lock = threading.Lock()
        self._routes: list[_Route] = []
        self._repos: dict[str, dict[str, Any]] = {}
        self._commits: dict[str, dict[str, dict[str, Any]]] = {}
        self._statuses: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._failures: deque[Reply] = deque()
        self._requests: list[Recorded] = []
        self._http: ThreadedHttpServer | None = None
        self.port = 0
        self.route("GET", "/repos/{owner}/{repo}", _get_repo)
        self.route("GET", "/repos/{owner}/{repo}/commits/{ref}", _get_commit)
        self.route("POST", "/repos/{owner}/{repo}/statuses/{sha}", _create_status)
        self.route("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses", _list_statuses)
        self.route("GET", "/repos/{owner}/{repo}/statuses/{ref}", _list_statuses)  # PyGithub's

    # -- lifecycle -------------------------------------------------------
    def start(self) -> GitHubApiStub:
        stub = self

        class Handler(_Handler):
            owner = stub

        self._http = ThreadedHttpServer(Handler, name="github-api-stub", poll_interval=0.02)
        self._http.start()
        self.port = self._http.port
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()

    def __enter__(self) -> GitHubApiStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API base URL (what `GITHUB_API_URL` would hold)."""
        return f"http://{LOCALHOST}:{self.port}{self.prefix}"

    # -- configuration ---------------------------------------------------
    def route(self, method: str, template: str, handler: RouteHandler) -> None:
        """Serve `method template` with `handler(stub, request, params)`."""
        with self._lock:
            self._routes.insert(0, _Route(method.upper(), _compile(template), handler))

    def add_repo(self, full_name: str, **fields: Any) -> dict[str, Any]:
        """Create (or replace) a repository; extra fields override the shape's."""
        body = {**shapes.repository(self.url, full_name), **fields}
        with self._lock:
            self._repos[full_name] = body
            self._commits.setdefault(full_name, {})
        return body

    def add_commit(
        self,
        full_name: str,
        sha: str,
        *,
        author: shapes.GitIdentity,
        committer: shapes.GitIdentity | None = None,
        author_login: str | None = None,
        committer_login: str | None = None,
        message: str = "change",
        parents: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Store a commit (creating its repository if needed) and return its JSON."""
        if full_name not in self._repos:
            self.add_repo(full_name)
        body = shapes.commit(
            self.url,
            full_name,
            sha,
            message=message,
            author=author,
            committer=committer or author,
            author_login=author_login,
            committer_login=committer_login if committer else author_login,
            parents=parents,
        )
        with self._lock:
            self._commits[full_name][sha] = body
        return body

    def fail_next(self, status: int, message: str, times: int = 1) -> None:
        """Answer the next `times` requests with `status` and GitHub's error body."""
        with self._lock:
            reply = Reply(status, shapes.error_body(status, message))
            self._failures.extend(reply for _ in range(times))

    def reset(self) -> None:
        """Forget data, failures and recorded requests (routes stay)."""
        with self._lock:
            self._repos.clear()
            self._commits.clear()
            self._statuses.clear()
            self._failures.clear()
            self._requests.clear()

    # -- observation -----------------------------------------------------
    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # -- used by handlers ------------------------------------------------
    def repo(self, full_name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._repos.get(full_name)

    def find_commit(self, full_name: str, ref: str) -> dict[str, Any] | None:
        """A commit by full SHA or unique prefix (GitHub resolves both)."""
        with self._lock:
            commits = self._commits.get(full_name, {})
            if ref in commits:
                return commits[ref]
            matches = [c for sha, c in commits.items() if len(ref) >= 4 and sha.startswith(ref)]
        return matches[0] if len(matches) == 1 else None

    def statuses(self, full_name: str, sha: str) -> list[dict[str, Any]]:
        """Commit statuses set on `sha`, oldest first (as created)."""
        with self._lock:
            return list(self._statuses.get((full_name, sha), []))

    def next_status_id(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._statuses.values()) + 1

    def add_status(self, full_name: str, sha: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._statuses.setdefault((full_name, sha), []).append(body)

    def _dispatch(self, request: Recorded) -> Reply:
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
            routes = list(self._routes)
        if failure is not None:
            return failure
        if not self._authorized(request.headers.get("authorization", "")):
            return Reply(401, shapes.error_body(401, "Bad credentials"))
        for route in routes:
            match = route.pattern.match(request.path)
            if match and route.method == request.method:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                return route.handler(self, request, params)
        return Reply(404, shapes.error_body(404, "Not Found"))

    def _authorized(self, header: str) -> bool:
        if self.token is None:
            return True
        return header in (f"token {self.token}", f"Bearer {self.token}")

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self._requests.append(request)


def _get_repo(stub: GitHubApiStub, request: Recorded, params: Params) -> Reply:
    body = stub.repo(f"{params['owner']}/{params['repo']}")
    return Reply(200, body) if body else Reply(404, shapes.error_body(404, "Not Found"))


def _get_commit(stub: GitHubApiStub, request: Recorded, params: Params) -> Reply:
    full_name = f"{params['owner']}/{params['repo']}"
    if stub.repo(full_name) is None:
        return Reply(404, shapes.error_body(404, "Not Found"))
    body = stub.find_commit(full_name, params["ref"])
    if body is None:
        message = f"No commit found for SHA: {params['ref']}"
        return Reply(422, shapes.error_body(422, message))
    return Reply(200, body)


def _create_status(stub: GitHubApiStub, request: Recorded, params: Params) -> Reply:
    """POST a commit status: `state` required and one of four; the commit must exist."""
    full_name = f"{params['owner']}/{params['repo']}"
    if stub.repo(full_name) is None:
        return Reply(404, shapes.error_body(404, "Not Found"))
    commit = stub.find_commit(full_name, params["sha"])
    if commit is None:
        return Reply(422, shapes.error_body(422, f"No commit found for SHA: {params['sha']}"))
    try:
        data = request.json() or {}
    except ValueError:
        return Reply(400, shapes.error_body(400, "Problems parsing JSON"))
    if not isinstance(data, dict) or data.get("state") not in shapes.STATUS_STATES:
        return Reply(422, shapes.validation_failed("Status", "state", "custom"))
    body = shapes.commit_status(
        stub.url,
        full_name,
        commit["sha"],
        number=stub.next_status_id(),
        state=data["state"],
        description=data.get("description"),
        target_url=data.get("target_url"),
        context=data.get("context") or "default",
    )
    stub.add_status(full_name, commit["sha"], body)
    return Reply(201, body)


def _list_statuses(stub: GitHubApiStub, request: Recorded, params: Params) -> Reply:
    full_name = f"{params['owner']}/{params['repo']}"
    if stub.repo(full_name) is None:
        return Reply(404, shapes.error_body(404, "Not Found"))
    commit = stub.find_commit(full_name, params["ref"])
    sha = commit["sha"] if commit else params["ref"]
    return Reply(200, list(reversed(stub.statuses(full_name, sha))))


class _Handler(BaseHTTPRequestHandler):
    owner: GitHubApiStub
    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: requests are recorded on the stub instead."""

    def _handle(self) -> None:
        split = urlsplit(self.path)
        path = split.path
        prefix = self.owner.prefix
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix) :]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Recorded(
            method=self.command,
            path=path,
            query=parse_qs(split.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        reply = self.owner._dispatch(request)
        self.owner._record(dataclasses.replace(request, status=reply.status))
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        self.send_header("X-RateLimit-Limit", "5000")
        self.send_header("X-RateLimit-Remaining", "4999")
        self.send_header("X-RateLimit-Reset", "4102444800")
        self.send_header("X-RateLimit-Used", "1")
        self.send_header("X-RateLimit-Resource", "core")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle
    do_PATCH = _handle
    do_PUT = _handle
    do_DELETE = _handle
    do_HEAD = _handle
