"""Go literals in templates: numbers, quoted strings, raw strings, character constants.

Numbers follow Go's rules as the template parser applies them: integers in
decimal, ``0x``, ``0o``, ``0b`` or legacy ``0``-octal, with ``_`` between
digits; a literal with ``.``, ``e`` or ``p`` (and not a hex integer) is a
float64; integers must fit Go's 64-bit int. Strings use Go's escapes; ``\\x``
and octal escapes name bytes, which are decoded as UTF-8 (invalid sequences
become U+FFFD, where Go would keep the raw bytes). Raw strings drop ``\\r``.
"""

from __future__ import annotations

import math
import re
from typing import Final

from gitops_action.domain.gotemplate.gofmt import go_quote

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1

_INTEGER_FORMS: Final = (
    (re.compile(r"0[xX](?:_?[0-9a-fA-F])+"), 16, 2),
    (re.compile(r"0[oO](?:_?[0-7])+"), 8, 2),
    (re.compile(r"0[bB](?:_?[01])+"), 2, 2),
    (re.compile(r"0(?:_?[0-7])*"), 8, 1),
    (re.compile(r"[1-9](?:_?[0-9])*"), 10, 0),
)
_DECIMAL_FLOAT: Final = re.compile(
    r"(?:[0-9](?:_?[0-9])*\.?(?:[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9]+)?"
)
_HEX_FLOAT: Final = re.compile(r"0[xX][0-9a-fA-F_]*\.?[0-9a-fA-F_]*[pP][+-]?[0-9]+")


class LiteralError(ValueError):
    """A literal that does not parse; the message is Go's."""


def parse_number(text: str) -> int | float:
    """A NUMBER token as the value Go would use (int or float64)."""
    if text.endswith("i"):
        raise LiteralError(f"complex number {text} is not supported")
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    is_hex_int = body[:2] in ("0x", "0X") and not any(c in body for c in "pP")
    if any(c in body for c in ".eEpP") and not is_hex_int:
        return sign * _parse_float(body, text)
    for pattern, base, skip in _INTEGER_FORMS:
        if pattern.fullmatch(body):
            digits = body[skip:].replace("_", "") or "0"
            value = sign * int(digits, base)
            if not _INT64_MIN <= value <= _INT64_MAX:
                raise LiteralError(f"{text} overflows int")
            return value
    raise LiteralError(f"illegal number syntax: {go_quote(text)}")


def _parse_float(body: str, text: str) -> float:
    if _HEX_FLOAT.fullmatch(body):
        mantissa, _, exponent = body[2:].replace("_", "").lower().partition("p")
        value = float.fromhex(f"0x{mantissa or '0'}p{exponent}")
    elif _DECIMAL_FLOAT.fullmatch(body):
        value = float(body.replace("_", ""))
    else:
        raise LiteralError(f"illegal number syntax: {go_quote(text)}")
    if math.isinf(value):
        raise LiteralError(f"illegal number syntax: {go_quote(text)} (out of range)")
    return value


_SIMPLE_ESCAPES: Final = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
}
_HEX_LENGTH: Final = {"x": 2, "u": 4, "U": 8}


def unquote(token: str) -> str:
    """A STRING (``"..."``) or RAW_STRING (`` `...` ``) token's value, by strconv.Unquote."""
    if token.startswith("`"):
        return token[1:-1].replace("\r", "")
    return _unescape(token[1:-1], '"')


def unquote_char(token: str) -> int:
    """A CHAR token (``'a'``, ``'\\n'``) as its rune value."""
    value = _unescape(token[1:-1], "'")
    if len(value) != 1:
        raise LiteralError(f"malformed character constant: {token}")
    return ord(value)


def _unescape(body: str, quote: str) -> str:
    out = bytearray()
    index = 0
    while index < len(body):
        char = body[index]
        if char == quote:
            raise LiteralError("invalid syntax: unescaped quote")
        if char != "\\":
            out += char.encode("utf-8", "surrogatepass")
            index += 1
            continue
        index = _escape(body, index + 1, quote, out)
    return out.decode("utf-8", "replace")


def _escape(body: str, index: int, quote: str, out: bytearray) -> int:
    """Decode the escape after a backslash at `index`; append its bytes; return the new index."""
    if index >= len(body):
        raise LiteralError("invalid syntax: trailing backslash")
    char = body[index]
    if char in _SIMPLE_ESCAPES:
        out += _SIMPLE_ESCAPES[char].encode()
        return index + 1
    if char == quote:
        out += char.encode()
        return index + 1
    if char in _HEX_LENGTH:
        digits = body[index + 1 : index + 1 + _HEX_LENGTH[char]]
        if len(digits) != _HEX_LENGTH[char] or not re.fullmatch(r"[0-9a-fA-F]+", digits):
            raise LiteralError(f"invalid syntax: bad \\{char} escape")
        code = int(digits, 16)
        if char == "x":
            out.append(code)
        elif code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise LiteralError(f"invalid syntax: \\{char}{digits} is not a valid rune")
        else:
            out += chr(code).encode()
        return index + 1 + len(digits)
    if "0" <= char <= "7":
        digits = body[index : index + 3]
        if not re.fullmatch(r"[0-7]{3}", digits) or int(digits, 8) > 0xFF:
            raise LiteralError("invalid syntax: bad octal escape")
        out.append(int(digits, 8))
        return index + 3
    raise LiteralError(f"invalid syntax: unknown escape \\{char}")
