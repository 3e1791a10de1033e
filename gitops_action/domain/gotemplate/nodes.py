"""The syntax tree of a template, one frozen dataclass per Go `parse` node kind we support."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    position: int


# --- operands -------------------------------------------------------------------


@dataclass(frozen=True)
class DotNode(Node):
    pass


@dataclass(frozen=True)
class NilNode(Node):
    pass


@dataclass(frozen=True)
class BoolNode(Node):
    value: bool


@dataclass(frozen=True)
class NumberNode(Node):
    value: int | float
    text: str


@dataclass(frozen=True)
class StringNode(Node):
    value: str
    text: str


@dataclass(frozen=True)
class FieldNode(Node):
    """``.A.B``: names without the dots."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class VariableNode(Node):
    """``$x.A.B``: names[0] is the variable (``$x``), then fields."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class IdentifierNode(Node):
    """A function name."""

    name: str


@dataclass(frozen=True)
class ChainNode(Node):
    """``(pipeline).A.B`` or ``func.A``: fields applied to another operand's value."""

    node: Node
    fields: tuple[str, ...]


@dataclass(frozen=True)
class CommandNode(Node):
    args: tuple[Node, ...]


@dataclass(frozen=True)
class PipeNode(Node):
    """A pipeline, optionally declaring (``:=``) or assigning (``=``) variables."""

    decl: tuple[str, ...]
    is_assign: bool
    commands: tuple[CommandNode, ...]


# --- actions and control --------------------------------------------------------


@dataclass(frozen=True)
class TextNode(Node):
    text: str


@dataclass(frozen=True)
class ActionNode(Node):
    pipe: PipeNode


@dataclass(frozen=True)
class BranchNode(Node):
    """``if``, ``with`` and ``range`` share this shape."""

    pipe: PipeNode
    body: tuple[Node, ...]
    else_body: tuple[Node, ...] | None


@dataclass(frozen=True)
class IfNode(BranchNode):
    pass


@dataclass(frozen=True)
class WithNode(BranchNode):
    pass


@dataclass(frozen=True)
class RangeNode(BranchNode):
    pass


@dataclass(frozen=True)
class BreakNode(Node):
    pass


@dataclass(frozen=True)
class ContinueNode(Node):
    pass


def describe(node: Node) -> str:
    """The node roughly as written, for error messages (``.Foo``, ``"x"``, ``$x.A``)."""
    if isinstance(node, FieldNode):
        return "." + ".".join(node.names)
    if isinstance(node, VariableNode):
        return ".".join(node.names)
    if isinstance(node, ChainNode):
        return f"({describe(node.node)})." + ".".join(node.fields)
    if isinstance(node, BoolNode):
        return "true" if node.value else "false"
    written = getattr(node, "text", None) or getattr(node, "name", None)  # literals, functions
    return written if isinstance(written, str) else _FIXED.get(type(node), type(node).__name__)


_FIXED: dict[type[Node], str] = {DotNode: ".", NilNode: "nil", PipeNode: "(...)"}
