"""A small HTTPS fault proxy in front of the real API server.

The code under test connects to the proxy (a kubeconfig whose server is the
proxy, with a bearer token, which passes through unchanged); every request is
forwarded to the apiserver and the answer streamed back, except those a rule
matches: those get a real HTTP error status (5xx, 429 with Retry-After), an
answer held back for a while, or a connection closed without an answer. The
API server itself stays real; only the wire between is faulty.

Rules match on the Kubernetes verb, resource and group read from the request
line, and fire `times` times. A gated rule holds the request until the test
opens the gate: "this run is inside its apply" becomes a condition to wait on,
not a guess about timing. Bounded: nothing is held longer than 60 s.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from testbed.pki import KeyPair
from testbed.ports import LOCALHOST

_PATH = re.compile(
    r"^/(?:api/(?P<v>[^/]+)|apis/(?P<g>[^/]+)/(?P<gv>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?(?:/(?P<res>[^/]+))?(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?$"
)
_HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "host",
    "proxy-connection",
    "content-length",
}


def kube_verb(method: str, path: str) -> tuple[str, str, str]:
    """(verb, group, resource[/subresource]) of a Kubernetes API request."""
    split = urlsplit(path)
    match = _PATH.match(split.path)
    if not match:
        return "", "", ""
    resource, name = match["res"] or "", match["name"] or ""
    if match["ns"] is not None and not resource:  # /api/v1/namespaces/NAME itself
        resource, name = "namespaces", match["ns"]
    if match["sub"]:
        resource = f"{resource}/{match['sub']}"
    query = parse_qs(split.query)
    verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, "")
    if method == "GET":
        verb = "watch" if query.get("watch") in (["1"], ["true"]) else ("get" if name else "list")
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    return verb, match["g"] or "", resource


@dataclass
class Fault:
    verb: str | None
    resource: str | None
    group: str | None
    times: int
    code: int = 500
    reason: str = "InternalError"
    message: str = "injected failure"
    retry_after: int | None = None
    delay: float = 0.0  # hold the answer back this long (then forward it)
    drop: bool = False  # close the connection without an answer
    gate: threading.Event | None = None  # hold the request until the test sets it (<= 60 s)
    reached: threading.Event = field(default_factory=threading.Event)  # a request is held

    def matches(self, verb: str, group: str, resource: str) -> bool:
        return (
            (self.verb is None or self.verb == verb)
            and (self.resource is None or self.resource == resource)
            and (self.group is None or self.group == group)
        )


class FaultProxy:
    """Listens on 127.0.0.1 with `serving` (signed by the cluster CA); forwards to `upstream`."""

    def __init__(self, upstream_port: int, serving: KeyPair, ca: str) -> None:
        self.upstream_port = upstream_port
        self.faults: list[Fault] = []
        self.fired: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()
        self._upstream_ssl = ssl.create_default_context(cafile=ca)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _any(self) -> None:
                proxy.handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

        self.server = ThreadingHTTPServer((LOCALHOST, 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(serving.cert), str(serving.key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://{LOCALHOST}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.fired.clear()

    def _take(self, verb: str, group: str, resource: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(verb, group, resource):
                    fault.times -= 1
                    self.fired.append((verb, group, resource))
                    return fault
        return None

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else None
        fault = self._take(*kube_verb(request.command, request.path))
        if fault is not None and fault.drop:
            request.close_connection = True
            request.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.gate is not None:
            fault.reached.set()
            fault.gate.wait(60.0)
        elif fault is not None and fault.delay:
            time.sleep(min(fault.delay, 30.0))
        elif fault is not None:
            self._error(request, fault)
            return
        self._forward(request, body)

    def _error(self, request: BaseHTTPRequestHandler, fault: Fault) -> None:
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": fault.message,
            "reason": fault.reason,
            "code": fault.code,
        }
        data = json.dumps(status).encode()
        request.send_response(fault.code)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        if fault.retry_after is not None:
            request.send_header("Retry-After", str(fault.retry_after))
        request.end_headers()
        request.wfile.write(data)

    def _forward(self, request: BaseHTTPRequestHandler, body: bytes | None) -> None:
        upstream = http.client.HTTPSConnection(
            LOCALHOST, self.upstream_port, context=self._upstream_ssl, timeout=60
        )
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
            upstream.request(request.command, request.path, body=body, headers=headers)
            answer = upstream.getresponse()
            request.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in _HOP_HEADERS:
                    request.send_header(key, value)
            request.send_header("Transfer-Encoding", "chunked")
            request.end_headers()
            while chunk := answer.read1(65536):
                request.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                request.wfile.flush()
            request.wfile.write(b"0\r\n\r\n")
        except OSError:
            request.close_connection = True
        finally:
            upstream.close()
