"""Runner I/O: env, event files, $GITHUB_OUTPUT and workflow commands.

Outputs and commands are read back with testbed/githubapi/runner.py, an
independent statement of how actions/runner parses them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_action.adapters import github_env
from testbed.githubapi.runner import parse_file_command, parse_workflow_command


def test_from_environ_reads_the_variables_and_prefers_the_gitops_token() -> None:
    env = github_env.ActionsEnv.from_environ(
        {
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_API_URL": "https://ghe.example/api/v3/",
            "GITHUB_TOKEN": "t-actions",
            "GITOPS_GITHUB_TOKEN": "t-gitops",
            "GITOPS_BOT": "gitops-bot\n\n  Release Robot  \n",
        }
    )
    assert (env.event_name, env.ref) == ("push", "refs/heads/main")
    assert env.api_url == "https://ghe.example/api/v3"
    assert env.token == "t-gitops"
    assert env.bots == ("gitops-bot", "Release Robot")
    assert "t-gitops" not in repr(env)


def test_defaults() -> None:
    env = github_env.ActionsEnv.from_environ({"GITHUB_TOKEN": " t "})
    assert env.api_url == "https://api.github.com"
    assert env.token == "t"
    assert env.event_name == ""


def test_read_event(tmp_path: Path) -> None:
    good = tmp_path / "event.json"
    good.write_text(json.dumps({"ref": "refs/heads/main"}), encoding="utf-8")
    assert github_env.read_event(str(good)) == ({"ref": "refs/heads/main"}, None)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "does not exist"),
        (b"{not json", "is not JSON (line 1"),
        (b"[1, 2]", "does not hold a JSON object"),
        (b"\xff\xfe\x00", "unreadable"),
    ],
)
def test_read_event_problems(tmp_path: Path, content: bytes | None, words: str) -> None:
    path = tmp_path / "event.json"
    if content is not None:
        path.write_bytes(content)
    payload, problem = github_env.read_event(str(path))
    assert payload is None
    assert problem is not None
    assert words in problem
    assert str(path) in problem


def test_read_event_without_a_path() -> None:
    assert github_env.read_event("") == (None, "GITHUB_EVENT_PATH is not set")


def test_read_event_on_a_directory(tmp_path: Path) -> None:
    payload, problem = github_env.read_event(str(tmp_path))
    assert payload is None
    assert problem is not None
    assert "unreadable" in problem


def test_outputs_use_random_delimiters_and_read_back_exactly(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.write_text("earlier=1\n", encoding="utf-8")
    tricky = "line one\nname=value\r\nx<<EOF\n\n"
    github_env.write_outputs(str(out), {"skip": "true", "reason": tricky, "empty": ""})
    text = out.read_bytes().decode("utf-8")  # raw, as the runner reads it
    delimiters = re.findall(r"<<(ghadelimiter_[0-9a-f-]{36})\n", text)
    assert len(set(delimiters)) == 3
    assert parse_file_command(text) == {
        "earlier": "1",
        "skip": "true",
        "reason": tricky,
        "empty": "",
    }


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_any_value_round_trips_through_the_runner_parser(value: str) -> None:
    assert parse_file_command(github_env.format_output("v", value)) == {"v": value}


@pytest.mark.parametrize("name", ["", "a=b", "a<<b", "a\nb", "1x", "a b"])
def test_bad_output_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="output name"):
        github_env.format_output(name, "v")


def test_a_value_containing_the_delimiter_is_refused() -> None:
    with pytest.raises(ValueError, match="delimiter"):
        github_env.format_output("v", "a\nEOF\nb", delimiter="EOF")


def test_step_summary_appends_markdown(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    github_env.append_step_summary(str(summary), "# One")
    github_env.append_step_summary(str(summary), "two\n")
    assert summary.read_text(encoding="utf-8") == "# One\ntwo\n"


@pytest.mark.parametrize(
    "message", ["plain", "100% done", "a\nb\r\nc", "%0A literal", "colon: comma, ok", ""]
)
def test_command_data_escaping_round_trips(message: str) -> None:
    line = github_env.workflow_command("notice", message)
    assert "\n" not in line
    assert "\r" not in line
    parsed = parse_workflow_command(line)
    assert parsed is not None
    assert (parsed.name, parsed.data) == ("notice", message)


def test_annotation_properties_escape_colons_and_commas() -> None:
    line = github_env.annotation(
        "error", "bad: x", title="a, b: c%", file="dir/a,b.yaml", line=3, col=None
    )
    assert line.startswith("::error ")
    assert "col=" not in line
    parsed = parse_workflow_command(line)
    assert parsed is not None
    assert parsed.data == "bad: x"
    assert parsed.properties == {"title": "a, b: c%", "file": "dir/a,b.yaml", "line": "3"}


def test_mask_and_groups() -> None:
    assert github_env.add_mask("s3cr%t\nx") == "::add-mask::s3cr%25t%0Ax"
    assert github_env.group("Build: app") == "::group::Build: app"
    assert github_env.end_group() == "::endgroup::"


def test_bad_commands_are_refused() -> None:
    with pytest.raises(ValueError, match="level"):
        github_env.annotation("fatal", "x")
    with pytest.raises(ValueError, match="command"):
        github_env.workflow_command("Bad Name", "x")


def test_emit_writes_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    github_env.emit(github_env.annotation("warning", "a\nb"))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "::warning::a%0Ab\n"
