"""Go regular expressions (RE2), as Flux's ``regexp.Compile`` reads them.

Flux's ``filterTags.pattern`` and ``exclusionList`` are Go regexps. Python's
`re` reads many patterns differently (``[[:alpha:]]``, Unicode ``\\d``,
``a{,2}``, inline ``(?i)`` after ``^``) and accepts what Go refuses
(lookarounds, backreferences), and it backtracks, so a pattern like
``^v(a+)+$`` can take exponential time. This module compiles with RE2 itself
(the `google-re2` binding of the C++ library Go's package was ported from):
linear time, Go's syntax. The one construct C++ RE2 has and Go does not,
``\\C`` (any byte), is refused here as Go refuses it. The oracle tests
(tests/unit/domain/test_policies_oracle.py) compare matches and expansions
with Go's own ``regexp``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import re2


class RegexError(ValueError):
    """The pattern is not a valid Go regexp; the message says why."""


_OPTIONS: Any = re2.Options()
_OPTIONS.log_errors = False  # the C++ library would log each refusal to stderr


@dataclass(frozen=True)
class GoMatch:
    """One match: `group(n_or_name)` is None for a group that did not take part."""

    raw: Any

    def group(self, key: int | str) -> str | None:
        value = self.raw.group(key)
        if isinstance(value, bytes):
            return value.decode("utf-8", "surrogateescape")
        return None if value is None else str(value)


@dataclass(frozen=True)
class GoRegex:
    """A compiled pattern: `search` finds the leftmost-first match anywhere."""

    pattern: str
    compiled: Any

    @property
    def groups(self) -> int:
        return int(self.compiled.groups)

    @property
    def groupindex(self) -> Mapping[str, int]:
        return dict(self.compiled.groupindex)

    def search(self, text: str) -> GoMatch | None:
        """Search `text`; a tag read from undecodable bytes (surrogate escapes)
        is searched as those bytes, as Go searches a string of any bytes."""
        try:
            match = self.compiled.search(text)
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogateescape")
            match = re2.compile(self.pattern.encode("utf-8"), _OPTIONS).search(data)
        return None if match is None else GoMatch(match)


def compile_go(pattern: str) -> GoRegex:
    """Compile `pattern` with Go's syntax; `RegexError` when Go would refuse it."""
    _refuse_any_byte(pattern)
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        message = error.args[0] if error.args else error
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        raise RegexError(str(message)) from None
    return GoRegex(pattern, compiled)


def _refuse_any_byte(pattern: str) -> None:
    index = pattern.find("\\")
    while index != -1:
        if pattern[index + 1 : index + 2] == "C":
            raise RegexError("invalid escape sequence: `\\C`")
        index = pattern.find("\\", index + 2)
