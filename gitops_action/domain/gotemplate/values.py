"""Go values as a template sees them, modelled with a few Python types.

Go templates reflect over typed data; Python data has no static types, so the
data handed to a template is built from these:

- `str`, `bool`, `int`, `float`: Go's string, bool, int and float64;
- `None`: a nil interface (what a missing value becomes when passed to a function);
- `NO_VALUE`: Go's invalid `reflect.Value`, the result of a missing map key,
  which an action prints as ``<no value>``;
- `GoSlice`: a Go slice (a tuple that knows its Go type name);
- `GoMap`: a Go map (knows its key and element type names, and its zero value,
  which `index` returns for a missing key);
- `GoStruct`: a struct or interface value; subclasses declare their exported
  fields, niladic methods and embedded fields, and may be Stringers.

Type names (``update.Change``) only appear in error messages and `%!verb(...)`
output, where Go shows them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Final


class NoValue:
    """Go's invalid reflect.Value (the singleton `NO_VALUE`)."""

    _instance: ClassVar[NoValue | None] = None

    def __new__(cls) -> NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE: Final = NoValue()


class GoStruct:
    """A Go struct (or an interface holding one) exposed to templates.

    `go_fields` are printed by fmt in this order and can be read as ``.Field``;
    `go_methods` are niladic methods a template may call as ``.Method``;
    `go_embedded` are fields whose own fields and methods are promoted, as Go's
    embedding does. A subclass that is a `fmt.Stringer` overrides `go_string`.
    """

    go_type: ClassVar[str] = "struct"
    go_fields: ClassVar[tuple[str, ...]] = ()
    go_methods: ClassVar[tuple[str, ...]] = ()
    go_embedded: ClassVar[tuple[str, ...]] = ()

    def go_string(self) -> str | None:
        """The `String()` result for a Stringer, None for a plain struct."""
        return None

    def go_lookup(self, name: str) -> tuple[bool, Any]:
        """(found, value) for ``.name``: a field, a method's result, or a promoted one."""
        if name in self.go_fields:
            return True, getattr(self, name)
        if name in self.go_methods:
            method: Callable[[], Any] = getattr(self, name)
            return True, method()
        for embedded in self.go_embedded:
            inner = getattr(self, embedded)
            if isinstance(inner, GoStruct):
                found, value = inner.go_lookup(name)
                if found:
                    return True, value
        return False, None

    def go_field_values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.go_fields)

    def go_sort_key(self) -> tuple[Any, ...]:
        """Go's fmtsort order for struct map keys: field by field."""
        return tuple(sort_key(value) for value in self.go_field_values())

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.go_field_values() == other.go_field_values()

    def __hash__(self) -> int:
        return hash((type(self), self.go_field_values()))

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{n}={v!r}" for n, v in zip(self.go_fields, self.go_field_values(), strict=True)
        )
        return f"{type(self).__name__}({fields})"


class GoSlice(tuple[Any, ...]):
    """A Go slice: a tuple plus its Go type name (``[]update.Change``)."""

    go_type: str

    def __new__(cls, items: Any = (), go_type: str = "[]interface {}") -> GoSlice:
        self = super().__new__(cls, items)
        self.go_type = go_type
        return self


class GoMap(Mapping[Any, Any]):
    """A Go map: iterates in Go's sorted-key order and knows its zero value.

    `key_type` is ``string`` or a `GoStruct` type name; `zero` is what `index`
    returns for a missing key (Go returns the element type's zero value).
    """

    def __init__(
        self,
        items: Mapping[Any, Any],
        *,
        go_type: str = "map[string]interface {}",
        key_type: str = "string",
        zero: Any = None,
    ) -> None:
        self._items = dict(sorted(items.items(), key=lambda item: sort_key(item[0])))
        self.go_type = go_type
        self.key_type = key_type
        self.zero = zero

    def __getitem__(self, key: Any) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"GoMap({self._items!r})"


def sort_key(value: Any) -> Any:
    """Go's map key order: strings by bytes (= code points), numbers by value, structs by field."""
    if isinstance(value, GoStruct):
        return value.go_sort_key()
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))


# (Python type, Go kind, Go type name), tried in order: bool before int, as bool is an int.
_TYPES: Final = (
    (bool, "bool", "bool"),
    (int, "int", "int"),
    (float, "float", "float64"),
    (str, "string", "string"),
    (GoStruct, "struct", ""),
    (tuple, "slice", "[]interface {}"),
    (list, "slice", "[]interface {}"),
    (Mapping, "map", "map[string]interface {}"),
)


def _classify(value: Any) -> tuple[str, str]:
    """(kind, type name) of a value."""
    if value is NO_VALUE:
        return "invalid", "<no value>"
    if value is None:
        return "nil", "<nil>"
    for python_type, family, name in _TYPES:
        if isinstance(value, python_type):
            return family, getattr(value, "go_type", name)
    return "struct", type(value).__name__


def type_name(value: Any) -> str:
    """The Go type name of a value, for messages and `%!verb(type=value)`."""
    return _classify(value)[1]


def kind(value: Any) -> str:
    """Go's reflect.Kind family: invalid, nil, bool, int, float, string, slice, map, struct."""
    return _classify(value)[0]


def truth(value: Any) -> bool:
    """Go template truthiness: false, 0, nil, no value and empty string/slice/map are false.

    Structs are always true, as in Go.
    """
    family = kind(value)
    if family in ("invalid", "nil"):
        return False
    if family in ("bool", "int", "float"):
        return bool(value)
    if family in ("string", "slice", "map"):
        return len(value) > 0
    return True
