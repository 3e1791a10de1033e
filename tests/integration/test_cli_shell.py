"""The CLI shell as a user meets it: help, version, usage errors, lazy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "gitops-action"
REPO = Path(__file__).resolve().parents[2]
HEAVY = ("kubernetes", "docker", "github", "httpx")


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_help_lists_every_registered_command() -> None:
    from gitops_action.cli import COMMANDS

    result = run("--help")
    assert result.returncode == 0
    flat = " ".join(result.stdout.split())  # click wraps long summaries
    for name, entry in COMMANDS.items():
        assert f" {name} " in flat
        assert " ".join(entry.summary.split()) in flat


def test_version() -> None:
    from gitops_action import __version__

    result = run("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run("no-such-command")
    assert result.returncode == 2
    assert "no-such-command" in result.stderr


def test_entrypoint_py_is_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "entrypoint.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "policy" in result.stdout


LOADED = """
import sys
from gitops_action.cli import main
sys.argv = ["gitops-action", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as done:
    code = done.code
print(f"EXIT={code}", file=sys.stderr)
heavy = sorted({m.split(".")[0] for m in sys.modules} & set({heavy!r}))
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
""".replace("{heavy!r}", repr(HEAVY))


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["--help"], ""),
        (["policy", "select", "--semver", "^1.0.0"], "v1.0.0\n"),
        (["update", "{tmp}", "--set", "ns:app=img:v1"], ""),
    ],
    ids=["help", "policy-select", "update"],
)
def test_fast_commands_do_not_load_heavy_clients(
    args: list[str], stdin: str, tmp_path: Path
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = subprocess.run(
        [sys.executable, "-c", LOADED, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    heavy_line = [line for line in result.stderr.splitlines() if line.startswith("HEAVY=")]
    assert heavy_line == ["HEAVY="], result.stderr
    assert "EXIT=0" in result.stderr.splitlines(), result.stderr
