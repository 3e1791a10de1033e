"""Commit statuses: the stub's endpoint, and the adapter `ci run --report-status` uses."""

from __future__ import annotations

import pytest

from gitops_action.adapters import github_api as adapter
from gitops_action.domain.errors import GitHubApiError
from testbed.githubapi.server import DEFAULT_TOKEN, GitHubApiStub
from testbed.githubapi.shapes import GitIdentity

REPO = "acme/app"
SHA = "5" * 40
ADA = GitIdentity("Ada Lovelace", "ada@acme.example")


def create(
    stub: GitHubApiStub, sha: str = SHA, *, state: str = "success", token: str = DEFAULT_TOKEN
) -> None:
    adapter.create_commit_status(
        REPO,
        sha,
        state=state,
        description="sha256:abc (3 tags pushed)",
        context="gitops-action/build",
        target_url="https://github.com/acme/app/actions/runs/1",
        token=token,
        base_url=stub.url,
    )


def test_one_post_sets_the_status(github_api: GitHubApiStub) -> None:
    github_api.add_commit(REPO, SHA, author=ADA)
    create(github_api)
    assert [(r.method, r.path, r.status) for r in github_api.requests] == [
        ("POST", f"/repos/{REPO}/statuses/{SHA}", 201)
    ]
    (status,) = github_api.statuses(REPO, SHA)
    assert (status["state"], status["context"], status["description"]) == (
        "success",
        "gitops-action/build",
        "sha256:abc (3 tags pushed)",
    )
    assert status["target_url"] == "https://github.com/acme/app/actions/runs/1"


def test_statuses_list_newest_first_through_pygithub(github_api: GitHubApiStub) -> None:
    github_api.add_commit(REPO, SHA, author=ADA)
    create(github_api, state="pending")
    create(github_api, state="success")
    with adapter.client(DEFAULT_TOKEN, github_api.url) as gh:
        states = [s.state for s in gh.get_repo(REPO).get_commit(SHA).get_statuses()]
    assert states == ["success", "pending"]


@pytest.mark.parametrize(
    ("sha", "state", "token", "expected"),
    [
        ("6" * 40, "success", DEFAULT_TOKEN, "422 No commit found for SHA"),
        (SHA, "done", DEFAULT_TOKEN, "422 Validation Failed"),
        (SHA, "success", "wrong-token", "401 Bad credentials"),
    ],
)
def test_refusals_are_one_line_errors_without_the_token(
    github_api: GitHubApiStub, sha: str, state: str, token: str, expected: str
) -> None:
    github_api.add_commit(REPO, SHA, author=ADA)
    with pytest.raises(GitHubApiError) as caught:
        create(github_api, sha, state=state, token=token)
    message = str(caught.value)
    assert expected in message
    assert "gitops-action/build" in message
    assert token not in message
    assert "\n" not in message
