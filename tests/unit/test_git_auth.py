"""Git credentials reach git only through its environment, and never a message."""

from __future__ import annotations

import base64
import shlex
from pathlib import Path

import pytest

from gitops_action.adapters.git import LogEntry, _cache_name, _porcelain_status, validate_branch
from gitops_action.adapters.git_auth import git_auth, is_ssh, redact_url
from gitops_action.app.git_session import is_bot_commit, with_trailer
from gitops_action.domain.errors import ConfigError
from gitops_action.domain.marker_values import MarkerValue
from gitops_action.domain.markers import MarkerField, PolicyRef


def _header(env: dict[str, str]) -> tuple[str, str]:
    count = int(env["GIT_CONFIG_COUNT"])
    pairs = {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(count)}
    ((key, value),) = [(k, v) for k, v in pairs.items() if k.endswith(".extraHeader")]
    return key, value


def test_env_credentials_become_a_scoped_header_and_the_url_stays_clean() -> None:
    auth = git_auth(
        "https://old:urlpass@git.example.com:8443/org/config.git",
        {"GITOPS_GIT_USERNAME": "bot", "GITOPS_GIT_PASSWORD": "s3cret"},
    )
    assert auth.url == "https://git.example.com:8443/org/config.git"
    key, value = _header(dict(auth.env))
    assert key == "http.https://git.example.com:8443/.extraHeader"
    assert value == "Authorization: Basic " + base64.b64encode(b"bot:s3cret").decode()
    assert "s3cret" not in auth.url and 'user "bot"' in auth.describe
    message = f"fatal: {value} for https://bot:s3cret@git.example.com/ and https://old:urlpass@x/"
    redacted = auth.redact(message)
    assert "s3cret" not in redacted and "urlpass" not in redacted
    assert base64.b64encode(b"bot:s3cret").decode() not in redacted


def test_url_credentials_are_used_when_the_environment_has_none() -> None:
    auth = git_auth("http://git-bot:p%40ss@127.0.0.1:9000/r.git", {})
    assert auth.url == "http://127.0.0.1:9000/r.git"
    _key, value = _header(dict(auth.env))
    assert value.endswith(base64.b64encode(b"git-bot:p@ss").decode())
    assert "p@ss" not in auth.redact("x p@ss y p%40ss")


def test_a_password_alone_uses_the_git_username_and_existing_config_is_kept() -> None:
    auth = git_auth(
        "https://github.com/o/r.git",
        {"GITOPS_GIT_PASSWORD": "tok", "GIT_CONFIG_COUNT": "1"},
    )
    assert auth.env["GIT_CONFIG_COUNT"] == "3"
    assert "GIT_CONFIG_KEY_1" in auth.env and "GIT_CONFIG_KEY_0" not in auth.env
    assert auth.env["GIT_CONFIG_KEY_2"] == "http.followRedirects"
    assert auth.env["GIT_CONFIG_VALUE_2"] == "false"
    assert auth.env["GIT_CONFIG_VALUE_1"].endswith(base64.b64encode(b"git:tok").decode())


def test_ssh_key_goes_into_git_ssh_command(tmp_path: Path) -> None:
    key = tmp_path / "id key"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    auth = git_auth(
        "git@github.com:org/config.git",
        {"GITOPS_GIT_SSH_KEY": str(key)},
        known_hosts=tmp_path / "known_hosts",
    )
    argv = shlex.split(auth.env["GIT_SSH_COMMAND"])
    assert argv[:3] == ["ssh", "-i", str(key)]
    assert "IdentitiesOnly=yes" in argv and "StrictHostKeyChecking=accept-new" in argv
    assert f"UserKnownHostsFile={tmp_path / 'known_hosts'}" in argv
    with pytest.raises(ConfigError, match="GITOPS_GIT_SSH_KEY"):
        git_auth("ssh://git@host/r.git", {"GITOPS_GIT_SSH_KEY": str(tmp_path / "nope")})


@pytest.mark.parametrize(
    ("url", "ssh"),
    [
        ("git@github.com:o/r.git", True),
        ("ssh://git@host:22/r.git", True),
        ("https://host/r.git", False),
        ("/srv/git/r.git", False),
        ("./relative", False),
        ("file:///srv/r.git", False),
    ],
)
def test_url_kinds(url: str, ssh: bool) -> None:
    assert is_ssh(url) is ssh


def test_redact_url_masks_userinfo_only() -> None:
    assert redact_url("see https://u:p@h/x and git@h:o/r") == "see https://***@h/x and git@h:o/r"


def test_push_porcelain_lines_are_read_per_branch() -> None:
    out = "To http://h/r.git\n!\tabc:refs/heads/main\t[rejected] (fetch first)\nDone\n"
    assert _porcelain_status(out, "main") == ("!", "[rejected] (fetch first)")
    assert _porcelain_status(out, "other") is None
    ok = "To x\n \t1234:refs/heads/gitops/ns/app-v1\t1111..2222\nDone\n"
    assert _porcelain_status(ok, "gitops/ns/app-v1") == (" ", "1111..2222")


def test_branch_names_and_cache_names() -> None:
    assert validate_branch("gitops/flux-system/app-v1.1.0") == "gitops/flux-system/app-v1.1.0"
    for bad in ("", "a..b", "-x", "a b", "x.lock", "a:b", "a/"):
        with pytest.raises(ConfigError):
            validate_branch(bad)
    one, two = _cache_name("https://h/org/config.git"), _cache_name("https://h/other/config.git")
    assert one.startswith("config-") and two.startswith("config-") and one != two


def _entry(email: str, trailers: tuple[str, ...] = ()) -> LogEntry:
    return LogEntry("a" * 40, "n", email, "2024-01-01", trailers, "s")


def test_bot_commits_are_known_by_trailer_or_author_email() -> None:
    assert with_trailer("img:v1\n", "automate") == "img:v1\n\nGitops-Action: automate\n"
    assert with_trailer("", "hold").startswith("Update from image update automation\n\n")
    assert is_bot_commit(_entry("human@x", ("automate",)), "bot@x")
    assert is_bot_commit(_entry("BOT@x"), "bot@x")
    assert not is_bot_commit(_entry("human@x"), "bot@x")
    assert not is_bot_commit(_entry(""), "")


@pytest.mark.parametrize(
    ("field", "value", "tag"),
    [
        (MarkerField.FULL, "ghcr.io/o/app:v1.2.0", "v1.2.0"),
        (MarkerField.FULL, "127.0.0.1:5000/app:1.0", "1.0"),
        (MarkerField.FULL, "127.0.0.1:5000/app", None),
        (MarkerField.FULL, "app:v1@sha256:abc", "v1"),
        (MarkerField.TAG, "v3", "v3"),
        (MarkerField.NAME, "ghcr.io/o/app", None),
    ],
)
def test_marker_value_tags(field: MarkerField, value: str, tag: str | None) -> None:
    assert MarkerValue("f", 1, PolicyRef("ns", "p"), field, value).tag == tag
