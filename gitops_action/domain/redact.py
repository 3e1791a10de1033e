"""Keep secrets out of every line the tool prints or raises.

The registry password reaches the docker engine, and docker's errors, build
logs and test output are printed; a secret could come back in any of them,
as typed or in the encodings auth headers use. Outside GitHub Actions there is
no runner to mask it, so the tool masks it itself: every message, log line,
output and summary passes through a `Redactor` before it leaves the process.

Pure: no I/O.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

MASK = "***"


def mask_values(secret: str) -> list[str]:
    """What to hand `::add-mask::`: the secret, and each of its lines if it has several.

    The runner masks a value as registered; a multi-line secret printed one
    line at a time would slip through unless each line is registered too.
    """
    if not secret:
        return []
    lines = [line for line in secret.splitlines() if line.strip()]
    return [secret, *(line for line in lines if line != secret)]


def _encodings(secret: str, username: str) -> list[str]:
    """Forms a secret takes on the wire: JSON-escaped, and Basic-auth base64."""
    forms = [secret, *mask_values(secret)]
    escaped = json.dumps(secret)[1:-1]
    forms.append(escaped)
    if username:
        basic = base64.b64encode(f"{username}:{secret}".encode()).decode()
        forms.extend([basic, basic.rstrip("=")])
    return forms


@dataclass
class Redactor:
    """Replaces registered secrets with `***`, longest first."""

    _secrets: set[str] = field(default_factory=set)

    def add(self, secret: str, username: str = "") -> None:
        """Register a secret (and its wire encodings); empty values are ignored."""
        if secret:
            self._secrets.update(form for form in _encodings(secret, username) if form)

    def add_all(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            self.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def one_line(self, text: str) -> str:
        """Redacted and folded to one line (docker errors span several)."""
        return " ".join(self(text).split())
