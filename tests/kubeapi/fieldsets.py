"""Field paths and field sets, the vocabulary of managedFields.

A field set is what a manager owns. Its members are leaves (scalars, atomic lists,
empty maps) and the items of map-lists and sets; plain maps are not members, only
their leaves are. `fieldsV1` is the nested JSON form the API server stores, e.g.
`{"f:spec": {"f:replicas": {}}}`, with `k:{"name":"app"}` for a keyed list item,
`v:"x"` for a set member and `.` marking an item that also has children.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tests.kubeapi.shapes import FieldPath, Shape, item_key

Element = tuple[str, Any]  # ("f", name) | ("k", ((key, value), ...)) | ("v", json-text)
Path = tuple[Element, ...]
MEMBER = object()  # the "value" of a list item in a leaf map: it exists, nothing more

# Metadata the server owns; never part of anyone's field set.
SYSTEM_METADATA = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "generateName",
}


def canon(value: Any) -> str:
    """Canonical JSON text: equality that tells `1` from `true` and `1.0` from `1`."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def scoped(obj: dict[str, Any], scope: str) -> dict[str, Any]:
    """The part of an object a write through `scope` may own.

    `main` (resource without a status subresource) and `main-status` (with one, so
    status is reset) exclude server metadata; `status` is status only; `scale` is
    spec.replicas only.
    """
    if scope == "status":
        return {"status": obj["status"]} if "status" in obj else {}
    if scope == "scale":
        replicas = (obj.get("spec") or {}).get("replicas")
        return {"spec": {"replicas": replicas}} if replicas is not None else {}
    out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    if scope == "main-status":
        out.pop("status", None)
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SYSTEM_METADATA}
    if meta:
        out["metadata"] = meta
    return out


def leaves(obj: dict[str, Any], shape: Shape) -> dict[Path, Any]:
    """Every member path of `obj` with its value (MEMBER for list items)."""
    out: dict[Path, Any] = {}
    for key, value in obj.items():
        _visit(value, (("f", key),), (key,), shape, out)
    return out


def _visit(value: Any, path: Path, fpath: FieldPath, shape: Shape, out: dict[Path, Any]) -> None:
    if isinstance(value, dict):
        if not value:
            out[path] = value
        for key, child in value.items():
            _visit(child, (*path, ("f", key)), (*fpath, key), shape, out)
        return
    if isinstance(value, list):
        kind = shape.list_kind(fpath)
        if kind.kind == "atomic" or not value:
            out[path] = value
            return
        if kind.kind == "set":
            for item in value:
                out[(*path, ("v", canon(item)))] = MEMBER
            return
        keys = [item_key(item, kind) for item in value]
        if any(k is None for k in keys):
            out[path] = value  # items without keys cannot be told apart: own the list
            return
        for item, key in zip(value, keys, strict=True):
            item_path = (*path, ("k", key))
            out[item_path] = MEMBER
            for name, child in item.items():
                _visit(child, (*item_path, ("f", name)), (*fpath, name), shape, out)
        return
    out[path] = value


def same(a: Any, b: Any) -> bool:
    if a is MEMBER or b is MEMBER:
        return a is b
    return canon(a) == canon(b)


def encode(paths: Iterable[Path]) -> dict[str, Any]:
    """Field set -> fieldsV1."""
    root: dict[str, Any] = {}
    members = set(paths)
    for path in members:
        node = root
        for element in path:
            node = node.setdefault(_element_text(element), {})
    for path in members:
        node = root
        for element in path:
            node = node[_element_text(element)]
        if node:
            node["."] = {}
    return root


def _element_text(element: Element) -> str:
    tag, value = element
    if tag == "f":
        return f"f:{value}"
    if tag == "k":
        return "k:" + canon(dict(value))
    return f"v:{value}"


def decode(fields: dict[str, Any]) -> frozenset[Path]:
    """fieldsV1 -> field set."""
    out: set[Path] = set()
    _decode(fields, (), out)
    return frozenset(out)


def _decode(node: dict[str, Any], path: Path, out: set[Path]) -> None:
    children = [k for k in node if k != "."]
    if path and (not children or "." in node):
        out.add(path)
    for text in children:
        tag, _, rest = text.partition(":")
        element: Element
        if tag == "k":
            element = ("k", tuple(sorted(json.loads(rest).items())))
        elif tag == "v":
            element = ("v", rest)
        else:
            element = ("f", rest)
        _decode(node[text] or {}, (*path, element), out)


def path_text(path: Path) -> str:
    """`.spec.template.spec.containers[name="app"].image`, as conflict messages print it."""
    parts = []
    for tag, value in path:
        if tag == "f":
            parts.append(f".{value}")
        elif tag == "k":
            parts.append("[" + ",".join(f"{k}={canon(v)}" for k, v in value) + "]")
        else:
            parts.append(f"[={value}]")
    return "".join(parts)


def remove(obj: dict[str, Any], path: Path, shape: Shape) -> None:
    """Delete the member at `path` from `obj` (a list item goes whole), if present."""
    container: Any = obj
    fpath: FieldPath = ()
    for depth, element in enumerate(path):
        last = depth == len(path) - 1
        tag, value = element
        if tag == "f":
            if not isinstance(container, dict) or value not in container:
                return
            if last:
                del container[value]
                return
            container = container[value]
            fpath = (*fpath, value)
            continue
        if not isinstance(container, list):
            return
        index = _find_item(container, element, shape.list_kind(fpath))
        if index is None:
            return
        if last:
            del container[index]
            return
        container = container[index]


def _find_item(items: list[Any], element: Element, kind: Any) -> int | None:
    tag, value = element
    for index, item in enumerate(items):
        if tag == "k" and item_key(item, kind) == value:
            return index
        if tag == "v" and canon(item) == value:
            return index
    return None


def under(path: Path, prefix: Path) -> bool:
    return len(path) > len(prefix) and path[: len(prefix)] == prefix
