"""Manifests to a YAML stream, byte-stable and in the layout kubectl users read.

The install render is checked in and compared byte for byte, so the output
depends only on the data: PyYAML's pure-Python safe dumper (never libyaml,
whose output could differ by build), key order as built, no line folding, no
anchors. Sequences are indented under their key; sequences of plain scalars
(verbs, args, apiGroups) are written inline, `[get, list]`, as RBAC is usually
read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Wide enough that no scalar is ever folded onto a second line.
_WIDTH = 1 << 16


def render_stream(documents: Sequence[Mapping[str, Any]], comments: Iterable[str] = ()) -> str:
    """`# comment` lines, then every document after its own `---`."""
    import yaml

    body = yaml.dump_all(
        [dict(document) for document in documents],
        Dumper=_dumper(),
        explicit_start=True,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=_WIDTH,
    )
    head = "".join(f"# {line}\n" if line else "#\n" for line in comments)
    return head + str(body)


def _dumper() -> type:
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, False)

    def represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
        scalars = all(isinstance(item, str | int | bool | float) for item in data)
        return dumper.represent_sequence(
            "tag:yaml.org,2002:seq", data, flow_style=bool(data) and scalars
        )

    Dumper.add_representer(list, represent_list)
    return Dumper
