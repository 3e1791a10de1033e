"""Is the live object already what git says? Decided without writing anything.

A no-op server-side apply changes nothing but is still a write call, and
DESIGN.md §6 wants zero of those for unchanged objects. So the decision is
made locally, from two facts:

1. **Did git change?** Every apply carries the hash of the manifest we send in
   the `gitops-action/applied-hash` annotation. A different hash means the
   manifest changed since the last apply, including fields removed from git,
   which no comparison of values could see (the live object keeps defaults
   and other managers' fields either way).
2. **Did the cluster drift?** Every field we send must have the same value in
   the live object (`contains`). A field someone edited or removed is drift,
   and the apply (with `force`) puts it back. Fields we do not send (defaults,
   status, other managers' fields such as an HPA's replicas) are not ours to
   compare.

The comparison follows what the API server does to a manifest on the way in:
nulls and empty maps/lists mean "nothing", quantities are canonicalised
(`1000m` is `1`), Secret `stringData` is folded into base64 `data`, and list
items are matched by content rather than position. When in doubt it says
"changed": the cost of a wrong "changed" is one no-op apply, the cost of a
wrong "unchanged" is drift left in place.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

HASH_ANNOTATION: Final = "gitops-action/applied-hash"
REDACTED: Final = "<redacted>"

_MISSING: Final = object()
# Keys under which values are resource quantities (`500m`, `1Gi`).
_QUANTITY_PARENTS: Final = frozenset(
    {"limits", "requests", "hard", "capacity", "allocatable", "overhead"}
)
_QUANTITY_KEYS: Final = frozenset({"storage"})
_QUANTITY: Final = re.compile(
    r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)
_BINARY: Final = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL: Final = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
# Scalar fields that identify a list item (merge keys of the common list types).
_ITEM_KEYS: Final = (
    "name",
    "containerPort",
    "port",
    "mountPath",
    "devicePath",
    "type",
    "key",
    "ip",
)


def applied_hash(body: Mapping[str, Any]) -> str:
    """`sha256:<hex>` of the canonical JSON of what we apply (the hash annotation left out)."""
    canonical = json.dumps(_without_hash(body), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def with_hash(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body to apply: `body` plus its hash annotation."""
    out = dict(body)
    metadata = dict(out["metadata"])
    annotations = dict(metadata.get("annotations") or {})
    annotations[HASH_ANNOTATION] = applied_hash(body)
    metadata["annotations"] = annotations
    out["metadata"] = metadata
    return out


def _without_hash(body: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(body)
    metadata = dict(out.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    annotations.pop(HASH_ANNOTATION, None)
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    out["metadata"] = metadata
    return out


def in_sync(applied: Mapping[str, Any], live: Mapping[str, Any] | None) -> bool:
    """True when applying `applied` (a body from `with_hash`) would change nothing we own."""
    if live is None:
        return False
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    ours = ((applied.get("metadata") or {}).get("annotations") or {}).get(HASH_ANNOTATION)
    if ours is None or annotations.get(HASH_ANNOTATION) != ours:
        return False
    return contains(live, as_stored(applied))


def as_stored(body: Mapping[str, Any]) -> dict[str, Any]:
    """What the server stores for `body` where it rewrites it: Secret `stringData` folded into
    `data` (base64), as the API server does on every write."""
    out = dict(body)
    if out.get("kind") == "Secret" and isinstance(out.get("stringData"), Mapping):
        data = dict(out.get("data") or {})
        for key, value in out.pop("stringData").items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        out["data"] = data
    return out


def contains(live: Any, want: Any, key: str = "", parent: str = "") -> bool:
    """Every field of `want` is in `live` with an equal value (see the module doc)."""
    if _empty(want):
        return _empty_matches(live, want)
    if isinstance(want, Mapping):
        return isinstance(live, Mapping) and all(
            contains(live.get(k, _MISSING), v, str(k), key) for k, v in want.items()
        )
    if isinstance(want, list):
        return isinstance(live, list) and _list_contains(live, want, key, parent)
    return _scalar_equal(live, want, key, parent)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, Mapping | list) and not value)


def _empty_matches(live: Any, want: Any) -> bool:
    if isinstance(want, Mapping) and isinstance(live, Mapping):
        return True  # `{}` says "present", and our apply adds nothing to what is there
    return live is _MISSING or live is None or _empty(live)


def _list_contains(live: list[Any], want: list[Any], key: str, parent: str) -> bool:
    """Items that are maps may sit anywhere among other managers' items (merged lists);
    lists of scalars are atomic and must be equal."""
    if all(isinstance(item, Mapping) for item in want):
        return all(any(contains(have, item) for have in live) for item in want)
    return len(live) == len(want) and all(
        contains(have, item, key, parent) for have, item in zip(live, want, strict=True)
    )


def _scalar_equal(live: Any, want: Any, key: str, parent: str) -> bool:
    if live is _MISSING:
        return False
    if isinstance(live, bool) or isinstance(want, bool):
        return type(live) is type(want) and live == want
    if live == want:
        return True
    if isinstance(live, int | float) and isinstance(want, int | float):
        return float(live) == float(want)
    if parent in _QUANTITY_PARENTS or key in _QUANTITY_KEYS:
        left, right = quantity(live), quantity(want)
        return left is not None and left == right
    return False


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes resource quantity as a number (`"500m"` is 0.5, `"1Ki"` 1024), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if not isinstance(value, str):
        return Decimal(str(value))
    match = _QUANTITY.fullmatch(value.strip())
    if match is None:
        return None
    return _scaled(Decimal(match.group(1)), match.group(2) or "")


def _scaled(base: Decimal, suffix: str) -> Decimal:
    if suffix in _BINARY:
        return base * (Decimal(1024) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return base.scaleb(_DECIMAL[suffix])
    return base.scaleb(int(suffix[1:]))  # e-notation: e3, E-2


# ------------------------------------------------------------------ diff


def shaped_like(live: Any, want: Any) -> Any:
    """`live` cut down to the fields `want` has, for a readable diff: status, defaults and
    other managers' fields are left out; list items are paired by their identifying field."""
    if isinstance(want, Mapping):
        if not isinstance(live, Mapping):
            return live
        return {k: shaped_like(live[k], v) for k, v in want.items() if k in live}
    if isinstance(want, list) and isinstance(live, list):
        if want and all(isinstance(item, Mapping) for item in want):
            used: set[int] = set()
            out = []
            for index, item in enumerate(want):
                pick = _pair(item, live, index, used)
                if pick is not None:
                    used.add(pick)
                    out.append(shaped_like(live[pick], item))
            return out
        return live
    return live


def _pair(item: Mapping[str, Any], live: list[Any], index: int, used: set[int]) -> int | None:
    keys = [k for k in _ITEM_KEYS if k in item and not isinstance(item[k], Mapping | list)]
    for position, have in enumerate(live):
        if position in used or not isinstance(have, Mapping):
            continue
        if keys and all(have.get(k) == item[k] for k in keys):
            return position
    if not keys and index < len(live) and index not in used:
        return index
    return None


def redact_secret(
    body: Mapping[str, Any], other: Mapping[str, Any] | None, *, mark_changed: bool
) -> dict[str, Any]:
    """A Secret with every value replaced, so a diff shows which keys changed and never what
    they hold: with `mark_changed`, a value that differs from `other`'s (folded) `data` reads
    `<redacted, changed>`, so the two sides of the diff differ exactly there."""
    if body.get("kind") != "Secret":
        return dict(body)
    out = dict(body)
    theirs = (other or {}).get("data") or {}
    for field in ("data", "stringData"):
        values = out.get(field)
        if isinstance(values, Mapping):
            out[field] = {
                key: f"{REDACTED[:-1]}, changed>"
                if mark_changed and other is not None and theirs.get(key) != value
                else REDACTED
                for key, value in values.items()
            }
    return out


def object_diff(
    title: str,
    live: Mapping[str, Any] | None,
    applied: Mapping[str, Any],
    render: Callable[[Any], str],
) -> str:
    """Unified diff of the live object (cut to our fields) against what we apply, both
    rendered by `render` (YAML); empty when they render the same."""
    want = as_stored(_without_hash(applied))
    have = None if live is None else shaped_like(_without_hash(live), want)
    if want.get("kind") == "Secret":
        have, want = (
            None if have is None else redact_secret(have, want, mark_changed=False),
            redact_secret(want, have, mark_changed=True),
        )
    before = [] if have is None else render(have).splitlines(keepends=True)
    after = render(want).splitlines(keepends=True)
    label = "(absent)" if live is None else f"live {title}"
    return "".join(difflib.unified_diff(before, after, fromfile=label, tofile=f"git {title}"))
