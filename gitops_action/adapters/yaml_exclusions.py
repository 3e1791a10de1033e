"""Finding an ImageRepository's `spec.exclusionList` in its YAML text, for hold edits.

Holds are written by editing text, never by re-serialising YAML (comments
and layout must survive). This module only finds positions: it composes the
one document that holds the ImageRepository (PyYAML nodes carry exact
offsets) and describes where the list is, or where it would go, as a pure
`ExclusionSite` that `gitops_action.domain.holds` edits.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gitops_action.adapters.config_loader import split_documents
from gitops_action.domain.errors import HoldFailed
from gitops_action.domain.holds import ExclusionSite, ListItem

if TYPE_CHECKING:
    import yaml

_LINES = re.compile(r"[^\n]*\n|[^\n]+")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


def find_site(file: str, text: str, document: int, where: str) -> ExclusionSite:
    """The exclusion list site of the ImageRepository in `document` (1-based) of `file`.

    `where` names the object in errors (`cluster/app-registry.yaml: document 1
    (ImageRepository flux-system/app)`).
    """
    import yaml

    chunk, offset = _document(text, document, where)
    loader_class = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    try:
        root = yaml.compose(chunk, Loader=loader_class)
    except yaml.YAMLError as err:
        raise HoldFailed(f"{where}: cannot read the YAML: {' '.join(str(err).split())}") from err
    spec = _child(root, "spec")
    if not isinstance(spec, yaml.MappingNode):
        raise HoldFailed(f"{where}: spec is not a mapping")
    if spec.flow_style:
        raise HoldFailed(f"{where}: spec is written in flow style ({{...}}); add the hold by hand")
    key_indent = spec.value[0][0].start_mark.column if spec.value else 2
    found = _entry(spec, "exclusionList")
    if found is None:
        image = _entry(spec, "image")
        if image is None or not isinstance(image[1], yaml.ScalarNode):
            raise HoldFailed(f"{where}: spec.image is missing or not a scalar")
        insert_at = _line_end(text, offset + image[1].end_mark.index)
        return ExclusionSite(file, text, "absent", key_indent, insert_at=insert_at)
    key, value = found
    key_indent = key.start_mark.column
    if isinstance(value, yaml.ScalarNode):
        if value.style not in (None, "") or value.value not in _NULLS:
            raise HoldFailed(f"{where}: spec.exclusionList is not a list")
        colon = text.index(":", offset + key.end_mark.index)
        start = colon + 1
        end = start if value.value == "" else offset + value.end_mark.index
        return ExclusionSite(file, text, "flow", key_indent, start=start, end=end)
    if not isinstance(value, yaml.SequenceNode):
        raise HoldFailed(f"{where}: spec.exclusionList is not a list")
    items = tuple(_item(text, offset, node, where) for node in value.value)
    if value.flow_style or not items:
        start, end = offset + value.start_mark.index, offset + value.end_mark.index
        return ExclusionSite(file, text, "flow", key_indent, items, start=start, end=end)
    first = items[0]
    dash = text.rfind("-", first.line_start, first.start)
    item_indent = (dash - first.line_start) if dash >= 0 else key_indent + 2
    return ExclusionSite(file, text, "block", key_indent, items, item_indent=item_indent)


def _document(text: str, document: int, where: str) -> tuple[str, int]:
    """The text of document `document` and its offset in `text`."""
    starts = [0]
    for line in _LINES.findall(text):
        starts.append(starts[-1] + len(line))
    for number, first_line, chunk in split_documents(text):
        if number == document:
            return chunk, starts[first_line]
    raise HoldFailed(f"{where}: document {document} is no longer in the file")


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    found = _entry(node, key)
    return None if found is None else found[1]


def _entry(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for child_key, value in node.value:
            if isinstance(child_key, yaml.ScalarNode) and child_key.value == key:
                return child_key, value
    return None


def _item(text: str, offset: int, node: yaml.Node, where: str) -> ListItem:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        raise HoldFailed(f"{where}: spec.exclusionList holds something other than strings")
    start, end = offset + node.start_mark.index, offset + node.end_mark.index
    line_start = text.rfind("\n", 0, start) + 1
    return ListItem(node.value, start, end, line_start, _line_end(text, end))


def _line_end(text: str, position: int) -> int:
    """The offset just after the newline that ends the line holding `position`."""
    newline = text.find("\n", position)
    return len(text) if newline < 0 else newline + 1
