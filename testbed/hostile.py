"""Hostile HTTP peers on 127.0.0.1 for the hardening tests (issue 14).

Each is a small threaded stdlib server that behaves as an attacker-controlled
origin would: it redirects elsewhere, records the credentials it is sent,
trickles its answer one byte at a time, or sends an endless body. Every loop
is bounded (a byte budget and a stop event) so a server can never outlive
its test.
"""

from __future__ import annotations

import base64
import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from testbed.threaded_server import ThreadedHttpServer

Answer = Callable[[BaseHTTPRequestHandler], None]


class Recorder:
    """What a hostile server saw: one (method, path, Authorization or "") per request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, str]] = []
        self.stop = threading.Event()

    def add(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            auth = handler.headers.get("Authorization", "")
            self.requests.append((handler.command, handler.path, auth))

    def authorizations(self) -> list[str]:
        with self.lock:
            return [auth for _method, _path, auth in self.requests if auth]


def _handler(recorder: Recorder, answer: Answer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            recorder.add(self)
            answer(self)

        do_GET = do_POST = do_HEAD = _any

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def hostile_server(answer: Answer, name: str = "hostile") -> Iterator[tuple[int, Recorder]]:
    """Serve `answer` for every request on a free port: (port, what it saw)."""
    recorder = Recorder()
    server = ThreadedHttpServer(_handler(recorder, answer), name=name)
    server.start()
    try:
        yield server.port, recorder
    finally:
        recorder.stop.set()
        server.stop()


def redirect_to(port: int) -> Answer:
    """302 to the same path on 127.0.0.1:`port` (another origin)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        _drain(handler)
        handler.send_response(302)
        handler.send_header("Location", f"http://127.0.0.1:{port}{handler.path}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def forward_to(port: int, username: str, password: str) -> Answer:
    """Relay to 127.0.0.1:`port` with the hostile owner's own credentials.

    The attacker's host serves a real repository (it can: it is theirs), so a
    git client that follows a redirect goes on to its upload-pack/receive-pack
    requests, which is where a leaked header shows.
    """
    own = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def answer(handler: BaseHTTPRequestHandler) -> None:
        body = _drain(handler)
        headers = {
            key: value
            for key, value in handler.headers.items()
            if key.lower() not in {"host", "authorization", "transfer-encoding", "content-length"}
        }
        headers["Authorization"] = own
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(handler.command, handler.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        handler.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in {"transfer-encoding", "content-length", "connection"}:
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return answer


def trickle(
    status: int,
    content_type: str,
    chunk: bytes,
    *,
    every: float,
    limit: int,
    stop: threading.Event | None = None,
    prefix: bytes = b"",
    suffix: bytes = b"",
    sent: list[int] | None = None,
) -> Answer:
    """Answer `status`, then `prefix`, `chunk` every `every` seconds (at most `limit` times),
    `suffix`. `sent` gets the byte count of each chunk the client took."""
    stopped = stop or threading.Event()
    written = sent if sent is not None else []

    def answer(handler: BaseHTTPRequestHandler) -> None:
        _drain(handler)
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        try:
            if prefix:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(prefix), prefix))
            for _ in range(limit):
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                handler.wfile.flush()
                written.append(len(chunk))
                if every and stopped.wait(every):
                    break
            if suffix:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(suffix), suffix))
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            return  # the client gave up: what the test wants

    return answer


def _drain(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body (Content-Length or chunked)."""
    length = handler.headers.get("Content-Length")
    if length is not None:
        return handler.rfile.read(int(length))
    if handler.headers.get("Transfer-Encoding", "").lower() != "chunked":
        return b""
    body = b""
    while True:
        size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            handler.rfile.readline()
            return body
        body += handler.rfile.read(size)
        handler.rfile.readline()
