"""A stdlib HTTP server on a free loopback port, served from a daemon thread.

The in-process stand-ins (paging registry, token registry, GitHub API stub,
Kubernetes API stand-in, webhook receivers) differ only in their handlers;
this holds their shared lifecycle so each one is just its handler and state.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from testbed.ports import LOCALHOST


class ThreadedHttpServer:
    """Owns one `ThreadingHTTPServer` and the thread that serves it."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        *,
        name: str,
        poll_interval: float = 0.05,
        server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer,
    ) -> None:
        self.handler = handler
        self.name = name
        self.poll_interval = poll_interval
        self.server_class = server_class
        self.server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ThreadingHTTPServer:
        """Bind a free port on 127.0.0.1 and serve until `stop`."""
        server = self.server_class((LOCALHOST, 0), self.handler)
        server.daemon_threads = True
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            name=self.name,
            daemon=True,
        )
        self._thread.start()
        return server

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.server = self._thread = None

    @property
    def port(self) -> int:
        assert self.server is not None, f"{self.name} is not started"
        return int(self.server.server_address[1])

    @property
    def host(self) -> str:
        return f"{LOCALHOST}:{self.port}"
