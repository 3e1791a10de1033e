"""PyGithub against the local GitHub API stub: the commit lookup behind should-skip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitops_action.adapters import github_api as adapter
from gitops_action.app import should_skip
from gitops_action.domain.errors import GitHubApiError
from testbed.githubapi.server import DEFAULT_TOKEN, GitHubApiStub, Reply
from testbed.githubapi.shapes import GitIdentity

REPO = "acme/app"
BOT = GitIdentity("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
GITOPS = GitIdentity("gitops-bot", "gitops@acme.example")
ADA = GitIdentity("Ada Lovelace", "ada@acme.example")
WEB = GitIdentity("GitHub", "noreply@github.com")
SHA1 = "1111111111111111111111111111111111111111"
SHA2 = "2222222222222222222222222222222222222222"


def fetch(stub: GitHubApiStub, *shas: str, token: str = DEFAULT_TOKEN) -> list[Any]:
    return adapter.fetch_commits(REPO, shas, token=token, base_url=stub.url)


def test_fetch_commits_maps_git_identities_and_accounts(github_api: GitHubApiStub) -> None:
    github_api.add_commit(REPO, SHA1, author=BOT, author_login="github-actions[bot]", message="m1")
    github_api.add_commit(
        REPO, SHA2, author=ADA, author_login="ada", committer=WEB, committer_login="web-flow"
    )
    first, second = fetch(github_api, SHA1, SHA2)
    assert first.sha == SHA1
    assert first.message == "m1"
    assert first.author is not None
    assert (first.author.name, first.author.email, first.author.username) == (
        BOT.name,
        BOT.email,
        "github-actions[bot]",
    )
    assert second.author is not None
    assert second.committer is not None
    assert (second.author.username, second.committer.name, second.committer.username) == (
        "ada",
        "GitHub",
        "web-flow",
    )


def test_one_request_per_commit_with_token_auth(github_api: GitHubApiStub) -> None:
    github_api.add_commit(REPO, SHA1, author=GITOPS)  # no GitHub account: author is null
    (commit,) = fetch(github_api, SHA1)
    assert commit.author is not None
    assert commit.author.username == ""
    requests = github_api.requests
    assert [(r.method, r.path) for r in requests] == [("GET", f"/repos/{REPO}/commits/{SHA1}")]
    assert requests[0].headers["authorization"] == f"token {DEFAULT_TOKEN}"
    assert requests[0].headers["user-agent"] == "gitops-action"


def test_github_enterprise_base_path() -> None:
    with GitHubApiStub(prefix="/api/v3") as ghes:
        ghes.add_commit(REPO, SHA1, author=ADA)
        assert ghes.url.endswith("/api/v3")
        (commit,) = fetch(ghes, SHA1)
        assert commit.sha == SHA1
        assert ghes.requests[0].path == f"/repos/{REPO}/commits/{SHA1}"


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("unknown sha", "422 No commit found for SHA"),
        ("unknown repo", "404 Not Found"),
        ("bad token", "401 Bad credentials"),
        ("server error", "500 boom"),
    ],
)
def test_api_errors_become_github_api_errors(
    github_api: GitHubApiStub, setup: str, words: str
) -> None:
    token = DEFAULT_TOKEN
    if setup == "unknown sha":
        github_api.add_repo(REPO)
    elif setup == "bad token":
        github_api.add_commit(REPO, SHA1, author=ADA)
        token = "ghs_wrong"
    elif setup == "server error":
        github_api.add_commit(REPO, SHA1, author=ADA)
        github_api.fail_next(500, "boom", times=3)
    with pytest.raises(GitHubApiError) as caught:
        fetch(github_api, SHA1, token=token)
    message = str(caught.value)
    assert words in message
    assert f"commit 1111111 of {REPO}" in message
    assert token not in message
    assert len(github_api.requests) == 1  # no retries: the caller has a safe answer


def test_unreachable_api_is_a_github_api_error() -> None:
    stub = GitHubApiStub().start()
    url = stub.url
    stub.stop()
    with pytest.raises(GitHubApiError, match="request failed"):
        adapter.fetch_commits(REPO, [SHA1], token="t", base_url=url, timeout=2)


def test_stub_serves_repositories_to_pygithub(github_api: GitHubApiStub) -> None:
    import github

    github_api.add_repo(REPO, default_branch="trunk")
    with adapter.client(DEFAULT_TOKEN, github_api.url) as gh:
        repo = gh.get_repo(REPO)
        assert (repo.full_name, repo.default_branch, repo.owner.login) == (REPO, "trunk", "acme")
        with pytest.raises(github.UnknownObjectException):
            gh.get_repo("acme/missing")


def test_routes_can_be_added_for_later_endpoints(github_api: GitHubApiStub) -> None:
    def create_status(stub: GitHubApiStub, request: Any, params: dict[str, str]) -> Reply:
        body = request.json()
        return Reply(201, {"id": 1, "state": body["state"], "context": body["context"]})

    github_api.route("POST", "/repos/{owner}/{repo}/statuses/{sha}", create_status)
    github_api.add_commit(REPO, SHA1, author=ADA)
    with adapter.client(DEFAULT_TOKEN, github_api.url, lazy=True) as gh:
        repo = gh.get_repo(REPO)
        status = repo.get_commit(SHA1).create_status("success", context="gitops/ci")
    assert (status.state, status.context) == ("success", "gitops/ci")
    posted = github_api.requests_to("POST", f"/repos/{REPO}/statuses/{SHA1}")
    assert [r.json()["state"] for r in posted] == ["success"]


# -- the use case, in-process, with the stub behind it ---------------------------------


def pr_environ(tmp_path: Path, stub: GitHubApiStub, **extra: str) -> dict[str, str]:
    event = tmp_path / "event.json"
    payload = {
        "action": "synchronize",
        "number": 8,
        "pull_request": {"number": 8, "head": {"sha": SHA1, "ref": "bump"}},
        "repository": {"full_name": REPO},
    }
    event.write_text(json.dumps(payload), encoding="utf-8")
    environ = {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REF": "refs/pull/8/merge",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": stub.url,
        "GITHUB_TOKEN": DEFAULT_TOKEN,
    }
    environ.update(extra)
    return environ


@pytest.mark.parametrize(
    ("author", "login", "bots", "skip"),
    [
        (BOT, "github-actions[bot]", (), True),
        (GITOPS, None, ("gitops-bot",), True),
        (ADA, "ada", ("gitops-bot",), False),
    ],
)
def test_pull_request_head_commit_is_looked_up(
    tmp_path: Path,
    github_api: GitHubApiStub,
    author: GitIdentity,
    login: str | None,
    bots: tuple[str, ...],
    skip: bool,
) -> None:
    github_api.add_commit(REPO, SHA1, author=author, author_login=login)
    verdict = should_skip.evaluate(pr_environ(tmp_path, github_api), bots)
    assert verdict.skip is skip
    assert "pull request #8" in verdict.reason
    assert len(github_api.requests) == 1


def test_skip_ci_in_a_pull_request_head_commit(tmp_path: Path, github_api: GitHubApiStub) -> None:
    github_api.add_commit(REPO, SHA1, author=ADA, message="docs [skip ci]")
    verdict = should_skip.evaluate(pr_environ(tmp_path, github_api))
    assert verdict.skip is True
    assert "[skip ci]" in verdict.reason


def test_lookup_failure_means_do_not_skip(tmp_path: Path, github_api: GitHubApiStub) -> None:
    github_api.add_repo(REPO)  # the head commit is unknown: 422
    verdict = should_skip.evaluate(pr_environ(tmp_path, github_api))
    assert verdict.skip is False
    assert "could not check the author of pull request #8" in verdict.reason
    assert "422" in verdict.reason


def test_no_token_means_do_not_skip_without_a_request(
    tmp_path: Path, github_api: GitHubApiStub
) -> None:
    environ = pr_environ(tmp_path, github_api)
    del environ["GITHUB_TOKEN"]
    verdict = should_skip.evaluate(environ)
    assert verdict.skip is False
    assert "no API token" in verdict.reason
    assert github_api.requests == []


def test_gitops_token_is_used(tmp_path: Path, github_api: GitHubApiStub) -> None:
    github_api.token = "ghp_gitops"
    github_api.add_commit(REPO, SHA1, author=BOT, author_login="github-actions[bot]")
    environ = pr_environ(
        tmp_path, github_api, GITHUB_TOKEN="wrong", GITOPS_GITHUB_TOKEN="ghp_gitops"
    )
    assert should_skip.evaluate(environ).skip is True


def test_push_commits_without_author_data_are_looked_up(
    tmp_path: Path, github_api: GitHubApiStub
) -> None:
    github_api.add_commit(REPO, SHA2, author=GITOPS, message="chore: bump app to v1.2.4")
    event = tmp_path / "push.json"
    known = {"id": SHA1, "message": "bump", "author": {"name": "gitops-bot", "email": "g@x"}}
    payload = {"ref": "refs/heads/main", "commits": [known, {"id": SHA2}], "head_commit": None}
    event.write_text(json.dumps(payload), encoding="utf-8")
    environ = {
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": github_api.url,
        "GITHUB_TOKEN": DEFAULT_TOKEN,
        "GITOPS_BOT": "gitops-bot",
    }
    verdict = should_skip.evaluate(environ)
    assert verdict.skip is True
    assert "all 2 commits" in verdict.reason
    assert [r.path for r in github_api.requests] == [f"/repos/{REPO}/commits/{SHA2}"]
