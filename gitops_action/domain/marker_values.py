"""What the markers hold now: the value each `$imagepolicy` scalar has in the manifests.

`update` plans edits; `scan` and revert detection need to read, without
editing, what a policy's markers say today (and what they said at an older
commit). The rules for what counts as a marker are `markers`' own (line
comment of a non-empty, non-block scalar), reused here so both agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gitops_action.domain.errors import InvalidManifest
from gitops_action.domain.markers import (
    Marker,
    MarkerField,
    PolicyRef,
    ScalarSpan,
    line_comment,
    parse_marker,
)


@dataclass(frozen=True)
class MarkerValue:
    """One marked scalar: where it is, which policy and part it is for, what it holds."""

    file: str
    line: int
    policy: PolicyRef
    field: MarkerField
    value: str

    @property
    def tag(self) -> str | None:
        """The tag the value names (None for a `:name` marker or a value without a tag)."""
        if self.field is MarkerField.TAG:
            return self.value or None
        if self.field in (MarkerField.NAME, MarkerField.DIGEST):
            return None
        image, colon, tag = self.value.partition("@")[0].rpartition(":")
        if not colon or "/" in tag or not image:
            return None
        return tag or None

    def as_record(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "field": str(self.field),
            "value": self.value,
        }


def marker_values(file: str, text: str, spans: Iterable[ScalarSpan]) -> list[MarkerValue]:
    """Every marker of one file, in text order (comments that are not markers are
    skipped, as `update` and Flux skip them)."""
    found: list[MarkerValue] = []
    seen: set[int] = set()
    for span in sorted(spans, key=lambda span: span.start):
        if span.start in seen or span.style.is_block or span.start == span.end:
            continue
        seen.add(span.start)
        marker = _marker(line_comment(text, span.end), f"{file}:{span.end_line}")
        if marker is not None:
            found.append(MarkerValue(file, span.end_line, marker.policy, marker.field, span.value))
    return found


def _marker(comment: str | None, where: str) -> Marker | None:
    if comment is None:
        return None
    try:
        return parse_marker(comment, where)
    except InvalidManifest:
        return None


def by_policy(values: Iterable[MarkerValue]) -> dict[PolicyRef, list[MarkerValue]]:
    grouped: dict[PolicyRef, list[MarkerValue]] = {}
    for value in values:
        grouped.setdefault(value.policy, []).append(value)
    return grouped


def tags_of(values: Iterable[MarkerValue]) -> list[str]:
    """The distinct tags the values name, in first-seen order."""
    return list(dict.fromkeys(tag for value in values if (tag := value.tag) is not None))


def recorded_digest(values: Iterable[MarkerValue], tag: str) -> str:
    """The digest a policy's markers already record for `tag` ("" when none does):
    a full marker's ``IMAGE:TAG@DIGEST``, or a ``:digest`` marker beside a marker
    that holds `tag`."""
    values = list(values)
    if not any(value.tag == tag for value in values):
        return ""
    for value in values:
        if value.field is MarkerField.DIGEST and ":" in value.value:
            return value.value
        head, at, digest = value.value.partition("@")
        if at and value.field is MarkerField.FULL and head.endswith(":" + tag):
            return digest
    return ""
