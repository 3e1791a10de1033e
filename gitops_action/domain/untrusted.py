"""Text from outside (registry tag lists, tag names) checked before it is used or shown.

A registry decides what its tag list holds. A name with a newline would
forge a line of our stdout or of `$GITHUB_OUTPUT`; `$(...)` and backticks
would be pushed into git for whatever shell later reads the manifest;
BiDi controls make a diff show something other than what it holds; a
5,000-character name bloats every message. OCI allows none of these
(`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`), so a tag outside that grammar is
dropped before selection and only ever shown through `shown`.

Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Final

OCI_TAG: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
INVALID_TAG: Final = "not a valid OCI tag"
SHOWN_LIMIT: Final = 60


def is_oci_tag(tag: str) -> bool:
    """True for a tag the OCI distribution spec allows."""
    return OCI_TAG.fullmatch(tag) is not None


def shown(text: str, limit: int = SHOWN_LIMIT) -> str:
    """`text` safe to print: one line of printable ASCII, escapes for the rest, cut to `limit`.

    Newlines, control and format characters (BiDi overrides included) and
    anything outside ASCII become `\\n`, `\\x1b`, `\\u202e`...; a long text
    keeps its first `limit` characters and says how long it was.
    """
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    escaped = "".join(char if 32 <= ord(char) < 127 else f"\\x{ord(char):02x}" for char in escaped)
    if len(text) > limit:
        return f"{escaped[:limit]}...({len(text)} chars)"
    return escaped
