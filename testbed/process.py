"""A started service process: own process group, log file, readiness, stop by PID.

Why a process group: the services fork helpers (dockerd starts containerd,
git daemon forks one child per connection, the git HTTP server runs
`git http-backend` per request). Killing only the parent would leave those
behind, still holding ports and files. Each service is therefore started in a
new session (`start_new_session=True`, so its PID is its process-group id), and
`stop()` signals the whole group, plus every descendant found in /proc before
the signal (containerd calls setsid() and so leaves dockerd's group).

Never kill by name: other sessions on the same machine run the same programs.
Every stop goes by the PIDs this module started or found below them.

An atexit hook stops whatever is still running if pytest dies without running
the fixture finalizers (KeyboardInterrupt during collection, internal error);
and every service asks the kernel to SIGKILL it when the process that started
it dies (PR_SET_PDEATHSIG), so a test run killed outright leaves no control
plane or registry behind.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar


class ServiceStartError(RuntimeError):
    """A service did not become ready; the message carries its log tail."""


_RUNNING: list[ServiceProcess] = []


def _children_map() -> dict[int, list[int]]:
    """ppid -> [pid] for every process visible in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Field 2 (comm) may hold spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """Every process below pid (children, grandchildren, ...), read from /proc."""
    tree = _children_map()
    found: list[int] = []
    todo = list(tree.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(tree.get(child, []))
    return found


def _signal_pids(pids: Sequence[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _alive(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL me when my parent dies (Linux prctl)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


PR_SET_PDEATHSIG = 1


class ServiceProcess:
    """One long-running program with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError(f"{self.name} was not started")
        return self._proc.pid

    def start(self) -> None:
        """Start the program in its own session; stdout and stderr go to the log."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        _RUNNING.append(self)

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def fail(self, why: str) -> ServiceStartError:
        """Stop the service and build the error to raise, with its log tail."""
        self.stop()
        return ServiceStartError(
            f"{self.name} {why}; log {self.log_path}, last lines:\n{self.log_tail()}"
        )

    def wait_ready(
        self, check: Callable[[], bool], *, timeout: float, interval: float = 0.05
    ) -> None:
        """Poll check() (a real request to the service) until True or timeout.

        Exceptions from check() count as "not yet"; the last one is reported.
        """
        deadline = time.monotonic() + timeout
        last_error = ""
        while True:
            if not self.running():
                code = self._proc.returncode if self._proc is not None else None
                raise self.fail(f"exited with code {code} before it was ready")
            try:
                if check():
                    return
            except Exception as err:  # any failure means "not ready yet"
                last_error = f" (last check error: {type(err).__name__}: {err})"
            if time.monotonic() >= deadline:
                if not self.running():
                    continue  # report the exit, which explains more than the timeout
                raise self.fail(f"not ready after {timeout:.0f}s{last_error}")
            time.sleep(interval)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the group, then leftovers below it, then SIGKILL what is left.

        The main process gets time to shut its helpers down itself first
        (dockerd stops containerd cleanly and unmounts its data root).
        """
        proc = self._proc
        if proc is None:
            return
        if self in _RUNNING:
            _RUNNING.remove(self)
        began = time.monotonic()
        below = descendants(proc.pid)
        groups = {proc.pid}
        for pid in below:
            with contextlib.suppress(ProcessLookupError):
                groups.add(os.getpgid(pid))
        groups.discard(os.getpgrp())  # never signal the test run's own group
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
        left = [pid for pid in below if _alive(pid)]
        _signal_pids(left, signal.SIGTERM)
        deadline = time.monotonic() + 3
        while any(_alive(pid) for pid in left) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pgid in groups:
            _signal_group(pgid, signal.SIGKILL)
        _signal_pids([pid for pid in left if _alive(pid)], signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        with contextlib.suppress(OSError), self.log_path.open("a") as log:
            log.write(
                f"--- {self.name}: stopped in {time.monotonic() - began:.2f}s, "
                f"exit code {proc.returncode}, {len(below)} descendant(s) found\n"
            )


class Startable(Protocol):
    def start(self) -> None: ...


S = TypeVar("S", bound=Startable)

_PORT_TAKEN = ("address already in use", "unable to allocate any listen sockets")


def start_with_port_retry(make: Callable[[], S], attempts: int = 3) -> S:
    """make() a service (it picks a free port) and start it; on a port clash, again.

    free_port() closes its probe socket before the service binds, so another
    program may take the port in between; rare, but a session-wide flake.
    """
    for attempt in range(1, attempts + 1):
        service = make()
        try:
            service.start()
        except ServiceStartError as err:
            if attempt == attempts or not any(t in str(err).lower() for t in _PORT_TAKEN):
                raise
        except OSError as err:  # in-process servers (the metrics exporter)
            if attempt == attempts or err.errno != errno.EADDRINUSE:
                raise
        else:
            return service
    raise AssertionError("unreachable")


@atexit.register
def _stop_leftovers() -> None:
    for service in list(_RUNNING):
        service.stop(timeout=3)
