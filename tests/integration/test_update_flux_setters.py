"""Flux's own setter test tree, in shape: `update` must give its result byte for byte.

tests/golden/update/flux-setters/ is our own tree in the shape of Flux's
`TestUpdateWithSetters` fixture: a file named `Kustomization` (no extension)
with name, tag and digest markers, a block-scalar patch whose marker-like
text is content, a full marker set to `IMAGE:TAG@DIGEST`, and a CronJob. Here
a dangling symlink is added too (git cannot carry one portably into a
copytree): Flux's reader passes over it, and so must we.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "update" / "flux-setters"
CLI = Path(sys.executable).with_name("gitops-action")


def _files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def _sets() -> list[str]:
    lines = (GOLDEN / "args.txt").read_text().splitlines()
    return [arg for line in lines if line.strip() for arg in ("--set", line.strip())]


def test_flux_setter_tree_updates_byte_for_byte(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(GOLDEN / "input", tree)
    os.symlink("does-not-exist.yaml", tree / "dangling.yaml")

    done = subprocess.run(
        [str(CLI), "update", str(tree), *_sets()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert _files(tree) == _files(GOLDEN / "expected")
    assert done.stdout.splitlines() == ["Kustomization", "marked.yaml"]
    assert "updated 5 markers in 2 files" in done.stderr
    assert os.readlink(tree / "dangling.yaml") == "does-not-exist.yaml"
    assert not (tree / "dangling.yaml").exists()
    kustomization = (tree / "Kustomization").read_text()
    # The block scalar's marker-like line is content: never rewritten.
    assert 'value: app:v0.9.0 # {"$imagepolicy": "automation-ns:policy"}' in kustomization
