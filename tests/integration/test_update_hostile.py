"""`update` on hostile input: never a traceback, never a broken file written (issue 14)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

CLI = Path(sys.executable).with_name("gitops-action")
MARKER = '# {"$imagepolicy": "apps:app"}'


def _update(tree: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "update", str(tree), "--set", "apps:app=example.com/app:v2", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "text",
    [
        f"c1: &x {MARKER}\nc2: *x\n",
        f"image: !!str {MARKER}\nother: 1\n",
        f"- &x {MARKER}\n- b\n",
        f"a: &x !!str {MARKER}\nb: 1\n",
    ],
    ids=["anchor", "tag", "anchored-item", "anchor-and-tag"],
)
def test_an_empty_anchored_or_tagged_marked_scalar_never_breaks_the_file(
    tmp_path: Path, text: str
) -> None:
    (tmp_path / "m.yaml").write_text(text)
    done = _update(tmp_path)
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stderr
    written = (tmp_path / "m.yaml").read_text()
    assert list(yaml.safe_load_all(written)) == list(yaml.safe_load_all(text))


def test_a_marker_nested_thousands_deep_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "deep.yaml").write_text(
        'image: example.com/app:v1 # {"$imagepolicy": "apps:app", "x": ' + deep + "}\n"
    )
    done = _update(tmp_path, "--strict")  # without --strict: a warning, as Flux skips it
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "deep.yaml:1:" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_an_alias_bomb_next_to_a_marker_is_updated_without_expanding(tmp_path: Path) -> None:
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
    )
    (tmp_path / "bomb.yaml").write_text(f"image: example.com/app:v1 {MARKER}\n" + bomb)
    done = _update(tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "bomb.yaml").read_text().startswith(f"image: example.com/app:v2 {MARKER}")


def test_a_marked_file_over_the_size_limit_is_an_input_error(tmp_path: Path) -> None:
    filler = "# " + "x" * 1021 + "\n"
    (tmp_path / "huge.yaml").write_text(
        f"image: example.com/app:v1 {MARKER}\n" + filler * (64 * 1024 + 1)
    )
    done = _update(tmp_path, "--strict")
    assert done.returncode == 2, done.stderr[-500:]
    assert "huge.yaml" in done.stderr and "larger than the limit" in done.stderr
