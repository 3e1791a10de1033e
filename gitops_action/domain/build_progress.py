"""BuildKit's progress stream (`--progress=rawjson`) read as data, shown as plain lines.

Why not `--progress=plain` alone: the plain printer shows each step's *last*
state. A step loaded from a registry cache on a fresh builder is first
reported cached, then re-opened while its layers are pulled for the next
step, and often ends as `DONE`: the plain log then does not say it came from
the cache. The raw stream keeps every update, so a step counts as cached
when BuildKit said so at any point. The lines shown are rendered in the
plain printer's shape (`#N name`, `#N <log line>`, `#N CACHED`, `#N DONE`).

Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

_STEP = re.compile(r"^\[(?!internal\]|auth\])[^\]]*\b\d+/\d+\] ")


@dataclass
class ProgressLog:
    """Feed it the build's output lines; it returns what to show and counts steps."""

    numbers: dict[str, int] = field(default_factory=dict)
    """Vertex digest -> the `#N` shown for it, in order of appearance."""
    steps: set[str] = field(default_factory=set)
    cached: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)

    def feed(self, line: str) -> list[str]:
        """The lines to show for one output line (non-JSON lines pass unchanged)."""
        try:
            status = json.loads(line) if line.startswith("{") else None
        except ValueError:
            status = None
        if not isinstance(status, dict):
            return [line]
        shown: list[str] = []
        for vertex in status.get("vertexes") or []:
            shown += self._vertex(vertex)
        for entry in status.get("logs") or []:
            shown += self._log(entry)
        return shown

    def counts(self) -> tuple[int, int]:
        """(Dockerfile steps, steps BuildKit reported as cached)."""
        return len(self.steps), len(self.steps & self.cached)

    def _number(self, digest: str) -> int:
        return self.numbers.setdefault(digest, len(self.numbers) + 1)

    def _vertex(self, vertex: dict[str, Any]) -> list[str]:
        digest, name = str(vertex.get("digest", "")), str(vertex.get("name", ""))
        fresh = digest not in self.numbers
        number = self._number(digest)
        shown = [f"#{number} {name}"] if fresh else []
        if _STEP.match(name):
            self.steps.add(digest)
        if vertex.get("cached"):
            if digest not in self.cached:
                shown.append(f"#{number} CACHED")
            self.cached.add(digest)
        if vertex.get("error"):
            shown.append(f"#{number} ERROR: {vertex['error']}")
        elif vertex.get("completed") and digest not in self.done and digest not in self.cached:
            self.done.add(digest)
            shown.append(f"#{number} DONE")
        return shown

    def _log(self, entry: dict[str, Any]) -> list[str]:
        number = self._number(str(entry.get("vertex", "")))
        try:
            text = base64.b64decode(str(entry.get("data", ""))).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return []
        return [f"#{number} {part}" for part in text.splitlines() if part.strip()]
