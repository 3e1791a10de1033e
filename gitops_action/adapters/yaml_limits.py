"""Limits on YAML from the config repo, checked on the node graph before anything is built.

Whoever can write the config repository can write any YAML, and PyYAML
builds whatever it is given: ~1 KB of nested aliases (`b: [*a, *a, ...]`
nine deep) is a "billion laughs" that every later walk (rendering, JSON for
the API server, diffing) expands until the process is killed; an alias to
its own ancestor makes a cycle no walk ends; 500 levels of nesting overflow
the Python stack of any recursive consumer (exit 3 with a traceback).

So every document is composed first (libyaml when built in: no Python
recursion) and its node graph checked, iteratively, against:

- `MAX_DOCUMENT_BYTES` of text per document (`MAX_STREAM_BYTES` for a
  stream read whole, such as `kustomize build` output);
- `MAX_DEPTH` levels of nesting (Kubernetes objects stay far below it);
- `MAX_EXPANDED_NODES` nodes once aliases are expanded (how big the data
  really is), and no alias cycle.

A document over a limit is an `InvalidManifest` naming file and line: an
input error (exit 1/2 by command), never a crash.
"""

from __future__ import annotations

from typing import Any, Final

from gitops_action.domain.errors import InvalidManifest

MAX_DOCUMENT_BYTES: Final = 4 * 1024 * 1024
MAX_DEPTH: Final = 100
MAX_EXPANDED_NODES: Final = 1_000_000
MAX_STREAM_BYTES: Final = 64 * 1024 * 1024
"""A multi-document stream (`kustomize build` of a whole tree) may hold many documents."""


def check_size(file: str, text: str, line: int = 1, *, limit: int = MAX_DOCUMENT_BYTES) -> None:
    """Refuse a document over `MAX_DOCUMENT_BYTES` (a stream: over `limit`)."""
    if len(text) > limit:
        raise InvalidManifest(
            f"{file}:{line}: YAML of {len(text)} bytes is larger than the limit of {limit} bytes"
        )


def check_node(file: str, root: Any, line_offset: int = 0) -> None:
    """Refuse a composed document deeper than `MAX_DEPTH`, larger than `MAX_EXPANDED_NODES`
    once aliases are expanded, or holding an alias cycle. `root` is a `yaml.Node`."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    on_path: set[int] = set()
    # Iterative post-order walk; an alias is the same node object reached again,
    # so memoising by identity keeps the walk linear in the text.
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            depths[key] = 1 + max((depths[id(child)] for child in children), default=0)
            if depths[key] > MAX_DEPTH:
                raise _too(file, node, line_offset, f"is nested deeper than {MAX_DEPTH} levels")
            if sizes[key] > MAX_EXPANDED_NODES:
                raise _too(
                    file,
                    node,
                    line_offset,
                    f"expands to more than {MAX_EXPANDED_NODES} nodes through aliases "
                    "(an alias bomb?)",
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise _too(file, node, line_offset, "holds an alias to its own ancestor (a cycle)")
        on_path.add(key)
        if len(on_path) > MAX_DEPTH:
            raise _too(file, node, line_offset, f"is nested deeper than {MAX_DEPTH} levels")
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
        for child in children:
            if id(child) in on_path:
                raise _too(file, child, line_offset, "holds an alias to its own ancestor (a cycle)")


def _children(node: Any) -> list[Any]:
    value = node.value
    if isinstance(value, list):
        if value and isinstance(value[0], tuple):
            return [part for pair in value for part in pair]
        return list(value)
    return []


def _too(file: str, node: Any, line_offset: int, what: str) -> InvalidManifest:
    mark = getattr(node, "start_mark", None)
    line = line_offset + (mark.line if mark is not None else 0) + 1
    return InvalidManifest(f"{file}:{line}: YAML document {what}; refused")


def check_file_limits(file: str, text: str) -> None:
    """The limits alone, for a YAML file another program will read (kustomize expands
    aliases itself, with no bound): composing builds no expansion, so this is cheap.
    Text that is not YAML is left to that program to refuse."""
    import yaml

    check_size(file, text, limit=MAX_STREAM_BYTES)
    try:
        roots = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return
    for root in roots:
        if root is not None:
            check_node(file, root)
