"""Where the scalars are: PyYAML's node marks turned into exact text spans.

Only the composer is used (no constructor, no serializer): we need positions,
not values, and nothing is ever re-emitted, which is how every byte outside a
marked scalar stays as it was. The libyaml parser is used when PyYAML was
built with it (about 15 times faster); its marks are code-point offsets into
the decoded text, like the pure-Python parser's (CRLF and non-ASCII text
included), except that it does not count a leading byte-order mark, so the
BOM is taken off before parsing and the offsets are shifted back.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from gitops_action.adapters.yaml_limits import MAX_STREAM_BYTES, check_size
from gitops_action.domain.errors import InvalidManifest
from gitops_action.domain.markers import ObjectRef, ScalarSpan, ScalarStyle

if TYPE_CHECKING:
    import yaml

_BOM = "\ufeff"
# An anchor (`&a`) or tag (`!!str`) before a scalar is part of the node's
# marks but not of the scalar; so are the spaces (and comments) after it.
_PROPERTY = re.compile(r"[&!]\S*(?:\s+(?:#[^\n]*)?)*")


class _Composer(Protocol):
    def check_node(self) -> bool: ...
    def get_node(self) -> yaml.Node | None: ...
    def dispose(self) -> None: ...


@functools.cache
def composers() -> tuple[Callable[[str], _Composer], ...]:
    """The composers to use, preferred first: libyaml's when built in, then pure Python.

    Neither resolves tags (`resolve` returns ""): we never construct values,
    and skipping PyYAML's implicit-type regexes on every scalar makes
    composing about 40% faster. Composing alone also runs no constructor, so
    no tag in a manifest can make it execute anything.
    """
    import yaml  # lazily: `--help` and marker-free trees never pay for it
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class Untagged:
        def resolve(self, kind: type, value: object, implicit: object) -> str:
            return ""

        def descend_resolver(self, current_node: object, current_index: object) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

    class PureComposer(Untagged, Reader, Scanner, Parser, Composer):
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

    found: list[Callable[[str], _Composer]] = [PureComposer]
    c_parser = getattr(getattr(yaml, "cyaml", None), "CParser", None)
    if c_parser is not None:
        found.insert(0, type("LibyamlComposer", (Untagged, c_parser), {}))
    return tuple(found)


def scan_scalars(file: str, text: str) -> list[ScalarSpan]:
    """Every scalar that is a mapping value or a sequence item, in every document.

    Keys are left out: a marker is never a key's comment. Raises
    `InvalidManifest` naming `file` and the line for text that is not YAML.
    """
    import yaml

    check_size(file, text, limit=MAX_STREAM_BYTES)  # a marked file is read whole
    shift = 1 if text.startswith(_BOM) else 0
    body = text[shift:]
    try:
        documents = _compose(body)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = ": ".join(part for part in (err.context, err.problem) if part) or "parse error"
        raise InvalidManifest(f"{file}:{line}: invalid YAML: {reason}") from err
    except yaml.reader.ReaderError as err:
        line = body.count("\n", 0, max(err.position, 0)) + 1
        code = err.character if isinstance(err.character, int) else ord(err.character)
        raise InvalidManifest(f"{file}:{line}: invalid YAML: {err.reason} (U+{code:04X})") from err
    except yaml.YAMLError as err:
        raise InvalidManifest(f"{file}: invalid YAML: {' '.join(str(err).split())}") from err
    spans: list[ScalarSpan] = []
    for document in documents:
        if document is not None:
            spans += _document_spans(body, document, shift)
    return spans


def _compose(body: str) -> list[yaml.Node | None]:
    composer = composers()[0](body)
    try:
        documents = []
        while composer.check_node():
            documents.append(composer.get_node())
        return documents
    finally:
        composer.dispose()


def _document_spans(body: str, root: yaml.Node, shift: int) -> list[ScalarSpan]:
    """Walk one document without recursion (manifests can nest deeply)."""
    import yaml

    obj = _object_ref(root)
    spans: list[ScalarSpan] = []
    stack: list[yaml.Node] = [root]
    visited: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in visited:
            continue  # aliases point back at nodes already walked
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            children = [value for _key, value in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            continue
        for child in children:
            if isinstance(child, yaml.ScalarNode):
                spans.append(_span(body, child, shift, obj))
            else:
                stack.append(child)
    return spans


_STYLES = {style.value: style for style in ScalarStyle} | {None: ScalarStyle.PLAIN}


def _span(body: str, node: yaml.ScalarNode, shift: int, obj: ObjectRef | None) -> ScalarSpan:
    start, end = node.start_mark.index, node.end_mark.index
    while start < end and body[start] in "&!":
        match = _PROPERTY.match(body, start)
        start = match.end() if match else end
    start = min(start, end)  # `&x # c` / `!!str # c`: an empty scalar ends where its properties do
    return ScalarSpan(
        start + shift,
        end + shift,
        node.start_mark.line + 1,
        node.end_mark.line + 1,
        _STYLES[node.style],
        node.value,
        obj,
    )


def _object_ref(root: yaml.Node) -> ObjectRef | None:
    """kind/namespace/name of a Kubernetes-looking document, else None."""
    top = _scalar_fields(root)
    if "kind" not in top:
        return None
    metadata = _scalar_fields(_child(root, "metadata"))
    return ObjectRef(
        kind=top["kind"],
        namespace=metadata.get("namespace", ""),
        name=metadata.get("name", ""),
        api_version=top.get("apiVersion", ""),
    )


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for child_key, value in node.value:
            if isinstance(child_key, yaml.ScalarNode) and child_key.value == key:
                child: yaml.Node = value
                return child
    return None


def _scalar_fields(node: yaml.Node | None) -> dict[str, str]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        key.value: value.value
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode)
    }
