"""Pinned git environment for tests: fixed identity, fixed dates, no user config.

Why: commit ids must be reproducible (same tree + same identity + same dates =
same sha), and nothing from the developer's or CI's git config (signing,
hooks path, credential helpers, url rewrites, default branch) may change what a
test sees. HOME and XDG_CONFIG_HOME point at a temp dir holding a tiny
.gitconfig; the system config is ignored; inherited GIT_* variables (a hook's
GIT_DIR, an askpass helper) are dropped; prompts are off so a missing
credential fails at once instead of waiting on a terminal.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

PINNED_DATE = "2024-01-01T00:00:00+00:00"
AUTHOR_NAME = "Test Author"
AUTHOR_EMAIL = "author@example.test"
COMMITTER_NAME = "Test Committer"
COMMITTER_EMAIL = "committer@example.test"

_GITCONFIG = """\
[init]
\tdefaultBranch = main
[advice]
\tdetachedHead = false
[safe]
\tdirectory = *
"""

_DROPPED_PREFIXES = ("GIT_", "SSH_ASKPASS", "XDG_CONFIG_HOME")


class GitCommandError(RuntimeError):
    """A git command run by a fixture failed; the message holds its stderr."""


def git_env(
    home: Path,
    *,
    date: str = PINNED_DATE,
    author: tuple[str, str] = (AUTHOR_NAME, AUTHOR_EMAIL),
    committer: tuple[str, str] = (COMMITTER_NAME, COMMITTER_EMAIL),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A full environment (os.environ minus git leaks, plus pins) for running git.

    `home` is created with a .gitconfig (default branch main) when missing.
    """
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / ".gitconfig"
    if not gitconfig.exists():
        gitconfig.write_text(_GITCONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_COMMITTER_DATE": date,
            # English messages, so tests can match git's errors.
            "LC_ALL": "C.UTF-8",
            "LANGUAGE": "C",
        }
    )
    if extra:
        env.update(extra)
    return env


def run_git(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str],
    check: bool = True,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `git ARGS` and return the result; raise GitCommandError when check fails."""
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise GitCommandError(
            f"git {' '.join(args)} exited {result.returncode} in {cwd}: {result.stderr.strip()}"
        )
    return result


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Write files (relative path -> content) under root, creating directories."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
