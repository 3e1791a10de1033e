"""Semver ranges with the syntax and meaning of Masterminds/semver v3.

Flux's ImagePolicy ``semver.range`` is a Masterminds/semver v3 constraint and
python-semver has no range syntax, so this module implements that dialect on
top of `gitops_action.domain.versions`. What is accepted:

* ``||`` separates OR-groups; inside a group comparators are ANDed, separated
  by a comma (spaces around it allowed) or by whitespace: ``>= 1.2, < 3.0.0``,
  ``>=1.2 <3``.
* Operators ``=`` (or none), ``!=``, ``>``, ``<``, ``>=`` / ``=>``,
  ``<=`` / ``=<``, ``~`` / ``~>``, ``^``; whitespace may follow an operator.
* A range version is lenient: an optional lowercase ``v``, one to three parts
  (``1``, ``1.2``, ``1.2.3``), each a number (leading zeros allowed, at most
  2^64-1) or a wildcard ``x``, ``X``, ``*``; then an optional prerelease
  (numeric identifiers without leading zeros) and build metadata (ignored).
  A wildcard part drops every part after it (``1.x.3`` is ``1.x``).
* Hyphen ranges ``A - B`` (whitespace on both sides of the ``-``) mean
  ``>= A, <= B``; ``1.2-1.4.5`` without the spaces is the version ``1.2`` with
  prerelease ``1.4.5``, as in Masterminds. A hyphen range cannot follow
  another term after a space (``>=1 2 - 3``): Masterminds' rewrite eats the
  space, and so does ours.

Meaning, where a part is missing or a wildcard (a "partial" version):

* ``=1.2`` / ``1.2`` / ``1.2.x`` behave as ``~1.2``; ``*`` matches everything.
* ``~1.2.3`` := ``>=1.2.3 <1.3.0``; ``~1.2`` := ``>=1.2 <1.3``; ``~1`` := ``>=1 <2``;
  ``~0.0.0`` and ``~*`` match everything.
* ``^1.2.3`` := ``>=1.2.3 <2.0.0``; ``^1.2`` := ``>=1.2.0 <2.0.0``;
  ``^0.2.3`` := ``>=0.2.3 <0.3.0``; ``^0.2`` := ``>=0.2.0 <0.3.0``;
  ``^0.0.3`` := ``>=0.0.3 <0.0.4``; ``^0.0`` := ``>=0.0.0 <0.1.0``;
  ``^0`` := ``>=0.0.0 <1.0.0``; ``^*`` matches only ``0.0.0`` (below).
* ``>1`` means ``>=2.0.0`` and ``>1.2`` means ``>=1.3.0``; ``<=1`` means ``<2.0.0``
  and ``<=1.2`` means ``<1.3.0``; ``<1.2`` and ``>=1.2`` use ``1.2.0``;
  ``!=1.2`` excludes all of ``1.2.x``.

Prerelease rule (Masterminds v3.4.0, PR #267): a prerelease version can only
satisfy an AND-group in which at least one comparator's version carries a
prerelease; that group then compares prereleases by plain precedence. OR-groups
are independent. So ``>=2.0.0-0`` admits ``2.0.0-rc.1``, ``^1.0.0`` never
admits ``1.5.0-rc.1``, ``>=1.0.0-0 <2.0.0`` admits ``1.5.0-rc.1`` and
``>=1.0.0-0 || <3`` admits prereleases only through its first group. Releases
up to v3.3 applied the rule per comparator instead (there the middle example
admitted no prerelease); the group rule admits a superset of that and is what
current Masterminds does.

Wildcard-major quirks are kept as Masterminds has them (the oracle tests in
tests/unit/domain compare every answer with its code): ``^*`` matches only
``0.0.0`` (its documentation says "any"), ``<*`` matches nothing, ``>*`` and
``!=*`` everything but ``0.0.0``, ``<=*`` only ``0.0.z``.

`parse_range` raises `InvalidRange` (never anything else) for any text that is
not such a range, naming the range; ranges longer than 512 characters are
refused, as current Masterminds does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Final

from gitops_action.domain.errors import InvalidRange
from gitops_action.domain.versions import Version, is_uint64, make_version

# Go's \s in RE2: ASCII whitespace only (Python's \s would also take Unicode).
_WS: Final = r"[ \t\n\f\r]"
_IDENTIFIERS: Final = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
# The version syntax Masterminds' hyphen rewrite recognises (its part class
# also takes "|", which only matters for where "||" later splits).
_HYPHEN_CV: Final = (
    r"v?[0-9|xX*]+(?:\.[0-9|xX*]+)?(?:\.[0-9|xX*]+)?"
    rf"(?:-{_IDENTIFIERS})?(?:\+{_IDENTIFIERS})?"
)
_HYPHEN_RANGE: Final = re.compile(
    rf"{_WS}*(?P<low>{_HYPHEN_CV}){_WS}+-{_WS}+(?P<high>{_HYPHEN_CV}){_WS}*"
)
_COMPARATOR: Final = re.compile(
    r"(?P<op>!=|>=|=>|<=|=<|~>|=|>|<|~|\^)?"
    rf"{_WS}*"
    r"v?(?P<major>[0-9xX*]+)(?:\.(?P<minor>[0-9xX*]+))?(?:\.(?P<patch>[0-9xX*]+))?"
    rf"(?:-(?P<pre>{_IDENTIFIERS}))?(?:\+(?P<build>{_IDENTIFIERS}))?"
)
_SPACE_CHARS: Final = frozenset(" \t\n\f\r")
# Current Masterminds caps a constraint at 512 bytes; it also keeps our
# backtracking regexes cheap on hostile input.
MAX_RANGE_LENGTH: Final = 512
_WILDCARDS: Final = frozenset({"x", "X", "*"})
_ALIASES: Final = {"": "=", "=>": ">=", "=<": "<=", "~>": "~"}


@dataclass(frozen=True, slots=True)
class Comparator:
    """One ``op version`` term; `admits` applies it without the prerelease rule.

    `minor_dirty` marks ``1`` / ``1.x`` (the minor part was open), `patch_dirty`
    marks ``1.2`` / ``1.2.x``, `any_major` marks ``*`` / ``x.y.z``; `dirty` is
    any of the three. The bound `version` has the open parts set to zero.
    """

    text: str
    op: str
    version: Version
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool
    any_major: bool

    def admits(self, candidate: Version) -> bool:
        return _CHECKS[self.op](self, candidate)

    def checker(self) -> Callable[[Version], bool]:
        """`admits` as one bound call, for the hot loop over thousands of tags."""
        return partial(_CHECKS[self.op], self)


@dataclass(frozen=True, slots=True)
class AndGroup:
    """Comparators that must all hold; `allows_prerelease` is the group rule."""

    comparators: tuple[Comparator, ...]
    allows_prerelease: bool
    checks: tuple[Callable[[Version], bool], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checks = tuple(comparator.checker() for comparator in self.comparators)
        object.__setattr__(self, "checks", checks)

    def admits(self, candidate: Version) -> bool:
        if candidate.prerelease and not self.allows_prerelease:
            return False
        for check in self.checks:  # noqa: SIM110 - a generator triples the cost here
            if not check(candidate):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Range:
    """A parsed range: OR of AND-groups. `text` is the range as written."""

    text: str
    groups: tuple[AndGroup, ...]

    @property
    def allows_prerelease(self) -> bool:
        """Whether any prerelease could ever satisfy this range."""
        return any(group.allows_prerelease for group in self.groups)

    def admits(self, candidate: Version) -> bool:
        for group in self.groups:  # noqa: SIM110 - a generator triples the cost here
            if group.admits(candidate):
                return True
        return False

    def rejection(self, candidate: Version) -> str | None:
        """Why `candidate` is outside the range, or None when it is inside."""
        if self.admits(candidate):
            return None
        if candidate.prerelease and not self.allows_prerelease:
            return "prerelease not allowed by range"
        return f"outside range {self.text}"

    def __str__(self) -> str:
        return self.text


def parse_range(text: str) -> Range:
    """Parse a Masterminds v3 constraint; `InvalidRange` names it when it does not parse."""
    try:
        if len(text) > MAX_RANGE_LENGTH:
            raise _Malformed(f"longer than {MAX_RANGE_LENGTH} characters")
        parts = _rewrite_hyphens(text).split("||")
        groups = tuple(_parse_group(part, alone=len(parts) == 1) for part in parts)
    except _Malformed as error:
        raise InvalidRange(f"invalid semver range {_shorten(text, 200)!r}: {error}") from error
    return Range(text, groups)


class _Malformed(Exception):
    """Internal: why a range does not parse (wrapped into InvalidRange)."""


def _rewrite_hyphens(text: str) -> str:
    """``A - B`` becomes ``>= A, <= B `` before anything else, exactly as in
    Masterminds (the match takes the whitespace around the range with it, so
    ``>=1 2 - 3`` becomes the unparsable ``>=1>= 2, <= 3``, refused as there).
    """
    if "-" not in text:
        return text
    return _HYPHEN_RANGE.sub(lambda m: f">= {m['low']}, <= {m['high']} ", text)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in _SPACE_CHARS:
        position += 1
    return position


def _parse_group(group: str, *, alone: bool) -> AndGroup:
    """One AND-group: comparators separated by a comma and/or whitespace."""
    position = _skip_space(group, 0)
    if position == len(group):
        raise _Malformed("empty range" if alone else "empty OR-group around '||'")
    comparators: list[Comparator] = []
    while True:
        match = _COMPARATOR.match(group, position)
        if match is None:
            raise _Malformed(f"{_shorten(group[position:])!r} is not a version constraint")
        comparators.append(_comparator(match))
        position = match.end()
        after_space = _skip_space(group, position)
        if after_space == len(group):
            break
        if group[after_space] == ",":
            after_space = _skip_space(group, after_space + 1)
            if after_space == len(group):
                raise _Malformed("a comma must be followed by a constraint")
        elif after_space == position:
            raise _Malformed(
                f"unexpected {_shorten(group[position:])!r} after {_shorten(match[0])!r}"
            )
        position = after_space
    allows = any(comparator.version.prerelease for comparator in comparators)
    return AndGroup(tuple(comparators), allows)


def _comparator(match: re.Match[str]) -> Comparator:
    parts = [match["major"], match["minor"], match["patch"]]
    for part in parts:
        if part is None or part in _WILDCARDS:
            continue
        if not part.isdigit():
            raise _Malformed(f"{_shorten(part)!r} is neither a number nor x, X or *")
        if not is_uint64(part):
            raise _Malformed(f"{_shorten(part)!r} is larger than 2^64-1")
    prerelease = tuple(match["pre"].split(".")) if match["pre"] else ()
    for identifier in prerelease:
        if identifier.isdigit() and len(identifier) > 1 and identifier[0] == "0":
            raise _Malformed(f"prerelease identifier {_shorten(identifier)!r} has a leading zero")
    any_major = parts[0] in _WILDCARDS
    minor_dirty = not any_major and (parts[1] is None or parts[1] in _WILDCARDS)
    patch_dirty = not (any_major or minor_dirty) and (parts[2] is None or parts[2] in _WILDCARDS)
    numbers = [0, 0, 0]
    open_from = 0 if any_major else 1 if minor_dirty else 2 if patch_dirty else 3
    for index in range(open_from):
        numbers[index] = int(str(parts[index]).lstrip("0") or "0")
    version = make_version(numbers[0], numbers[1], numbers[2], prerelease)
    op = _ALIASES.get(match["op"] or "", match["op"] or "")
    return Comparator(
        text=match[0],
        op=op,
        version=version,
        dirty=any_major or minor_dirty or patch_dirty,
        minor_dirty=minor_dirty,
        patch_dirty=patch_dirty,
        any_major=any_major,
    )


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- the operators, with Masterminds' handling of partial versions ---------


def _equal(c: Comparator, v: Version) -> bool:
    if c.dirty:
        return _tilde(c, v)
    return v.key == c.version.key


def _not_equal(c: Comparator, v: Version) -> bool:
    bound = c.version
    if c.dirty:
        if v.major != bound.major:
            return True
        if c.minor_dirty:
            return False
        if v.minor != bound.minor:
            return True
        if c.patch_dirty:
            # All of 1.2.x is excluded; only a different prerelease escapes.
            return v.key[4] != bound.key[4]
    return v.key != bound.key


def _greater(c: Comparator, v: Version) -> bool:
    bound = c.version
    if c.minor_dirty:
        return v.major > bound.major
    if c.patch_dirty:
        return v.major > bound.major or (v.major == bound.major and v.minor > bound.minor)
    return v.key > bound.key


def _less(c: Comparator, v: Version) -> bool:
    return v.key < c.version.key


def _greater_equal(c: Comparator, v: Version) -> bool:
    return v.key >= c.version.key


def _less_equal(c: Comparator, v: Version) -> bool:
    bound = c.version
    if not c.dirty:
        return v.key <= bound.key
    if v.major > bound.major:
        return False
    return not (v.major == bound.major and v.minor > bound.minor and not c.minor_dirty)


def _tilde(c: Comparator, v: Version) -> bool:
    bound = c.version
    if v.key < bound.key:
        return False
    # ~0.0.0 and ~* admit everything at or above the bound.
    if c.any_major or ((bound.major, bound.minor, bound.patch) == (0, 0, 0) and not c.dirty):
        return True
    if v.major != bound.major:
        return False
    return c.minor_dirty or v.minor == bound.minor


def _caret(c: Comparator, v: Version) -> bool:
    bound = c.version
    if v.key < bound.key:
        return False
    if bound.major > 0 or c.minor_dirty:
        return v.major == bound.major
    # Below 1.0.0 the minor is the compatibility level (0.2.x); for 0.0.z the patch is.
    if bound.minor > 0 or c.patch_dirty:
        return v.major == 0 and v.minor == bound.minor
    return (v.major, v.minor, v.patch) == (0, 0, bound.patch)


_CHECKS: Final[dict[str, Callable[[Comparator, Version], bool]]] = {
    "=": _equal,
    "!=": _not_equal,
    ">": _greater,
    "<": _less,
    ">=": _greater_equal,
    "<=": _less_equal,
    "~": _tilde,
    "^": _caret,
}
