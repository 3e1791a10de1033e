"""JSON bodies shaped like GitHub's REST API answers (API version 2022-11-28).

The stub must return what api.github.com returns, or PyGithub code that works
against the stub could break against GitHub. These builders produce the
documented shapes: `simple-user`, `repository` (the fields clients read),
`commit` (GET /repos/{owner}/{repo}/commits/{ref}) and the error body
`{"message", "documentation_url", "status"}`. Values that do not matter to a
test (ids, dates, avatar URLs) are filled deterministically.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

HTML_URL = "https://github.com"
DOCS_URL = "https://docs.github.com/rest"
FIXED_DATE = "2024-05-01T12:00:00Z"


@dataclass(frozen=True)
class GitIdentity:
    """A git author or committer (`name <email>`), as stored in the commit."""

    name: str
    email: str
    date: str = FIXED_DATE

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email, "date": self.date}


def stable_id(text: str) -> int:
    """A deterministic positive id for a login or name."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def node_id(kind: str, text: str) -> str:
    return base64.b64encode(f"0:{kind}{text}".encode()).decode()


def simple_user(api: str, login: str, *, user_type: str | None = None) -> dict[str, Any]:
    """A `simple-user`; logins ending in `[bot]` are GitHub App bots (type Bot)."""
    is_bot = login.endswith("[bot]")
    kind = user_type or ("Bot" if is_bot else "User")
    user_url = f"{api}/users/{quote(login, safe='')}"
    html = f"{HTML_URL}/apps/{login[: -len('[bot]')]}" if is_bot else f"{HTML_URL}/{login}"
    number = stable_id(login)
    return {
        "login": login,
        "id": number,
        "node_id": node_id("U", login),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
        "gravatar_id": "",
        "url": user_url,
        "html_url": html,
        "followers_url": f"{user_url}/followers",
        "following_url": f"{user_url}/following{{/other_user}}",
        "gists_url": f"{user_url}/gists{{/gist_id}}",
        "starred_url": f"{user_url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{user_url}/subscriptions",
        "organizations_url": f"{user_url}/orgs",
        "repos_url": f"{user_url}/repos",
        "events_url": f"{user_url}/events{{/privacy}}",
        "received_events_url": f"{user_url}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def repository(api: str, full_name: str, *, default_branch: str = "main") -> dict[str, Any]:
    """A `full-repository`, with the fields clients commonly read."""
    owner, name = full_name.split("/", 1)
    url = f"{api}/repos/{full_name}"
    return {
        "id": stable_id(full_name),
        "node_id": node_id("R", full_name),
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": simple_user(api, owner, user_type="Organization"),
        "html_url": f"{HTML_URL}/{full_name}",
        "description": None,
        "fork": False,
        "url": url,
        "commits_url": f"{url}/commits{{/sha}}",
        "git_commits_url": f"{url}/git/commits{{/sha}}",
        "pulls_url": f"{url}/pulls{{/number}}",
        "statuses_url": f"{url}/statuses/{{sha}}",
        "clone_url": f"{HTML_URL}/{full_name}.git",
        "git_url": f"git://github.com/{full_name}.git",
        "ssh_url": f"git@github.com:{full_name}.git",
        "created_at": FIXED_DATE,
        "updated_at": FIXED_DATE,
        "pushed_at": FIXED_DATE,
        "archived": False,
        "disabled": False,
        "visibility": "public",
        "default_branch": default_branch,
        "permissions": {
            "admin": False,
            "maintain": False,
            "push": True,
            "triage": True,
            "pull": True,
        },
    }


def commit(
    api: str,
    full_name: str,
    sha: str,
    *,
    message: str,
    author: GitIdentity,
    committer: GitIdentity,
    author_login: str | None = None,
    committer_login: str | None = None,
    parents: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A `commit` as GET /repos/{owner}/{repo}/commits/{ref} returns it.

    `author`/`committer` at the top level are GitHub accounts (null when the
    e-mail maps to none); `commit.author`/`commit.committer` are git's.
    """
    url = f"{api}/repos/{full_name}"
    tree = hashlib.sha1(f"tree:{sha}".encode()).hexdigest()  # an id, not security
    return {
        "url": f"{url}/commits/{sha}",
        "sha": sha,
        "node_id": node_id("C", sha),
        "html_url": f"{HTML_URL}/{full_name}/commit/{sha}",
        "comments_url": f"{url}/commits/{sha}/comments",
        "commit": {
            "url": f"{url}/git/commits/{sha}",
            "author": author.to_json(),
            "committer": committer.to_json(),
            "message": message,
            "tree": {"url": f"{url}/git/trees/{tree}", "sha": tree},
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "author": simple_user(api, author_login) if author_login else None,
        "committer": simple_user(api, committer_login) if committer_login else None,
        "parents": [
            {
                "url": f"{url}/commits/{parent}",
                "html_url": f"{HTML_URL}/{full_name}/commit/{parent}",
                "sha": parent,
            }
            for parent in parents
        ],
        "stats": {"total": 0, "additions": 0, "deletions": 0},
        "files": [],
    }


STATUS_STATES = ("error", "failure", "pending", "success")


def commit_status(
    api: str,
    full_name: str,
    sha: str,
    *,
    number: int,
    state: str,
    description: str | None,
    target_url: str | None,
    context: str,
    creator: str = "github-actions[bot]",
) -> dict[str, Any]:
    """A `status` as POST /repos/{owner}/{repo}/statuses/{sha} returns it."""
    return {
        "url": f"{api}/repos/{full_name}/statuses/{sha}",
        "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4",
        "id": number,
        "node_id": node_id("SC", f"{full_name}:{number}"),
        "state": state,
        "description": description,
        "target_url": target_url,
        "context": context,
        "created_at": FIXED_DATE,
        "updated_at": FIXED_DATE,
        "creator": simple_user(api, creator),
    }


def validation_failed(resource: str, field: str, code: str) -> dict[str, Any]:
    """GitHub's 422 body for a field that failed validation."""
    return {
        "message": "Validation Failed",
        "errors": [{"resource": resource, "field": field, "code": code}],
        "documentation_url": DOCS_URL,
        "status": "422",
    }


def error_body(status: int, message: str) -> dict[str, str]:
    """GitHub's error body (`status` is a string in current answers)."""
    return {"message": message, "documentation_url": DOCS_URL, "status": str(status)}
