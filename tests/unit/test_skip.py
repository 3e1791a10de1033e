"""The skip rules (DESIGN.md §3 `ci should-skip`), decided from event payloads.

Payloads follow GitHub's `push` and `pull_request` webhook shapes: push commits
carry `author`/`committer` `{name, email, username}`; pull requests carry none.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops_action.domain.skip import (
    Commit,
    LookupNeeded,
    Person,
    RunContext,
    Verdict,
    bot_identity,
    decide,
    decide_commits,
    lookup_failed,
    normalise_bots,
    skip_instruction,
)

BOTS = normalise_bots(["gitops-bot", "Release Robot", "robot@example.com"])
HUMAN = {"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada"}
ACTIONS_BOT = {
    "name": "github-actions[bot]",
    "email": "41898282+github-actions[bot]@users.noreply.github.com",
    "username": "github-actions[bot]",
}
GITOPS_BOT = {"name": "gitops-bot", "email": "gitops@example.com"}
WEB_FLOW = {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"}


def pushed(
    sha: str, author: dict[str, str], committer: dict[str, str] | None = None, message: str = "x"
) -> dict[str, Any]:
    return {
        "id": sha,
        "tree_id": "t" * 40,
        "distinct": True,
        "message": message,
        "timestamp": "2024-05-01T12:00:00Z",
        "url": f"https://github.com/o/r/commit/{sha}",
        "author": author,
        "committer": committer or author,
        "added": [],
        "removed": [],
        "modified": [],
    }


def push_event(commits: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ref": "refs/heads/main",
        "before": "b" * 40,
        "after": commits[-1]["id"] if commits else "a" * 40,
        "created": False,
        "deleted": False,
        "forced": False,
        "commits": commits,
        "head_commit": commits[-1] if commits else None,
        "repository": {"full_name": "o/r"},
        "pusher": {"name": "ada", "email": "ada@example.com"},
    }
    payload.update(extra)
    return payload


def context(event: str, payload: dict[str, Any] | None, ref: str = "refs/heads/main") -> RunContext:
    return RunContext(
        event_name=event, ref=ref, actor="ada", repository="o/r", sha="c" * 40, payload=payload
    )


def verdict(event: str, payload: dict[str, Any] | None, ref: str = "refs/heads/main") -> Verdict:
    result = decide(context(event, payload, ref), BOTS)
    assert isinstance(result, Verdict), result
    return result


@pytest.mark.parametrize(
    ("commits", "skip"),
    [
        ([pushed("1" * 40, ACTIONS_BOT)], True),
        ([pushed("1" * 40, GITOPS_BOT), pushed("2" * 40, ACTIONS_BOT)], True),
        ([pushed("1" * 40, GITOPS_BOT), pushed("2" * 40, HUMAN)], False),
        ([pushed("1" * 40, HUMAN)], False),
        # authored OR committed by a bot makes a bot commit
        ([pushed("1" * 40, HUMAN, committer=ACTIONS_BOT)], True),
        ([pushed("1" * 40, {"name": "Someone", "email": "robot@example.com"})], True),
        ([pushed("1" * 40, {"name": "release robot", "email": "x@y"})], True),  # case-folded
        ([pushed("1" * 40, {"name": "x", "email": "x@y", "username": "GitOps-Bot"})], True),
        ([pushed("1" * 40, {"name": "renovate[bot]", "email": "r@y"})], True),
        # a web-UI merge by a human: committer is GitHub (web-flow), not a bot
        ([pushed("1" * 40, HUMAN, committer=WEB_FLOW)], False),
        ([pushed("1" * 40, {"name": "robot", "email": "robot@elsewhere.com"})], False),
    ],
)
def test_push_skips_only_when_every_commit_is_a_bots(
    commits: list[dict[str, Any]], skip: bool
) -> None:
    result = verdict("push", push_event(commits))
    assert result.skip is skip
    assert ("bots" in result.reason) is skip


def test_the_reason_names_the_human_commit() -> None:
    result = verdict("push", push_event([pushed("1" * 40, GITOPS_BOT), pushed("2" * 40, HUMAN)]))
    assert "2222222" in result.reason
    assert "Ada Lovelace (ada)" in result.reason


@pytest.mark.parametrize("event", ["push", "release", "workflow_dispatch", "schedule", "create"])
def test_tag_refs_are_never_skipped(event: str) -> None:
    payload = push_event([pushed("1" * 40, ACTIONS_BOT, message="chore: release [skip ci]")])
    payload["ref"] = "refs/tags/v1.2.3"
    result = verdict(event, payload, ref="refs/tags/v1.2.3")
    assert result.skip is False
    assert "tag" in result.reason


def test_tag_ref_from_the_payload_when_github_ref_is_unset() -> None:
    payload = push_event([pushed("1" * 40, ACTIONS_BOT)], ref="refs/tags/v2.0.0")
    assert verdict("push", payload, ref="").skip is False


@pytest.mark.parametrize("event", ["workflow_dispatch", "release", "schedule"])
def test_manual_release_and_scheduled_runs_are_never_skipped(event: str) -> None:
    result = verdict(event, push_event([pushed("1" * 40, ACTIONS_BOT)]))
    assert result.skip is False
    assert event in result.reason


def test_branch_deletion_is_skipped_there_is_nothing_to_build() -> None:
    payload = push_event([], deleted=True, after="0" * 40)
    result = verdict("push", payload)
    assert result.skip is True
    assert "deletes" in result.reason


def test_a_push_without_new_commits_is_judged_by_its_head_commit() -> None:
    human_head = push_event([], created=True, head_commit=pushed("9" * 40, HUMAN))
    bot_head = push_event([], created=True, head_commit=pushed("9" * 40, ACTIONS_BOT))
    assert verdict("push", human_head).skip is False
    result = verdict("push", bot_head)
    assert result.skip is True
    assert "head commit" in result.reason


def test_a_push_with_no_commit_data_at_all_asks_for_a_lookup_of_after() -> None:
    result = decide(context("push", push_event([], head_commit=None, after="d" * 40)), BOTS)
    assert isinstance(result, LookupNeeded)
    assert (result.repository, result.shas) == ("o/r", ("d" * 40,))


def test_push_commits_without_author_data_are_looked_up_with_the_known_ones_kept() -> None:
    bare = {"id": "2" * 40, "message": "x"}
    payload = push_event([pushed("1" * 40, GITOPS_BOT), bare])
    result = decide(context("push", payload), BOTS)
    assert isinstance(result, LookupNeeded)
    assert result.shas == ("2" * 40,)
    assert [c.sha for c in result.known] == ["1" * 40]
    assert result.honour_instructions is True


def test_a_known_human_commit_settles_it_without_a_lookup() -> None:
    payload = push_event([pushed("1" * 40, HUMAN), {"id": "2" * 40}])
    result = decide(context("push", payload), BOTS)
    assert isinstance(result, Verdict)
    assert result.skip is False


def test_too_many_unknown_commits_run_instead_of_looking_all_up() -> None:
    payload = push_event([{"id": f"{i:040x}"} for i in range(1, 30)])
    assert verdict("push", payload).skip is False


@pytest.mark.parametrize("event", ["pull_request", "pull_request_target"])
def test_pull_requests_need_a_lookup_of_the_head_commit(event: str) -> None:
    payload = {
        "action": "synchronize",
        "number": 5,
        "pull_request": {"number": 5, "head": {"sha": "e" * 40, "ref": "bump"}},
        "repository": {"full_name": "o/r"},
    }
    result = decide(context(event, payload, ref="refs/pull/5/merge"), BOTS)
    assert isinstance(result, LookupNeeded)
    assert result.shas == ("e" * 40,)
    assert "pull request #5" in result.subject
    # GitHub honours [skip ci] for pull_request, not pull_request_target
    assert result.honour_instructions is (event == "pull_request")


def test_repository_falls_back_to_the_payload() -> None:
    payload = push_event([{"id": "2" * 40}])
    result = decide(RunContext(event_name="push", ref="refs/heads/main", payload=payload), BOTS)
    assert isinstance(result, LookupNeeded)
    assert result.repository == "o/r"


@pytest.mark.parametrize(
    ("ctx", "words"),
    [
        (RunContext(event_name="", ref="refs/heads/main", payload={}), "GITHUB_EVENT_NAME"),
        (
            RunContext(event_name="push", ref="refs/heads/main", payload_problem="event file x"),
            "event file x",
        ),
        (RunContext(event_name="issue_comment", ref="refs/heads/main", payload={}), "not checked"),
    ],
)
def test_what_cannot_be_checked_runs_and_says_why(ctx: RunContext, words: str) -> None:
    result = decide(ctx, BOTS)
    assert isinstance(result, Verdict)
    assert result.skip is False
    assert words in result.reason


@pytest.mark.parametrize(
    ("message", "instruction"),
    [
        ("fix: x [skip ci]", "[skip ci]"),
        ("[CI SKIP] docs", "[ci skip]"),
        ("chore [no ci]", "[no ci]"),
        ("a [skip actions] b", "[skip actions]"),
        ("a [actions skip]", "[actions skip]"),
        ("subject\n\nbody\n\n\nskip-checks: true\n", "skip-checks: true"),
        ("subject\n\n\nskip-checks:true", "skip-checks:true"),
        ("skip ci please", None),
        ("subject\n\nskip-checks: true\nSigned-off-by: x", None),
        (None, None),
    ],
)
def test_skip_instructions(message: str | None, instruction: str | None) -> None:
    assert skip_instruction(message) == instruction


def test_skip_instruction_on_a_branch_push_skips_even_for_humans() -> None:
    payload = push_event([pushed("1" * 40, HUMAN, message="docs: typo [skip ci]")])
    result = verdict("push", payload)
    assert result.skip is True
    assert "[skip ci]" in result.reason


def test_bot_identity_matching() -> None:
    assert bot_identity(Person(name="dependabot[bot]"), frozenset()) == "dependabot[bot]"
    assert bot_identity(Person(name="x", username="my-app[BOT]"), frozenset()) == "my-app[BOT]"
    assert bot_identity(Person(name="Ada", email="ada@example.com"), BOTS) is None
    assert bot_identity(None, BOTS) is None
    # an e-mail whose local part ends in [bot] is not enough on its own
    assert bot_identity(Person(name="x", email="1+a[bot]@users.noreply.github.com"), BOTS) is None


def test_normalise_bots_drops_blanks() -> None:
    assert normalise_bots([" A ", "", "  "]) == frozenset({"a"})


def test_decide_commits_after_a_lookup() -> None:
    bot = Commit("1" * 40, Person(name="gitops-bot"), Person(name="gitops-bot"), "bump")
    human = Commit("2" * 40, Person(name="Ada"), Person(name="GitHub"), "feat")
    assert decide_commits([bot], BOTS, "pull request #5").skip is True
    assert decide_commits([bot, human], BOTS, "pull request #5").skip is False
    no_people = Commit("3" * 40)
    assert decide_commits([bot, no_people], BOTS, "x").skip is False
    assert decide_commits([], BOTS, "x").skip is False
    with_instruction = Commit("4" * 40, Person(name="Ada"), None, "wip [skip ci]")
    assert decide_commits([with_instruction], BOTS, "x", honour_instructions=True).skip is True
    assert decide_commits([with_instruction], BOTS, "x", honour_instructions=False).skip is False


def test_lookup_failed_says_what_could_not_be_checked() -> None:
    needed = LookupNeeded("o/r", ("e" * 40,), "pull request #5")
    result = lookup_failed(needed, "PyGithub is not installed")
    assert result.skip is False
    assert "could not check the author of pull request #5 (eeeeeee)" in result.reason
    assert "PyGithub is not installed" in result.reason


@pytest.mark.parametrize("garbage", [[], "x", 3, {"commits": "nope"}, {"commits": [1, None, "x"]}])
def test_malformed_payloads_never_crash_and_never_skip(garbage: Any) -> None:
    payload = garbage if isinstance(garbage, dict) else {"commits": garbage}
    result = decide(context("push", payload), BOTS)
    assert not (isinstance(result, Verdict) and result.skip)


def test_a_pull_request_without_a_head_sha_is_not_skipped() -> None:
    payload = {"number": 5, "pull_request": {"number": 5}, "repository": {"full_name": "o/r"}}
    result = decide(context("pull_request", payload, ref="refs/pull/5/merge"), BOTS)
    assert isinstance(result, Verdict)
    assert result.skip is False
    assert "names no commit" in result.reason
