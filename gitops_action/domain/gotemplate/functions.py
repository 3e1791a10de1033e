"""The functions a template may call: Go's builtins and a subset of Sprig.

Flux gives commit templates Go's builtins plus Sprig's hermetic functions.
We implement the builtins (``and or not eq ne lt le gt ge len index slice
print printf println``) and the Sprig string helpers people put in commit
messages (``lower upper title trim trimPrefix trimSuffix contains hasPrefix
hasSuffix replace join quote squote default empty trunc indent nindent
toString``). Argument order follows Sprig (``contains SUBSTR STRING``), so a
pipeline ``{{ .Name | lower }}`` passes the piped value last, as in Go.

Each function declares its parameter kinds (``any``, ``string``, ``int``);
the executor checks them and turns a `FunctionError` into a positioned error
(Go's "error calling index: ...").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gitops_action.domain.gotemplate import sprig
from gitops_action.domain.gotemplate.gofmt import (
    MAX_WIDTH,
    UnsupportedFormat,
    format_v,
    go_quote,
    sprint,
    sprintf,
    sprintln,
)
from gitops_action.domain.gotemplate.values import (
    NO_VALUE,
    GoMap,
    GoSlice,
    GoStruct,
    kind,
    truth,
    type_name,
)


class FunctionError(Exception):
    """A function refused its arguments (Go returns an error from it)."""


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[str, ...]
    variadic: str | None
    impl: Callable[..., Any]
    lazy: bool = False  # and/or: arguments are evaluated only as far as needed


# --- comparisons ----------------------------------------------------------------

_BASIC: Final = frozenset({"bool", "int", "float", "string"})


def _eq(first: Any, *others: Any) -> bool:
    if not others:
        raise FunctionError("missing argument for comparison")
    kind1 = kind(first)
    for other in others:
        kind2 = kind(other)
        if kind1 in _BASIC or kind2 in _BASIC:
            if kind1 != kind2:
                if first is not None and other is not None:
                    raise FunctionError("incompatible types for comparison")
                continue
            if first == other:
                return True
            continue
        if first is None or other is None:
            if first is None and other is None:
                return True
            continue
        if type_name(first) != type_name(other):
            raise FunctionError(
                f"non-comparable types {format_v(first)}: {type_name(first)}, "
                f"{type_name(other)}: {format_v(other)}"
            )
        if kind1 in ("slice", "map"):
            raise FunctionError(f"non-comparable type {format_v(first)}: {type_name(first)}")
        if first == other:
            return True
    return False


def _ne(first: Any, second: Any) -> bool:
    return not _eq(first, second)


def _lt(first: Any, second: Any) -> bool:
    kind1, kind2 = kind(first), kind(second)
    if kind1 not in _BASIC or kind2 not in _BASIC or kind1 == "bool" or kind2 == "bool":
        raise FunctionError("invalid type for comparison")
    if kind1 != kind2:
        raise FunctionError("incompatible types for comparison")
    return bool(first < second)


def _le(first: Any, second: Any) -> bool:
    return _lt(first, second) or _eq(first, second)


def _gt(first: Any, second: Any) -> bool:
    return not _le(first, second)


def _ge(first: Any, second: Any) -> bool:
    return not _lt(first, second)


# --- len, index, slice ------------------------------------------------------------


def _len(item: Any) -> int:
    if isinstance(item, str):
        return len(item.encode("utf-8", "surrogatepass"))
    if isinstance(item, tuple | list | Mapping):
        return len(item)
    if item is None:
        raise FunctionError("len of nil pointer")
    raise FunctionError(f"len of type {type_name(item)}")


def _position(index: Any, length: int, limit: int) -> int:
    if index is None:
        raise FunctionError("cannot index slice/array with nil")
    if type(index) is not int:
        raise FunctionError(f"cannot index slice/array with type {type_name(index)}")
    if index < 0 or index > limit:
        raise FunctionError(f"index out of range: {index}")
    return index


def _index(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise FunctionError("index of untyped nil")
    for index in indexes:
        if isinstance(item, str):
            data = item.encode("utf-8", "surrogatepass")
            position = _position(index, len(data), len(data) - 1)
            item = data[position]
        elif isinstance(item, tuple | list):
            item = item[_position(index, len(item), len(item) - 1)]
        elif isinstance(item, Mapping):
            item = _map_index(item, index)
        else:
            raise FunctionError(f"can't index item of type {type_name(item)}")
    return item


def _map_index(mapping: Mapping[Any, Any], key: Any) -> Any:
    key_type = mapping.key_type if isinstance(mapping, GoMap) else "string"
    if key is None:
        raise FunctionError(f"value is nil; should be of type {key_type}")
    if type_name(key) != key_type:
        raise FunctionError(f"value has type {type_name(key)}; should be {key_type}")
    if key in mapping:
        return mapping[key]
    return mapping.zero if isinstance(mapping, GoMap) else None


def _slice(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise FunctionError("slice of untyped nil")
    if len(indexes) > 3:
        raise FunctionError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FunctionError("cannot 3-index slice a string")
        data = item.encode("utf-8", "surrogatepass")
        low, high = _bounds(indexes, len(data))
        return data[low:high].decode("utf-8", "replace")
    if isinstance(item, tuple | list):
        low, high = _bounds(indexes, len(item))
        sliced = item[low:high]
        return GoSlice(sliced, item.go_type) if isinstance(item, GoSlice) else tuple(sliced)
    raise FunctionError(f"can't slice item of type {type_name(item)}")


def _bounds(indexes: tuple[Any, ...], length: int) -> tuple[int, int]:
    bounds = [0, length, length]
    for number, index in enumerate(indexes):
        bounds[number] = _position(index, length, length)
    if bounds[0] > bounds[1]:
        raise FunctionError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    if len(indexes) == 3 and bounds[1] > bounds[2]:
        raise FunctionError(f"invalid slice index: {bounds[1]} > {bounds[2]}")
    return bounds[0], bounds[1]


def _printf(fmt: str, *args: Any) -> str:
    try:
        return sprintf(fmt, args)
    except UnsupportedFormat as err:
        raise FunctionError(str(err)) from err


# --- Sprig strings ---------------------------------------------------------------

# Go's unicode.IsSpace: ASCII white space, NEL, NBSP and the Z categories.
_GO_SPACE: Final = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _map_case(text: str, convert: Callable[[str], str]) -> str:
    """Per-character case mapping: Go maps rune to rune, never 'ß' to 'SS'."""
    out = []
    for char in text:
        mapped = convert(char)
        out.append(mapped if len(mapped) == 1 else char)
    return "".join(out)


def _is_separator(char: str) -> bool:
    """Go's strings.Title word separator rule."""
    if char.isascii():
        return not (char.isalnum() or char == "_")
    if char.isalpha() or char.isdigit():
        return False
    return char in _GO_SPACE


def _title(text: str) -> str:
    out = []
    previous = " "
    for char in text:
        out.append(_map_case(char, str.title) if _is_separator(previous) else char)
        previous = char
    return "".join(out)


def strval(value: Any) -> str:
    """Sprig's strval: strings as is, Stringers by String(), the rest by %v."""
    return value if isinstance(value, str) else format_v(value)


def _strslice(value: Any) -> list[str]:
    if isinstance(value, tuple | list):
        return [strval(item) for item in value if item is not None]
    if value is None:
        return []
    return [strval(value)]


def _quote(*values: Any) -> str:
    return " ".join(go_quote(strval(value)) for value in values if value is not None)


def _squote(*values: Any) -> str:
    return " ".join(f"'{strval(value)}'" for value in values if value is not None)


def empty(value: Any) -> bool:
    """Sprig's empty: nil, false, 0, and empty strings, slices and maps."""
    family = kind(value)
    if family in ("invalid", "nil"):
        return True
    if isinstance(value, GoStruct):
        return False
    return not truth(value)


def _default(default: Any, *given: Any) -> Any:
    if not given or empty(given[0]):
        return default
    return given[0]


def _trunc(count: int, text: str) -> str:
    data = text.encode("utf-8", "surrogatepass")
    if count < 0 and len(data) + count > 0:
        data = data[len(data) + count :]
    elif 0 <= count < len(data):
        data = data[:count]
    return data.decode("utf-8", "replace")


def _indent(spaces: int, text: str) -> str:
    if spaces < 0:
        raise FunctionError("strings: negative Repeat count")
    if spaces > MAX_WIDTH:
        raise FunctionError(f"indent {spaces} is larger than {MAX_WIDTH}")
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def _nindent(spaces: int, text: str) -> str:
    return "\n" + _indent(spaces, text)


def _and(*values: Any) -> Any:  # evaluated lazily by the executor; kept for arity checks
    raise AssertionError("and/or are evaluated by the executor")


_S, _A, _I, _B = "string", "any", "int", "bool"


def _sprig(impl: Callable[..., Any]) -> Callable[..., Any]:
    """A `sprig` function whose `SprigError` becomes the executor's `FunctionError`."""

    def call(*args: Any) -> Any:
        try:
            return impl(*args)
        except sprig.SprigError as err:
            raise FunctionError(str(err)) from err

    return call


_MORE_SPRIG: Final = (
    ("sha1sum", (_S,), None, sprig.sha1sum),
    ("sha256sum", (_S,), None, sprig.sha256sum),
    ("adler32sum", (_S,), None, sprig.adler32sum),
    ("b64enc", (_S,), None, sprig.b64enc),
    ("b64dec", (_S,), None, sprig.b64dec),
    ("b32enc", (_S,), None, sprig.b32enc),
    ("b32dec", (_S,), None, sprig.b32dec),
    ("trimAll", (_S, _S), None, sprig.trim_all),
    ("repeat", (_I, _S), None, sprig.repeat),
    ("nospace", (_S,), None, sprig.nospace),
    ("cat", (), _A, sprig.cat),
    ("substr", (_I, _I, _S), None, sprig.substr),
    ("splitList", (_S, _S), None, sprig.split_list),
    ("list", (), _A, sprig.make_list),
    ("first", (_A,), None, sprig.first),
    ("last", (_A,), None, sprig.last),
    ("has", (_A, _A), None, sprig.has),
    ("uniq", (_A,), None, sprig.uniq),
    ("sortAlpha", (_A,), None, sprig.sort_alpha),
    ("ternary", (_A, _A, _B), None, sprig.ternary),
    ("coalesce", (), _A, sprig.coalesce),
    ("regexMatch", (_S, _S), None, sprig.regex_match),
    ("regexFind", (_S, _S), None, sprig.regex_find),
)

FUNCTIONS: Final[Mapping[str, Function]] = {
    function.name: function
    for function in (
        # Go builtins
        Function("and", (_A,), _A, _and, lazy=True),
        Function("or", (_A,), _A, _and, lazy=True),
        Function("not", (_A,), None, lambda value: not truth(value)),
        Function("eq", (_A,), _A, _eq),
        Function("ne", (_A, _A), None, _ne),
        Function("lt", (_A, _A), None, _lt),
        Function("le", (_A, _A), None, _le),
        Function("gt", (_A, _A), None, _gt),
        Function("ge", (_A, _A), None, _ge),
        Function("len", (_A,), None, _len),
        Function("index", (_A,), _A, _index),
        Function("slice", (_A,), _A, _slice),
        Function("print", (), _A, lambda *args: sprint(args)),
        Function("printf", (_S,), _A, _printf),
        Function("println", (), _A, lambda *args: sprintln(args)),
        # Sprig
        Function("lower", (_S,), None, lambda text: _map_case(text, str.lower)),
        Function("upper", (_S,), None, lambda text: _map_case(text, str.upper)),
        Function("title", (_S,), None, _title),
        Function("trim", (_S,), None, lambda text: text.strip(_GO_SPACE)),
        Function("trimPrefix", (_S, _S), None, lambda prefix, text: text.removeprefix(prefix)),
        Function("trimSuffix", (_S, _S), None, lambda suffix, text: text.removesuffix(suffix)),
        Function("contains", (_S, _S), None, lambda part, text: part in text),
        Function("hasPrefix", (_S, _S), None, lambda prefix, text: text.startswith(prefix)),
        Function("hasSuffix", (_S, _S), None, lambda suffix, text: text.endswith(suffix)),
        Function("replace", (_S, _S, _S), None, lambda old, new, text: text.replace(old, new)),
        Function("join", (_S, _A), None, lambda sep, items: sep.join(_strslice(items))),
        Function("quote", (), _A, _quote),
        Function("squote", (), _A, _squote),
        Function("default", (_A,), _A, _default),
        Function("empty", (_A,), None, empty),
        Function("trunc", (_I, _S), None, _trunc),
        Function("indent", (_I, _S), None, _indent),
        Function("nindent", (_I, _S), None, _nindent),
        Function("toString", (_A,), None, strval),
        *(
            Function(name, params, variadic, _sprig(impl))
            for name, params, variadic, impl in _MORE_SPRIG
        ),
    )
}

_GO_BUILTINS_NOT_SUPPORTED: Final = frozenset({"call", "html", "js", "urlquery"})


def unknown_function(name: str) -> str:
    """The parse error for a function we do not have."""
    if name in _GO_BUILTINS_NOT_SUPPORTED:
        return f"function {go_quote(name)} is not supported"
    return (
        f"function {go_quote(name)} not defined (a Go builtin or Sprig function this tool does not "
        "support; see docs/templates.md)"
    )


def check_argument(function: Function, number: int, value: Any) -> Any:
    """`value` for parameter `number` (0-based), converted or refused like Go's evalArg."""
    params = function.params
    wanted = params[number] if number < len(params) else function.variadic
    if wanted == _A:
        return None if value is NO_VALUE else value
    if value is NO_VALUE or value is None:
        raise FunctionError(f"invalid value; expected {wanted}")
    if wanted == _S and isinstance(value, str):
        return value
    if wanted == _I and type(value) is int:
        return value
    if wanted == _B and type(value) is bool:
        return value
    raise FunctionError(f"wrong type for value; expected {wanted}; got {type_name(value)}")
