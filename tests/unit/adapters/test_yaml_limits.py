"""YAML from the config repo is refused, naming the file, when it is a bomb, a cycle or too deep."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gitops_action.adapters.config_loader import load_config
from gitops_action.adapters.yaml_limits import MAX_DEPTH
from gitops_action.domain.errors import InvalidManifest

POLICY = """\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: app
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: app
  policy:
    semver:
      range: ">=1.0.0"
"""


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """~1 KB that expands to width**levels nodes."""
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    return "".join("  " * level + f"k{level}:\n" for level in range(depth)) + "  " * depth + "x\n"


def _load(tmp_path: Path, extra: str) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "hostile.yaml").write_text(
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\n"
        "metadata:\n  name: app\n  namespace: flux-system\nspec:\n  image: a/b\n"
        "  interval: 1m\n" + extra.replace("\n", "\n  ").join(["  extra:\n  ", "\n"])
    )
    load_config(tmp_path)


def test_an_alias_bomb_is_refused_naming_the_file(tmp_path: Path) -> None:
    assert len(alias_bomb()) < 1200
    with pytest.raises(InvalidManifest, match=r"hostile\.yaml:\d+: .*alias bomb"):
        _load(tmp_path, alias_bomb())


def test_an_alias_cycle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidManifest, match=r"hostile\.yaml:\d+: .*cycle"):
        _load(tmp_path, "loop: &loop [1, *loop]\n")


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidManifest, match=rf"hostile\.yaml:\d+: .*deeper than {MAX_DEPTH}"):
        _load(tmp_path, nested(500))


def test_ordinary_aliases_and_nesting_still_load(tmp_path: Path) -> None:
    _load(tmp_path, "base: &b {a: 1}\nuse: *b\n" + nested(40))


def test_the_check_bounds_memory_in_a_real_process(tmp_path: Path) -> None:
    """A bomb is refused by a process capped at 512 MiB, as the CronJob is."""
    (tmp_path / "bomb.yaml").write_text("kind: ConfigMap\napiVersion: v1\ndata:\n  " +
                                        alias_bomb().replace("\n", "\n  "))  # fmt: skip
    code = (
        "import resource, json, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))\n"
        "from gitops_action.adapters.config_loader import parse_chunk\n"
        "from gitops_action.domain.errors import InvalidManifest\n"
        "try:\n"
        "    data, _ = parse_chunk('bomb.yaml', open(sys.argv[1]).read(), 0)\n"
        "    json.dumps(data)\n"
        "except InvalidManifest as error:\n"
        "    print(error); sys.exit(7)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "bomb.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 7, done.stderr[-500:]
    assert "bomb.yaml" in done.stdout
