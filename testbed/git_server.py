"""Fixture objects for the two git servers: smart HTTP with auth, and git daemon.

`GitHttpServer` runs `git_http_server.py` as a subprocess (why a subprocess:
see that module's docstring) and talks to its `/_control/` endpoints for
counters and failure modes. `GitDaemon` runs `git daemon` for the
unauthenticated git:// cases. Both publish a `BareRepos` directory.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from testbed.git_repos import BareRepos
from testbed.gitenv import run_git
from testbed.ports import LOCALHOST, free_port
from testbed.process import ServiceProcess

SERVER_SCRIPT = Path(__file__).with_name("git_http_server.py")
DEFAULT_USER = "git-bot"
DEFAULT_PASSWORD = "git-pass-456"
_PROBE_REPO = "_probe"


@dataclass(frozen=True)
class GitCounters:
    """What the HTTP git server saw since the last reset.

    fetches: upload-pack ref advertisements (one per clone/fetch/ls-remote).
    pushes: receive-pack POSTs carrying ref updates (the 4-byte probe git sends
    before a chunked push is not counted). unauthorized: 401 answers.
    """

    requests: int
    unauthorized: int
    chunked_requests: int
    gzip_requests: int
    fetches: int
    upload_pack_posts: int
    push_advertisements: int
    pushes: int
    failed_cgi: int


class GitHttpServer:
    """Smart HTTP git (fetch and push) behind Basic auth on a free port."""

    def __init__(
        self,
        workdir: Path,
        env: Mapping[str, str],
        *,
        username: str = DEFAULT_USER,
        password: str = DEFAULT_PASSWORD,
    ) -> None:
        self.workdir = workdir
        self.username = username
        self.password = password
        self.env = dict(env)
        self.repos = BareRepos(workdir / "repos", env)
        self.port = free_port()
        self.host = f"{LOCALHOST}:{self.port}"
        self.url = f"http://{self.host}"
        self.process = self._make_process()

    def _make_process(self) -> ServiceProcess:
        env = dict(self.env, GIT_SERVER_USER=self.username, GIT_SERVER_PASSWORD=self.password)
        return ServiceProcess(
            "git-http-server",
            [
                sys.executable,
                str(SERVER_SCRIPT),
                "--root",
                str(self.repos.root),
                "--port",
                str(self.port),
            ],
            log_path=self.workdir / "git-http-server.log",
            env=env,
        )

    # -- lifecycle -------------------------------------------------------
    def _answers(self) -> bool:
        """Ready when http-backend itself answers a ref advertisement with auth."""
        with httpx.Client(auth=(self.username, self.password), timeout=2) as client:
            response = client.get(
                f"{self.url}/{_PROBE_REPO}.git/info/refs", params={"service": "git-upload-pack"}
            )
        return response.status_code == 200 and response.headers.get("Content-Type", "") == (
            "application/x-git-upload-pack-advertisement"
        )

    def start(self, timeout: float = 15) -> None:
        if not self.repos.path(_PROBE_REPO).exists():
            self.repos.create(_PROBE_REPO)
        self.process.start()
        self.process.wait_ready(self._answers, timeout=timeout)
        self.reset()

    def stop(self) -> None:
        self.process.stop()

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Really down (connection refused) inside the block; back on the same port after."""
        self.process.stop()
        try:
            yield
        finally:
            self.process = self._make_process()
            self.process.start()
            self.process.wait_ready(self._answers, timeout=15)
            self.reset()

    # -- control -----------------------------------------------------------
    def _control(self, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        with httpx.Client(timeout=10) as client:
            if body is None and path == "state":
                response = client.get(f"{self.url}/_control/{path}")
            else:
                response = client.post(
                    f"{self.url}/_control/{path}", content=json.dumps(body or {})
                )
        response.raise_for_status()
        state: dict[str, object] = json.loads(response.content)
        return state

    def counters(self) -> GitCounters:
        counters = self._control("state")["counters"]
        assert isinstance(counters, dict)
        return GitCounters(**counters)

    def reset(self) -> None:
        """Zero the counters and switch back to answering normally."""
        self._control("reset")

    def set_mode(self, mode: str, *, seconds: float = 5.0) -> None:
        """ok | 503 (every git request) | drop (close, no answer) | hang (seconds, then drop)."""
        self._control("mode", {"mode": mode, "seconds": seconds})

    @contextlib.contextmanager
    def failing(self, mode: str = "503", *, seconds: float = 5.0) -> Iterator[None]:
        """Answer git requests in a failure mode inside the block, normally after."""
        self.set_mode(mode, seconds=seconds)
        try:
            yield
        finally:
            self.set_mode("ok")

    # -- repositories ------------------------------------------------------
    def create_repo(self, name: str, files: Mapping[str, str | bytes] | Path | None = None) -> Path:
        """A bare repo NAME.git (default branch main), seeded with one commit if files given."""
        return self.repos.create(name, files)

    def seed(
        self, name: str, files: Mapping[str, str | bytes] | Path, message: str = "seed"
    ) -> str:
        return self.repos.seed(name, files, message=message)

    def repo_url(self, name: str, *, auth: bool = True) -> str:
        """http://user:pass@host/NAME.git, or without the credentials."""
        repo = BareRepos.repo_name(name)
        if not auth:
            return f"{self.url}/{repo}"
        creds = f"{quote(self.username, safe='')}:{quote(self.password, safe='')}"
        return f"http://{creds}@{self.host}/{repo}"

    def head(self, name: str, branch: str = "main") -> str | None:
        return self.repos.head(name, branch)

    def log(self, name: str, branch: str = "main") -> list[str]:
        return self.repos.log(name, branch)


class GitDaemon:
    """`git daemon` serving git:// without auth, push enabled."""

    def __init__(self, workdir: Path, env: Mapping[str, str]) -> None:
        self.workdir = workdir
        self.env = dict(env)
        self.repos = BareRepos(workdir / "repos", env)
        self.port = free_port()
        self.url = f"git://{LOCALHOST}:{self.port}"
        self.process = ServiceProcess(
            "git-daemon",
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--verbose",
                "--informative-errors",
                f"--base-path={self.repos.root}",
                "--export-all",
                "--enable=receive-pack",
                f"--listen={LOCALHOST}",
                f"--port={self.port}",
                str(self.repos.root),
            ],
            log_path=workdir / "git-daemon.log",
            env=self.env,
        )

    def _answers(self) -> bool:
        result = run_git(
            "ls-remote", self.repo_url(_PROBE_REPO), env=self.env, check=False, timeout=2
        )
        return result.returncode == 0

    def start(self, timeout: float = 15) -> None:
        if not self.repos.path(_PROBE_REPO).exists():
            self.repos.create(_PROBE_REPO)
        self.process.start()
        self.process.wait_ready(self._answers, timeout=timeout, interval=0.1)

    def stop(self) -> None:
        self.process.stop()

    def create_repo(self, name: str, files: Mapping[str, str | bytes] | Path | None = None) -> Path:
        return self.repos.create(name, files)

    def seed(
        self, name: str, files: Mapping[str, str | bytes] | Path, message: str = "seed"
    ) -> str:
        return self.repos.seed(name, files, message=message)

    def repo_url(self, name: str) -> str:
        return f"{self.url}/{BareRepos.repo_name(name)}"

    def head(self, name: str, branch: str = "main") -> str | None:
        return self.repos.head(name, branch)

    def log(self, name: str, branch: str = "main") -> list[str]:
        return self.repos.log(name, branch)
