"""Flux's `postBuild` variable substitution, as `fluxcd/pkg/envsubst` (a fork of
drone/envsubst) and `fluxcd/pkg/kustomize`'s `varSubstitution` do it.

Semantics kept from upstream, because a repository written for Flux must render
the same here:

- Only `${...}` is a reference; a bare `$var` is text.
- `$$` is an escape for one `$` anywhere in the text, so `$${var}` renders as the
  literal `${var}` (and `$$$` as `$$`).
- `${var}` of an unset variable is the empty string (Flux's default, non-strict
  mode).
- `${var:=default}`, `${var:-default}`, `${var=default}`, `${var-default}`,
  `${var:+x}`, `${var+x}`, `${var:?x}`, `${var?x}`: every one of these renders
  the variable when it is non-empty, else the (possibly nested) default text;
  upstream maps all of them to one `toDefault` function.
- `${#var}` is the length; `${var^}`, `${var^^}`, `${var,}`, `${var,,}` change
  case; `${var:offset[:length]}` is a substring.
- Inside `${...}` a backslash escapes `\\` and `\\/`.
- Variable names must match `^[_[:alpha:]][_[:alpha:][:digit:]]*$`; newlines in
  values are removed.

The pattern functions (`${var#p}`, `${var%p}`, `${var/p/s}`) need shell glob
matching; they are refused by name rather than rendered differently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

VAR_NAME: Final = re.compile(r"^[_A-Za-z][_A-Za-z0-9]*$")
DEFAULT_OPS: Final = frozenset({"=", ":=", ":-", "-", ":?", ":+", "+", "?"})


class SubstitutionError(ValueError):
    """Text that Flux's envsubst would refuse (names the problem and the offset)."""


def check_names(variables: Mapping[str, str]) -> list[str]:
    """One message per variable name Flux would refuse."""
    return [
        f"{name!r} var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
        for name in sorted(variables)
        if not VAR_NAME.match(name)
    ]


def clean_value(value: str) -> str:
    """Values lose their newlines, as in Flux."""
    return value.replace("\n", "")


def substitute(text: str, variables: Mapping[str, str]) -> str:
    """`text` with every `${...}` reference rendered from `variables`."""
    return _Parser(text, variables).render()


@dataclass
class _Parser:
    text: str
    variables: Mapping[str, str]
    pos: int = 0

    def render(self) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            if self.text.startswith("${", self.pos):
                self.pos += 2
                out.append(self._reference())
            elif self.text.startswith("$$", self.pos):
                out.append("$")
                self.pos += 2
            else:
                out.append(self.text[self.pos])
                self.pos += 1
        return "".join(out)

    def _fail(self, what: str) -> SubstitutionError:
        return SubstitutionError(f"{what} at offset {self.pos}")

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _reference(self) -> str:
        if self._peek() == "#":
            self.pos += 1
            name = self._name()
            self._close()
            return str(len(self._value(name)))
        name = self._name()
        value = self._value(name)
        char = self._peek()
        if char == "}":
            self.pos += 1
            return value
        if char in ",^":
            op = self._take_while(lambda c, i: c == char and i < 2)
            self._close()
            return _case(op, value)
        if char == "=" or (char == ":" and self.text[self.pos + 1 : self.pos + 2] in ("=-?+")):
            return self._default(value)
        if char == ":":
            return self._substring(value)
        if char in "#%/":
            raise self._fail(f"${{{name}{char}...}} pattern functions are not supported")
        raise self._fail("bad substitution")

    def _take_while(self, accept: object) -> str:
        start = self.pos
        while self.pos < len(self.text) and accept(self.text[self.pos], self.pos - start):  # type: ignore[operator]
            self.pos += 1
        return self.text[start : self.pos]

    def _name(self) -> str:
        name = self._take_while(lambda c, _i: c.isalnum() or c == "_")
        if not name:
            raise self._fail("unable to parse variable name")
        return name

    def _value(self, name: str) -> str:
        return self.variables.get(name, "")

    def _close(self) -> None:
        if self._peek() != "}":
            raise self._fail("missing closing brace")
        self.pos += 1

    def _default(self, value: str) -> str:
        op = self._take_while(lambda c, i: (i == 0 and c in ":=-?+") or (i == 1 and c in "=-?+"))
        if op not in DEFAULT_OPS:
            raise self._fail("unable to parse default function")
        fallback = self._argument(stop="}")
        self._close()
        return value if value else fallback

    def _substring(self, value: str) -> str:
        self.pos += 1
        offset_text = self._argument(stop=":}")
        length_text: str | None = None
        if self._peek() == ":":
            self.pos += 1
            length_text = self._argument(stop="}")
        self._close()
        offset = _int(offset_text)
        if offset < 0:
            offset = max(len(value) + offset, 0)
        part = value[offset:] if offset <= len(value) else ""
        if length_text is not None:
            part = part[: max(_int(length_text), 0)]
        return part

    def _argument(self, stop: str) -> str:
        """Text up to a stop character, nested `${...}` rendered, `\\\\` and `\\/` unescaped."""
        out: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] not in stop:
            if self.text.startswith("${", self.pos):
                self.pos += 2
                out.append(self._reference())
            elif self.text.startswith("$$", self.pos):
                out.append("$")
                self.pos += 2
            elif self.text[self.pos] == "\\" and self.text[self.pos + 1 : self.pos + 2] in (
                "\\",
                "/",
            ):
                out.append(self.text[self.pos + 1])
                self.pos += 2
            else:
                out.append(self.text[self.pos])
                self.pos += 1
        return "".join(out)


def _case(op: str, value: str) -> str:
    """`^` upper-cases the first letter, `^^` all; `,` and `,,` lower-case likewise."""
    change = str.upper if op.startswith("^") else str.lower
    return change(value) if len(op) == 2 else change(value[:1]) + value[1:]


def _int(text: str) -> int:
    try:
        return int(text.strip() or "0")
    except ValueError:
        return 0
