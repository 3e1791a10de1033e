"""GitHub Actions expressions (`${{ ... }}`), evaluated as the runner does.

An independent re-statement of the documented language, enough for what an
action.yml uses in `env:`, `with:`, `if:` and `outputs:`:

- literals: `true`, `false`, `null`, numbers, `'strings'` (`''` escapes `'`);
- contexts and property access: `inputs.name`, `steps.id.outputs['a-b']`,
  names may hold `-`; a missing property is `null`;
- operators, loosest first: `||`, `&&`, `==`/`!=`, `<`/`<=`/`>`/`>=`, `!`,
  with parentheses; `&&`/`||` return an operand (not a boolean), as on GitHub;
- `==` compares loosely: strings case-insensitively, mixed types as numbers;
- functions: `success()`, `failure()`, `always()`, `cancelled()`,
  `contains`, `startsWith`, `endsWith`, `format`, `join`, `toJSON`, `fromJSON`;
- falsy values: `false`, `0`, `''`, `null`, NaN;
- a value spliced into a string: null -> '', booleans -> 'true'/'false'.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>0x[0-9a-fA-F]+|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<op>\|\||&&|==|!=|<=|>=|<|>|!|\(|\)|\[|\]|\.|,)
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE,
)
_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


class ExpressionError(ValueError):
    """The expression does not parse or uses something the harness does not know."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"unexpected character at {position} in {text!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group()))
        position = match.end()
    return tokens


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def to_string(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


def to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def loose_equal(left: Any, right: Any) -> bool:
    """GitHub's `==`: same type compares directly (strings ignoring case), else as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) or (left is None and right is None):
        return bool(left == right)
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return False
    return to_number(left) == to_number(right)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return loose_equal(left, right)
    if op == "!=":
        return not loose_equal(left, right)
    if isinstance(left, str) and isinstance(right, str):
        a: Any = left.casefold()
        b: Any = right.casefold()
    else:
        a, b = to_number(left), to_number(right)
        if math.isnan(a) or math.isnan(b):
            return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any], status: Mapping[str, bool]) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.contexts = contexts
        self.status = status

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, text: str | None = None) -> _Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            raise ExpressionError(f"expected {text or 'a token'} in {self.text!r}")
        self.index += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()} in {self.text!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() and self.peek().text == "||":  # type: ignore[union-attr]
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.equality()
        while self.peek() and self.peek().text == "&&":  # type: ignore[union-attr]
            self.take()
            right = self.equality()
            value = right if truthy(value) else value
        return value

    def equality(self) -> Any:
        value = self.comparison()
        while self.peek() and self.peek().text in ("==", "!="):  # type: ignore[union-attr]
            op = self.take().text
            value = _compare(op, value, self.comparison())
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while self.peek() and self.peek().text in ("<", "<=", ">", ">="):  # type: ignore[union-attr]
            op = self.take().text
            value = _compare(op, value, self.unary())
        return value

    def unary(self) -> Any:
        if self.peek() and self.peek().text == "!":  # type: ignore[union-attr]
            self.take()
            return not truthy(self.unary())
        return self.postfix(self.primary())

    def postfix(self, value: Any) -> Any:
        while self.peek() and self.peek().text in (".", "["):  # type: ignore[union-attr]
            if self.take().text == ".":
                value = _member(value, self.take().text)
            else:
                key = self.or_()
                self.take("]")
                value = _member(value, key)
        return value

    def primary(self) -> Any:
        token = self.take()
        if token.text == "(":
            value = self.or_()
            self.take(")")
            return value
        if token.kind == "number":
            return to_number(token.text)
        if token.kind == "string":
            return token.text[1:-1].replace("''", "'")
        if token.kind != "name":
            raise ExpressionError(f"unexpected {token.text!r} in {self.text!r}")
        if token.text in ("true", "false"):
            return token.text == "true"
        if token.text == "null":
            return None
        if self.peek() and self.peek().text == "(":  # type: ignore[union-attr]
            return self.call(token.text)
        if token.text not in self.contexts:
            raise ExpressionError(f"unknown context {token.text!r} in {self.text!r}")
        return self.contexts[token.text]

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        while self.peek() and self.peek().text != ")":  # type: ignore[union-attr]
            args.append(self.or_())
            if self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
        self.take(")")
        if name in STATUS_FUNCTIONS:
            return self.status[name]
        function = _FUNCTIONS.get(name.casefold())
        if function is None:
            raise ExpressionError(f"function {name}() is not supported by the harness")
        return function(*args)


def _member(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        wanted = to_string(key).casefold()
        for name, item in value.items():
            if str(name).casefold() == wanted:
                return item
        return None
    if isinstance(value, list) and isinstance(key, float | int) and 0 <= int(key) < len(value):
        return value[int(key)]
    return None


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, list):
        return any(loose_equal(item, needle) for item in haystack)
    return to_string(needle).casefold() in to_string(haystack).casefold()


def _format(template: Any, *args: Any) -> str:
    text = to_string(template)

    def replace(match: re.Match[str]) -> str:
        if match.group() == "{{":
            return "{"
        if match.group() == "}}":
            return "}"
        return to_string(args[int(match.group(1))])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, text)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": lambda a, b: to_string(a).casefold().startswith(to_string(b).casefold()),
    "endswith": lambda a, b: to_string(a).casefold().endswith(to_string(b).casefold()),
    "format": _format,
    "join": lambda a, sep=",": (
        to_string(sep).join(to_string(x) for x in a) if isinstance(a, list) else to_string(a)
    ),
    "tojson": lambda a: json.dumps(a, indent=2),
    "fromjson": lambda a: json.loads(to_string(a)),
}

DEFAULT_STATUS = {"success": True, "failure": False, "always": True, "cancelled": False}


def evaluate(
    expression: str, contexts: Mapping[str, Any], status: Mapping[str, bool] = DEFAULT_STATUS
) -> Any:
    """The value of one expression (without the `${{ }}`)."""
    return _Parser(expression, contexts, status).parse()


def substitute(text: str, contexts: Mapping[str, Any]) -> str:
    """Replace every `${{ expr }}` in `text` with its string value."""
    return _TEMPLATE.sub(lambda m: to_string(evaluate(m.group(1), contexts)), text)


def condition(
    text: str | bool | None, contexts: Mapping[str, Any], status: Mapping[str, bool]
) -> bool:
    """An `if:`: `${{ }}` optional; `success() &&` implied unless a status function is used."""
    if text is None or text == "":
        return status["success"]
    if isinstance(text, bool):
        return status["success"] and text
    expression = text.strip()
    whole = _TEMPLATE.fullmatch(expression)
    if whole:
        expression = whole.group(1).strip()
    uses_status = any(re.search(rf"\b{name}\s*\(", expression) for name in STATUS_FUNCTIONS)
    value = truthy(evaluate(expression, contexts, status))
    return value if uses_status else status["success"] and value
