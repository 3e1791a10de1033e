"""Template text to tokens, by Go's `text/template/parse` lexing rules.

Text outside ``{{ }}`` is literal. ``{{- `` trims the white space (space, tab,
CR, LF) before the action and `` -}}`` the white space after it; the marker
needs that space, so ``{{-3}}`` is the number -3. ``{{/* ... */}}`` is a
comment and must close right after ``*/``. Inside an action, tokens are
separated by white space (newlines included, as since Go 1.16).

Positions are offsets into the template; `TemplateError` carries one, and the
public layer turns it into "line L, column C".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum, auto
from typing import Final

from gitops_action.domain.gotemplate.gofmt import go_quote


class TemplateError(Exception):
    """A problem at `position` in the template text (an offset)."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


class Kind(Enum):
    TEXT = auto()
    LEFT = auto()  # {{
    RIGHT = auto()  # }}
    SPACE = auto()
    FIELD = auto()  # .Name
    VARIABLE = auto()  # $ or $name
    DOT = auto()  # .
    IDENTIFIER = auto()  # printf, range, ...
    KEYWORD = auto()
    BOOL = auto()
    NIL = auto()
    STRING = auto()  # quoted, still escaped
    RAW_STRING = auto()
    CHAR = auto()  # 'a', still escaped
    NUMBER = auto()
    PIPE = auto()
    LEFT_PAREN = auto()
    RIGHT_PAREN = auto()
    DECLARE = auto()  # :=
    ASSIGN = auto()  # =
    COMMA = auto()
    EOF = auto()


KEYWORDS: Final = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
)
SPACE_CHARS: Final = " \t\r\n"
_SINGLE: Final = {"|": Kind.PIPE, ",": Kind.COMMA, "=": Kind.ASSIGN}


@dataclass(frozen=True)
class Token:
    kind: Kind
    value: str
    position: int


def _is_alphanumeric(char: str) -> bool:
    """Go's isAlphaNumeric: `_`, letters and (Unicode) decimal digits."""
    if char == "_" or char.isalpha():
        return True
    return unicodedata.category(char) == "Nd"


def _left_trim(text: str, position: int) -> bool:
    """A ``- `` after ``{{`` (the marker needs the space)."""
    return text.startswith("-", position) and text[position + 1 : position + 2] in tuple(
        SPACE_CHARS
    )


def _right_delimiter(text: str, position: int) -> tuple[bool, bool]:
    """(at ``}}``, with a `` -`` trim marker before it)."""
    if (
        text[position : position + 1] in tuple(SPACE_CHARS)
        and text.startswith("-", position + 1)
        and text.startswith("}}", position + 2)
    ):
        return True, True
    return text.startswith("}}", position), False


class Lexer:
    """Produces all tokens at once (templates are small)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = []
        self.paren_depth = 0

    def run(self) -> list[Token]:
        text = self.text
        position = 0
        trim_next = False
        while True:
            start = text.find("{{", position)
            chunk_end = len(text) if start < 0 else start
            chunk = text[position:chunk_end]
            if trim_next:
                trimmed = chunk.lstrip(SPACE_CHARS)
                position += len(chunk) - len(trimmed)
                chunk = trimmed
            if start >= 0 and _left_trim(text, start + 2):
                chunk = chunk.rstrip(SPACE_CHARS)
            if chunk:
                self.tokens.append(Token(Kind.TEXT, chunk, position))
            if start < 0:
                break
            position, trim_next = self._action(start)
        self.tokens.append(Token(Kind.EOF, "", len(text)))
        return self.tokens

    def _action(self, start: int) -> tuple[int, bool]:
        """Lex one ``{{ ... }}``; returns the position after it and whether it trims."""
        text = self.text
        position = start + 2
        if _left_trim(text, position):
            position += 2
        if text.startswith("/*", position):
            return self._comment(position)
        self.tokens.append(Token(Kind.LEFT, "{{", start))
        self.paren_depth = 0
        while True:
            at_end, trim = _right_delimiter(text, position)
            if at_end:
                if self.paren_depth:
                    raise TemplateError(position, "unclosed left paren")
                self.tokens.append(Token(Kind.RIGHT, "}}", position))
                return position + (4 if trim else 2), trim
            if position >= len(text):
                raise TemplateError(start, "unclosed action")
            position = self._inside(position)

    def _comment(self, position: int) -> tuple[int, bool]:
        end = self.text.find("*/", position + 2)
        if end < 0:
            raise TemplateError(position, "unclosed comment")
        at_end, trim = _right_delimiter(self.text, end + 2)
        if not at_end:
            raise TemplateError(end + 2, "comment ends before closing delimiter")
        return end + 2 + (4 if trim else 2), trim

    def _emit(self, kind: Kind, start: int, end: int) -> int:
        self.tokens.append(Token(kind, self.text[start:end], start))
        return end

    def _inside(self, position: int) -> int:
        """Lex one token inside an action; returns the position after it."""
        char = self.text[position]
        if char in SPACE_CHARS:
            return self._space(position)
        if char in _SINGLE:
            return self._emit(_SINGLE[char], position, position + 1)
        handler = {
            ":": self._declare,
            "(": self._left_paren,
            ")": self._right_paren,
            '"': self._quoted,
            "`": self._raw,
            "'": self._char,
            "$": self._variable,
            ".": self._dot,
        }.get(char)
        if handler is not None:
            return handler(position)
        if char in "+-" or "0" <= char <= "9":
            return self._number(position)
        if _is_alphanumeric(char):
            return self._identifier(position)
        raise TemplateError(position, f"unrecognized character in action: {_describe(char)}")

    def _space(self, position: int) -> int:
        end = position
        while end < len(self.text) and self.text[end] in SPACE_CHARS:
            at_end, trim = _right_delimiter(self.text, end)
            if at_end and trim:
                break  # leave the space that belongs to " -}}"
            end += 1
        return self._emit(Kind.SPACE, position, max(end, position + 1))

    def _declare(self, position: int) -> int:
        if not self.text.startswith(":=", position):
            raise TemplateError(position, "expected :=")
        return self._emit(Kind.DECLARE, position, position + 2)

    def _left_paren(self, position: int) -> int:
        self.paren_depth += 1
        return self._emit(Kind.LEFT_PAREN, position, position + 1)

    def _right_paren(self, position: int) -> int:
        self.paren_depth -= 1
        if self.paren_depth < 0:
            raise TemplateError(position, "unexpected right paren")
        return self._emit(Kind.RIGHT_PAREN, position, position + 1)

    def _raw(self, position: int) -> int:
        end = self.text.find("`", position + 1)
        if end < 0:
            raise TemplateError(position, "unterminated raw quoted string")
        return self._emit(Kind.RAW_STRING, position, end + 1)

    def _variable(self, position: int) -> int:
        return self._field_or_variable(position, Kind.VARIABLE)

    def _dot(self, position: int) -> int:
        """``.Field``, a lone ``.``, or a number such as ``.5``."""
        following = self.text[position + 1 : position + 2]
        if following and following in "0123456789":
            return self._number(position)
        return self._field_or_variable(position, Kind.FIELD)

    def _at_terminator(self, position: int) -> bool:
        """Go's atTerminator: what may follow a field, variable or identifier."""
        if position >= len(self.text):
            return True
        char = self.text[position]
        if char in SPACE_CHARS or char in ".,|:()":
            return True
        return self.text.startswith("}}", position)

    def _field_or_variable(self, position: int, kind: Kind) -> int:
        if self._at_terminator(position + 1):
            return self._emit(Kind.DOT if kind is Kind.FIELD else kind, position, position + 1)
        end = position + 1
        while end < len(self.text) and _is_alphanumeric(self.text[end]):
            end += 1
        if not self._at_terminator(end):
            raise TemplateError(end, f"bad character {_describe(self.text[end])}")
        return self._emit(kind, position, end)

    def _identifier(self, position: int) -> int:
        end = position
        while end < len(self.text) and _is_alphanumeric(self.text[end]):
            end += 1
        if not self._at_terminator(end):
            raise TemplateError(end, f"bad character {_describe(self.text[end])}")
        word = self.text[position:end]
        if word in KEYWORDS:
            kind = Kind.KEYWORD
        elif word in ("true", "false"):
            kind = Kind.BOOL
        elif word == "nil":
            kind = Kind.NIL
        else:
            kind = Kind.IDENTIFIER
        return self._emit(kind, position, end)

    def _quoted(self, position: int) -> int:
        end = position + 1
        while True:
            if end >= len(self.text) or self.text[end] == "\n":
                raise TemplateError(position, "unterminated quoted string")
            char = self.text[end]
            if char == "\\":
                end += 2
                continue
            if char == '"':
                return self._emit(Kind.STRING, position, end + 1)
            end += 1

    def _char(self, position: int) -> int:
        end = position + 1
        while True:
            if end >= len(self.text) or self.text[end] == "\n":
                raise TemplateError(position, "unterminated character constant")
            char = self.text[end]
            if char == "\\":
                end += 2
                continue
            if char == "'":
                return self._emit(Kind.CHAR, position, end + 1)
            end += 1

    def _number(self, position: int) -> int:
        """Go's scanNumber: sign, base prefix, digits, fraction, exponent, then no letter."""
        text = self.text
        end = position
        if end < len(text) and text[end] in "+-":
            end += 1
        digits = "0123456789_"
        exponent = "eE"
        if text.startswith("0", end) and text[end + 1 : end + 2] in tuple("xXoObB"):
            prefix = text[end + 1].lower()
            digits = {"x": "0123456789abcdefABCDEF_", "o": "01234567_", "b": "01_"}[prefix]
            exponent = "pP" if prefix == "x" else ""
            end += 2
        while end < len(text) and text[end] in digits:
            end += 1
        if end < len(text) and text[end] == ".":
            end += 1
            while end < len(text) and text[end] in digits:
                end += 1
        if exponent and end < len(text) and text[end] in exponent:
            end += 1
            if end < len(text) and text[end] in "+-":
                end += 1
            while end < len(text) and text[end] in "0123456789_":
                end += 1
        if end < len(text) and text[end] == "i":
            end += 1
        if end < len(text) and _is_alphanumeric(text[end]):
            raise TemplateError(
                position, f"bad number syntax: {go_quote(text[position : end + 1])}"
            )
        return self._emit(Kind.NUMBER, position, end)


def _describe(char: str) -> str:
    """Go's %#U: U+0041 'A'."""
    code = ord(char)
    shown = f" '{char}'" if char.isprintable() else ""
    return f"U+{code:04X}{shown}"


def tokenize(text: str) -> list[Token]:
    """All tokens of `text`, ending with EOF; `TemplateError` on a lexical error."""
    return Lexer(text).run()
