"""A YAML text as the parse events `domain.rewrite_check` compares.

Parsing only (libyaml when built in): no node graph, no construction, so an
alias bomb costs nothing here and no tag runs anything.
"""

from __future__ import annotations

from typing import Any

from gitops_action.domain.errors import InvalidManifest
from gitops_action.domain.rewrite_check import Event

_KINDS = {
    "DocumentStartEvent": "document",
    "MappingStartEvent": "mapping",
    "SequenceStartEvent": "sequence",
    "MappingEndEvent": "end",
    "SequenceEndEvent": "end",
    "DocumentEndEvent": "end",
    "ScalarEvent": "scalar",
    "AliasEvent": "alias",
}


def yaml_events(file: str, text: str, what: str = "the file") -> list[Event]:
    """The events of every document in `text`; `InvalidManifest` when it does not parse."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    events: list[Event] = []
    try:
        for event in yaml.parse(text, Loader=loader_class):
            raw: Any = event
            kind = _KINDS.get(type(event).__name__)
            if kind is None:
                continue
            value = raw.anchor if kind == "alias" else getattr(raw, "value", None)
            anchor = "" if kind == "alias" else getattr(raw, "anchor", None) or ""
            tag = getattr(raw, "tag", None) or ""
            if kind == "scalar" and tag in ("!", "tag:yaml.org,2002:str") and raw.implicit[1]:
                tag = ""  # a quoted scalar reports the implicit `!`: quoting is not a tag
            line = event.end_mark.line + 1 if event.end_mark is not None else 0
            events.append(Event(kind, value or "", anchor, tag, line))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = ": ".join(part for part in (err.context, err.problem) if part) or "parse error"
        raise InvalidManifest(f"{file}:{line}: {what} is not valid YAML: {reason}") from err
    except yaml.YAMLError as err:
        reason = " ".join(str(err).split())
        raise InvalidManifest(f"{file}: {what} is not valid YAML: {reason}") from err
    return events
