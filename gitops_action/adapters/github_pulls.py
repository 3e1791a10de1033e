"""Pull requests for `automate` in pull-request mode, through PyGithub.

One call, `ensure_pull_request`: find the open pull request from the head
branch into the base branch and update its title and body when they changed,
or open one. Requests: one list (`GET /repos/{repo}/pulls?head=OWNER:BRANCH
&base=BASE&state=open`), then at most one `POST` (create) or `PATCH`
(update). The client is lazy, so no `GET /repos/{repo}` precedes them.

Token: `GITOPS_GITHUB_TOKEN`, else `GITHUB_TOKEN` (needs `pull-requests:
write` and `contents: write`); API: `GITHUB_API_URL` (GitHub Enterprise
Server: `https://HOST/api/v3`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gitops_action.adapters.github_api import client, describe
from gitops_action.domain.errors import ConfigError, GitHubApiError

TOKEN_ENVS = ("GITOPS_GITHUB_TOKEN", "GITHUB_TOKEN")
DEFAULT_API = "https://api.github.com"
REPOSITORY_ENVS = ("GITOPS_GITHUB_REPOSITORY", "GITHUB_REPOSITORY")


@dataclass(frozen=True)
class PullRequest:
    """An open pull request: where it is and whether this run opened or changed it."""

    number: int
    url: str
    head: str
    base: str
    action: str  # "created" | "updated" | "unchanged"

    def as_record(self) -> dict[str, object]:
        return {
            "number": self.number,
            "url": self.url,
            "head": self.head,
            "base": self.base,
            "action": self.action,
        }


@dataclass(frozen=True)
class GitHubTarget:
    """Which repository, API and token pull requests go to."""

    repository: str  # owner/name
    api_url: str
    token: str


_GITHUB_URL = re.compile(r"(?:github\.com[:/])([^/\s]+)/([^/\s]+?)(?:\.git)?/?$")


def github_target(
    environ: Mapping[str, str], git_url: str, repository: str | None = None
) -> GitHubTarget | None:
    """The pull-request target, None when no token is set.

    The repository is `repository`, else `GITOPS_GITHUB_REPOSITORY` /
    `GITHUB_REPOSITORY`, else read from a github.com git URL.
    """
    token = next((environ[name] for name in TOKEN_ENVS if environ.get(name)), "")
    if not token:
        return None
    name = repository or next((environ[n] for n in REPOSITORY_ENVS if environ.get(n)), "")
    if not name:
        match = _GITHUB_URL.search(git_url)
        name = f"{match.group(1)}/{match.group(2)}" if match else ""
    if not re.fullmatch(r"[^/\s]+/[^/\s]+", name):
        raise ConfigError(
            "pull-request mode: cannot tell the GitHub repository from the git URL; "
            "set --github-repository OWNER/NAME (or GITOPS_GITHUB_REPOSITORY)"
        )
    api = (environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
    return GitHubTarget(name, api, token)


def ensure_pull_request(
    target: GitHubTarget, *, head: str, base: str, title: str, body: str
) -> PullRequest:
    """Open a pull request `head` -> `base`, or update the open one's title and body."""
    import github
    import requests

    where = f"pull request {head} -> {base} of {target.repository} at {target.api_url}"
    owner = target.repository.split("/", 1)[0]
    try:
        with client(target.token, target.api_url, lazy=True) as gh:
            repo = gh.get_repo(target.repository)
            for pull in repo.get_pulls(state="open", head=f"{owner}:{head}", base=base):
                if pull.title == title and (pull.body or "") == body:
                    return PullRequest(pull.number, pull.html_url, head, base, "unchanged")
                pull.edit(title=title, body=body)
                return PullRequest(pull.number, pull.html_url, head, base, "updated")
            created = repo.create_pull(base=base, head=head, title=title, body=body)
            return PullRequest(created.number, created.html_url, head, base, "created")
    except github.GithubException as error:
        raise GitHubApiError(f"GitHub API: {where}: {describe(error, target.token)}") from error
    except requests.RequestException as error:
        reason = error.__class__.__name__
        raise GitHubApiError(f"GitHub API: {where}: request failed ({reason})") from error
