"""Holds: keeping a policy off a tag by an ImageRepository `exclusionList` entry in git.

A hold is an anchored regex for exactly one tag (`^v1\\.1\\.0$`) in the
`exclusionList` of the policy's ImageRepository, on the line after a YAML
comment that says who held it and when:

    spec:
      image: ghcr.io/org/app
      exclusionList:
        - ^.*\\.sig$
        # gitops-action hold: v1.1.0 reverted to v1.0.0 by Jane <jane@example.com> in 1a2b3c4 ...
        - ^v1\\.1\\.0$

Holds live in git (DESIGN §4): Flux reads the same list, a human can read and
delete it, and there is no other state to lose. Setting `exclusionList`
replaces Flux's default (`^.*\\.sig$`), so when the list is absent or empty
the default is written out first.

Revert detection (`find_lowered`) compares, per policy, the tags the markers
held at the last automation commit with the tags they hold now, using the
policy's own order (its filter and extract included): a marker now below
what the bot last wrote was lowered by a human, and the tag it was lowered
from is held, unless the policy would not move it up again anyway.

Everything here is pure: the YAML adapter finds where the list is
(`ExclusionSite`), this module computes the new text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from gitops_action.domain.errors import HoldFailed
from gitops_action.domain.policies import (
    DEFAULT_EXCLUSIONS,
    Exclusions,
    Policy,
    TagFilter,
    select_tag,
)
from gitops_action.domain.refs import is_valid_tag

COMMENT_PREFIX: Final = "# gitops-action hold:"
"""Every hold comment starts with this; `release` removes such a comment with its entry."""

_NO_EXCLUSIONS: Final = Exclusions.compile([])


# --- the regex of a hold ----------------------------------------------------------


def hold_pattern(tag: str) -> str:
    """The anchored regex that excludes exactly `tag` (tags only need `.` escaped)."""
    if not is_valid_tag(tag):
        raise HoldFailed(f"{tag!r} is not a valid image tag")
    return "^" + tag.replace(".", "\\.") + "$"


_HOLD_RE: Final = re.compile(r"\^((?:[A-Za-z0-9_-]|\\\.)+)\$")


def held_tag(pattern: str) -> str | None:
    """The tag a hold pattern excludes, None for any other regex."""
    match = _HOLD_RE.fullmatch(pattern)
    return match.group(1).replace("\\.", ".") if match else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Revert:
    """A human lowered a policy's markers: from what, to what, in which commit, by whom."""

    policy: str  # ns:name
    from_tag: str
    to_tag: str
    commit: str = ""
    author: str = ""  # "Name <email>"
    date: str = ""

    def comment(self) -> str:
        who = f" by {self.author}" if self.author else ""
        where = f" in {self.commit[:7]}" if self.commit else ""
        when = f" on {self.date}" if self.date else ""
        return _one_line(
            f"{COMMENT_PREFIX} {self.from_tag} reverted to {self.to_tag}{who}{where}{when}"
        )

    def as_record(self) -> dict[str, str]:
        return {
            "policy": self.policy,
            "tag": self.from_tag,
            "reverted_to": self.to_tag,
            "commit": self.commit,
            "author": self.author,
            "date": self.date,
        }


def manual_comment(tag: str, by: str, date: str, reason: str = "") -> str:
    """The comment of a hold made with `gitops-action hold`."""
    because = f": {reason}" if reason else ""
    who = f" by {by}" if by else ""
    return _one_line(f"{COMMENT_PREFIX} {tag} held{who} on {date}{because}")


# --- revert detection ----------------------------------------------------------------


def best_tag(tags: Sequence[str], policy: Policy, tag_filter: TagFilter | None) -> str | None:
    """The tag the policy prefers among `tags` (no exclusions), None if it keeps none."""
    if not tags:
        return None
    return select_tag(tags, policy, tag_filter=tag_filter, exclusions=_NO_EXCLUSIONS).selected


def is_below(tag: str, than: str, policy: Policy, tag_filter: TagFilter | None) -> bool:
    """True when the policy keeps both tags and prefers `than` strictly."""
    if tag == than:
        return False
    selection = select_tag([tag, than], policy, tag_filter=tag_filter, exclusions=_NO_EXCLUSIONS)
    kept = {decision.tag for decision in selection.decisions if decision.kept}
    return tag in kept and than in kept and selection.selected == than


def find_lowered(
    before: Sequence[str],
    after: Sequence[str],
    policy: Policy,
    tag_filter: TagFilter | None,
) -> tuple[str, str] | None:
    """(from_tag, to_tag) when a tag in `after` is below the best tag of `before`.

    `before` are the policy's marker tags at the last automation commit,
    `after` those at HEAD. None when nothing was lowered (or either side has
    no tag the policy can compare).
    """
    top = best_tag(before, policy, tag_filter)
    if top is None:
        return None
    lowered = [tag for tag in after if is_below(tag, top, policy, tag_filter)]
    if not lowered:
        return None
    lowest = lowered[0]
    for tag in lowered[1:]:
        if is_below(tag, lowest, policy, tag_filter):
            lowest = tag
    return top, lowest


# --- editing the exclusionList --------------------------------------------------------


@dataclass(frozen=True)
class ListItem:
    """One `exclusionList` entry as written: its value and its exact text span."""

    value: str
    start: int  # offset of the scalar (quotes included)
    end: int
    line_start: int  # offset of the start of the scalar's first line
    line_end: int  # offset just after the newline that ends the scalar's last line


@dataclass(frozen=True)
class ExclusionSite:
    """Where an ImageRepository's `exclusionList` is, or would go, in its file's text.

    `style` is "block" (a `- item` list), "flow" (`[a, b]`, also `[]`), or
    "absent". For an absent list, `insert_at` is the offset after the line of
    `spec.image` and `key_indent` the column of `spec`'s keys. For a flow
    list, `start`/`end` span the `[...]`. For a block list, `item_indent` is
    the column of the `-` of its items.
    """

    file: str
    text: str
    style: str
    key_indent: int
    items: tuple[ListItem, ...] = ()
    insert_at: int = 0
    start: int = 0
    end: int = 0
    item_indent: int = 0

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(item.value for item in self.items)

    @property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"


def _item_text(value: str) -> str:
    """A list item value: plain when YAML reads it back unchanged, else single-quoted."""
    plain_safe = (
        value
        and value[0] not in "-?:,[]{}#&*!|>'\"%@`"
        and ": " not in value
        and " #" not in value
        and value == value.strip()
        and not value.endswith(":")
    )
    return value if plain_safe else "'" + value.replace("'", "''") + "'"


def add_hold(site: ExclusionSite, tag: str, comment: str) -> str:
    """The file's text with a hold on `tag` added (the comment line, then the entry)."""
    pattern = hold_pattern(tag)
    if pattern in site.values:
        return site.text
    nl = site.newline
    comment_line = _one_line(comment)
    text = site.text
    if site.style == "block":
        last = site.items[-1]
        pad = " " * site.item_indent
        cut = last.line_end
        prefix = "" if cut == 0 or text[cut - 1] == "\n" else nl
        lines = f"{prefix}{pad}{comment_line}{nl}{pad}- {_item_text(pattern)}{nl}"
        return text[:cut] + lines + text[cut:]
    existing = [text[item.start : item.end] for item in site.items]
    if not existing:  # absent or empty: Flux's default applies, so keep it explicitly
        existing = [_item_text(pattern_text) for pattern_text in DEFAULT_EXCLUSIONS]
    pad = " " * (site.key_indent + 2)
    body = "".join(f"{pad}- {item}{nl}" for item in existing)
    body += f"{pad}{comment_line}{nl}{pad}- {_item_text(pattern)}{nl}"
    if site.style == "flow":
        # `exclusionList: [a, b]  # note` -> the key keeps its line; items follow as a block.
        rest = text[site.end :]
        line_rest, newline, after = rest.partition("\n")
        trailing = line_rest.rstrip("\r").strip()
        key_line = text[: site.start].rstrip(" \t")
        note = f" {trailing}" if trailing.startswith("#") else ""
        if trailing and not note:
            raise HoldFailed(
                f"{site.file}: cannot rewrite spec.exclusionList: unexpected text after it"
            )
        return f"{key_line}{note}{nl}{body}{after if newline else ''}"
    cut = site.insert_at
    prefix = "" if cut == 0 or text[cut - 1] == "\n" else nl
    key = " " * site.key_indent + "exclusionList:"
    return text[:cut] + f"{prefix}{key}{nl}{body}" + text[cut:]


def remove_hold(site: ExclusionSite, tag: str) -> str:
    """The file's text without the hold on `tag` (and its comment); unchanged when not held."""
    pattern = hold_pattern(tag)
    text = site.text
    matches = [item for item in site.items if item.value == pattern]
    if not matches:
        return text
    if site.style == "flow":
        kept = [text[i.start : i.end] for i in site.items if i.value != pattern]
        return text[: site.start] + "[" + ", ".join(kept) + "]" + text[site.end :]
    pieces: list[tuple[int, int]] = []
    for item in matches:
        start = item.line_start
        previous_start = text.rfind("\n", 0, max(start - 1, 0)) + 1 if start > 0 else 0
        previous = text[previous_start:start]
        if start > 0 and previous.strip().startswith(COMMENT_PREFIX):
            start = previous_start
        pieces.append((start, item.line_end))
    out: list[str] = []
    position = 0
    for start, end in sorted(pieces):
        out.append(text[position:start])
        position = end
    out.append(text[position:])
    return "".join(out)
