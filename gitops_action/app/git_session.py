"""What every command that writes to the config repo shares: the clone, bot commits, push retries.

`automate`, `hold --repo` and `release --repo` all follow one loop, which is
how a human commit pushed during a run survives:

1. fetch the branch and reset the work tree to the remote head;
2. plan from scratch on that head and commit on top of it;
3. push as a fast-forward; if the remote refuses because the branch moved
   (`PushRejected`), wait a little (random jitter, growing per try), and go
   back to 1: the plan is made again on the new head, so nothing is merged,
   rebased or forced, and a plan that became empty (someone else pushed the
   same bump) pushes nothing.

The number of tries is bounded (`--push-retries`, default 5).

Bot commits are marked with a `Gitops-Action: <kind>` trailer (`automate`,
`hold`, `release`); with the automation's author e-mail, that is how revert
detection finds "the last automation commit".
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from gitops_action.adapters.config_loader import load_config
from gitops_action.adapters.git import TRAILER_KEY, GitWorkspace, LogEntry, default_cache_dir
from gitops_action.adapters.git_auth import git_auth
from gitops_action.domain.errors import GitError, PushRejected

log = logging.getLogger("gitops_action.git")

DEFAULT_DEPTH = 50
DEFAULT_TRIES = 5
DEFAULT_AUTHOR_NAME = "gitops-action"
DEFAULT_AUTHOR_EMAIL = "gitops-action@users.noreply.github.com"
JITTER_BASE = 0.25  # seconds; try n waits up to JITTER_BASE * 2**n

T = TypeVar("T")


@dataclass(frozen=True)
class Author:
    name: str
    email: str


def automation_author(root: Path) -> tuple[str, str]:
    """The ImageUpdateAutomation's author when the repo has exactly one, else the defaults.

    Bot commits that are not a bump (holds, releases, canary rollbacks) use it
    too, so every commit the tool makes is recognisable as the automation's.
    """
    automations = load_config(root).automations
    if len(automations) == 1:
        automation = automations[0]
        return automation.author_name or DEFAULT_AUTHOR_NAME, automation.author_email
    return DEFAULT_AUTHOR_NAME, DEFAULT_AUTHOR_EMAIL


def open_workspace(url: str, cache_dir: Path | None, environ: Mapping[str, str]) -> GitWorkspace:
    """The cached clone of `url` (credentials from the environment or the URL)."""
    root = cache_dir or default_cache_dir(environ)
    auth = git_auth(url, environ, known_hosts=root / "known_hosts")
    return GitWorkspace(auth, root, environ=environ)


def with_trailer(message: str, kind: str) -> str:
    """`message` with the `Gitops-Action: kind` trailer as its last paragraph."""
    body = message.rstrip("\n") or "Update from image update automation"
    return f"{body}\n\n{TRAILER_KEY}: {kind}\n"


def is_bot_commit(entry: LogEntry, author_email: str) -> bool:
    """A commit made by the automation: our trailer, or the automation's author e-mail."""
    if entry.trailers:
        return True
    return bool(author_email) and entry.author_email.lower() == author_email.lower()


@dataclass
class Jitter:
    """Waits between push tries; injectable so tests need not sleep."""

    sleep: Callable[[float], None] = time.sleep
    rng: random.Random | None = None
    base: float = JITTER_BASE

    def wait(self, attempt: int) -> float:
        generator = self.rng or random.Random()  # noqa: S311 - jitter, not cryptography
        seconds = generator.uniform(0, self.base * (2**attempt))
        self.sleep(seconds)
        return seconds


def retry_on_rejection(
    attempt: Callable[[int], T],
    *,
    tries: int,
    jitter: Jitter,
    what: str,
) -> T:
    """Run `attempt(n)` until it does not raise `PushRejected`, at most `tries` times.

    `attempt` must fetch, re-plan and push from scratch each time.
    """
    last: PushRejected | None = None
    for number in range(max(tries, 1)):
        if number:
            waited = jitter.wait(number)
            log.info(
                "%s: push rejected (%s); re-planning, try %d after %.2fs",
                what,
                last,
                number + 1,
                waited,
            )
        try:
            return attempt(number)
        except PushRejected as rejected:
            last = rejected
    raise GitError(
        f"{what}: gave up after {tries} tries: the branch kept moving ({last}); "
        "nothing was forced, run again"
    )
