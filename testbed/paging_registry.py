"""A second registry flavour: `tags/list` with real paging and injectable failures.

Distribution 2.8 ignores `?n=` on tags/list, yet Docker Hub, GHCR, Harbor and
ECR page their answers with an RFC 5988 `Link: <...>; rel="next"` header (the
distribution spec's paging). This stdlib server plays such a registry so the
tag scanner's paging, retry (429 + Retry-After) and error paths are tested
against real HTTP.

It runs in a thread of the test process: it has no child processes and the
tests reconfigure it all the time (tags, failures, counters), which a thread
makes a plain method call.

Paging follows the spec: tags sorted lexically; `n` caps the page; `last`
returns only tags after it; a `Link` to the next page while tags remain.
`default_page_size` pages even clients that send no `n` (as GHCR does).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlsplit

from testbed.ports import LOCALHOST
from testbed.threaded_server import ThreadedHttpServer

_TAGS_PATH = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
_ERROR_CODES = {
    401: "UNAUTHORIZED",
    403: "DENIED",
    404: "NAME_UNKNOWN",
    429: "TOOMANYREQUESTS",
    500: "INTERNAL_ERROR",
    503: "UNAVAILABLE",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it, and what it answered."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    status: int


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: int | None


class PagingRegistry:
    """The server plus its configuration; every setter is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tags: dict[str, list[str]] = {}
        self._failures: deque[_Failure] = deque()
        self._requests: list[RecordedRequest] = []
        self.default_page_size: int | None = None
        self.credentials: tuple[str, str] | None = None
        self._http: ThreadedHttpServer | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------
    def start(self) -> None:
        registry = self

        class Handler(_Handler):
            owner = registry

        self._http = ThreadedHttpServer(Handler, name="paging-registry")
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

    # -- configuration ---------------------------------------------------
    def set_tags(self, name: str, tags: list[str]) -> None:
        """Serve these tags for repository `name` (stored sorted, as registries do)."""
        with self._lock:
            self._tags[name] = sorted(tags)

    def fail_next(self, status: int, times: int = 1, *, retry_after: int | None = None) -> None:
        """Answer the next `times` requests with `status` (429 may carry Retry-After)."""
        with self._lock:
            self._failures.extend(_Failure(status, retry_after) for _ in range(times))

    def require_auth(self, username: str, password: str) -> None:
        """From now on answer 401 unless Basic credentials match."""
        self.credentials = (username, password)

    def reset(self) -> None:
        """Forget tags, pending failures, credentials, page size and recorded requests."""
        with self._lock:
            self._tags.clear()
            self._failures.clear()
            self._requests.clear()
        self.default_page_size = None
        self.credentials = None

    # -- observation -----------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def tag_list_requests(self, name: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == f"/v2/{name}/tags/list"]

    # -- used by the handler ---------------------------------------------
    def _take_failure(self) -> _Failure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _page(self, name: str, n: int | None, last: str | None) -> tuple[list[str], bool] | None:
        """(page, more-remain) for name, or None when the repository is unknown."""
        with self._lock:
            tags = self._tags.get(name)
        if tags is None:
            return None
        rest = [t for t in tags if last is None or t > last]
        size = n if n is not None else self.default_page_size
        if size is None:
            return rest, False
        return rest[:size], len(rest) > size


class _Handler(BaseHTTPRequestHandler):
    owner: PagingRegistry
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each keep-alive answer waits ~40 ms for its ACK
    _request: tuple[str, dict[str, str]]

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: requests are recorded on the PagingRegistry instead."""

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        # Record before answering: once the client has the answer, a test may
        # read the record, so it must already be there.
        path, query = self._request
        self.owner._record(
            RecordedRequest(self.command, path, query, self.headers.get("Authorization"), status)
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> int:
        code = _ERROR_CODES.get(status, "UNKNOWN")
        self._send(status, {"errors": [{"code": code, "message": message}]}, headers)
        return status

    def _authorized(self) -> bool:
        creds = self.owner.credentials
        if creds is None:
            return True
        token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {token}"

    def _answer(self, path: str, query: dict[str, str]) -> int:
        failure = self.owner._take_failure()
        if failure is not None:
            extra: dict[str, str] = {}
            if failure.status == 401:
                extra["WWW-Authenticate"] = 'Basic realm="paging-registry"'
            if failure.retry_after is not None:
                extra["Retry-After"] = str(failure.retry_after)
            return self._error(failure.status, "injected failure", extra)
        if not self._authorized():
            challenge = {"WWW-Authenticate": 'Basic realm="paging-registry"'}
            return self._error(401, "authentication required", challenge)
        if path in ("/v2", "/v2/"):
            self._send(200, {})
            return 200
        match = _TAGS_PATH.match(path)
        if match is None:
            return self._error(404, f"no route for {path}")
        return self._tags_list(match["name"], query)

    def _tags_list(self, name: str, query: dict[str, str]) -> int:
        try:
            n = int(query["n"]) if "n" in query else None
        except ValueError:
            return self._error(400, f"n={query['n']!r} is not a number")
        page = self.owner._page(name, n, query.get("last"))
        if page is None:
            return self._error(404, f"repository {name} not known")
        tags, more = page
        headers: dict[str, str] = {}
        if more and tags:
            size = n if n is not None else self.owner.default_page_size
            link = f"/v2/{name}/tags/list?n={size}&last={quote(tags[-1], safe='')}"
            headers["Link"] = f'<{link}>; rel="next"'
        self._send(200, {"name": name, "tags": tags}, headers)
        return 200

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self._request = (parts.path, query)
        self._answer(parts.path, query)

    do_HEAD = do_GET
