"""Pull request endpoints for the GitHub API stub (list, create, update).

    pulls = PullRequests.install(stub)      # adds the routes
    ...                                     # code under test opens / edits PRs
    assert pulls.open("org/config")[0]["head"]["ref"] == "gitops/flux-system/app-v1.1.0"

Served, with GitHub's shapes and status codes (API version 2022-11-28):

    GET   /repos/{owner}/{repo}/pulls              ?state=open|closed|all &head=OWNER:BRANCH &base=B
    POST  /repos/{owner}/{repo}/pulls              {title, head, base, body} -> 201 | 422
    PATCH /repos/{owner}/{repo}/pulls/{number}     {title, body, state}      -> 200 | 404

A second open pull request for the same head and base is refused with 422
("A pull request already exists"), as GitHub does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from testbed.githubapi import shapes
from testbed.githubapi.server import GitHubApiStub, Params, Recorded, Reply


def pull_request(
    api: str, full_name: str, number: int, *, title: str, body: str, head: str, base: str
) -> dict[str, Any]:
    """A `pull-request` with the fields clients read."""
    owner = full_name.split("/", 1)[0]
    url = f"{api}/repos/{full_name}/pulls/{number}"
    repo = shapes.repository(api, full_name)
    return {
        "url": url,
        "id": shapes.stable_id(f"{full_name}#{number}"),
        "node_id": shapes.node_id("PR", f"{full_name}#{number}"),
        "html_url": f"{shapes.HTML_URL}/{full_name}/pull/{number}",
        "number": number,
        "state": "open",
        "locked": False,
        "title": title,
        "body": body,
        "user": shapes.simple_user(api, "gitops-action[bot]"),
        "created_at": shapes.FIXED_DATE,
        "updated_at": shapes.FIXED_DATE,
        "closed_at": None,
        "merged_at": None,
        "draft": False,
        "head": {"label": f"{owner}:{head}", "ref": head, "sha": "0" * 40, "repo": repo},
        "base": {"label": f"{owner}:{base}", "ref": base, "sha": "0" * 40, "repo": repo},
        "commits_url": f"{url}/commits",
        "issue_url": f"{api}/repos/{full_name}/issues/{number}",
    }


@dataclass
class PullRequests:
    """The stub's pull requests, by repository."""

    stub: GitHubApiStub
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def install(cls, stub: GitHubApiStub) -> PullRequests:
        pulls = cls(stub)
        stub.route("GET", "/repos/{owner}/{repo}/pulls", pulls._list)
        stub.route("POST", "/repos/{owner}/{repo}/pulls", pulls._create)
        stub.route("PATCH", "/repos/{owner}/{repo}/pulls/{number}", pulls._update)
        return pulls

    def open(self, full_name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(pr) for pr in self.items.get(full_name, []) if pr["state"] == "open"]

    def _list(self, stub: GitHubApiStub, request: Recorded, params: Params) -> Reply:
        full_name = f"{params['owner']}/{params['repo']}"
        if stub.repo(full_name) is None:
            return Reply(404, shapes.error_body(404, "Not Found"))
        state = request.query.get("state", ["open"])[0]
        head = request.query.get("head", [""])[0]
        base = request.query.get("base", [""])[0]
        with self.lock:
            found = [
                pr
                for pr in self.items.get(full_name, [])
                if state in ("all", pr["state"])
                and (not head or pr["head"]["label"] == head)
                and (not base or pr["base"]["ref"] == base)
            ]
        return Reply(200, found)

    def _create(self, stub: GitHubApiStub, request: Recorded, params: Params) -> Reply:
        full_name = f"{params['owner']}/{params['repo']}"
        if stub.repo(full_name) is None:
            return Reply(404, shapes.error_body(404, "Not Found"))
        data = request.json() or {}
        if not all(isinstance(data.get(key), str) and data[key] for key in ("head", "base")):
            return Reply(422, shapes.validation_failed("PullRequest", "head", "missing_field"))
        with self.lock:
            existing = self.items.setdefault(full_name, [])
            for pr in existing:
                if (
                    pr["state"] == "open"
                    and pr["head"]["ref"] == data["head"]
                    and pr["base"]["ref"] == data["base"]
                ):
                    body = shapes.validation_failed("PullRequest", "head", "custom")
                    body["errors"][0]["message"] = "A pull request already exists"
                    return Reply(422, body)
            number = len(existing) + 1
            pr = pull_request(
                stub.url,
                full_name,
                number,
                title=str(data.get("title") or ""),
                body=str(data.get("body") or ""),
                head=data["head"],
                base=data["base"],
            )
            existing.append(pr)
        return Reply(201, pr)

    def _update(self, stub: GitHubApiStub, request: Recorded, params: Params) -> Reply:
        full_name = f"{params['owner']}/{params['repo']}"
        data = request.json() or {}
        with self.lock:
            for pr in self.items.get(full_name, []):
                if str(pr["number"]) == params["number"]:
                    for key in ("title", "body", "state"):
                        if key in data:
                            pr[key] = data[key]
                    return Reply(200, dict(pr))
        return Reply(404, shapes.error_body(404, "Not Found"))
