"""The GitHub REST API, through PyGithub.

PyGithub (package `github`) is imported inside the functions that use it:
`ci should-skip` loads this module from the runner's stock `python3`, where
PyGithub is usually absent, and must still work (answering "could not check").
Importing this module therefore costs nothing beyond the standard library.

Requests go to `base_url` (`GITHUB_API_URL`: api.github.com, or a GitHub
Enterprise Server's `/api/v3`) with a token; retries are off and the timeout
is short, because every caller has a safe answer when the API is unreachable.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from gitops_action.domain.errors import GitHubApiError
from gitops_action.domain.redact import Redactor
from gitops_action.domain.skip import Commit, Person

DEFAULT_TIMEOUT = 10
USER_AGENT = "gitops-action"


def pygithub_available() -> bool:
    """True when PyGithub can be imported (without importing it)."""
    return importlib.util.find_spec("github") is not None


@contextmanager
def client(
    token: str, base_url: str, timeout: int = DEFAULT_TIMEOUT, *, lazy: bool = False
) -> Iterator[Any]:
    """A PyGithub client that is closed afterwards.

    `lazy=True` makes `get_repo(...)` and friends build objects without a
    request; the first attribute read fetches them.
    """
    import github

    gh = github.Github(
        auth=github.Auth.Token(token),
        base_url=base_url.rstrip("/"),
        timeout=timeout,
        retry=None,
        user_agent=USER_AGENT,
        seconds_between_requests=None,
        lazy=lazy,
    )
    try:
        yield gh
    finally:
        gh.close()


def fetch_commits(
    repository: str,
    shas: Sequence[str],
    *,
    token: str,
    base_url: str,
    timeout: int = DEFAULT_TIMEOUT,
) -> list[Commit]:
    """Author, committer and message of each commit (`GET /repos/{repo}/commits/{sha}`).

    One request per commit: the client is lazy, so there is no `GET /repos`
    and each commit is fetched when `_to_commit` first reads it.
    """
    import github
    import requests

    commits: list[Commit] = []
    with client(token, base_url, timeout, lazy=True) as gh:
        repo = gh.get_repo(repository)
        for sha in shas:
            where = f"commit {sha[:7]} of {repository} at {base_url}"
            try:
                commits.append(_to_commit(repo.get_commit(sha)))
            except github.GithubException as error:
                raise GitHubApiError(f"GitHub API: {where}: {describe(error, token)}") from error
            except requests.RequestException as error:
                reason = error.__class__.__name__
                raise GitHubApiError(f"GitHub API: {where}: request failed ({reason})") from error
    return commits


MESSAGE_LIMIT = 200


def describe(error: Any, token: str = "") -> str:
    """`404 Not Found` from a `GithubException`, one line, without headers.

    The `message` is the server's text: an API (or a proxy in front of it)
    that echoes the request's `Authorization` would put our token into the
    step's log and `reason=` in `$GITHUB_OUTPUT`. So `token` (and its
    encodings) is masked and the text cut to `MESSAGE_LIMIT` characters.
    """
    data = getattr(error, "data", None)
    message = data.get("message") if isinstance(data, dict) else None
    status = getattr(error, "status", None)
    redactor = Redactor()
    redactor.add(token)
    redactor.add(token, "x-access-token")
    text = redactor.one_line(str(message or error.__class__.__name__))
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT] + "..."
    return f"{status} {text}" if status else text


def _to_commit(api_commit: Any) -> Commit:
    """Map PyGithub's `Commit` (REST shape) to the domain's `Commit`."""
    git = api_commit.commit
    return Commit(
        sha=api_commit.sha,
        author=_person(git.author, api_commit.author),
        committer=_person(git.committer, api_commit.committer),
        message=git.message,
    )


def _person(git_person: Any, account: Any) -> Person | None:
    """Join the git identity (name, e-mail) with the GitHub account (login), if any."""
    if git_person is None and account is None:
        return None
    return Person(
        name=(git_person.name if git_person is not None else None) or "",
        email=(git_person.email if git_person is not None else None) or "",
        username=(account.login if account is not None else None) or "",
    )


def create_commit_status(
    repository: str,
    sha: str,
    *,
    state: str,
    description: str,
    context: str,
    target_url: str = "",
    token: str,
    base_url: str,
    timeout: int = DEFAULT_TIMEOUT,
) -> None:
    """Set a commit status (`POST /repos/{repo}/statuses/{sha}`): one request.

    The lazy client builds the commit from its URL, so no `GET` precedes the
    `POST`. Needs a token with `statuses: write`.
    """
    import github
    import requests

    where = f"status {context!r} on commit {sha[:7]} of {repository} at {base_url}"
    try:
        with client(token, base_url, timeout, lazy=True) as gh:
            commit = gh.get_repo(repository).get_commit(sha)
            if target_url:
                commit.create_status(
                    state, target_url=target_url, description=description, context=context
                )
            else:
                commit.create_status(state, description=description, context=context)
    except github.GithubException as error:
        raise GitHubApiError(f"GitHub API: {where}: {describe(error, token)}") from error
    except requests.RequestException as error:
        reason = error.__class__.__name__
        raise GitHubApiError(f"GitHub API: {where}: request failed ({reason})") from error
