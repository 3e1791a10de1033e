"""YAML parsing and rendering for `sync` (kustomize reads the tree: tests/unit/adapters/
test_kustomize.py)."""

from __future__ import annotations

import pytest

from gitops_action.adapters.manifest_loader import parse_documents, render_unfolded, render_yaml
from gitops_action.domain.errors import InvalidManifest


def test_dates_stay_strings() -> None:
    [document] = parse_documents("a.yaml", "kind: A\ndata: {day: 2024-01-01}\n")
    assert document["data"]["day"] == "2024-01-01"


def test_empty_documents_are_kept_as_none() -> None:
    assert parse_documents("a.yaml", "# c\n---\n---\nkind: A\n") == [None, {"kind": "A"}]


def test_invalid_yaml_names_file_and_line() -> None:
    with pytest.raises(InvalidManifest, match=r"x/bad.yaml:3: invalid YAML"):
        parse_documents("x/bad.yaml", "a: 1\nb: [\n")


def test_render_yaml_keeps_key_order() -> None:
    assert render_yaml({"kind": "A", "apiVersion": "v1", "data": {"b": 1, "a": [1]}}) == (
        "kind: A\napiVersion: v1\ndata:\n  b: 1\n  a:\n  - 1\n"
    )


def test_render_unfolded_never_splits_a_long_value() -> None:
    value = "${long:=" + " ".join(["word"] * 40) + "}"
    text = render_unfolded({"data": {"v": value}, "apiVersion": "v1"})
    assert text.splitlines()[1] == "data:"
    assert value in text
