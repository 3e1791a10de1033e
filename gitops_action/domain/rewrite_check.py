"""Proof that a marker rewrite changed only the marked scalars.

`update` splices new bytes into a file at the offsets the YAML adapter
reported. Were an offset ever wrong (a scalar with an anchor or a tag and no
value, `c1: &x # {...}`, once put the new value on the next line), the file
pushed would no longer parse, or would say something else, and every later
`sync` would fail until a human repaired git. So the rewritten text is read
again and its event stream compared with the original's: the same documents,
mappings, sequences, keys, anchors, aliases and tags, every scalar the same,
except each planned change's scalar, which must now hold exactly its new
value. Anything else refuses the file.

Pure: the adapter turns text into `Event`s; this module only compares them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from gitops_action.domain.markers import Change


class Event(NamedTuple):
    """One YAML parse event, as much of it as a rewrite must keep."""

    kind: str  # "document", "mapping", "sequence", "end", "scalar", "alias"
    value: str  # a scalar's value, an alias's anchor name, else ""
    anchor: str
    tag: str  # an explicit tag (`!!str`), else ""
    line: int  # 1-based line where the event ends (a scalar's last line)


def rewrite_problem(
    before: Sequence[Event], after: Sequence[Event], changes: Sequence[Change]
) -> str | None:
    """Why `after` is not `before` with exactly `changes` applied; None when it is."""
    if len(before) != len(after):
        return f"the rewrite changes the YAML structure ({len(before)} events, now {len(after)})"
    expected = Counter((change.line, change.old, change.new) for change in changes)
    for old, new in zip(before, after, strict=True):
        if (old.kind, old.anchor, old.tag) != (new.kind, new.anchor, new.tag):
            return f"line {old.line}: the rewrite changes a {old.kind} into a {new.kind}"
        if old.value == new.value:
            continue
        key = (old.line, old.value, new.value)
        if old.kind != "scalar" or expected[key] == 0:
            return f"line {old.line}: the rewrite changes {old.value!r} into {new.value!r}"
        expected[key] -= 1
    missing = [key for key, count in expected.items() if count > 0]
    if missing:
        line, _was, wanted = missing[0]
        return f"line {line}: the marked scalar does not read back as {wanted!r}"
    return None
