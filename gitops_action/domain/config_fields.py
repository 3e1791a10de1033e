"""Reading typed fields out of a Kubernetes object's plain dict, with exact error paths.

The config objects come from YAML as plain dicts. Every read here checks the
type the CRD schema requires and, when it is wrong or missing, raises
`InvalidConfig` naming the file, document, object and field path
(``spec.exclusionList[2]``), so the user can go straight to the line.

Also here: the value types those fields parse into (`Duration`,
`LabelSelector`) and Kubernetes name rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from gitops_action.domain.errors import InvalidConfig

# Kubernetes names: a DNS-1123 subdomain for objects, a DNS-1123 label for namespaces.
_SUBDOMAIN: Final = re.compile(
    r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*"
)
_LABEL: Final = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
# The CRDs' duration pattern (Go time.ParseDuration units a Flux interval may use).
_DURATION: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+")
_DURATION_PART: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Duration:
    """A Flux duration (``30s``, ``1h30m``) as written and in seconds."""

    text: str
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Duration | None:
        if not _DURATION.fullmatch(text):
            return None
        seconds = sum(
            float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text)
        )
        return cls(text, seconds)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Requirement:
    """One ``matchExpressions`` entry of a label selector."""

    key: str
    operator: str
    values: tuple[str, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "In":
            return labels.get(self.key) in self.values
        if self.operator == "NotIn":
            return labels.get(self.key) not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist


@dataclass(frozen=True)
class LabelSelector:
    """A Kubernetes label selector (``matchLabels`` AND ``matchExpressions``)."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Empty selects everything, as ``matchLabels: {}`` does in Kubernetes."""
        if any(labels.get(key) != value for key, value in self.match_labels):
            return False
        return all(requirement.matches(labels) for requirement in self.match_expressions)


_OPERATORS: Final = ("In", "NotIn", "Exists", "DoesNotExist")


_TYPE_NAMES: Final = (
    (bool, "a boolean"),
    (int, "a number"),
    (float, "a number"),
    (str, "a string"),
    (list, "a list"),
    (Mapping, "a mapping"),
)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    for python_type, name in _TYPE_NAMES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


class Fields:
    """Typed access to one mapping of an object, failing with `prefix: path: message`."""

    def __init__(self, prefix: str, data: Mapping[str, Any], path: str = "") -> None:
        self.prefix = prefix
        self.data = data
        self.path = path

    def fail(self, key: str | None, message: str) -> InvalidConfig:
        """An `InvalidConfig` for `key` under this mapping (the mapping itself when None)."""
        where = self.at(key) if key is not None else self.path
        return InvalidConfig(
            f"{self.prefix}: {where}: {message}" if where else f"{self.prefix}: {message}"
        )

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, required: bool, what: str) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise self.fail(key, f"required field is missing (expected {what})")
        return value

    def mapping(self, key: str, *, required: bool = False) -> Fields | None:
        value = self._get(key, required, "a mapping")
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a mapping, not {_type_name(value)}")
        return Fields(self.prefix, value, self.at(key))

    def required_mapping(self, key: str) -> Fields:
        found = self.mapping(key, required=True)
        assert found is not None
        return found

    def string(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self._get(key, required, "a string")
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_type_name(value)}")
        if required and not value:
            raise self.fail(key, "must not be empty")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self.string(key)
        return value or None

    def boolean(self, key: str, *, default: bool = False) -> bool:
        value = self._get(key, False, "a boolean")
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_type_name(value)} ({value!r})")
        return value

    def string_list(self, key: str) -> tuple[str, ...] | None:
        value = self._get(key, False, "a list of strings")
        if value is None:
            return None
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of strings, not {_type_name(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{key}[{index}]", f"must be a string, not {_type_name(item)}")
        return tuple(value)

    def string_map(self, key: str) -> dict[str, str]:
        value = self._get(key, False, "a mapping of strings")
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a mapping of strings, not {_type_name(value)}")
        for item_key, item in value.items():
            if not isinstance(item_key, str) or not isinstance(item, str):
                raise self.fail(
                    f"{key}.{item_key}", f"must be a string, not {_type_name(item)} ({item!r})"
                )
        return dict(value)

    def duration(self, key: str, *, required: bool = False) -> Duration | None:
        text = self.string(key, required=required)
        if not text:
            return None
        parsed = Duration.parse(text)
        if parsed is None:
            raise self.fail(key, f"invalid duration {text!r} (expected e.g. 30s, 5m, 1h30m)")
        return parsed

    def selector(self, key: str) -> LabelSelector | None:
        fields = self.mapping(key)
        if fields is None:
            return None
        labels = fields.string_map("matchLabels")
        expressions = fields._get("matchExpressions", False, "a list")
        if expressions is not None and not isinstance(expressions, list):
            raise fields.fail("matchExpressions", f"must be a list, not {_type_name(expressions)}")
        requirements = tuple(
            _requirement(fields, index, item) for index, item in enumerate(expressions or [])
        )
        return LabelSelector(tuple(sorted(labels.items())), requirements)


def _requirement(fields: Fields, index: int, item: Any) -> Requirement:
    where = f"matchExpressions[{index}]"
    if not isinstance(item, Mapping):
        raise fields.fail(where, f"must be a mapping, not {_type_name(item)}")
    entry = Fields(fields.prefix, item, fields.at(where))
    key = entry.string("key", required=True)
    operator = entry.string("operator", required=True)
    if operator not in _OPERATORS:
        raise entry.fail(
            "operator", f"unknown operator {operator!r} (expected {', '.join(_OPERATORS)})"
        )
    values = entry.string_list("values") or ()
    if operator in ("In", "NotIn") and not values:
        raise entry.fail("values", f"must not be empty for operator {operator}")
    if operator in ("Exists", "DoesNotExist") and values:
        raise entry.fail("values", f"must be empty for operator {operator}")
    return Requirement(key, operator, values)


def check_name(fields: Fields, key: str, value: str, namespace: bool = False) -> None:
    """Refuse names Kubernetes would refuse (and that a marker could not name)."""
    pattern, limit, what = (
        (_LABEL, 63, "DNS label") if namespace else (_SUBDOMAIN, 253, "DNS subdomain")
    )
    if len(value) > limit or not pattern.fullmatch(value):
        raise fields.fail(
            key,
            f"{value!r} is not a valid Kubernetes name (a {what}: lower-case letters, digits, "
            f"'-'{'' if namespace else ' and .'}, at most {limit} characters)",
        )
