"""Free TCP ports on 127.0.0.1 for the services the tests start.

The kernel picks the port (bind to port 0), so parallel sessions and other
programs on the machine never collide with a fixed number. The socket is closed
before the service binds it; the short race that leaves is why every service
start is followed by a readiness check that raises with the service's log.
"""

from __future__ import annotations

import socket

LOCALHOST = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def is_listening(port: int, host: str = LOCALHOST, timeout: float = 0.2) -> bool:
    """True when a TCP connect to host:port succeeds (something accepts)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
