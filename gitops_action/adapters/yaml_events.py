"""A YAML text as the parse events `domain.rewrite_check` compares.

Parsing only (libyaml when built in): no node graph, no construction, so an
alias bomb costs nothing here and no tag runs anything.
"""

from __future__ import annotations

import functools
from typing import Any

from gitops_action.domain.errors import InvalidManifest
from gitops_action.domain.rewrite_check import Event


def yaml_events(file: str, text: str, what: str = "the file") -> list[Event]:
    """The events of every document in `text`; `InvalidManifest` when it does not parse.

    Hot when `update` rewrites many files: one class lookup and plain
    attribute reads per event (about 2x the bare libyaml parse).
    """
    import yaml

    kinds = _kinds(yaml)
    loader_class = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    events: list[Event] = []
    new = tuple.__new__
    try:
        parsed: Any = yaml.parse(text, Loader=loader_class)
        for raw in parsed:
            kind = kinds.get(type(raw))
            if kind is None:
                continue
            line = raw.end_mark.line + 1
            if kind == "scalar":
                tag = raw.tag or ""
                if tag and raw.implicit[1] and tag in ("!", "tag:yaml.org,2002:str"):
                    tag = ""  # a quoted scalar reports the implicit `!`: quoting is not a tag
                event = (kind, raw.value, raw.anchor or "", tag, line)
            elif kind == "alias":
                event = (kind, raw.anchor or "", "", "", line)
            elif kind in ("mapping", "sequence"):
                event = (kind, "", raw.anchor or "", raw.tag or "", line)
            else:
                event = (kind, "", "", "", line)
            events.append(new(Event, event))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = ": ".join(part for part in (err.context, err.problem) if part) or "parse error"
        raise InvalidManifest(f"{file}:{line}: {what} is not valid YAML: {reason}") from err
    except yaml.YAMLError as err:
        reason = " ".join(str(err).split())
        raise InvalidManifest(f"{file}: {what} is not valid YAML: {reason}") from err
    return events


@functools.cache
def _kinds(yaml: Any) -> dict[type, str]:
    events = yaml.events
    return {
        events.DocumentStartEvent: "document",
        events.MappingStartEvent: "mapping",
        events.SequenceStartEvent: "sequence",
        events.MappingEndEvent: "end",
        events.SequenceEndEvent: "end",
        events.DocumentEndEvent: "end",
        events.ScalarEvent: "scalar",
        events.AliasEvent: "alias",
    }
