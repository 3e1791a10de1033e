"""Git credentials stay with the origin they were given for (issue 14, item 1).

A hostile origin answers every request with a 302 to another port; that
second server serves a real copy of the repository (it is the attacker's)
and records every Authorization header it is sent.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from gitops_action.adapters.git import GitWorkspace
from gitops_action.adapters.git_auth import git_auth
from gitops_action.domain.errors import GitError
from testbed.git_server import GitHttpServer
from testbed.hostile import forward_to, hostile_server, redirect_to

pytestmark = pytest.mark.services


def test_a_redirect_to_another_origin_gets_no_credentials(
    git_server: GitHttpServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    git_server.create_repo("redirected", {"app.yaml": "image: app:v1\n"})
    forward = forward_to(git_server.port, git_server.username, git_server.password)
    with (
        hostile_server(forward, "collector") as (collector_port, collector),
        hostile_server(redirect_to(collector_port), "redirector") as (origin_port, origin),
    ):
        url = f"http://127.0.0.1:{origin_port}/redirected.git"
        environ = {**git_env, "GITOPS_GIT_USERNAME": "bot", "GITOPS_GIT_PASSWORD": "tok-123"}
        workspace = GitWorkspace(git_auth(url, environ), tmp_path / "cache", environ=environ)
        message = ""
        try:
            workspace.sync("main", depth=1)
        except GitError as error:
            message = str(error)
        assert origin.requests, "the origin was asked"
    assert collector.authorizations() == []
    assert message, "a redirect with credentials is refused, not followed"
    assert "tok-123" not in message


def _fails(url: str, environ: dict[str, str], cache: Path) -> tuple[str, GitWorkspace]:
    workspace = GitWorkspace(git_auth(url, environ), cache, environ=environ)
    with pytest.raises(GitError) as raised:
        workspace.sync("main", depth=1)
    return str(raised.value), workspace


def _stored(cache: Path) -> str:
    """Every name under the cache and the text of each clone's .git/config."""
    names = [str(path.relative_to(cache)) for path in cache.rglob("*")]
    configs = [path.read_text() for path in cache.rglob("config") if path.parent.name == ".git"]
    return "\n".join(names + configs)


def test_an_ssh_password_reaches_no_message_config_or_cache_name(
    git_env: dict[str, str], tmp_path: Path
) -> None:
    url = "ssh://deploy:ssh-pa55word@127.0.0.1:1/org/app.git"
    environ = {**git_env, "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=5"}
    message, workspace = _fails(url, environ, tmp_path / "cache")
    assert "127.0.0.1" in message
    assert "ssh-pa55word" not in message
    assert "ssh-pa55word" not in _stored(tmp_path / "cache")
    assert "ssh-pa55word" not in workspace.url


def test_a_query_string_token_reaches_no_message_or_cache_name(
    git_env: dict[str, str], tmp_path: Path
) -> None:
    def refuse(handler: BaseHTTPRequestHandler) -> None:
        body = f"no access for {handler.path}\n".encode()
        handler.send_response(500)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with hostile_server(refuse) as (port, seen):
        url = f"http://127.0.0.1:{port}/org/config.git?token=q-tok3n"
        message, workspace = _fails(url, git_env, tmp_path / "cache")
    assert seen.requests, "the server was asked"
    assert "q-tok3n" not in message and "127.0.0.1" in message
    assert "q-tok3n" not in _stored(tmp_path / "cache").split(".git/config")[0]
    assert "q-tok3n" not in workspace.url
    assert workspace.path.name.startswith("config-")


def test_the_cache_name_ignores_credentials() -> None:
    plain = GitWorkspace(git_auth("ssh://host/org/app.git", {}), Path("/c")).path
    with_password = GitWorkspace(git_auth("ssh://u:p@host/org/app.git", {}), Path("/c")).path
    with_token = GitWorkspace(git_auth("https://host/org/app.git?token=t", {}), Path("/c")).path
    assert plain.name.startswith("app-")
    assert with_token.name.startswith("app-")
    assert "p" not in with_password.name.removeprefix("app-").strip("0123456789abcdef")
