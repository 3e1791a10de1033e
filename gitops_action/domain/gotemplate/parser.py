"""Tokens to a syntax tree, with the checks Go's parser makes before anything runs.

Like Go, parsing rejects undefined functions and variables, ``{{else}}`` or
``{{end}}`` out of place, ``{{break}}``/``{{continue}}`` outside ``range``,
empty commands and constants used as pipeline stages. Variables are scoped to
the ``end`` of the control structure that declares them.

Not supported (an error naming the position): ``define``, ``template``,
``block`` (templates calling templates), complex numbers. Control structures
and parentheses may nest at most `MAX_DEPTH` deep, which keeps both this
recursive parser and the executor far from Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Final

from gitops_action.domain.gotemplate.gofmt import go_quote
from gitops_action.domain.gotemplate.lexer import Kind, TemplateError, Token, tokenize
from gitops_action.domain.gotemplate.literals import (
    LiteralError,
    parse_number,
    unquote,
    unquote_char,
)
from gitops_action.domain.gotemplate.nodes import (
    ActionNode,
    BoolNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TextNode,
    VariableNode,
    WithNode,
)

MAX_DEPTH: Final = 50

_OPERAND_START: Final = frozenset(
    {
        Kind.BOOL,
        Kind.CHAR,
        Kind.DOT,
        Kind.FIELD,
        Kind.IDENTIFIER,
        Kind.NUMBER,
        Kind.NIL,
        Kind.RAW_STRING,
        Kind.STRING,
        Kind.VARIABLE,
        Kind.LEFT_PAREN,
    }
)
_CONSTANT_NODES: Final = (BoolNode, DotNode, NilNode, NumberNode, StringNode)


class _End:
    def __init__(self, position: int) -> None:
        self.position = position


class _Else:
    def __init__(self, position: int, chained: str | None) -> None:
        self.position = position
        self.chained = chained  # "if" / "with" for {{else if}} / {{else with}}


def _show(token: Token) -> str:
    if token.kind is Kind.EOF:
        return "EOF"
    if token.kind is Kind.RIGHT:
        return '"}}"'
    return go_quote(token.value) if token.kind is not Kind.KEYWORD else f"<{token.value}>"


class Parser:
    def __init__(self, text: str, functions: Container[str], unsupported: Callable[[str], str]):
        self.tokens = tokenize(text)
        self.index = 0
        self.functions = functions
        self.unsupported = unsupported
        self.variables: list[str] = ["$"]
        self.range_depth = 0
        self.depth = 0

    # --- token helpers ----------------------------------------------------------

    def next(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not Kind.EOF:
            self.index += 1
        return token

    def peek(self) -> Token:
        return self.tokens[self.index]

    def next_non_space(self) -> Token:
        token = self.next()
        while token.kind is Kind.SPACE:
            token = self.next()
        return token

    def peek_non_space(self) -> Token:
        while self.tokens[self.index].kind is Kind.SPACE:
            self.index += 1
        return self.tokens[self.index]

    def expect(self, kind: Kind, context: str) -> Token:
        token = self.next_non_space()
        if token.kind is not kind:
            self.unexpected(token, context)
        return token

    def unexpected(self, token: Token, context: str) -> None:
        raise TemplateError(token.position, f"unexpected {_show(token)} in {context}")

    def nest(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TemplateError(position, f"nested more than {MAX_DEPTH} levels deep")

    # --- lists and actions --------------------------------------------------------

    def parse(self) -> tuple[Node, ...]:
        nodes, stop = self.item_list(top=True)
        assert stop is None
        return nodes

    def item_list(self, top: bool = False) -> tuple[tuple[Node, ...], _End | _Else | None]:
        nodes: list[Node] = []
        while self.peek().kind is not Kind.EOF:
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                if top:
                    word = "end" if isinstance(node, _End) else "else"
                    raise TemplateError(node.position, f"unexpected {{{{{word}}}}}")
                return tuple(nodes), node
            nodes.append(node)
        if top:
            return tuple(nodes), None
        raise TemplateError(self.peek().position, "unexpected EOF (missing {{end}})")

    def text_or_action(self) -> Node | _End | _Else:
        token = self.next()
        if token.kind is Kind.TEXT:
            return TextNode(token.position, token.value)
        if token.kind is Kind.LEFT:
            return self.action(token)
        self.unexpected(token, "input")
        raise AssertionError("unreachable")

    def action(self, left: Token) -> Node | _End | _Else:
        token = self.peek_non_space()
        if token.kind is not Kind.KEYWORD:
            return ActionNode(left.position, self.pipeline("command", Kind.RIGHT, left.position))
        self.next()
        word = token.value
        controls: dict[str, type[IfNode | WithNode | RangeNode]] = {
            "if": IfNode,
            "with": WithNode,
            "range": RangeNode,
        }
        if word in controls:
            return self.control(controls[word], word, token)
        if word == "end":
            self.expect(Kind.RIGHT, "end")
            return _End(token.position)
        if word == "else":
            return self.else_action(token)
        if word in ("break", "continue"):
            return self.loop_control(token)
        raise TemplateError(
            token.position,
            f"{{{{{word}}}}} is not supported (templates cannot define or call templates)",
        )

    def loop_control(self, token: Token) -> Node:
        word = token.value
        if self.range_depth == 0:
            raise TemplateError(token.position, f"{{{{{word}}}}} outside {{{{range}}}}")
        self.expect(Kind.RIGHT, f"{{{{{word}}}}}")
        return BreakNode(token.position) if word == "break" else ContinueNode(token.position)

    def else_action(self, token: Token) -> _Else:
        following = self.peek_non_space()
        if following.kind is Kind.KEYWORD and following.value in ("if", "with"):
            return _Else(token.position, following.value)
        self.expect(Kind.RIGHT, "else")
        return _Else(token.position, None)

    def control(
        self, node_type: type[IfNode | WithNode | RangeNode], context: str, start: Token
    ) -> Node:
        mark = len(self.variables)
        self.nest(start.position)
        try:
            pipe = self.pipeline(context, Kind.RIGHT, start.position)
            if context == "range":
                self.range_depth += 1
            body, stop = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_body: tuple[Node, ...] | None = None
            if isinstance(stop, _Else):
                else_body = self.else_body(stop, context)
            return node_type(start.position, pipe, body, else_body)
        finally:
            del self.variables[mark:]
            self.depth -= 1

    def else_body(self, stop: _Else, context: str) -> tuple[Node, ...]:
        if stop.chained is not None:
            if stop.chained != context or context == "range":
                raise TemplateError(
                    stop.position,
                    f"{{{{else {stop.chained}}}}} is not allowed in {{{{{context}}}}}",
                )
            keyword = self.next_non_space()  # the pending "if"/"with"
            nested_type = IfNode if context == "if" else WithNode
            return (self.control(nested_type, context, keyword),)
        body, end = self.item_list()
        if not isinstance(end, _End):
            raise TemplateError(end.position if end else 0, "expected {{end}}; found {{else}}")
        return body

    # --- pipelines and commands -----------------------------------------------------

    def pipeline(self, context: str, end: Kind, position: int) -> PipeNode:
        decl: list[str] = []
        is_assign = False
        while True:
            token = self.peek_non_space()
            if token.kind is not Kind.VARIABLE:
                break
            start = self.index
            variable = self.next()
            following = self.peek_non_space()
            if following.kind in (Kind.ASSIGN, Kind.DECLARE):
                self.next()
                is_assign = following.kind is Kind.ASSIGN
                self.declare(variable, is_assign)
                decl.append(variable.value)
                break
            if following.kind is Kind.COMMA:
                self.next()
                self.declare(variable, None)
                decl.append(variable.value)
                if context == "range" and len(decl) < 2:
                    if self.peek_non_space().kind is Kind.VARIABLE:
                        continue
                    raise TemplateError(following.position, "range can only initialize variables")
                raise TemplateError(following.position, f"too many declarations in {context}")
            self.index = start  # a plain use of the variable
            break
        commands: list[CommandNode] = []
        while True:
            token = self.next_non_space()
            if token.kind is end:
                break
            if token.kind in _OPERAND_START:
                self.index -= 1
                commands.append(self.command())
                continue
            self.unexpected(token, context)
        self.check_pipeline(commands, context, position)
        return PipeNode(position, tuple(decl), is_assign, tuple(commands))

    def declare(self, variable: Token, is_assign: bool | None) -> None:
        if is_assign and variable.value not in self.variables:
            raise TemplateError(variable.position, f"undefined variable {go_quote(variable.value)}")
        self.variables.append(variable.value)

    @staticmethod
    def check_pipeline(commands: list[CommandNode], context: str, position: int) -> None:
        if not commands:
            raise TemplateError(position, f"missing value for {context}")
        for stage, command in enumerate(commands[1:], start=2):
            if isinstance(command.args[0], _CONSTANT_NODES):
                raise TemplateError(
                    command.position, f"non executable command in pipeline stage {stage}"
                )

    def command(self) -> CommandNode:
        args: list[Node] = []
        position = self.peek_non_space().position
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                args.append(operand)
            token = self.next()
            if token.kind is Kind.SPACE:
                continue
            if token.kind in (Kind.RIGHT, Kind.RIGHT_PAREN):
                self.index -= 1
            elif token.kind is not Kind.PIPE:
                self.unexpected(token, "operand")
            break
        if not args:
            raise TemplateError(position, "empty command")
        return CommandNode(position, tuple(args))

    def operand(self) -> Node | None:
        node = self.term()
        if node is None or self.peek().kind is not Kind.FIELD:
            return node
        fields: list[str] = []
        while self.peek().kind is Kind.FIELD:
            fields.append(self.next().value[1:])
        if isinstance(node, FieldNode):
            return FieldNode(node.position, node.names + tuple(fields))
        if isinstance(node, VariableNode):
            return VariableNode(node.position, node.names + tuple(fields))
        if isinstance(node, _CONSTANT_NODES):
            raise TemplateError(node.position, "unexpected . after term")
        return ChainNode(node.position, node, tuple(fields))

    def term(self) -> Node | None:
        token = self.next_non_space()
        kind, position, value = token.kind, token.position, token.value
        if kind is Kind.IDENTIFIER:
            if value not in self.functions:
                raise TemplateError(position, self.unsupported(value))
            return IdentifierNode(position, value)
        if kind is Kind.VARIABLE:
            if value not in self.variables:
                raise TemplateError(position, f"undefined variable {go_quote(value)}")
            return VariableNode(position, (value,))
        if kind is Kind.LEFT_PAREN:
            self.nest(position)
            try:
                return self.pipeline("parenthesized pipeline", Kind.RIGHT_PAREN, position)
            finally:
                self.depth -= 1
        node = _simple_term(token)
        if node is None and kind is not Kind.EOF:
            self.index -= 1
        return node


def _simple_term(token: Token) -> Node | None:
    """Literals, ``.``, ``nil`` and ``.Field``; None for anything else."""
    kind, position, value = token.kind, token.position, token.value
    try:
        if kind is Kind.NUMBER:
            return NumberNode(position, parse_number(value), value)
        if kind is Kind.CHAR:
            return NumberNode(position, unquote_char(value), value)
        if kind in (Kind.STRING, Kind.RAW_STRING):
            return StringNode(position, unquote(value), value)
    except LiteralError as err:
        raise TemplateError(position, str(err)) from err
    if kind is Kind.FIELD:
        return FieldNode(position, (value[1:],))
    simple: dict[Kind, Node] = {
        Kind.DOT: DotNode(position),
        Kind.NIL: NilNode(position),
        Kind.BOOL: BoolNode(position, value == "true"),
    }
    return simple.get(kind)


def parse(
    text: str, functions: Container[str], unsupported: Callable[[str], str]
) -> tuple[Node, ...]:
    """The tree of `text`; `unsupported(name)` words the error for an unknown function."""
    return Parser(text, functions, unsupported).parse()
