"""Staging a source and building paths with the real kustomize (tools/kustomize)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from gitops_action.adapters import kustomize
from gitops_action.domain.errors import InvalidSyncInput


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())


def cm(name: str, extra: str = "") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{extra}"


def binary() -> str:
    return os.environ[kustomize.ENV_BINARY]


def build(stage: Path, rel: str, overlay: dict[str, object] | None = None) -> kustomize.Built:
    name, generated = kustomize.prepare(stage, rel, overlay or {})
    return kustomize.build(binary(), stage, rel, name, generated)


def test_staging_leaves_out_what_flux_leaves_out(tmp_path: Path) -> None:
    write(tmp_path, "apps/a.yaml", cm("a"))
    write(tmp_path, ".github/workflows/ci.yaml", "on: push\njobs: {}\n")
    write(tmp_path, "docs/logo.png", "png")
    write(tmp_path, ".sourceignore", "scratch/\n")
    write(tmp_path, "scratch/x.yaml", cm("x"))
    with kustomize.staged(tmp_path) as stage:
        files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    assert files == [".sourceignore", "apps/a.yaml"]


def test_a_git_work_tree_is_staged_from_what_git_holds(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, ".gitignore", "build/\n")
    write(tmp_path, "apps/a.yaml", cm("a"))
    write(tmp_path, "build/out.yaml", cm("out"))
    with kustomize.staged(tmp_path) as stage:
        files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    assert files == ["apps/a.yaml"]


def test_generated_kustomization_lists_files_and_kustomized_dirs_not_charts(
    tmp_path: Path,
) -> None:
    write(tmp_path, "app/a.yaml", cm("a"))
    write(tmp_path, "app/nested/b.yaml", cm("b"))
    write(tmp_path, "app/base/kustomization.yaml", "resources: [c.yaml]\n")
    write(tmp_path, "app/base/c.yaml", cm("c"))
    write(tmp_path, "app/base/ignored-by-its-kustomization.yaml", cm("not-listed"))
    write(tmp_path, "app/chart/Chart.yaml", "name: web\nversion: 1.0.0\n")
    write(tmp_path, "app/chart/templates/d.yaml", "{{ .Values.x }}\n")
    with kustomize.staged(tmp_path) as stage:
        built = build(stage, "app")
    assert built.generated
    where = {doc["metadata"]["name"]: str(loc) for loc, doc in built.objects}
    assert where == {
        "a": "app/a.yaml: document 1",
        "b": "app/nested/b.yaml: document 1",
        "c": "app/base/c.yaml: document 1",
    }
    assert all("annotations" not in doc["metadata"] for _loc, doc in built.objects)


def test_flux_fields_are_merged_and_documents_are_located(tmp_path: Path) -> None:
    write(tmp_path, "app/kustomization.yaml", "resources: [two.yaml]\n")
    write(tmp_path, "app/two.yaml", cm("first") + "---\n" + cm("second"))
    overlay = {"namespace": "web", "namePrefix": "p-"}
    with kustomize.staged(tmp_path) as stage:
        built = build(stage, "app", overlay)
    found = sorted(
        (doc["metadata"]["namespace"], doc["metadata"]["name"], str(loc))
        for loc, doc in built.objects
    )
    assert found == [
        ("web", "p-first", "app/two.yaml: document 1"),
        ("web", "p-second", "app/two.yaml: document 2"),
    ]


def test_generated_files_are_checked_by_document(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", cm("same"))
    write(tmp_path, "b.yaml", cm("same") + "---\napiVersion: v1\nmetadata: {name: x}\n")
    with kustomize.staged(tmp_path) as stage, pytest.raises(InvalidSyncInput) as caught:
        build(stage, ".")
    assert str(caught.value) == (
        "ConfigMap same is defined twice: a.yaml: document 1 and b.yaml: document 1; "
        "b.yaml: document 2: missing kind"
    )


@pytest.mark.parametrize(
    "entry",
    [
        "https://github.com/o/r//deploy",
        "github.com/o/r/deploy?ref=v1",
        "git@github.com:o/r.git",
        "ssh://git@host/r",
        "../../outside",
    ],
)
def test_remote_or_escaping_bases_are_refused_before_kustomize_runs(
    tmp_path: Path, entry: str
) -> None:
    write(tmp_path, "app/kustomization.yaml", f"resources:\n  - {entry}\n")
    with kustomize.staged(tmp_path) as stage:
        problems = kustomize.check_references(stage)
    assert len(problems) == 1
    assert problems[0].startswith(f"app/kustomization.yaml: resources entry {entry!r} ")


def test_kustomize_errors_name_the_path(tmp_path: Path) -> None:
    write(tmp_path, "app/kustomization.yaml", "resources: [missing.yaml]\n")
    with kustomize.staged(tmp_path) as stage, pytest.raises(kustomize.KustomizeBuildError) as err:
        build(stage, "app")
    assert str(err.value).startswith("kustomize build app failed: Error: ")
    assert "missing.yaml" in str(err.value)
    assert "gitops-action-source-" not in str(err.value)
