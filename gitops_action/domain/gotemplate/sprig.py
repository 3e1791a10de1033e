"""More of Sprig's hermetic functions (the ones Flux gives commit templates).

Hashes and encodings (``sha1sum sha256sum adler32sum b64enc b64dec b32enc
b32dec``, so Flux's Gerrit ``Change-Id`` template works), strings (``trimAll
repeat nospace cat substr splitList``), lists (``list first last has uniq
sortAlpha``), ``ternary``, ``coalesce`` and the Go-regexp ``regexMatch`` and
``regexFind``. Each behaves as Sprig v3.3.0 does, argument order included
(the piped value last); the oracle tests render generated templates with
Sprig itself and compare. Functions raise `SprigError` where Sprig returns an
error or panics (a template execution error in Go).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from typing import Any, Final

from gitops_action.domain.goregex import RegexError, compile_go
from gitops_action.domain.gotemplate.gofmt import format_v
from gitops_action.domain.gotemplate.values import NO_VALUE, GoMap, GoSlice, kind, truth

_GO_SPACE: Final = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_MAX_REPEAT: Final = 10_000


class SprigError(Exception):
    """What Sprig reports as an error (or a panic) for these arguments."""


def _str(value: Any) -> str:
    return value if isinstance(value, str) else format_v(value)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def sha1sum(text: str) -> str:
    return hashlib.sha1(_bytes(text)).hexdigest()  # noqa: S324 - Sprig's sha1sum, not security


def sha256sum(text: str) -> str:
    return hashlib.sha256(_bytes(text)).hexdigest()


def adler32sum(text: str) -> str:
    return str(zlib.adler32(_bytes(text)))


def b64enc(text: str) -> str:
    return base64.b64encode(_bytes(text)).decode("ascii")


def b64dec(text: str) -> str:
    """Sprig returns the decoding error's text instead of failing."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8", "replace")
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return _go_base64_error(text)


def _go_base64_error(text: str) -> str:
    data = text.encode("utf-8", "surrogatepass")
    for index, byte in enumerate(data):
        if chr(byte) not in _B64_ALPHABET:
            return f"illegal base64 data at input byte {index}"
    return f"illegal base64 data at input byte {len(data) - len(data) % 4}"


_B64_ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def b32enc(text: str) -> str:
    return base64.b32encode(_bytes(text)).decode("ascii")


def b32dec(text: str) -> str:
    try:
        return base64.b32decode(text.encode("ascii")).decode("utf-8", "replace")
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise SprigError(f"b32dec: {error}") from None


def trim_all(cutset: str, text: str) -> str:
    return text.strip(cutset) if cutset else text


def repeat(count: int, text: str) -> str:
    if count < 0:
        raise SprigError("strings: negative Repeat count")
    if count * len(text) > _MAX_REPEAT * 100:
        raise SprigError(f"repeat: result longer than {_MAX_REPEAT * 100} characters")
    return text * count


def nospace(text: str) -> str:
    return "".join(char for char in text if char not in _GO_SPACE)


def cat(*values: Any) -> str:
    return " ".join(_str(value) for value in values if value is not None)


def substr(start: int, end: int, text: str) -> str:
    """Sprig's substr works on bytes; out-of-range bounds panic in Go."""
    data = _bytes(text)
    if start < 0:
        start, stop = 0, end
    elif end < 0 or end > len(data):
        stop = len(data)
    else:
        stop = end
    if stop < 0 or start > stop or stop > len(data):
        raise SprigError(f"runtime error: slice bounds out of range [{start}:{stop}]")
    return data[start:stop].decode("utf-8", "replace")


def split_list(separator: str, text: str) -> GoSlice:
    if separator == "":
        return GoSlice(list(text), "[]string")
    return GoSlice(text.split(separator), "[]string")


def make_list(*values: Any) -> GoSlice:
    return GoSlice(values)


def _as_list(value: Any, what: str) -> tuple[Any, ...] | None:
    family = kind(value)
    if family == "slice":
        return tuple(value)
    if family in ("nil", "invalid"):
        return None
    raise SprigError(f"Cannot find {what} on type {family}")


def first(items: Any) -> Any:
    values = _as_list(items, "first")
    return _or_no_value(values[0] if values else None)


def last(items: Any) -> Any:
    values = _as_list(items, "last")
    return _or_no_value(values[-1] if values else None)


def _or_no_value(value: Any) -> Any:
    """A nil interface{} result prints as Go's "<no value>"."""
    return NO_VALUE if value is None else value


def has(needle: Any, items: Any) -> bool:
    values = _as_list(items, "has")
    return values is not None and any(_equal(value, needle) for value in values)


def uniq(items: Any) -> GoSlice:
    values = _as_list(items, "uniq") or ()
    out: list[Any] = []
    for value in values:
        if not any(_equal(value, seen) for seen in out):
            out.append(value)
    return GoSlice(out)


def sort_alpha(items: Any) -> GoSlice:
    family = kind(items)
    if family == "slice":
        return GoSlice(sorted(_str(value) for value in items), "[]string")
    return GoSlice([_str(items)], "[]string")


def _equal(left: Any, right: Any) -> bool:
    return type(left) is type(right) and left == right


def ternary(when_true: Any, when_false: Any, condition: bool) -> Any:
    return when_true if condition else when_false


def coalesce(*values: Any) -> Any:
    for value in values:
        if not _empty(value):
            return value
    return NO_VALUE


def _empty(value: Any) -> bool:
    family = kind(value)
    if family in ("invalid", "nil"):
        return True
    if family == "struct" and not isinstance(value, GoMap):
        return False
    return not truth(value)


def regex_match(pattern: str, text: str) -> bool:
    """Sprig's regexMatch: an invalid pattern simply does not match."""
    try:
        return compile_go(pattern).search(text) is not None
    except RegexError:
        return False


def regex_find(pattern: str, text: str) -> str:
    """Sprig's regexFind: the leftmost match or ""; an invalid pattern panics in Go."""
    try:
        match = compile_go(pattern).search(text)
    except RegexError as error:
        raise SprigError(f"regexp: Compile({pattern!r}): {error}") from None
    return "" if match is None else match.group(0) or ""
