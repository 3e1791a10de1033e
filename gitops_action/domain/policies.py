"""Tag selection as a Flux ImagePolicy does it, returned as data.

A selection runs, for every candidate tag, the steps Flux runs:

1. the ImageRepository ``exclusionList``: a tag any of whose regexes matches
   (anywhere in the tag) is dropped. With no list the default is
   ``^.*\\.sig$`` (cosign signature tags); giving any list replaces the
   default, because in Flux it is a CRD default that only applies when the
   field is absent;
2. the ImagePolicy ``filterTags.pattern``: a tag the regex does not match
   (anywhere) is dropped; ``filterTags.extract`` then turns the tag into the
   value the policy compares, by Go ``regexp.Expand`` rules (``$name``,
   ``${name}``, ``$1``, ``$$``); without it the value is the tag itself;
3. the policy reads the value: ``semver`` keeps versions inside the range
   (`gitops_action.domain.ranges`), ``alphabetical`` keeps everything,
   ``numerical`` keeps decimal numbers;
4. the best kept value wins and the ORIGINAL tag is selected.

Differences from Flux, chosen so the result is useful and deterministic:

* Ties (``v1.0.0`` and ``1.0.0``, ``1.0.0+a`` and ``1.0.0+b``, or two tags
  extracting to the same value) go to the greatest tag in code-point order
  (so ``v1.0.0`` beats ``1.0.0``), whatever the input order. Flux keeps the
  first or last one it happens to see.
* ``numerical`` drops a tag that is not a decimal number (reason
  ``not a number``) instead of failing the whole policy as Flux does, and
  compares exactly (Flux goes through float64, which confuses numbers beyond
  15-16 significant digits). Accepted: optional sign, digits with an optional
  fraction, optional exponent; ``inf``, ``nan`` and hex floats are not numbers.
* An extract template that names a group the pattern does not have, or that
  has a malformed ``$`` reference, is an error (`InvalidPattern`); Go would
  silently expand it to an empty string, which then matches nothing.
* A tag listed twice is kept once (reason ``duplicate``).

Regexes are Go's (RE2, `gitops_action.domain.goregex`): the same syntax,
the same matches, linear time, and what Go refuses (lookarounds,
backreferences) is refused. Every tag is read once; patterns are compiled once.

Tags read from a registry (``oci_only``) go through one step before 1: a tag
that is not a valid OCI tag (newlines, `$(...)`, BiDi controls, more than 128
characters; `gitops_action.domain.untrusted`) is dropped with reason ``not a
valid OCI tag`` and recorded only in escaped form. `policy select` reads the
user's own list and keeps Flux's semantics for any text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple, Protocol

from gitops_action.domain.errors import InvalidPattern, InvalidPolicy
from gitops_action.domain.goregex import GoRegex, RegexError, compile_go
from gitops_action.domain.ranges import Range, parse_range
from gitops_action.domain.untrusted import INVALID_TAG, is_oci_tag, shown
from gitops_action.domain.versions import PrecedenceKey, parse_tag

DEFAULT_EXCLUSIONS: Final = (r"^.*\.sig$",)
Order = Literal["asc", "desc"]
ORDERS: Final = ("asc", "desc")


# --- policies --------------------------------------------------------------


class Policy(Protocol):
    """What `select_tag` needs from a policy kind."""

    @property
    def kind(self) -> str: ...

    @property
    def descending(self) -> bool:
        """True when the lowest key wins."""
        ...

    def describe(self) -> str: ...

    def as_dict(self) -> dict[str, str]: ...

    def read(self, value: str) -> tuple[Any, str | None]:
        """(sort key, None) for a kept value; (None, reason) for a dropped one."""
        ...

    def loses_to(self, winner: str, tie: bool) -> str:
        """Reason recorded for a kept tag that was not selected."""
        ...


def parse_order(order: str) -> Order:
    """``asc``/``desc`` in any case, as Flux's enum; `InvalidPolicy` otherwise."""
    lowered = order.lower()
    if lowered == "asc":
        return "asc"
    if lowered == "desc":
        return "desc"
    raise InvalidPolicy(f"invalid order {order!r}: must be asc or desc")


@dataclass(frozen=True)
class SemverPolicy:
    """Highest version inside the range wins."""

    range: Range
    kind: str = field(default="semver", init=False)

    @classmethod
    def from_range(cls, text: str) -> SemverPolicy:
        return cls(parse_range(text))

    @property
    def descending(self) -> bool:
        return False

    def describe(self) -> str:
        return f"semver range {self.range.text!r}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "range": self.range.text}

    def read(self, value: str) -> tuple[PrecedenceKey | None, str | None]:
        version = parse_tag(value)
        if version is None:
            return None, "not semver"
        if self.range.admits(version):
            return version.key, None
        return None, self.range.rejection(version)

    def loses_to(self, winner: str, tie: bool) -> str:
        if tie:
            return f"same precedence as {winner}; ties go to the greatest tag"
        return f"lower than {winner}"


@dataclass(frozen=True)
class AlphabeticalPolicy:
    """Last value in code-point order wins for asc (as Flux), first for desc."""

    order: Order = "asc"
    kind: str = field(default="alphabetical", init=False)

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    def describe(self) -> str:
        return f"alphabetical order {self.order}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "order": self.order}

    def read(self, value: str) -> tuple[str, None]:
        return value, None

    def loses_to(self, winner: str, tie: bool) -> str:
        if tie:
            return f"same value as {winner}; ties go to the greatest tag"
        return f"sorts after {winner}" if self.descending else f"sorts before {winner}"


_DECIMAL: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class NumericalPolicy:
    """Highest number wins for asc (as Flux), lowest for desc."""

    order: Order = "asc"
    kind: str = field(default="numerical", init=False)

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    def describe(self) -> str:
        return f"numerical order {self.order}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "order": self.order}

    def read(self, value: str) -> tuple[Any, str | None]:
        # decimal is imported here: only this policy needs it, and the CLI's
        # cold start matters more than one import on first use.
        from decimal import Decimal, DecimalException

        if _DECIMAL.fullmatch(value) is None:
            return None, "not a number"
        try:
            return Decimal(value), None
        except (DecimalException, ValueError):
            return None, "not a number"

    def loses_to(self, winner: str, tie: bool) -> str:
        if tie:
            return f"same number as {winner}; ties go to the greatest tag"
        return f"higher than {winner}" if self.descending else f"lower than {winner}"


# --- filterTags and exclusionList --------------------------------------------


def compile_regex(pattern: str, what: str) -> GoRegex:
    """Compile a Flux (Go RE2) regex; `InvalidPattern` names it when Go would refuse it."""
    try:
        return compile_go(pattern)
    except RegexError as error:
        raise InvalidPattern(f"invalid {what} regex {pattern!r}: {error}") from error


# A template piece: ("text", literal) or ("group", number or name).
_Part = tuple[Literal["text", "group"], str | int]


def compile_template(template: str, pattern: GoRegex, pattern_text: str) -> tuple[_Part, ...]:
    """Split a Go ``regexp.Expand`` template into literals and group references.

    ``$$`` is a literal ``$``; ``$name``/``${name}`` take the longest run of
    letters, digits and ``_``; an all-digit name without a leading zero is a
    group number. References must exist in `pattern`.
    """
    parts: list[_Part] = []
    literal: list[str] = []
    index = 0
    while index < len(template):
        char = template[index]
        index += 1
        if char != "$":
            literal.append(char)
            continue
        if template.startswith("$", index):
            literal.append("$")
            index += 1
            continue
        name, index = _reference(template, index)
        ref = _resolve(name, pattern, pattern_text, template)
        if literal:
            parts.append(("text", "".join(literal)))
            literal = []
        parts.append(("group", ref))
    if literal:
        parts.append(("text", "".join(literal)))
    return tuple(parts)


def _reference(template: str, index: int) -> tuple[str, int]:
    braced = template.startswith("{", index)
    start = index + 1 if braced else index
    end = start
    while end < len(template) and _name_char(template[end]):
        end += 1
    name = template[start:end]
    if braced:
        if not name or not template.startswith("}", end):
            raise InvalidPattern(
                f"invalid extract template {template!r}: unclosed or empty ${{...}}"
            )
        end += 1
    elif not name:
        raise InvalidPattern(
            f"invalid extract template {template!r}: '$' must start $name, ${{name}} or $$"
        )
    return name, end


def _name_char(char: str) -> bool:
    """Go's expand: a letter (unicode.IsLetter), a decimal digit (IsDigit) or ``_``."""
    return char.isalpha() or char.isdecimal() or char == "_"


def _resolve(name: str, pattern: GoRegex, pattern_text: str, template: str) -> str | int:
    if name.isascii() and name.isdigit() and (name == "0" or not name.startswith("0")):
        number = int(name) if len(name) < 10 else pattern.groups + 1
        if number <= pattern.groups:
            return number
        problem = f"group {name}, but the pattern has {pattern.groups} group(s)"
    elif name in pattern.groupindex:
        return name
    else:
        problem = f"group {name!r}, which the pattern does not define"
    raise InvalidPattern(
        f"invalid extract template {template!r}: it uses {problem} ({pattern_text!r})"
    )


@dataclass(frozen=True)
class TagFilter:
    """Flux ``filterTags``: keep tags the pattern matches, compare the extract."""

    pattern_text: str
    pattern: GoRegex
    extract_text: str = ""
    extract: tuple[_Part, ...] = ()

    @classmethod
    def compile(cls, pattern: str, extract: str = "") -> TagFilter:
        compiled = compile_regex(pattern, "pattern")
        parts = compile_template(extract, compiled, pattern) if extract else ()
        return cls(pattern, compiled, extract, parts)

    def apply(self, tag: str) -> str | None:
        """The value to compare, or None when the tag does not match."""
        match = self.pattern.search(tag)
        if match is None:
            return None
        if not self.extract_text:
            return tag
        return "".join(
            str(value) if kind == "text" else (match.group(value) or "")
            for kind, value in self.extract
        )


@dataclass(frozen=True)
class Exclusions:
    """Flux ImageRepository ``exclusionList`` (regexes, any match excludes)."""

    patterns: tuple[tuple[str, GoRegex], ...]

    @classmethod
    def compile(cls, patterns: Sequence[str] | None = None) -> Exclusions:
        """None means "not given": the Flux default; an empty list excludes nothing."""
        texts = DEFAULT_EXCLUSIONS if patterns is None else tuple(patterns)
        return cls(tuple((text, compile_regex(text, "exclude")) for text in texts))

    def excluded_by(self, tag: str) -> str | None:
        for text, compiled in self.patterns:
            if compiled.search(tag):
                return text
        return None


# --- selection ---------------------------------------------------------------


class Decision(NamedTuple):
    """Why one input tag was dropped, kept, or selected.

    A NamedTuple rather than a frozen dataclass: a selection builds one per
    tag, and this is four times cheaper to build.
    """

    tag: str
    value: str
    kept: bool
    selected: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {
            "tag": self.tag,
            "value": self.value,
            "kept": self.kept,
            "selected": self.selected,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Selection:
    """The outcome: the selected tag (as written) or None, and every decision."""

    selected: str | None
    policy: Policy
    tag_filter: TagFilter | None
    exclusions: Exclusions
    decisions: tuple[Decision, ...]

    def settings(self) -> dict[str, object]:
        data: dict[str, object] = dict(self.policy.as_dict())
        if self.tag_filter is not None:
            data["pattern"] = self.tag_filter.pattern_text
            if self.tag_filter.extract_text:
                data["extract"] = self.tag_filter.extract_text
        data["exclude"] = [text for text, _ in self.exclusions.patterns]
        return data

    def as_dict(self) -> dict[str, object]:
        return {
            "selected": self.selected,
            "policy": self.settings(),
            "decisions": [decision.as_dict() for decision in self.decisions],
        }

    def no_match_reason(self) -> str:
        """One line saying why nothing was selected (empty when something was)."""
        if self.selected is not None:
            return ""
        if not self.decisions:
            return f"no tags to choose from for {self.policy.describe()}"
        counts: dict[str, int] = {}
        for decision in self.decisions:
            key = _reason_family(decision.reason)
            counts[key] = counts.get(key, 0) + 1
        detail = ", ".join(f"{count} {reason}" for reason, count in counts.items())
        total = len(self.decisions)
        return f"no tag satisfies {self.policy.describe()} ({total} tags: {detail})"


def _reason_family(reason: str) -> str:
    for prefix, family in (
        ("excluded by", "excluded"),
        ("does not match pattern", "not matching the pattern"),
        ("outside range", "outside the range"),
    ):
        if reason.startswith(prefix):
            return family
    return reason


def select_tag(
    tags: Iterable[str],
    policy: Policy,
    *,
    tag_filter: TagFilter | None = None,
    exclusions: Exclusions | None = None,
    oci_only: bool = False,
) -> Selection:
    """Run Flux's steps over `tags` (in order) and return the selection as data.

    `oci_only` (tags read from a registry) drops tags that are not OCI tags first.

    Each tag is looked at once; dropped tags get their decision at once, kept
    ones after the winner is known (their reason names it).
    """
    excluder = exclusions if exclusions is not None else Exclusions.compile()
    read, excluded_by = policy.read, excluder.excluded_by
    # Candidates hold a None until the winner is known (see _settle).
    decisions: list[Decision | None] = []
    candidates: list[tuple[Any, str, str, int]] = []  # (key, tag, value, position)
    seen: set[str] = set()
    no_match = f"does not match pattern {tag_filter.pattern_text}" if tag_filter else ""
    for tag in tags:
        if oci_only and not is_oci_tag(tag):  # registry text: never selected nor shown raw
            decisions.append(Decision(shown(tag), shown(tag), False, False, INVALID_TAG))
            continue
        value = tag
        reason: str | None
        if tag in seen:
            reason = "duplicate"
        else:
            seen.add(tag)
            excluded = excluded_by(tag)
            reason = None if excluded is None else f"excluded by {excluded}"
        if reason is None and tag_filter is not None:
            extracted = tag_filter.apply(tag)
            if extracted is None:
                reason = no_match
            else:
                value = extracted
        if reason is None:
            key, reason = read(value)
            if reason is None:
                candidates.append((key, tag, value, len(decisions)))
                decisions.append(None)
                continue
        decisions.append(Decision(tag, value, False, False, reason))
    selected = _settle(candidates, decisions, policy)
    settled = tuple(decision for decision in decisions if decision is not None)
    return Selection(selected, policy, tag_filter, excluder, settled)


def _settle(
    candidates: list[tuple[Any, str, str, int]], decisions: list[Decision | None], policy: Policy
) -> str | None:
    """Pick the winner and record every candidate's decision; returns its tag.

    Highest key wins (lowest when the policy is descending); equal keys go to
    the greatest tag, so the outcome never depends on the input order.
    """
    if not candidates:
        return None
    keys = [candidate[0] for candidate in candidates]
    best_key = min(keys) if policy.descending else max(keys)
    winner = max(
        (candidate for candidate in candidates if candidate[0] == best_key),
        key=lambda candidate: candidate[1],
    )
    lower = policy.loses_to(winner[1], tie=False)
    tie = policy.loses_to(winner[1], tie=True)
    for key, tag, value, position in candidates:
        if tag == winner[1]:
            decisions[position] = Decision(tag, value, True, True, "selected")
        else:
            decisions[position] = Decision(
                tag, value, True, False, tie if key == best_key else lower
            )
    return str(winner[1])
