"""Go's `fmt` printing of template values: `%v`, Sprint, Sprintln and a Sprintf subset.

What a template prints must match what Flux's Go code prints, or a commit
message differs by a space or a quote. The rules reproduced here:

- ``%v``: strings as is, `true`/`false`, integers in decimal, floats as Go's
  shortest ``%g`` (``1e+06``, ``0.5``), nil as ``<nil>``, slices ``[a b]``,
  maps ``map[k:v]`` (sorted keys), structs ``{f1 f2}``, Stringers by `String()`;
- `sprint` puts a space between two operands only when neither is a string;
  `sprintln` always does, and ends with a newline;
- `sprintf` supports the verbs ``%v %s %d %q %t %%`` with flags ``-+ 0``,
  width and precision (``*`` too). A verb that does not fit its operand prints
  Go's ``%!d(string=abc)``; a missing operand ``%!d(MISSING)``; extra operands
  ``%!(EXTRA string=x)``. Other verbs raise `UnsupportedFormat`: printing
  them differently from Go silently would be worse than refusing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_action.domain.gotemplate.values import NO_VALUE, GoStruct, sort_key, type_name

MAX_WIDTH = 1 << 16
"""Largest width or precision honoured; a template asking for more is refused."""


class UnsupportedFormat(Exception):
    """A printf format this subset does not implement (the executor adds the position)."""


# --- %v -------------------------------------------------------------------------


def format_v(value: Any) -> str:
    """`value` as Go's ``%v`` prints it."""
    return _format(value, "v", _Flags())


def sprint(args: Sequence[Any]) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    previous_string = False
    for position, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if position and not is_string and not previous_string:
            out.append(" ")
        out.append(format_v(arg))
        previous_string = is_string
    return "".join(out)


def sprintln(args: Sequence[Any]) -> str:
    """fmt.Sprintln: operands separated by spaces, then a newline."""
    return " ".join(format_v(arg) for arg in args) + "\n"


# --- Sprintf ----------------------------------------------------------------------


@dataclass
class _Flags:
    minus: bool = False
    plus: bool = False
    space: bool = False
    zero: bool = False
    sharp: bool = False
    width: int | None = None
    precision: int | None = None


_SUPPORTED_VERBS = "vsdqt"


def sprintf(fmt: str, args: Sequence[Any]) -> str:
    """fmt.Sprintf for the supported verbs (see the module docstring)."""
    return _Printf(fmt, args).run()


class _Printf:
    """One Sprintf call: walks the format, consuming operands."""

    def __init__(self, fmt: str, args: Sequence[Any]) -> None:
        self.fmt = fmt
        self.args = args
        self.arg_index = 0
        self.position = 0
        self.out: list[str] = []

    def run(self) -> str:
        fmt = self.fmt
        while self.position < len(fmt):
            percent = fmt.find("%", self.position)
            if percent < 0:
                self.out.append(fmt[self.position :])
                break
            self.out.append(fmt[self.position : percent])
            self.position = percent + 1
            self.directive()
        if self.arg_index < len(self.args):
            extra = ", ".join(_extra(arg) for arg in self.args[self.arg_index :])
            self.out.append(f"%!(EXTRA {extra})")
        return "".join(self.out)

    def directive(self) -> None:
        """One ``%[flags][width][.precision]verb`` after its ``%``."""
        flags = _Flags()
        self.read_flags(flags)
        if self.read_number(flags, "width"):
            self.out.append("%!(BADWIDTH)")
        if self.fmt.startswith(".", self.position):
            self.position += 1
            if self.read_number(flags, "precision"):
                self.out.append("%!(BADPREC)")
            elif flags.precision is None:
                flags.precision = 0
        if self.position >= len(self.fmt):
            self.out.append("%!(NOVERB)")
            return
        verb = self.fmt[self.position]
        self.position += 1
        if verb == "%":
            self.out.append("%")
        elif verb == "[":
            raise UnsupportedFormat("printf argument indexes (%[n]) are not supported")
        elif verb not in _SUPPORTED_VERBS:
            raise UnsupportedFormat(
                f"printf verb %{verb} is not supported (supported: %v %s %d %q %t %%)"
            )
        elif self.arg_index >= len(self.args):
            self.out.append(f"%!{verb}(MISSING)")
        else:
            self.out.append(_format(self.args[self.arg_index], verb, flags))
            self.arg_index += 1

    def read_flags(self, flags: _Flags) -> None:
        while self.position < len(self.fmt):
            char = self.fmt[self.position]
            if char == "-":
                flags.minus, flags.zero = True, False
            elif char == "0":
                flags.zero = not flags.minus
            elif char in _FLAG_NAMES:
                setattr(flags, _FLAG_NAMES[char], True)
            else:
                return
            self.position += 1

    def read_number(self, flags: _Flags, what: str) -> bool:
        """Read a width or precision (digits or ``*``); True when it is bad."""
        if self.fmt.startswith("*", self.position):
            self.position += 1
            if self.arg_index >= len(self.args):
                return True
            number = self.args[self.arg_index]
            self.arg_index += 1
            if type(number) is not int:
                return True
            if what == "width" and number < 0:
                flags.minus, flags.zero, number = True, False, -number
            if not 0 <= number <= MAX_WIDTH:
                return True
            setattr(flags, what, number)
            return False
        start = self.position
        while self.position < len(self.fmt) and self.fmt[self.position] in "0123456789":
            self.position += 1
        if self.position > start:
            number = int(self.fmt[start : self.position])
            if number > MAX_WIDTH:
                raise UnsupportedFormat(f"printf {what} {number} is larger than {MAX_WIDTH}")
            setattr(flags, what, number)
        return False


_FLAG_NAMES = {"+": "plus", " ": "space", "#": "sharp"}


def _extra(arg: Any) -> str:
    return "<nil>" if arg is None else f"{type_name(arg)}={format_v(arg)}"


# --- formatting one operand ---------------------------------------------------------


def _format(value: Any, verb: str, flags: _Flags) -> str:
    """One operand under one verb, recursing into slices, maps and structs like Go."""
    if value is None:
        return "<nil>" if verb == "v" else _pad(f"%!{verb}(<nil>)", flags)
    if isinstance(value, GoStruct):
        text = value.go_string()
        if text is not None and verb in "vsq":
            return _format_string(text, verb, flags)
        return "{" + " ".join(_format(item, verb, flags) for item in value.go_field_values()) + "}"
    if isinstance(value, Mapping):
        keys = sorted(value, key=sort_key)  # fmt prints maps in sorted-key order
        pairs = (f"{_format(k, verb, flags)}:{_format(value[k], verb, flags)}" for k in keys)
        return "map[" + " ".join(pairs) + "]"
    if isinstance(value, tuple | list):
        return "[" + " ".join(_format(item, verb, flags) for item in value) + "]"
    return _format_scalar(value, verb, flags)


def _format_scalar(value: Any, verb: str, flags: _Flags) -> str:
    if isinstance(value, str):
        return _format_string(value, verb, flags)
    if isinstance(value, bool):
        text = "true" if value else "false"
        return _pad(text, flags) if verb in "vt" else _bad_verb(value, verb, flags)
    if isinstance(value, int):
        return _format_int(value, verb, flags)
    if isinstance(value, float):
        return _pad(format_float(value), flags) if verb == "v" else _bad_verb(value, verb, flags)
    return _pad("<no value>" if value is NO_VALUE else str(value), flags)


def _bad_verb(value: Any, verb: str, flags: _Flags) -> str:
    return f"%!{verb}({type_name(value)}={_format(value, 'v', flags)})"


def _format_string(value: str, verb: str, flags: _Flags) -> str:
    if verb not in "vsq":
        return _bad_verb(value, verb, flags)
    if flags.precision is not None:
        value = value[: flags.precision]
    if verb == "q":
        value = go_quote(value, ascii_only=flags.plus)
    return _pad(value, flags)


def _format_int(value: int, verb: str, flags: _Flags) -> str:
    if verb == "q":
        return _pad(go_quote_rune(value), flags)
    if verb not in "vd":
        return _bad_verb(value, verb, flags)
    digits = str(abs(value))
    if flags.precision is not None:
        digits = "" if flags.precision == 0 and value == 0 else digits.zfill(flags.precision)
    sign = "-" if value < 0 else "+" if flags.plus else " " if flags.space else ""
    if flags.zero and flags.width is not None and flags.precision is None:
        digits = digits.zfill(flags.width - len(sign))
    return _pad(sign + digits, flags)


def _pad(text: str, flags: _Flags) -> str:
    """Pad to the width with spaces (left, or right with ``-``), counting characters."""
    if flags.width is None or len(text) >= flags.width:
        return text
    padding = " " * (flags.width - len(text))
    return text + padding if flags.minus else padding + text


# --- quoting and floats -------------------------------------------------------------

_NAMED = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _escape(char: str, quote: str, ascii_only: bool) -> str:
    """One character of a Go quoted literal (strconv's appendEscapedRune)."""
    code = ord(char)
    if char in (quote, "\\"):
        return "\\" + char
    surrogate = 0xD800 <= code <= 0xDFFF
    printable = char.isprintable() and not surrogate
    if printable and not (ascii_only and code >= 0x80):
        return char
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if surrogate:
        # Not a valid rune: Go writes the replacement character (escaped if ASCII only).
        return "\\ufffd" if ascii_only else "\ufffd"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def go_quote(text: str, ascii_only: bool = False) -> str:
    """strconv.Quote (or QuoteToASCII): a Go double-quoted string literal."""
    return '"' + "".join(_escape(char, '"', ascii_only) for char in text) + '"'


def go_quote_rune(code: int) -> str:
    """strconv.QuoteRune, as ``%q`` prints an integer; invalid runes become U+FFFD."""
    if not 0 <= code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    return "'" + _escape(chr(code), "'", False) + "'"


def format_float(value: float) -> str:
    """A float64 as Go's ``%v`` prints it: the shortest digits, ``%e`` style below
    1e-4 or from 1e+06 up (``1e+06``, ``1.5e-07``), plain decimals otherwise."""
    if not math.isfinite(value) or value == 0:
        special = {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf", "0.0": "0", "-0.0": "-0"}
        return special[repr(value)]
    from decimal import Decimal  # lazily: floats are rare in templates, cold start is not

    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)  # finite by the check above
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    point = len(digits) + exponent  # value = 0.DIGITS x 10**point
    digits = digits.rstrip("0")
    prefix = "-" if sign else ""
    scientific = point - 1
    if scientific < -4 or scientific >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if scientific < 0 else '+'}{abs(scientific):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    whole, fraction = (digits + "0" * point)[:point], digits[point:]
    return prefix + whole + ("." + fraction if fraction else "")
