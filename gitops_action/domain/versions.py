"""A tag read as a version, exactly as Flux reads it, and version precedence.

Flux's ImagePolicy strips one leading lowercase ``v`` from a tag and parses the
rest as a *strict* SemVer 2.0 version (``fluxcd/pkg/version.ParseVersion``).
So ``v1.2.3`` and ``1.2.3`` are versions, while ``1.2``, ``01.2.3``,
``20240101``, ``V1.2.3`` and ``vv1.2.3`` are not: they are skipped by a semver
policy, never coerced. Numbers above 2^64-1 are not versions either, because
the Go parser stores each part in a uint64.

Precedence follows SemVer §11: major, minor, patch compare numerically; a
prerelease sorts below its release; prerelease identifiers compare one by one,
numeric ones numerically (``rc.10 > rc.9``) and below alphanumeric ones, which
compare in ASCII order; a shorter identifier list sorts first when it is a
prefix of the longer. Build metadata never affects precedence.

Each tag is parsed once into a `Version` holding a precomputed sort `key`, so a
policy over thousands of tags compares plain tuples instead of re-parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import semver

# Go's strconv.ParseUint(s, 10, 64) limit: Flux cannot read larger parts.
_UINT64_MAX: Final = 2**64 - 1
_UINT64_DIGITS: Final = len(str(_UINT64_MAX))

_PLAIN_RELEASE: Final = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)", re.ASCII
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
    if identifier.isascii() and identifier.isdigit():
        return (0, len(identifier), identifier)
    return (1, 0, identifier)


def make_version(
    major: int, minor: int, patch: int, prerelease: tuple[str, ...] = (), build: str = ""
) -> Version:
    """Build a `Version` from already validated parts."""
    pre_key = tuple(identifier_key(part) for part in prerelease)
    key = (major, minor, patch, 0 if prerelease else 1, pre_key)
    return Version(major, minor, patch, prerelease, build, key)


def parse_tag(tag: str) -> Version | None:
    """Read a tag as Flux does; None when it is not a version.

    Exactly one leading lowercase ``v`` is removed; the rest must be strict
    SemVer 2.0, with each numeric part fitting a uint64 as in Go. The common
    shape, a plain ``X.Y.Z``, is read by one anchored regex (python-semver
    would accept exactly these strings, at several times the cost); anything
    longer goes through `semver.Version.parse`, the authority on prerelease
    and build syntax.
    """
    text = tag[1:] if tag.startswith("v") else tag
    plain = _PLAIN_RELEASE(text)
    if plain is not None:
        if len(text) >= _UINT64_DIGITS and not all(map(is_uint64, plain.groups())):
            return None
        major, minor, patch = map(int, plain.groups())
        return Version(major, minor, patch, (), "", (major, minor, patch, 1, ()))
    if not text[:1].isdigit() or not text.isascii():
        return None  # cheap refusal of "latest", "main-…": exceptions cost more
    try:
        parsed = semver.Version.parse(text)
    except (ValueError, TypeError):
        return None
    if max(parsed.major, parsed.minor, parsed.patch) > _UINT64_MAX:
        return None
    prerelease = tuple(parsed.prerelease.split(".")) if parsed.prerelease else ()
    return make_version(parsed.major, parsed.minor, parsed.patch, prerelease, parsed.build or "")


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
