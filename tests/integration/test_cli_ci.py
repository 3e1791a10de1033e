"""`gitops-action ci tags` and `ci should-skip`: the real console script in subprocesses.

Each run gets a clean environment (no inherited GITHUB_* / GITOPS_*), an event
file shaped like GitHub's, and a $GITHUB_OUTPUT file read back the way the
runner reads it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from testbed.githubapi.runner import parse_file_command
from testbed.githubapi.server import DEFAULT_TOKEN, GitHubApiStub
from testbed.githubapi.shapes import GitIdentity

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(Path(sys.executable).with_name("gitops-action"))
SHA = "89abcdef0123456789abcdef0123456789abcdef"

HUMAN = {"name": "Ada Lovelace", "email": "ada@acme.example", "username": "ada"}
ACTIONS_BOT = {
    "name": "github-actions[bot]",
    "email": "41898282+github-actions[bot]@users.noreply.github.com",
    "username": "github-actions[bot]",
}
GITOPS_BOT = {"name": "gitops-bot", "email": "gitops@acme.example"}


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "GITOPS_", "RUNNER_", "ACTIONS_"))
    }
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, *args],
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        timeout=60,
        check=False,
    )


# -- ci tags --------------------------------------------------------------------------


def test_release_tag_text_output() -> None:
    result = run(
        "ci", "tags", "--ref", "refs/tags/v1.2.3", "--sha", SHA,
        "--image", "ghcr.io/acme/app", "--image", "localhost:5000/acme/app",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ghcr.io/acme/app:v1.2.3",
        "ghcr.io/acme/app:latest",
        "ghcr.io/acme/app:sha-89abcde",
        "localhost:5000/acme/app:v1.2.3",
        "localhost:5000/acme/app:latest",
        "localhost:5000/acme/app:sha-89abcde",
    ]
    assert result.stderr == ""


def test_build_metadata_json_output() -> None:
    result = run(
        "ci", "tags", "--ref", "refs/tags/v3.0.0+build.7", "--sha", SHA,
        "--image", "ghcr.io/acme/app", "--output", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["tags"] == ["v3.0.0", "latest", "sha-89abcde"]
    assert document["references"][0] == "ghcr.io/acme/app:v3.0.0"
    assert document["version"] == "v3.0.0+build.7"
    assert document["labels"] == {
        "org.opencontainers.image.version": "v3.0.0+build.7",
        "org.opencontainers.image.revision": SHA,
    }
    assert (document["kind"], document["semver"], document["latest"]) == ("tag", True, True)


@pytest.mark.parametrize(
    ("ref", "latest", "tags"),
    [
        ("refs/tags/v2.0.0-rc.1", "auto", ["v2.0.0-rc.1", "sha-89abcde"]),
        ("refs/tags/v2.0.0", "false", ["v2.0.0", "sha-89abcde"]),
        ("refs/heads/feature/new-ui", "auto", ["feature-new-ui", "sha-89abcde"]),
        ("refs/pull/17/merge", "auto", ["pr-17", "sha-89abcde"]),
    ],
)
def test_other_refs(ref: str, latest: str, tags: list[str]) -> None:
    result = run(
        "ci", "tags", "--ref", ref, "--sha", SHA, "--image", "acme/app", "--latest", latest
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"acme/app:{tag}" for tag in tags]


def test_latest_true_is_ignored_for_a_branch_with_a_note() -> None:
    result = run(
        "ci", "tags", "--ref", "refs/heads/main", "--sha", SHA, "--image", "acme/app",
        "--latest", "true",
    )  # fmt: skip
    assert result.returncode == 0
    assert "acme/app:latest" not in result.stdout
    assert "--latest true ignored" in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--image", "ghcr.io/Acme/app"], "ghcr.io/Acme/app"),
        (["--image", "acme/app:v1"], "acme/app:v1"),
        (["--image", "acme/app@sha256:" + "0" * 64], "acme/app@sha256:"),
        (["--image", "acme/app", "--sha", "not-a-sha"], "not-a-sha"),
        (["--image", "acme/app", "--ref", "main"], "'main'"),
        (["--image", "acme/app", "--latest", "maybe"], "maybe"),
    ],
)
def test_bad_input_exits_2_naming_it(args: list[str], named: str) -> None:
    base = {"--ref": "refs/tags/v1.0.0", "--sha": SHA}
    for flag in ("--ref", "--sha"):
        if flag in args:
            base.pop(flag)
    flat = [item for pair in base.items() for item in pair]
    result = run("ci", "tags", *flat, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert named in result.stderr
    if "--latest" not in args:  # ours: one line; click's usage errors print usage too
        assert result.stderr.startswith("gitops-action: error: ")
        assert len(result.stderr.strip().splitlines()) == 1


def test_missing_image_is_a_usage_error() -> None:
    result = run("ci", "tags", "--ref", "refs/heads/main", "--sha", SHA)
    assert result.returncode == 2
    assert "--image" in result.stderr


def test_entrypoint_is_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py"), "ci", "tags", "--ref", "refs/pull/3/merge",
         "--sha", SHA, "--image", "acme/app"],
        capture_output=True, text=True, env=clean_env(), timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "acme/app:pr-3\nacme/app:sha-89abcde\n"


# -- ci should-skip --------------------------------------------------------------------


def commit(sha: str, author: dict[str, str], message: str = "change") -> dict[str, Any]:
    return {"id": sha, "message": message, "author": author, "committer": author, "distinct": True}


def push(
    commits: list[dict[str, Any]], ref: str = "refs/heads/main", **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ref": ref,
        "before": "0" * 40,
        "after": commits[-1]["id"] if commits else "f" * 40,
        "created": False,
        "deleted": False,
        "commits": commits,
        "head_commit": commits[-1] if commits else None,
        "repository": {"full_name": "acme/app"},
    }
    payload.update(extra)
    return payload


def skip_env(
    tmp_path: Path, event: str, payload: dict[str, Any] | None, ref: str, **extra: str
) -> dict[str, str]:
    event_path = tmp_path / "event.json"
    if payload is not None:
        event_path.write_text(json.dumps(payload), encoding="utf-8")
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    return clean_env(
        GITHUB_EVENT_NAME=event,
        GITHUB_EVENT_PATH=str(event_path),
        GITHUB_REF=ref,
        GITHUB_ACTOR="ada",
        GITHUB_REPOSITORY="acme/app",
        GITHUB_SHA=SHA,
        GITHUB_OUTPUT=str(output),
        **extra,
    )


def outputs(env: dict[str, str]) -> dict[str, str]:
    return parse_file_command(Path(env["GITHUB_OUTPUT"]).read_bytes().decode("utf-8"))


def should_skip(env: dict[str, str], *bots: str) -> tuple[bool, str, dict[str, str]]:
    args = [item for bot in bots for item in ("--bot", bot)]
    result = run("ci", "should-skip", *args, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0] in ("skip=true", "skip=false")
    assert lines[1].startswith("reason=")
    return lines[0] == "skip=true", lines[1][len("reason=") :], outputs(env)


@pytest.mark.parametrize(
    ("commits", "bots", "skip"),
    [
        ([commit("1" * 40, ACTIONS_BOT)], (), True),
        ([commit("1" * 40, GITOPS_BOT), commit("2" * 40, ACTIONS_BOT)], ("gitops-bot",), True),
        ([commit("1" * 40, GITOPS_BOT)], (), False),
        ([commit("1" * 40, GITOPS_BOT), commit("2" * 40, HUMAN)], ("gitops-bot",), False),
    ],
)
def test_push_by_bots(
    tmp_path: Path, commits: list[dict[str, Any]], bots: tuple[str, ...], skip: bool
) -> None:
    env = skip_env(tmp_path, "push", push(commits), "refs/heads/main")
    skipped, reason, written = should_skip(env, *bots)
    assert skipped is skip
    assert written["skip"] == ("true" if skip else "false")
    assert written["reason"] == reason


def test_bots_from_gitops_bot_env(tmp_path: Path) -> None:
    env = skip_env(
        tmp_path, "push", push([commit("1" * 40, GITOPS_BOT)]), "refs/heads/main",
        GITOPS_BOT="someone-else\ngitops-bot\n",
    )  # fmt: skip
    assert should_skip(env)[0] is True


@pytest.mark.parametrize("event", ["push", "release", "workflow_dispatch", "schedule"])
def test_tag_builds_are_never_skipped_even_with_skip_ci(tmp_path: Path, event: str) -> None:
    bot_release = commit("1" * 40, ACTIONS_BOT, "chore(release): 1.2.3 [skip ci]")
    payload = push([], ref="refs/tags/v1.2.3", head_commit=bot_release)
    env = skip_env(tmp_path, event, payload, "refs/tags/v1.2.3")
    skipped, reason, written = should_skip(env)
    assert skipped is False
    assert written["skip"] == "false"
    assert "tag" in reason


@pytest.mark.parametrize("event", ["workflow_dispatch", "schedule"])
def test_manual_and_scheduled_runs_on_branches_are_never_skipped(
    tmp_path: Path, event: str
) -> None:
    env = skip_env(tmp_path, event, push([commit("1" * 40, ACTIONS_BOT)]), "refs/heads/main")
    assert should_skip(env)[0] is False


def test_branch_deletion_is_skipped(tmp_path: Path) -> None:
    env = skip_env(tmp_path, "push", push([], deleted=True), "refs/heads/old")
    skipped, reason, _ = should_skip(env)
    assert skipped is True
    assert "deletes" in reason


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "does not exist"), ("{truncated", "is not JSON")],
)
def test_missing_or_broken_event_file_does_not_skip(
    tmp_path: Path, content: str | None, words: str
) -> None:
    env = skip_env(tmp_path, "push", None, "refs/heads/main")
    if content is not None:
        Path(env["GITHUB_EVENT_PATH"]).write_text(content, encoding="utf-8")
    skipped, reason, written = should_skip(env)
    assert skipped is False
    assert words in reason
    assert written["skip"] == "false"


def test_no_github_output_still_prints(tmp_path: Path) -> None:
    env = skip_env(tmp_path, "push", push([commit("1" * 40, ACTIONS_BOT)]), "refs/heads/main")
    del env["GITHUB_OUTPUT"]
    result = run("ci", "should-skip", env=env)
    assert result.returncode == 0
    assert result.stdout.startswith("skip=true\n")


def test_unwritable_github_output_warns_and_exits_0(tmp_path: Path) -> None:
    env = skip_env(tmp_path, "push", push([commit("1" * 40, HUMAN)]), "refs/heads/main")
    env["GITHUB_OUTPUT"] = str(tmp_path / "missing-dir" / "out")
    result = run("ci", "should-skip", env=env)
    assert result.returncode == 0
    assert result.stdout.startswith("skip=false\n")
    assert "could not write $GITHUB_OUTPUT" in result.stderr


def test_outputs_append_to_what_earlier_steps_wrote(tmp_path: Path) -> None:
    env = skip_env(tmp_path, "push", push([commit("1" * 40, ACTIONS_BOT)]), "refs/heads/main")
    Path(env["GITHUB_OUTPUT"]).write_text("earlier=kept\n", encoding="utf-8")
    _, _, written = should_skip(env)
    assert written["earlier"] == "kept"
    assert written["skip"] == "true"


def pull_request_payload() -> dict[str, Any]:
    return {
        "action": "opened",
        "number": 21,
        "pull_request": {"number": 21, "head": {"sha": SHA, "ref": "gitops/bump"}},
        "repository": {"full_name": "acme/app"},
    }


def test_pull_request_without_token_is_not_skipped(tmp_path: Path) -> None:
    env = skip_env(tmp_path, "pull_request", pull_request_payload(), "refs/pull/21/merge")
    skipped, reason, _ = should_skip(env)
    assert skipped is False
    assert "could not check the author of pull request #21" in reason


def test_pull_request_by_a_bot_is_skipped_via_the_api(
    tmp_path: Path, github_api: GitHubApiStub
) -> None:
    github_api.add_commit("acme/app", SHA, author=GitIdentity("gitops-bot", "gitops@acme.example"))
    env = skip_env(
        tmp_path, "pull_request", pull_request_payload(), "refs/pull/21/merge",
        GITHUB_API_URL=github_api.url, GITHUB_TOKEN=DEFAULT_TOKEN,
    )  # fmt: skip
    skipped, reason, written = should_skip(env, "gitops-bot")
    assert skipped is True
    assert "pull request #21" in reason
    assert written["skip"] == "true"
    assert [r.path for r in github_api.requests] == [f"/repos/acme/app/commits/{SHA}"]


def test_the_ci_group_loads_no_heavy_client() -> None:
    probe = (
        "import sys, gitops_action.cli.ci as ci; "
        "print(sorted(m for m in ('github', 'docker', 'kubernetes', 'requests', 'yaml') "
        "if m in sys.modules)); print(sorted(ci.ci.list_commands(None)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=clean_env(),
        timeout=60, check=True,
    )  # fmt: skip
    loaded, commands = result.stdout.splitlines()
    assert loaded == "[]"
    assert "'should-skip'" in commands
    assert "'tags'" in commands
