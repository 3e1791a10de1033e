"""The oracle: our Go program (tools/oracle) that answers as Flux's own code does.

It calls `fluxcd/pkg/version.ParseVersion`, Masterminds/semver v3
constraints, Go `regexp` (filterTags' match and `ExpandString`) and
`text/template` with Sprig's hermetic functions, the calls Flux's
image-reflector-controller and image-automation-controller make. One process
runs for the whole test session and answers one JSON line per request, so a
property test can ask thousands of questions cheaply.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from typing import Any

from testbed.go_tools import program

# Examples per property in the normal run; GITOPS_ORACLE_EXAMPLES raises it for long runs.
DEFAULT_EXAMPLES = 150


def examples() -> int:
    """How many hypothesis examples each oracle property runs."""
    return int(os.environ.get("GITOPS_ORACLE_EXAMPLES", DEFAULT_EXAMPLES))


class OracleError(RuntimeError):
    """The oracle process died or answered something unreadable."""


class Oracle:
    """A running oracle; `ask` sends one request and returns its answer."""

    def __init__(self) -> None:
        path = program("oracle", "oracle")
        self._proc = subprocess.Popen(
            [str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._lock = threading.Lock()

    def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        line = json.dumps({"op": op, **fields}, ensure_ascii=False)
        with self._lock:
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
            reply = self._proc.stdout.readline()
        if not reply:
            raise OracleError(f"oracle exited (code {self._proc.poll()}) on {line[:200]}")
        answer: dict[str, Any] = json.loads(reply)
        if "panic" in answer:
            raise OracleError(f"oracle panicked on {line[:200]}: {answer['panic']}")
        return answer

    # The questions, by name.
    def version(self, tag: str) -> dict[str, Any]:
        return self.ask("version", tag=tag)

    def constraint_ok(self, text: str) -> bool:
        return bool(self.ask("constraint", range=text)["ok"])

    def check(self, text: str, tags: list[str]) -> dict[str, Any]:
        return self.ask("check", range=text, tags=tags)

    def latest(self, text: str, tags: list[str]) -> dict[str, Any]:
        return self.ask("latest", range=text, tags=tags)

    def regex(self, pattern: str, tags: list[str], extract: str = "") -> dict[str, Any]:
        return self.ask("regex", pattern=pattern, extract=extract, tags=tags)

    def template(self, text: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.ask("template", template=text, data=data)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
