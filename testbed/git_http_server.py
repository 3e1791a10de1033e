"""Smart-HTTP git server: `git http-backend` (CGI) behind Basic auth. Stdlib only.

Run as a program (`python git_http_server.py --root DIR --port N`; the
credentials come from GIT_SERVER_USER / GIT_SERVER_PASSWORD so they never show
in `ps`). `testbed/git_server.py` starts and controls it.

Why a separate process and not a thread of pytest: every request forks
`git http-backend`, and git clients under test run as subprocesses that may
hold the server busy for seconds; in its own process the server can neither
be starved by the test's GIL-heavy work nor inherit pytest's signal handlers
(pytest-timeout), a crash or hang there cannot take the test run with it, and
the whole tree (server + CGI children) is killed by process group at the end.
The price is that counters and failure modes are reached over HTTP, on
`/_control/...` paths that git never requests.

What it does for git that http.server does not:
- `Transfer-Encoding: chunked` request bodies (git streams pushes bigger than
  `http.postBuffer` that way) are decoded before the CGI sees them;
  `Content-Encoding: gzip` bodies pass through untouched: http-backend inflates
  them itself when it sees HTTP_CONTENT_ENCODING.
- The CGI `Status:` header becomes the HTTP status line.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

_GIT_EXEC_PATH = subprocess.run(
    ["git", "--exec-path"], capture_output=True, text=True, check=True
).stdout.strip()
HTTP_BACKEND = str(Path(_GIT_EXEC_PATH) / "git-http-backend")

COUNTER_NAMES = (
    "requests",
    "unauthorized",
    "chunked_requests",
    "gzip_requests",
    "fetches",
    "upload_pack_posts",
    "push_advertisements",
    "pushes",
    "failed_cgi",
)
MODES = ("ok", "503", "drop", "hang")


class State:
    """Counters and the failure mode, shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        self.mode = "ok"
        self.hang_seconds = 5.0

    def bump(self, *names: str) -> None:
        with self.lock:
            for name in names:
                self.counters[name] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"counters": dict(self.counters), "mode": self.mode}

    def reset(self) -> None:
        with self.lock:
            self.counters = dict.fromkeys(COUNTER_NAMES, 0)
            self.mode = "ok"


class GitServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, user: str, password: str) -> None:
        super().__init__(address, Handler)
        self.root = root
        expected = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.expected_auth = f"Basic {expected}"
        self.user = user
        self.state = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GitServer

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{time.strftime('%H:%M:%S')} {self.address_string()} {format % args}\n")
        sys.stderr.flush()

    # -- body -------------------------------------------------------------
    def read_body(self) -> bytes:
        """The request body with any chunked transfer encoding removed."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.server.state.bump("chunked_requests")
            parts: list[bytes] = []
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline(8)  # the CRLF after each chunk
            while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- responses ----------------------------------------------------------
    def send_plain(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def drop(self) -> None:
        """Close the connection without a single byte of answer."""
        self.close_connection = True

    # -- control -----------------------------------------------------------
    def control(self, path: str, body: bytes) -> None:
        state = self.server.state
        if path == "/_control/state":
            self.send_plain(200, json.dumps(state.snapshot()))
        elif path == "/_control/reset" and self.command == "POST":
            state.reset()
            self.send_plain(200, json.dumps(state.snapshot()))
        elif path == "/_control/mode" and self.command == "POST":
            wanted = json.loads(body or b"{}")
            if wanted.get("mode") not in MODES:
                self.send_plain(400, f"mode must be one of {MODES}")
                return
            with state.lock:
                state.mode = wanted["mode"]
                state.hang_seconds = float(wanted.get("seconds", state.hang_seconds))
            self.send_plain(200, json.dumps(state.snapshot()))
        else:
            self.send_plain(404, f"no control endpoint {path}")

    # -- git -------------------------------------------------------------
    def handle_git(self) -> None:
        raw_path, _, query = self.path.partition("?")
        path = unquote(raw_path)
        body = self.read_body()
        if path.startswith("/_control/"):
            self.control(path, body)
            return
        state = self.server.state
        state.bump("requests")
        with state.lock:
            mode, hang = state.mode, state.hang_seconds
        if mode == "drop":
            self.drop()
            return
        if mode == "hang":
            time.sleep(hang)
            self.drop()
            return
        if mode == "503":
            self.send_plain(503, "git server switched off by the test\n", {"Retry-After": "1"})
            return
        if self.headers.get("Authorization") != self.server.expected_auth:
            state.bump("unauthorized")
            self.send_plain(
                401, "authentication required\n", {"WWW-Authenticate": 'Basic realm="git"'}
            )
            return
        self.count(path, query, body)
        self.run_backend(path, query, body)

    def count(self, path: str, query: str, body: bytes) -> None:
        state = self.server.state
        if "gzip" in self.headers.get("Content-Encoding", "").lower():
            state.bump("gzip_requests")
        if path.endswith("/info/refs"):
            if "service=git-upload-pack" in query:
                state.bump("fetches")
            elif "service=git-receive-pack" in query:
                state.bump("push_advertisements")
        elif path.endswith("/git-upload-pack"):
            state.bump("upload_pack_posts")
        elif path.endswith("/git-receive-pack") and body != b"0000":
            # b"0000" alone is the probe git sends before a chunked push.
            state.bump("pushes")

    def cgi_env(self, path: str, query: str, body: bytes) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.server.root),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_COUNT": "2",
            "GIT_CONFIG_KEY_0": "http.receivepack",
            "GIT_CONFIG_VALUE_0": "true",
            "GIT_CONFIG_KEY_1": "uploadpack.allowFilter",
            "GIT_CONFIG_VALUE_1": "true",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": self.request_version,
            "SERVER_SOFTWARE": "gitops-action-test-git-server",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": self.server.user,
            "REMOTE_ADDR": self.client_address[0],
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name in ("AUTHORIZATION", "CONTENT_TYPE", "CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue
            env[f"HTTP_{name}"] = value  # HTTP_GIT_PROTOCOL, HTTP_CONTENT_ENCODING, ...
        return env

    def run_backend(self, path: str, query: str, body: bytes) -> None:
        result = subprocess.run(
            [HTTP_BACKEND],
            input=body,
            capture_output=True,
            env=self.cgi_env(path, query, body),
            check=False,
        )
        if result.stderr:
            sys.stderr.write(result.stderr.decode(errors="replace"))
        if result.returncode != 0 and not result.stdout:
            self.server.state.bump("failed_cgi")
            self.send_plain(500, f"http-backend exited {result.returncode}\n")
            return
        self.relay_cgi_output(result.stdout)

    def relay_cgi_output(self, output: bytes) -> None:
        """Turn CGI output (headers, blank line, body) into an HTTP response."""
        cut = min(
            (i for i in (output.find(b"\r\n\r\n"), output.find(b"\n\n")) if i >= 0),
            default=-1,
        )
        if cut < 0:
            self.send_plain(502, "malformed CGI output\n")
            return
        sep = 4 if output[cut : cut + 4] == b"\r\n\r\n" else 2
        head, payload = output[:cut].decode("latin-1"), output[cut + sep :]
        status, reason, headers = 200, "OK", []
        for line in head.splitlines():
            name, _, value = line.partition(":")
            if name.strip().lower() == "status":
                code, _, text = value.strip().partition(" ")
                status, reason = int(code), text or reason
            elif name.strip():
                headers.append((name.strip(), value.strip()))
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = handle_git
    do_POST = handle_git
    do_HEAD = handle_git


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = GitServer(
        (args.host, args.port),
        args.root.resolve(),
        os.environ["GIT_SERVER_USER"],
        os.environ["GIT_SERVER_PASSWORD"],
    )
    sys.stderr.write(f"git http server on {args.host}:{args.port}, root {args.root}\n")
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
