"""Walking a parsed template over data, by Go's `text/template` execution rules.

The rules that decide what users see:

- an action prints its pipeline's value with ``%v``; a missing map key prints
  ``<no value>``; an action that declares a variable prints nothing;
- ``.Field`` on a struct reads a field or calls a niladic method; on a map
  with string keys it reads the key (missing: no value); on no value it
  stays no value; anything else is an error naming the field and type;
- ``if``/``with`` use Go truthiness; ``with`` and ``range`` move the dot;
- ``range`` walks slices in order, maps in sorted-key order and integers
  from 0; nothing to walk (empty, nil or no value) runs the ``else`` part;
- a pipeline passes each command's value as the last argument of the next.

Two limits keep a hostile or mistaken template from hanging a run: the
output may not exceed `MAX_OUTPUT` characters and execution may not take
more than `MAX_STEPS` steps. Both are far beyond any commit message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from gitops_action.domain.gotemplate.functions import (
    FUNCTIONS,
    Function,
    FunctionError,
    check_argument,
)
from gitops_action.domain.gotemplate.gofmt import format_v
from gitops_action.domain.gotemplate.lexer import TemplateError
from gitops_action.domain.gotemplate.nodes import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TextNode,
    VariableNode,
    WithNode,
    describe,
)
from gitops_action.domain.gotemplate.values import (
    NO_VALUE,
    GoStruct,
    sort_key,
    truth,
    type_name,
)

MAX_OUTPUT: Final = 1 << 20
MAX_STEPS: Final = 500_000


class _NoFinal:
    """Go's missingVal: no value is being piped into a command."""


_NO_FINAL: Final = _NoFinal()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Executor:
    def __init__(self, data: Any) -> None:
        self.out: list[str] = []
        self.size = 0
        self.steps = 0
        self.variables: list[tuple[str, Any]] = [("$", data)]

    def run(self, nodes: tuple[Node, ...]) -> str:
        self.walk(self.variables[0][1], nodes)
        return "".join(self.out)

    # --- bookkeeping -------------------------------------------------------------

    def write(self, text: str, node: Node) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            raise TemplateError(node.position, f"output is longer than {MAX_OUTPUT} characters")
        self.out.append(text)

    def step(self, node: Node) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TemplateError(node.position, f"execution took more than {MAX_STEPS} steps")

    def variable(self, name: str, node: Node) -> Any:
        for known, value in reversed(self.variables):
            if known == name:
                return value
        raise TemplateError(node.position, f"undefined variable: {name}")

    def assign(self, name: str, value: Any, node: Node) -> None:
        for index in range(len(self.variables) - 1, -1, -1):
            if self.variables[index][0] == name:
                self.variables[index] = (name, value)
                return
        raise TemplateError(node.position, f"undefined variable: {name}")

    def set_top(self, depth: int, value: Any) -> None:
        name, _old = self.variables[-depth]
        self.variables[-depth] = (name, value)

    # --- walking ---------------------------------------------------------------------

    def walk(self, dot: Any, nodes: tuple[Node, ...]) -> None:
        for node in nodes:
            self.step(node)
            if isinstance(node, TextNode):
                self.write(node.text, node)
            elif isinstance(node, ActionNode):
                value = self.pipeline(dot, node.pipe)
                if not node.pipe.decl:
                    self.write("<no value>" if value is NO_VALUE else format_v(value), node)
            elif isinstance(node, RangeNode):
                self.walk_range(dot, node)
            elif isinstance(node, BranchNode):
                self.walk_if_or_with(dot, node)
            elif isinstance(node, BreakNode):
                raise _Break
            elif isinstance(node, ContinueNode):
                raise _Continue

    def walk_if_or_with(self, dot: Any, node: BranchNode) -> None:
        mark = len(self.variables)
        try:
            value = self.pipeline(dot, node.pipe)
            if truth(value):
                self.walk(value if isinstance(node, WithNode) else dot, node.body)
            elif node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            del self.variables[mark:]

    def walk_range(self, dot: Any, node: RangeNode) -> None:
        outer = len(self.variables)
        try:
            value = self.pipeline(dot, node.pipe)
            mark = len(self.variables)
            ran = False
            for index, element in self.iterate(value, node):
                self.step(node)
                ran = True
                self.bind_range_variables(node.pipe, index, element)
                try:
                    self.walk(element, node.body)
                except _Continue:
                    pass
                except _Break:
                    break
                finally:
                    del self.variables[mark:]
            if not ran and node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            del self.variables[outer:]

    def bind_range_variables(self, pipe: PipeNode, index: Any, element: Any) -> None:
        if not pipe.decl:
            return
        if pipe.is_assign:
            if len(pipe.decl) > 1:
                self.assign(pipe.decl[0], index, pipe)
                self.assign(pipe.decl[1], element, pipe)
            else:
                self.assign(pipe.decl[0], element, pipe)
            return
        self.set_top(1, element)
        if len(pipe.decl) > 1:
            self.set_top(2, index)

    def iterate(self, value: Any, node: RangeNode) -> Iterator[tuple[Any, Any]]:
        if value is NO_VALUE or value is None:
            return iter(())
        if isinstance(value, tuple | list):
            return enumerate(value)
        if isinstance(value, Mapping):
            keys = sorted(value, key=sort_key)
            return ((key, value[key]) for key in keys)
        if type(value) is int:
            if len(node.pipe.decl) > 1:
                raise TemplateError(
                    node.position, f"can't use {value} to iterate over more than one variable"
                )
            return ((number, number) for number in range(value))
        raise TemplateError(node.position, f"range can't iterate over {format_v(value)}")

    # --- pipelines and commands ---------------------------------------------------------

    def pipeline(self, dot: Any, pipe: PipeNode) -> Any:
        value: Any = _NO_FINAL
        for command in pipe.commands:
            value = self.command(dot, command, value)
        for name in pipe.decl:
            if pipe.is_assign:
                self.assign(name, value, pipe)
            else:
                self.variables.append((name, value))
        return value

    def command(self, dot: Any, command: CommandNode, final: Any) -> Any:
        self.step(command)
        first = command.args[0]
        args = command.args
        extra = len(args) - 1 + (final is not _NO_FINAL)
        if isinstance(first, FieldNode):
            return self.field_chain(dot, first, first.names, extra)
        if isinstance(first, ChainNode):
            receiver = self.chain_receiver(dot, first)
            return self.field_chain(receiver, first, first.fields, extra)
        if isinstance(first, IdentifierNode):
            return self.call(dot, first, args, final)
        if isinstance(first, VariableNode):
            return self.variable_node(first, extra)
        if extra:
            raise TemplateError(
                first.position, f"can't give argument to non-function {describe(first)}"
            )
        if isinstance(first, PipeNode):
            return self.pipeline(dot, first)
        return self.constant(dot, first)

    @staticmethod
    def constant(dot: Any, node: Node) -> Any:
        if isinstance(node, BoolNode | NumberNode | StringNode):
            return node.value
        if isinstance(node, DotNode):
            return dot
        if isinstance(node, NilNode):
            raise TemplateError(node.position, "nil is not a command")
        raise TemplateError(node.position, f"can't evaluate {describe(node)}")

    def chain_receiver(self, dot: Any, chain: ChainNode) -> Any:
        if isinstance(chain.node, NilNode):
            raise TemplateError(chain.position, "indirection through explicit nil")
        return self.argument(dot, chain.node)

    def variable_node(self, node: VariableNode, extra: int) -> Any:
        value = self.variable(node.names[0], node)
        if len(node.names) == 1:
            if extra:
                raise TemplateError(
                    node.position, f"can't give argument to non-function {describe(node)}"
                )
            return value
        return self.field_chain(value, node, node.names[1:], extra)

    def field_chain(self, receiver: Any, node: Node, names: tuple[str, ...], extra: int) -> Any:
        """``.A.B.C`` from `receiver`; `extra` arguments only go to the last name (an error)."""
        for name in names[:-1]:
            receiver = self.field(receiver, name, node, 0)
        return self.field(receiver, names[-1], node, extra)

    @staticmethod
    def field(receiver: Any, name: str, node: Node, extra: int) -> Any:
        """``.name`` on `receiver`."""
        if receiver is NO_VALUE:
            return NO_VALUE
        if isinstance(receiver, GoStruct):
            found, value = receiver.go_lookup(name)
            if found and extra:
                problem = (
                    f"wrong number of args for {name}: want 0 got {extra}"
                    if name in _methods(receiver)
                    else f"{name} has arguments but cannot be invoked as function"
                )
                raise TemplateError(node.position, problem)
            if found:
                return value
        elif isinstance(receiver, Mapping) and getattr(receiver, "key_type", "string") == "string":
            if extra:
                raise TemplateError(node.position, f"{name} is not a method but has arguments")
            return receiver.get(name, NO_VALUE)
        elif receiver is None:
            raise TemplateError(node.position, f"nil pointer evaluating interface {{}}.{name}")
        raise TemplateError(
            node.position, f"can't evaluate field {name} in type {type_name(receiver)}"
        )

    # --- function calls ------------------------------------------------------------------

    def call(self, dot: Any, node: IdentifierNode, args: tuple[Node, ...], final: Any) -> Any:
        function = FUNCTIONS[node.name]
        arg_nodes = args[1:]
        count = len(arg_nodes) + (final is not _NO_FINAL)
        self.check_arity(function, count, node)
        if function.lazy:
            return self.and_or(dot, function, arg_nodes, final)
        values = [self.argument(dot, arg) for arg in arg_nodes]
        if final is not _NO_FINAL:
            values.append(final)
        checked = []
        for number, value in enumerate(values):
            try:
                checked.append(check_argument(function, number, value))
            except FunctionError as err:
                where = arg_nodes[number] if number < len(arg_nodes) else node
                raise TemplateError(where.position, f"{node.name}: {err}") from err
        try:
            return function.impl(*checked)
        except FunctionError as err:
            raise TemplateError(node.position, f"error calling {node.name}: {err}") from err

    @staticmethod
    def check_arity(function: Function, count: int, node: Node) -> None:
        wanted = len(function.params)
        if function.variadic is not None and count < wanted:
            raise TemplateError(
                node.position,
                f"wrong number of args for {function.name}: want at least {wanted} got {count}",
            )
        if function.variadic is None and count != wanted:
            raise TemplateError(
                node.position,
                f"wrong number of args for {function.name}: want {wanted} got {count}",
            )

    def and_or(self, dot: Any, function: Function, arg_nodes: tuple[Node, ...], final: Any) -> Any:
        """Go's short-circuit and/or: the first falsy (and) or truthy (or) value, else the last."""
        stop_on = function.name == "or"
        value: Any = None
        for arg in arg_nodes:
            value = self.argument(dot, arg)
            value = None if value is NO_VALUE else value
            if truth(value) == stop_on:
                return value
        if final is not _NO_FINAL:
            value = None if final is NO_VALUE else final
        return value

    def argument(self, dot: Any, node: Node) -> Any:
        """An argument's value (Go's evalArg for an interface{} parameter)."""
        self.step(node)
        if isinstance(node, FieldNode):
            return self.field_chain(dot, node, node.names, 0)
        if isinstance(node, VariableNode):
            return self.variable_node(node, 0)
        if isinstance(node, PipeNode):
            return self.pipeline(dot, node)
        if isinstance(node, IdentifierNode):
            return self.call(dot, node, (node,), _NO_FINAL)
        if isinstance(node, ChainNode):
            return self.field_chain(self.chain_receiver(dot, node), node, node.fields, 0)
        return None if isinstance(node, NilNode) else self.constant(dot, node)


def _methods(value: GoStruct) -> set[str]:
    """Method names of a struct including promoted ones."""
    names = set(value.go_methods)
    for embedded in value.go_embedded:
        inner = getattr(value, embedded)
        if isinstance(inner, GoStruct):
            names |= _methods(inner)
    return names


def execute(nodes: tuple[Node, ...], data: Any) -> str:
    """Render a parsed template over `data`; `TemplateError` on failure."""
    return Executor(data).run(nodes)
