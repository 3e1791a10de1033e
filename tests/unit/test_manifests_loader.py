"""Reading manifest trees for `sync` (real files in a temp directory, no cluster)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gitops_action.adapters.manifest_loader import is_remote, load_tree, render_yaml
from gitops_action.domain.errors import InvalidManifest, InvalidSyncInput


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())


def _names(root: Path) -> list[tuple[str, str]]:
    return [(str(where), doc["metadata"]["name"]) for where, doc in load_tree(root) if doc]


def test_plain_tree_in_path_order_with_document_numbers(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "b/two.yml",
        "kind: A\nmetadata: {name: b1}\n---\n---\nkind: A\nmetadata: {name: b2}\n",
    )
    _write(tmp_path, "a.yaml", "# only a comment\n---\nkind: A\nmetadata: {name: a1}\n")
    _write(tmp_path, ".git/x.yaml", "kind: A\nmetadata: {name: hidden}\n")
    _write(tmp_path, "c.json", "{}")
    assert _names(tmp_path) == [
        ("a.yaml: document 1", "a1"),
        ("b/two.yml: document 1", "b1"),
        ("b/two.yml: document 3", "b2"),
    ]


def test_dates_stay_strings(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "kind: A\nmetadata: {name: a}\ndata:\n  day: 2024-01-01\n")
    [(_where, doc)] = load_tree(tmp_path)
    assert doc["data"]["day"] == "2024-01-01"


def test_a_single_file_can_be_synced(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "kind: A\nmetadata: {name: a}\n")
    assert [str(where) for where, _ in load_tree(tmp_path / "a.yaml")] == ["a.yaml: document 1"]
    with pytest.raises(InvalidSyncInput, match="no such file"):
        load_tree(tmp_path / "missing.yaml")


def test_shared_base_is_read_once(tmp_path: Path) -> None:
    _write(tmp_path, "base/kustomization.yaml", "resources: [cm.yaml]\n")
    _write(tmp_path, "base/cm.yaml", "kind: A\nmetadata: {name: base}\n")
    _write(tmp_path, "one/kustomization.yaml", "resources: [../base]\n")
    _write(tmp_path, "two/kustomization.yml", "bases: [../base]\n")
    assert _names(tmp_path) == [("base/cm.yaml: document 1", "base")]


def test_kustomization_cycles_and_missing_entries_are_named(tmp_path: Path) -> None:
    _write(tmp_path, "a/kustomization.yaml", "resources: [../b]\n")
    _write(tmp_path, "b/kustomization.yaml", "resources: [../a]\n")
    with pytest.raises(InvalidSyncInput, match="kustomization cycle"):
        load_tree(tmp_path / "a")
    _write(tmp_path, "c/kustomization.yaml", "resources: [nothere.yaml]\n")
    with pytest.raises(
        InvalidSyncInput,
        match=r"^kustomization.yaml: resources entry "
        r"'nothere.yaml' does not exist",
    ):
        load_tree(tmp_path / "c")


@pytest.mark.parametrize(
    "field", ["patches", "images", "namePrefix", "configMapGenerator", "namespace", "components"]
)
def test_other_kustomize_fields_are_refused_by_name(tmp_path: Path, field: str) -> None:
    _write(tmp_path, "kustomization.yaml", f"resources: []\n{field}: x\n")
    with pytest.raises(InvalidSyncInput, match=f"kustomize field '{field}' is not supported"):
        load_tree(tmp_path)


def test_a_flux_kustomization_named_so_is_a_manifest(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "kustomization.yaml",
        """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: apps}
        """,
    )
    _write(tmp_path, "other.yaml", "kind: A\nmetadata: {name: other}\n")
    assert [name for _, name in _names(tmp_path)] == ["apps", "other"]


@pytest.mark.parametrize(
    ("entry", "remote"),
    [
        ("https://github.com/o/r//deploy", True),
        ("github.com/o/r/deploy?ref=v1", True),
        ("git@github.com:o/r.git", True),
        ("ssh://git@host/r", True),
        ("base?version=v1", True),
        ("../base", False),
        ("deploy.yaml", False),
        ("./sub/dir", False),
    ],
)
def test_remote_entries(entry: str, remote: bool) -> None:
    assert is_remote(entry) is remote


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "x/bad.yaml", "a: 1\nb: [\n")
    with pytest.raises(InvalidManifest, match=r"x/bad.yaml:3: invalid YAML"):
        load_tree(tmp_path)


def test_render_yaml_keeps_key_order() -> None:
    assert render_yaml({"kind": "A", "apiVersion": "v1", "data": {"b": 1, "a": [1]}}) == (
        "kind: A\napiVersion: v1\ndata:\n  b: 1\n  a:\n  - 1\n"
    )
