"""Building blocks for CI-half tests: event payloads, a project workspace, and a
listener that proves no docker call was made.

Event payloads follow GitHub's webhook shapes (`push`: ref, before/after,
commits with author/committer, head_commit, pusher; `pull_request`: number and
the head sha), trimmed to the fields our code and the runner read.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

SHA = "89abcdef0123456789abcdef0123456789abcdef"
BOT = {"name": "gitops-bot", "email": "gitops-bot@acme.example", "username": "gitops-bot"}
HUMAN = {"name": "Ada Lovelace", "email": "ada@acme.example", "username": "ada"}

DOCKERFILE = "FROM scratch\nCOPY app.txt /app.txt\n"


def commit(sha: str, person: dict[str, str], message: str = "change") -> dict[str, Any]:
    return {
        "id": sha,
        "tree_id": "0" * 40,
        "distinct": True,
        "message": message,
        "timestamp": "2024-05-01T12:00:00Z",
        "url": f"https://github.com/acme/app/commit/{sha}",
        "author": dict(person),
        "committer": dict(person),
    }


def push_event(ref: str, sha: str = SHA, *, by: dict[str, str] = HUMAN) -> dict[str, Any]:
    """A push of one commit made by `by` (for a tag: the tagged commit)."""
    head = commit(sha, by, "release" if ref.startswith("refs/tags/") else "change")
    return {
        "ref": ref,
        "before": "0" * 40,
        "after": sha,
        "created": ref.startswith("refs/tags/"),
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": "https://github.com/acme/app/compare",
        "commits": [] if ref.startswith("refs/tags/") else [head],
        "head_commit": head,
        "pusher": {"name": by["username"], "email": by["email"]},
        "repository": {"full_name": "acme/app", "name": "app"},
        "sender": {"login": by["username"]},
    }


def pull_request_event(number: int, head_sha: str) -> dict[str, Any]:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": head_sha, "ref": "feature"},
            "base": {"sha": "1" * 40, "ref": "main"},
        },
        "repository": {"full_name": "acme/app", "name": "app"},
    }


def make_project(
    root: Path,
    *,
    dockerfile: str | None = DOCKERFILE,
    files: dict[str, str] | None = None,
) -> Path:
    """A workspace with a Dockerfile and files to build (no Dockerfile when None)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in {"app.txt": "hello\n", **(files or {})}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    if dockerfile is not None:
        (root / "Dockerfile").write_text(dockerfile)
    return root


class CountingListener:
    """A TCP listener on 127.0.0.1 that counts connections and closes them.

    Pointing DOCKER_HOST at it (`tcp://127.0.0.1:PORT`) proves that a run made
    no docker API call at all: any client would have to connect first.
    """

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.05)
        self.port = self._socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def docker_host(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def __enter__(self) -> CountingListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()
