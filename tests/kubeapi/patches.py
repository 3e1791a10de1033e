"""The three non-apply patch formats: JSON merge patch, JSON patch, strategic merge patch.

Strategic merge patch is Kubernetes' own: lists with a `patchMergeKey` (containers
by name, container ports by containerPort, ...) merge item by item, `$patch:
delete|replace` and `$deleteFromPrimitiveList/<field>` directives are honoured,
`$setElementOrder/<field>` reorders. Custom resources do not support it (415), as on
a real server.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.kubeapi import errors
from tests.kubeapi.shapes import FieldPath, ListKind, Shape, item_key


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902 over a copy of `doc`; a failing operation is a 422 as on a real server."""
    if not isinstance(ops, list):
        raise errors.bad_request(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        )
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise errors.patch_rejected(f"invalid JSON patch operation {op!r}")
        doc = _json_op(doc, op)
    return doc


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise errors.patch_rejected(f"JSON pointer {path!r} does not start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for token in tokens[:-1]:
        node = _child(node, token)
    return node


def _child(node: Any, token: str) -> Any:
    try:
        if isinstance(node, list):
            return node[int(token)]
        if isinstance(node, dict):
            return node[token]
    except (KeyError, IndexError, ValueError):
        pass
    raise errors.patch_rejected(f"doc is missing path: {token!r}")


def _json_op(doc: Any, op: dict[str, Any]) -> Any:
    kind = op["op"]
    tokens = _pointer(op["path"])
    if kind == "test":
        node = doc
        for token in tokens:
            node = _child(node, token)
        if node != op.get("value"):
            raise errors.patch_rejected(f"testing value {op['path']} failed")
        return doc
    if kind in ("move", "copy"):
        source = _pointer(op.get("from", ""))
        node = doc
        for token in source:
            node = _child(node, token)
        value = copy.deepcopy(node)
        if kind == "move":
            doc = _remove(doc, source)
        return _add(doc, tokens, value)
    if kind == "remove":
        return _remove(doc, tokens)
    if kind == "replace":
        doc = _remove(doc, tokens)
        return _add(doc, tokens, copy.deepcopy(op.get("value")))
    if kind == "add":
        return _add(doc, tokens, copy.deepcopy(op.get("value")))
    raise errors.patch_rejected(f"unexpected JSON patch operation {kind!r}")


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else _index(last, len(parent) + 1)
        parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise errors.patch_rejected(f"cannot add at {last!r}")
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        return None
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, list):
        del parent[_index(last, len(parent))]
    elif isinstance(parent, dict) and last in parent:
        del parent[last]
    else:
        raise errors.patch_rejected(f"doc is missing path: {last!r}")
    return doc


def _index(token: str, bound: int) -> int:
    if not token.isdigit() or int(token) >= bound:
        raise errors.patch_rejected(f"index {token!r} out of range")
    return int(token)


def strategic_merge_patch(target: dict[str, Any], patch: Any, shape: Shape) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise errors.bad_request("strategic merge patch must be a JSON object")
    result = _smp_map(target, patch, shape, ())
    return result if isinstance(result, dict) else {}


def _smp_map(orig: Any, patch: dict[str, Any], shape: Shape, fpath: FieldPath) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return _clean(patch)
    out = dict(orig) if isinstance(orig, dict) else {}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            out[field] = [x for x in out.get(field) or [] if x not in value]
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(out.get(key), value, shape, (*fpath, key))
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        elif isinstance(value, list):
            out[key] = _smp_list(
                out.get(key), value, shape.merge_keys((*fpath, key)), shape, (*fpath, key)
            )
        else:
            out[key] = value
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    for field, order in orders.items():
        if isinstance(out.get(field), list):
            out[field] = _reorder(out[field], order, shape.merge_keys((*fpath, field)))
    return out


def _smp_list(
    orig: Any, patch: list[Any], kind: ListKind, shape: Shape, fpath: FieldPath
) -> list[Any]:
    current = list(orig) if isinstance(orig, list) else []
    if kind.kind == "set":
        return current + [x for x in patch if x not in current]
    if kind.kind != "map":
        return [_clean(x) for x in patch]
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [_clean(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    for item in patch:
        key = item_key(item, kind) if isinstance(item, dict) else None
        index = _find(current, key, kind)
        if isinstance(item, dict) and item.get("$patch") == "delete":
            if index is not None:
                del current[index]
            continue
        if index is None:
            current.append(_clean(item))
        else:
            current[index] = _smp_map(current[index], item, shape, fpath)
    return current


def _find(items: list[Any], key: Any, kind: ListKind) -> int | None:
    if key is None:
        return None
    for index, item in enumerate(items):
        if item_key(item, kind) == key:
            return index
    return None


def _reorder(items: list[Any], order: list[Any], kind: ListKind) -> list[Any]:
    def ident(x: Any) -> Any:
        return item_key(x, kind) if kind.kind == "map" else x

    wanted = [ident(o) for o in order]
    listed = [x for w in wanted for x in items if ident(x) == w]
    rest = [x for x in items if ident(x) not in wanted]
    return listed + rest


def _clean(value: Any) -> Any:
    """Directive keys never reach the stored object."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
