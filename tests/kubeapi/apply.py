"""Server-side apply and managedFields bookkeeping.

Apply merges a manager's configuration into the live object: maps recursively,
map-lists by key (in the order the real merge produces), sets as sets, anything else
replaced. Fields the manager applied before but leaves out now are removed unless
another manager also owns them. Changing a field another manager owns is a conflict
unless `force`, which takes the field over. Non-apply writes (create, update, patch)
give their manager the fields they changed and take those away from everyone else.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

from tests.kubeapi import errors
from tests.kubeapi.fieldsets import (
    MEMBER,
    Path,
    canon,
    decode,
    encode,
    leaves,
    path_text,
    remove,
    same,
    scoped,
    under,
)
from tests.kubeapi.shapes import FieldPath, ListKind, Shape, item_key


@dataclass(frozen=True)
class Entry:
    """One managedFields entry."""

    manager: str
    operation: str  # "Apply" | "Update"
    api_version: str
    time: str
    subresource: str
    fields: frozenset[Path]

    @property
    def ident(self) -> tuple[str, str, str]:
        return (self.manager, self.operation, self.subresource)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": encode(self.fields),
        }
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def read_entries(obj: dict[str, Any] | None) -> list[Entry]:
    if not obj:
        return []
    out = []
    for raw in (obj.get("metadata") or {}).get("managedFields") or []:
        out.append(
            Entry(
                manager=raw.get("manager", ""),
                operation=raw.get("operation", "Update"),
                api_version=raw.get("apiVersion", ""),
                time=raw.get("time", ""),
                subresource=raw.get("subresource", ""),
                fields=decode(raw.get("fieldsV1") or {}),
            )
        )
    return out


def write_entries(obj: dict[str, Any], entries: list[Entry]) -> None:
    kept = [e.as_dict() for e in entries if e.fields]
    meta = obj.setdefault("metadata", {})
    if kept:
        meta["managedFields"] = kept
    else:
        meta.pop("managedFields", None)


def _upsert(entries: list[Entry], new: Entry) -> list[Entry]:
    """Replace the entry with the same identity, keeping its place (and time if unchanged)."""
    out = []
    placed = False
    for entry in entries:
        if entry.ident == new.ident:
            placed = True
            if entry.fields == new.fields and entry.api_version == new.api_version:
                out.append(entry)
            else:
                out.append(new)
        else:
            out.append(entry)
    if not placed:
        out.append(new)
    return out


@dataclass(frozen=True)
class Write:
    """Who writes, through which door (scope) and at what time."""

    manager: str
    api_version: str
    subresource: str
    scope: str  # see fieldsets.scoped
    now: str


def apply(
    live: dict[str, Any] | None,
    config: dict[str, Any],
    write: Write,
    shape: Shape,
    *,
    force: bool,
) -> dict[str, Any]:
    """The object after applying `config`, whose server metadata (resourceVersion,
    uid, ...) and out-of-scope parts the caller has already dropped.

    Raises a 409 ApiError listing the conflicts when another manager owns a field
    whose value the configuration would change, unless `force`.
    """
    config_set = leaves(scoped(config, write.scope), shape)
    applied = frozenset(config_set)
    entries = read_entries(live)
    if live is None:
        created: dict[str, Any] = _strip_nulls(config)
        new = Entry(
            write.manager, "Apply", write.api_version, write.now, write.subresource, applied
        )
        write_entries(created, [new])
        return created

    live_set = leaves(scoped(live, write.scope), shape)
    me = (write.manager, "Apply", write.subresource)
    conflicts = _conflicts(config_set, live_set, entries, me)
    if conflicts and not force:
        raise _conflict_error(conflicts)
    taken = {path for _, path in conflicts}
    entries = [
        e if e.ident == me else replace(e, fields=e.fields - taken) for e in entries if e.fields
    ]

    # merge() shares untouched subtrees with `live`; removals below must not reach them.
    result: dict[str, Any] = copy.deepcopy(merge(live, config, shape))
    previous = next((e.fields for e in entries if e.ident == me), frozenset())
    others = [e.fields for e in entries if e.ident != me]
    dropped = {
        path
        for path in previous - applied
        if not any(path in owned or any(under(p, path) for p in owned) for owned in others)
    }
    for path in dropped:
        if not any(under(path, other) for other in dropped):  # a removed item takes its fields
            remove(result, path, shape)
            _drop_emptied(result, path)
    new = Entry(write.manager, "Apply", write.api_version, write.now, write.subresource, applied)
    write_entries(result, _upsert(entries, new))
    return result


def _conflicts(
    config_set: dict[Path, Any],
    live_set: dict[Path, Any],
    entries: list[Entry],
    me: tuple[str, str, str],
) -> list[tuple[Entry, Path]]:
    found = []
    for path, value in config_set.items():
        if value is MEMBER or path not in live_set or same(live_set[path], value):
            continue
        for entry in entries:
            if entry.ident != me and path in entry.fields:
                found.append((entry, path))
    return found


def _manager_text(entry: Entry) -> str:
    text = f'"{entry.manager}"'
    if entry.subresource:
        text += f' with subresource "{entry.subresource}"'
    if entry.operation == "Update":
        text += f" using {entry.api_version} at {entry.time}"
    return text


def _conflict_error(conflicts: list[tuple[Entry, Path]]) -> errors.ApiError:
    causes = [
        errors.Cause("FieldManagerConflict", f"conflict with {_manager_text(e)}", path_text(p))
        for e, p in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = (
            f"Apply failed with 1 conflict: conflict with {_manager_text(entry)}: {path_text(path)}"
        )
        return errors.apply_conflict(message, causes)
    by_manager: dict[str, list[str]] = {}
    for entry, path in conflicts:
        by_manager.setdefault(_manager_text(entry), []).append(path_text(path))
    lines = []
    for manager in sorted(by_manager):
        lines.append(f"conflicts with {manager}:")
        lines.extend(f"- {p}" for p in by_manager[manager])
    message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return errors.apply_conflict(message, causes)


def _drop_emptied(obj: dict[str, Any], path: Path) -> None:
    """Remove maps left empty by a removal (labels whose last key went), up to the root."""
    for depth in range(len(path) - 1, 0, -1):
        parent = path[:depth]
        if any(tag != "f" for tag, _ in parent):
            return
        node: Any = obj
        for _, name in parent[:-1]:
            node = node.get(name) if isinstance(node, dict) else None
        name = parent[-1][1]
        if isinstance(node, dict) and node.get(name) == {}:
            del node[name]
        else:
            return


def track_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    write: Write,
    shape: Shape,
) -> None:
    """Record a non-apply write of `new` (over `old`) in `new`'s managedFields."""
    entries = read_entries(old)
    before = leaves(scoped(old, write.scope), shape) if old else {}
    after = leaves(scoped(new, write.scope), shape)
    added = {p for p in after if p not in before}
    removed = {p for p in before if p not in after}
    modified = {p for p in after if p in before and not same(before[p], after[p])}
    lost = modified | removed
    me = (write.manager, "Update", write.subresource)
    entries = [e if e.ident == me else replace(e, fields=e.fields - lost) for e in entries]
    mine = next((e.fields for e in entries if e.ident == me), frozenset())
    owned = (mine | added | modified) - removed
    if owned != mine:
        entry = Entry(
            write.manager, "Update", write.api_version, write.now, write.subresource, owned
        )
        entries = _upsert(entries, entry)
    write_entries(new, entries)


def merge(lhs: Any, rhs: Any, shape: Shape, fpath: FieldPath = ()) -> Any:
    """`rhs` merged over `lhs` the way apply merges a configuration into an object."""
    if isinstance(lhs, dict) and isinstance(rhs, dict):
        out = dict(lhs)
        for key, value in rhs.items():
            if value is None:
                out.pop(key, None)
            elif key in lhs and lhs[key] is not None:
                out[key] = merge(lhs[key], value, shape, (*fpath, key))
            else:
                out[key] = _strip_nulls(value)
        return out
    if isinstance(lhs, list) and isinstance(rhs, list) and lhs and rhs:
        kind = shape.list_kind(fpath)
        if kind.kind != "atomic":
            return _merge_list(lhs, rhs, kind, shape, fpath)
    return _strip_nulls(rhs)


def _identity(item: Any, kind: ListKind) -> Any:
    return canon(item) if kind.kind == "set" else item_key(item, kind)


def _merge_list(
    lhs: list[Any], rhs: list[Any], kind: ListKind, shape: Shape, fpath: FieldPath
) -> list[Any]:
    lkeys = [_identity(i, kind) for i in lhs]
    rkeys = [_identity(i, kind) for i in rhs]
    if None in lkeys or None in rkeys:
        return _strip_nulls(rhs)  # type: ignore[no-any-return]
    lmap = dict(zip(lkeys, lhs, strict=True))
    rmap = dict(zip(rkeys, rhs, strict=True))
    out = []
    for key in ordered_union(lkeys, rkeys):
        if key in lmap and key in rmap:
            out.append(merge(lmap[key], rmap[key], shape, fpath))
        elif key in rmap:
            out.append(_strip_nulls(rmap[key]))
        else:
            out.append(copy.deepcopy(lmap[key]))
    return out


def ordered_union(lkeys: list[Any], rkeys: list[Any]) -> list[Any]:
    """Item order after merging: live-only items stay where they were, applied items
    follow the applied order, new items go where the configuration puts them."""
    rset = set(rkeys)
    lset = set(lkeys)
    shared = [k for k in rkeys if k in lset]
    out: list[Any] = []
    li = ri = si = 0
    while li < len(lkeys) or ri < len(rkeys):
        wanted = shared[si] if si < len(shared) else None
        if li < len(lkeys) and ri < len(rkeys):
            key = lkeys[li]
            if key == rkeys[ri]:
                out.append(key)
                li, ri = li + 1, ri + 1
                si += 1
                continue
            if key in rset and wanted is not None and key != wanted:
                li += 1
                continue
        if li < len(lkeys) and lkeys[li] not in rset:
            out.append(lkeys[li])
            li += 1
            continue
        if ri < len(rkeys):
            key = rkeys[ri]
            out.append(key)
            ri += 1
            if key == wanted:
                si += 1
            continue
        li += 1  # a shared item already placed by the applied order
    return out


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value
