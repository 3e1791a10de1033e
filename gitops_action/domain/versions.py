"""A tag read as a version, exactly as current Flux reads it, and version precedence.

Flux's ImagePolicy reads a tag with ``fluxcd/pkg/version.ParseVersion``
(v0.10.0 and later, used by image-reflector-controller v1): the tag must have
at least two dots (three dot-separated parts, the last one taking the rest),
and is then parsed by Masterminds/semver's lenient ``NewVersion``: an optional
lowercase ``v``, a major number, optional ``.minor`` and ``.patch`` numbers
(leading zeros allowed, each at most 2^64-1), then an optional prerelease and
build metadata. So ``v1.2.3``, CalVer ``v2025.07.03``, ``01.2.3`` and
``1.2-rc.1`` (1.2.0 with prerelease ``rc.1``) are versions, while ``1.2``,
``20240101``, ``V1.2.3``, ``vv1.2.3``, ``1.2.3.4`` and ``1.2.3-01`` (a numeric
prerelease identifier with a leading zero) are not: they are skipped by a
semver policy, never coerced. The oracle tests (tests/unit/domain) compare
this with the Go code itself.

Precedence is Masterminds': major, minor, patch compare numerically; a
prerelease sorts below its release; prerelease identifiers compare one by one,
numeric ones (digits that fit a uint64) numerically and below alphanumeric
ones, which compare in ASCII order (a digit string too large for a uint64 is
alphanumeric, as Masterminds' ParseUint fails on it); a shorter identifier
list sorts first when it is a prefix of the longer. Build metadata never
affects precedence.

Each tag is parsed once into a `Version` holding a precomputed sort `key`, so a
policy over thousands of tags compares plain tuples instead of re-parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# Go's strconv.ParseUint(s, 10, 64) limit: Flux cannot read larger parts.
_UINT64_MAX: Final = 2**64 - 1
_UINT64_DIGITS: Final = len(str(_UINT64_MAX))

_PLAIN_RELEASE: Final = re.compile(r"v?([0-9]+)\.([0-9]+)\.([0-9]+)", re.ASCII).fullmatch
# Masterminds' NewVersion syntax (Go regexp: [0-9] is ASCII, $ is the end).
_IDENTIFIERS: Final = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_LENIENT: Final = re.compile(
    rf"v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-({_IDENTIFIERS}))?(?:\+({_IDENTIFIERS}))?",
    re.ASCII,
).fullmatch

# One prerelease identifier's sort key: numeric identifiers first (ordered by
# value, which for digits without leading zeros is length then text, so huge
# numbers never go through int()), then alphanumeric ones in ASCII order.
IdentifierKey = tuple[int, int, str]
PrereleaseKey = tuple[IdentifierKey, ...]
# (major, minor, patch, 1 for a release / 0 for a prerelease, identifiers)
PrecedenceKey = tuple[int, int, int, int, PrereleaseKey]


@dataclass(slots=True)
class Version:
    """A parsed version; `key` orders versions by SemVer precedence.

    Treat it as immutable. It is not declared frozen only because a frozen
    dataclass costs four times as much to build, and a policy builds one per tag.
    """

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...]
    build: str
    key: PrecedenceKey

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + self.build
        return text


def identifier_key(identifier: str) -> IdentifierKey:
    """Sort key of one prerelease identifier (see the module docstring)."""
    if identifier.isascii() and identifier.isdigit() and is_uint64(identifier):
        digits = identifier.lstrip("0") or "0"
        return (0, len(digits), digits)
    return (1, 0, identifier)


def make_version(
    major: int, minor: int, patch: int, prerelease: tuple[str, ...] = (), build: str = ""
) -> Version:
    """Build a `Version` from already validated parts."""
    pre_key = tuple(identifier_key(part) for part in prerelease)
    key = (major, minor, patch, 0 if prerelease else 1, pre_key)
    return Version(major, minor, patch, prerelease, build, key)


def parse_tag(tag: str) -> Version | None:
    """Read a tag as current Flux does; None when it is not a version.

    The common shape, a plain ``X.Y.Z`` (with an optional ``v``), is read by
    one anchored regex; anything longer by Masterminds' lenient syntax.
    """
    plain = _PLAIN_RELEASE(tag)
    if plain is not None:
        if len(tag) >= _UINT64_DIGITS and not all(map(is_uint64, plain.groups())):
            return None
        major, minor, patch = map(int, plain.groups())
        return Version(major, minor, patch, (), "", (major, minor, patch, 1, ()))
    if tag.count(".") < 2 or not tag.isascii():
        return None  # ParseVersion wants three dot-separated parts
    return _lenient(tag)


def _lenient(tag: str) -> Version | None:
    """Masterminds' NewVersion on a tag that is not a plain X.Y.Z."""
    match = _LENIENT(tag)
    if match is None:
        return None
    numbers = [part or "0" for part in match.groups()[:3]]
    prerelease = tuple(match[4].split(".")) if match[4] else ()
    if not all(map(is_uint64, numbers)) or any(map(_leading_zero, prerelease)):
        return None
    major, minor, patch = map(int, numbers)
    return make_version(major, minor, patch, prerelease, match[5] or "")


def _leading_zero(identifier: str) -> bool:
    return len(identifier) > 1 and identifier[0] == "0" and identifier.isdigit()


def is_uint64(digits: str) -> bool:
    """Whether a string of ASCII digits fits Go's uint64, checked without int()."""
    digits = digits.lstrip("0") or "0"
    if len(digits) != _UINT64_DIGITS:
        return len(digits) < _UINT64_DIGITS
    return digits <= str(_UINT64_MAX)


def compare(left: Version, right: Version) -> int:
    """-1, 0 or 1 by SemVer precedence (build metadata ignored)."""
    if left.key == right.key:
        return 0
    return -1 if left.key < right.key else 1
