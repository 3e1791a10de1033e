"""Label and field selectors, with the real grammar and its edge cases.

Label selectors: `a=b`, `a==b`, `a!=b` (also true when `a` is absent), `a` (exists),
`!a`, `a in (x,y)`, `a notin (x)` (also true when absent), `a>1`, `a<1`; terms are
ANDed by commas. Field selectors: `=`, `==`, `!=` on the fields each kind supports.
A malformed selector is a 400, as on a real server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.kubeapi import errors

_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|>|<|[A-Za-z0-9_./-]+)")
_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if not present:
            return False
        try:
            number, bound = int(str(value)), int(self.values[0])
        except ValueError:
            return False
        return number > bound if self.op == ">" else number < bound


def _tokens(text: str) -> list[str]:
    out = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise _parse_error(text, f"unexpected character {text[pos]!r}")
        out.append(match.group(1))
        pos = match.end()
    return out


def _parse_error(text: str, why: str) -> errors.ApiError:
    return errors.bad_request(f"unable to parse requirement: {why} in {text!r}")


def parse_labels(text: str) -> list[Requirement]:
    tokens = _tokens(text)
    reqs: list[Requirement] = []
    i = 0
    while i < len(tokens):
        negate = tokens[i] == "!"
        if negate:
            i += 1
        if i >= len(tokens):
            raise _parse_error(text, "missing key")
        key = tokens[i]
        _check_key(text, key)
        i += 1
        if negate:
            reqs.append(Requirement(key, "!"))
        elif i >= len(tokens) or tokens[i] == ",":
            reqs.append(Requirement(key, "exists"))
        else:
            op = tokens[i]
            i += 1
            if op in ("in", "notin"):
                values, i = _value_set(text, tokens, i)
                reqs.append(Requirement(key, op, values))
            elif op in ("=", "==", "!=", ">", "<"):
                value = ""
                if i < len(tokens) and tokens[i] != ",":
                    value = tokens[i]
                    i += 1
                _check_value(text, value)
                reqs.append(Requirement(key, "=" if op == "==" else op, (value,)))
            else:
                raise _parse_error(text, f"found '{op}', expected: in, notin, =, ==, !=, gt, lt")
        if i < len(tokens):
            if tokens[i] != ",":
                raise _parse_error(text, f"found '{tokens[i]}', expected: ','")
            i += 1
    return reqs


def _value_set(text: str, tokens: list[str], i: int) -> tuple[tuple[str, ...], int]:
    if i >= len(tokens) or tokens[i] != "(":
        raise _parse_error(text, "expected '(' after set operator")
    i += 1
    values: list[str] = []
    while i < len(tokens) and tokens[i] != ")":
        if tokens[i] != ",":
            _check_value(text, tokens[i])
            values.append(tokens[i])
        i += 1
    if i >= len(tokens):
        raise _parse_error(text, "expected ')'")
    if not values:
        raise _parse_error(text, "for 'in', 'notin' operators, values set can't be empty")
    return tuple(values), i + 1


def _check_key(text: str, key: str) -> None:
    if not _KEY.match(key) or len(key.rpartition("/")[2]) > 63:
        raise _parse_error(text, f"invalid label key {key!r}")


def _check_value(text: str, value: str) -> None:
    if not _VALUE.match(value) or len(value) > 63:
        raise _parse_error(text, f"invalid label value: {value!r}")


def label_matcher(text: str | None) -> Callable[[dict[str, Any]], bool]:
    if not text:
        return lambda obj: True
    reqs = parse_labels(text)

    def match(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r.matches(labels) for r in reqs)

    return match


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions) against labels."""
    if not selector:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        req = Requirement(
            expr.get("key", ""),
            ops.get(expr.get("operator", ""), "in"),
            tuple(expr.get("values") or ()),
        )
        if not req.matches(labels):
            return False
    return True


def selector_text(selector: dict[str, Any] | None) -> str:
    """A LabelSelector as the string form (`app=web,tier in (a,b)`), for Scale status."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key = expr.get("operator"), expr.get("key")
        values = ",".join(sorted(expr.get("values") or []))
        parts.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": f"{key}",
                "DoesNotExist": f"!{key}",
            }.get(op, "")
        )
    return ",".join(p for p in parts if p)


# Field selectors each kind supports beyond metadata.name / metadata.namespace.
_EXTRA_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "Secret": {"type": ("type",)},
    "Pod": {
        "spec.nodeName": ("spec", "nodeName"),
        "status.phase": ("status", "phase"),
        "spec.serviceAccountName": ("spec", "serviceAccountName"),
    },
    "Namespace": {"status.phase": ("status", "phase")},
    "Event": {
        "involvedObject.kind": ("involvedObject", "kind"),
        "involvedObject.name": ("involvedObject", "name"),
        "involvedObject.namespace": ("involvedObject", "namespace"),
        "involvedObject.uid": ("involvedObject", "uid"),
        "reason": ("reason",),
        "type": ("type",),
    },
}


def field_matcher(text: str | None, kind: str, custom: bool) -> Callable[[dict[str, Any]], bool]:
    if not text:
        return lambda obj: True
    extra = _EXTRA_FIELDS.get(kind, {})
    terms: list[tuple[tuple[str, ...], bool, str]] = []
    for term in text.split(","):
        parsed = re.match(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
        if not parsed:
            raise errors.bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, value = parsed.groups()
        if field in ("metadata.name", "metadata.namespace"):
            path: tuple[str, ...] = ("metadata", field.split(".")[1])
        elif field in extra:
            path = extra[field]
        elif custom:
            raise errors.bad_request(
                f'"{field}" is not a known field selector: '
                'only "metadata.name", "metadata.namespace"'
            )
        else:
            raise errors.bad_request(f"field label not supported: {field}")
        terms.append((path, op == "!=", value))

    def match(obj: dict[str, Any]) -> bool:
        for path, negate, value in terms:
            node: Any = obj
            for part in path:
                node = node.get(part) if isinstance(node, dict) else None
            actual = "" if node is None else str(node)
            if (actual == value) == negate:
                return False
        return True

    return match
