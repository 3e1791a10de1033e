"""`gitops-action policy select` through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "gitops-action"
ACCEPTANCE = "v1.9.0\nv1.10.0\nlatest\nv2.0.0-rc.1\n"


def select(*args: str, stdin: str | bytes = ACCEPTANCE) -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(
        [str(BIN), "policy", "select", *args],
        input=data,
        capture_output=True,
        timeout=60,
        check=False,
    )


# --- the acceptance cases -------------------------------------------------------------


def test_caret_range_selects_highest_release() -> None:
    result = select("--semver", "^v1.0.0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"v1.10.0\n"
    assert result.stderr == b""


def test_prerelease_range_selects_the_prerelease() -> None:
    result = select("--semver", ">=2.0.0-0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"v2.0.0-rc.1\n"


def test_invalid_range_exits_2_naming_it() -> None:
    result = select("--semver", "banana")
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"banana" in result.stderr
    assert len(result.stderr.decode().strip().splitlines()) == 1


# --- exit codes and streams -------------------------------------------------------------


def test_nothing_matches_exits_1_with_one_line_on_stderr() -> None:
    result = select("--semver", "^3.0.0")
    assert result.returncode == 1
    assert result.stdout == b""
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert "^3.0.0" in lines[0]
    assert "1 not semver" in lines[0]


def test_empty_stdin_is_no_match() -> None:
    result = select("--numerical", "asc", stdin="\n  \n")
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"no tags" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--semver", "^1", "--alphabetical", "asc"),
        ("--numerical", "asc", "--alphabetical", "desc"),
        ("--numerical", "sideways"),
        ("--alphabetical", "up"),
        ("--semver", "*", "--output", "yaml"),
        ("--semver", "*", "--extract", "$1"),
        ("--semver", "*", "--no-such-flag"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = select(*args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == b""
    assert result.stderr


def test_exactly_one_policy_message() -> None:
    result = select("--semver", "^1", "--numerical", "asc")
    assert b"exactly one of --semver, --alphabetical, --numerical" in result.stderr
    assert b"--semver and --numerical" in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--alphabetical", "asc", "--pattern", "("), b"'('"),
        (("--alphabetical", "asc", "--exclude", "[a-"), b"'[a-'"),
        (("--numerical", "asc", "--pattern", "(?P<ts>[0-9]+)", "--extract", "$tz"), b"$tz"),
    ],
)
def test_invalid_regex_or_template_exits_2_naming_it(args: tuple[str, ...], named: bytes) -> None:
    result = select(*args, stdin="1\n2\n")
    assert result.returncode == 2
    assert named in result.stderr
    assert b"Traceback" not in result.stderr


def test_order_is_case_insensitive() -> None:
    result = select("--alphabetical", "DESC", stdin="b\na\nc\n")
    assert result.returncode == 0
    assert result.stdout == b"a\n"


# --- input handling ---------------------------------------------------------------------


def test_lines_are_stripped_blank_lines_ignored_and_crlf_accepted() -> None:
    result = select("--semver", "*", stdin="\r\n  v1.0.0  \r\n\n\tv1.2.0\r\n   \n")
    assert result.returncode == 0
    assert result.stdout == b"v1.2.0\n"


def test_selected_tag_is_printed_exactly_as_written() -> None:
    result = select("--semver", "^1", stdin="1.0.0\nv1.3.0+build.5\n1.2.0\n")
    assert result.stdout == b"v1.3.0+build.5\n"


def test_undecodable_bytes_survive_the_round_trip() -> None:
    result = select("--alphabetical", "asc", stdin=b"a\nz\xff\xfe\nb\n")
    assert result.returncode == 0
    assert result.stdout == b"z\xff\xfe\n"


def test_pattern_extract_selects_on_value_and_prints_the_tag() -> None:
    tags = "main-abc1234-1700000100\nmain-def5678-1700000200\nfeature-1800000000\n"
    result = select(
        "--numerical",
        "asc",
        "--pattern",
        "^main-[a-f0-9]+-(?<ts>[0-9]+)$",
        "--extract",
        "$ts",
        stdin=tags,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"main-def5678-1700000200\n"


def test_default_exclusion_and_override() -> None:
    tags = "v1.0.0\nv1.0.0.sig\n"
    assert select("--alphabetical", "asc", stdin=tags).stdout == b"v1.0.0\n"
    overridden = select("--alphabetical", "asc", "--exclude", "^nothing$", stdin=tags)
    assert overridden.stdout == b"v1.0.0.sig\n"


# --- explain and json -------------------------------------------------------------------


def test_explain_lists_every_tag_on_stderr() -> None:
    result = select("--semver", "^v1.0.0", "--explain")
    assert result.returncode == 0
    assert result.stdout == b"v1.10.0\n"
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith("policy: semver range '^v1.0.0'")
    body = "\n".join(lines[1:])
    assert len(lines) == 5
    for expected in (
        "selected  v1.10.0",
        "kept      v1.9.0",
        "lower than v1.10.0",
        "dropped   latest",
        "not semver",
        "prerelease not allowed by range",
    ):
        assert expected in body


def test_explain_with_no_match_still_explains_then_fails() -> None:
    result = select("--semver", "^5", "--explain")
    assert result.returncode == 1
    assert result.stdout == b""
    stderr = result.stderr.decode()
    assert "outside range ^5" in stderr
    assert stderr.strip().splitlines()[-1].startswith("gitops-action: error: no tag satisfies")


def test_json_output() -> None:
    result = select("--semver", "^v1.0.0", "--output", "json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["selected"] == "v1.10.0"
    assert data["policy"] == {"kind": "semver", "range": "^v1.0.0", "exclude": [r"^.*\.sig$"]}
    assert [d["tag"] for d in data["decisions"]] == ["v1.9.0", "v1.10.0", "latest", "v2.0.0-rc.1"]
    assert [d["kept"] for d in data["decisions"]] == [True, True, False, False]
    assert data["decisions"][1]["selected"] is True


def test_json_output_when_nothing_matches() -> None:
    result = select("--numerical", "desc", "--output", "json", stdin="latest\n")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["selected"] is None
    assert data["decisions"] == [
        {
            "tag": "latest",
            "value": "latest",
            "kept": False,
            "selected": False,
            "reason": "not a number",
        }
    ]


def test_help_has_examples() -> None:
    result = subprocess.run(
        [str(BIN), "policy", "select", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    for text in ("--semver RANGE", "--alphabetical", "--numerical", "--explain", "Examples:"):
        assert text in result.stdout


def test_policy_does_not_load_heavy_clients() -> None:
    code = (
        "import sys\n"
        "from gitops_action.cli import main\n"
        "sys.argv = ['gitops-action', 'policy', 'select', '--semver', '*']\n"
        "try:\n    main()\nexcept SystemExit as done:\n    code = done.code\n"
        "heavy = [m for m in ('kubernetes', 'docker', 'github', 'httpx', 'yaml') "
        "if m in sys.modules]\n"
        "print(code, heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input="v1.0.0\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.splitlines()[-1] == "0 []", result.stderr
