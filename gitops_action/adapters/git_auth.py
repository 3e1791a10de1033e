"""How git is given credentials without writing them anywhere.

A git URL may carry credentials (`https://user:token@host/repo.git`), and the
tool may be given them in the environment (`GITOPS_GIT_USERNAME` and
`GITOPS_GIT_PASSWORD` for https, `GITOPS_GIT_SSH_KEY` for ssh). Git itself
would store a URL's credentials in `.git/config` and show them in its
messages, and an argv is visible to every user of the machine (`ps`). So:

- the remote is always configured WITHOUT userinfo (`clean_url`);
- https credentials reach git as an `Authorization: Basic` header in
  `http.<origin>/.extraHeader`, set through the `GIT_CONFIG_COUNT` /
  `GIT_CONFIG_KEY_n` / `GIT_CONFIG_VALUE_n` environment of the git process
  only (never argv, never a file, never a credential helper that could store
  it). git itself would carry that header on: after a redirect of its first
  request it sends every later one (upload-pack, receive-pack) to the new
  base URL with the same extra headers, so with credentials
  `http.followRedirects` is `false`: a remote that redirects is refused, and
  the token only ever goes to the origin it was given for;
- an ssh key is named in `GIT_SSH_COMMAND` (`-i KEY -o IdentitiesOnly=yes
  -o StrictHostKeyChecking=accept-new`, known hosts kept in the cache dir);
- every message that could hold a URL or git's stderr passes `redact`, which
  masks the password, its Basic encoding and any `user:pass@` in a URL.

Environment beats the URL: with `GITOPS_GIT_PASSWORD` set, a URL's own
userinfo is dropped. A password without a username uses `git` (GitHub,
GitLab and Gitea accept any username with a token).
"""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from gitops_action.domain.errors import ConfigError
from gitops_action.domain.redact import Redactor

USERNAME_ENV = "GITOPS_GIT_USERNAME"
PASSWORD_ENV = "GITOPS_GIT_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
SSH_KEY_ENV = "GITOPS_GIT_SSH_KEY"
DEFAULT_USERNAME = "git"

_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@")
_QUERY_VALUE = re.compile(
    r"([a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#]*\?|(?<=[^\s?#])&)([^=&#\s]+)=[^&#\s'\"]*"
)
_SCP_LIKE = re.compile(r"^(?:[^@/:\s]+@)?[^/:\s]+:(?!//)")


def redact_url(url: str) -> str:
    """`url` with any `user:pass@` replaced by `***@` and query values by `***`.

    scp-like `git@host:` is kept (no secret). Query strings are masked whole
    (`?token=***`): a URL's query is where signed and token URLs keep theirs.
    """
    return _QUERY_VALUE.sub(r"\1\2=***", _USERINFO.sub(r"\1***@", url))


def display_url(url: str) -> str:
    """What a message may say about a remote: no userinfo, no query values."""
    return redact_url(url)


def is_http(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def is_ssh(url: str) -> bool:
    """`ssh://...`, `git+ssh://...` or scp-like `user@host:path` (not a local path)."""
    lowered = url.lower()
    if lowered.startswith(("ssh://", "git+ssh://", "ssh+git://")):
        return True
    if "://" in url or url.startswith(("/", ".", "~")):
        return False
    return bool(_SCP_LIKE.match(url))


@dataclass(frozen=True)
class GitAuth:
    """What to add to a git process's environment to reach one remote."""

    url: str
    """The remote without credentials: what goes into `.git/config` and messages."""
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    redactor: Redactor = field(default_factory=Redactor, repr=False, compare=False)
    describe: str = "no credentials"
    """How the remote is authenticated, safe to print (`user "bot" from GITOPS_GIT_USERNAME`)."""

    def redact(self, text: str) -> str:
        return redact_url(self.redactor(text))


def git_auth(url: str, environ: Mapping[str, str], known_hosts: Path | None = None) -> GitAuth:
    """The clean remote and the environment git needs for it (see the module docstring)."""
    if not url.strip():
        raise ConfigError("--repo: empty git URL")
    redactor = Redactor()
    if is_http(url):
        return _http_auth(url, environ, redactor)
    if is_ssh(url):
        return _ssh_auth(url, environ, redactor, known_hosts)
    return GitAuth(url, {}, redactor, "no credentials")


def _http_auth(url: str, environ: Mapping[str, str], redactor: Redactor) -> GitAuth:
    parts = urlsplit(url)
    clean = _without_userinfo(parts)
    username = environ.get(USERNAME_ENV, "")
    password = environ.get(PASSWORD_ENV, "")
    source = f"{USERNAME_ENV}/{PASSWORD_ENV}"
    if not password and (parts.username or parts.password):
        username, password = unquote(parts.username or ""), unquote(parts.password or "")
        source = "the URL"
        # The raw (still percent-encoded) forms can show up in git's messages too.
        redactor.add(parts.password or "")
    if not password and not username:
        return GitAuth(clean, {}, redactor, "no credentials")
    username = username or DEFAULT_USERNAME
    redactor.add(password, username)
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    origin = urlunsplit((parts.scheme, _host_port(parts), "/", "", ""))
    env = _config_env(
        environ,
        {
            f"http.{origin}.extraHeader": f"Authorization: Basic {token}",
            "http.followRedirects": "false",
        },
    )
    redactor.add(token)
    return GitAuth(clean, env, redactor, f'user "{username}" from {source}')


def _ssh_auth(
    url: str, environ: Mapping[str, str], redactor: Redactor, known_hosts: Path | None
) -> GitAuth:
    url = _without_ssh_password(url, redactor)
    key = environ.get(SSH_KEY_ENV, "")
    if not key:
        return GitAuth(url, {}, redactor, "ssh agent or default keys")
    if not Path(key).is_file():
        raise ConfigError(f"{SSH_KEY_ENV}: {key} is not a file (it must name a private key file)")
    command = [
        "ssh",
        "-i",
        key,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        "BatchMode=yes",
    ]
    if known_hosts is not None:
        command += ["-o", f"UserKnownHostsFile={known_hosts}"]
    env = {"GIT_SSH_COMMAND": shlex.join(command)}
    return GitAuth(url, env, redactor, f"ssh key {key} from {SSH_KEY_ENV}")


def _without_ssh_password(url: str, redactor: Redactor) -> str:
    """`ssh://user:pass@host/r` as `ssh://user@host/r`: ssh never takes a password from a URL
    here (BatchMode), and it must reach neither `.git/config` nor a message."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    redactor.add(parts.password)
    redactor.add(unquote(parts.password))
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(
        (parts.scheme, user + _host_port(parts), parts.path, parts.query, parts.fragment)
    )


def _without_userinfo(parts: SplitResult) -> str:
    return urlunsplit((parts.scheme, _host_port(parts), parts.path, parts.query, parts.fragment))


def _host_port(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port is not None else host


def _config_env(environ: Mapping[str, str], settings: Mapping[str, str]) -> dict[str, str]:
    """`GIT_CONFIG_*` variables adding `settings` after any the caller already set."""
    try:
        count = int(environ.get("GIT_CONFIG_COUNT", "0") or "0")
    except ValueError:
        count = 0
    env: dict[str, str] = {}
    for index, (key, value) in enumerate(settings.items(), start=count):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    env["GIT_CONFIG_COUNT"] = str(count + len(settings))
    return env
