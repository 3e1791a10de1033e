"""Should this CI run be skipped because bots made every commit it would build?

The CD half commits tag bumps to git; when the app and its config share a
repository, each such commit would trigger CI, build the same code again and
push an image nobody needs (or, worse, loop). This module decides, from the
GitHub event payload alone, whether the commits of a run all came from bots.

Rules (docs/ci.md has the reference):
- tag refs, `workflow_dispatch`, `release` and `schedule` are never skipped,
  whatever the commits or their messages say: a release is always built;
- a push (or pull request) is skipped when every commit in it was authored or
  committed by a bot: a name, username or e-mail given with `--bot`, or a name
  or username ending in `[bot]`; or when a commit message carries one of
  GitHub's skip instructions (`[skip ci]` ...);
- a push that deletes its branch is skipped: there is nothing to build;
- whatever cannot be checked (no payload, no author data and no lookup) is not
  skipped, with a reason that says why: skipping a real change is worse than
  one redundant build.

STDLIB ONLY and Python 3.9+: `ci should-skip` runs with the runner's stock
`python3` before any dependency is installed. The decision is pure: when the
payload lacks author data it returns `LookupNeeded`, and the caller fetches
the commits (or not) and calls `decide_commits`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BOT_SUFFIX = "[bot]"
NEVER_SKIPPED_EVENTS = frozenset({"workflow_dispatch", "release", "schedule"})
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
INSTRUCTION_EVENTS = frozenset({"push", "pull_request"})
"""Events for which GitHub honours skip instructions; we do the same, no more."""
SKIP_INSTRUCTIONS = ("[skip ci]", "[ci skip]", "[no ci]", "[skip actions]", "[actions skip]")
MAX_LOOKUPS = 20
"""Most commits we look up through the API for one run; beyond that: run."""

_SKIP_CHECKS_TRAILER = re.compile(r"skip-checks: ?true")


@dataclass(frozen=True)
class Person:
    """A commit author or committer as GitHub reports it."""

    name: str = ""
    email: str = ""
    username: str = ""

    def label(self) -> str:
        """How reasons name this person (username in brackets when known)."""
        main = self.name or self.username or self.email or "someone unknown"
        if self.username and self.username != main:
            return f"{main} ({self.username})"
        return main


@dataclass(frozen=True)
class Commit:
    """One commit: who wrote it, who committed it, and its message."""

    sha: str
    author: Person | None = None
    committer: Person | None = None
    message: str | None = None

    @property
    def has_people(self) -> bool:
        return self.author is not None or self.committer is not None


@dataclass(frozen=True)
class RunContext:
    """What GitHub tells a job about why it runs."""

    event_name: str
    ref: str = ""
    actor: str = ""
    repository: str = ""
    sha: str = ""
    payload: Mapping[str, Any] | None = None
    payload_problem: str | None = None
    """Why `payload` is None (file missing, unreadable, not JSON ...)."""


@dataclass(frozen=True)
class Verdict:
    """The answer: skip or not, and a one-line reason a human can check."""

    skip: bool
    reason: str


@dataclass(frozen=True)
class LookupNeeded:
    """The payload lacks author data: look these commits up, then decide."""

    repository: str
    shas: tuple[str, ...]
    subject: str
    known: tuple[Commit, ...] = ()
    honour_instructions: bool = False


def normalise_bots(values: Iterable[str]) -> frozenset[str]:
    """`--bot` values as compared: stripped, case-folded, empties dropped."""
    return frozenset(value.strip().casefold() for value in values if value.strip())


def bot_identity(person: Person | None, bots: frozenset[str]) -> str | None:
    """The name that makes `person` a bot, or None for a human (or nobody)."""
    if person is None:
        return None
    for value in (person.name, person.username):
        if value and value.casefold().endswith(BOT_SUFFIX):
            return value
    for value in (person.name, person.username, person.email):
        if value and value.casefold() in bots:
            return value
    return None


def skip_instruction(message: str | None) -> str | None:
    """The GitHub skip instruction in a commit message, if any.

    `[skip ci]` and its variants anywhere, or a last trailer line
    `skip-checks: true` / `skip-checks:true`.
    """
    if not message:
        return None
    lowered = message.lower()
    for instruction in SKIP_INSTRUCTIONS:
        if instruction in lowered:
            return instruction
    lines = message.rstrip().splitlines()
    if lines and _SKIP_CHECKS_TRAILER.fullmatch(lines[-1].strip()):
        return lines[-1].strip()
    return None


def decide(context: RunContext, bots: frozenset[str]) -> Verdict | LookupNeeded:
    """Decide from the event alone, or say which commits must be looked up."""
    ref = context.ref or _text(_get(context.payload, "ref"))
    always = _always_runs(context, ref)
    if always is not None:
        return always
    if context.event_name == "push":
        return _decide_push(context, ref, bots)
    if context.event_name in PULL_REQUEST_EVENTS:
        return _decide_pull_request(context)
    return Verdict(False, f"{context.event_name} runs are not checked for bot commits")


def _always_runs(context: RunContext, ref: str) -> Verdict | None:
    """Runs that are never skipped, or cannot be checked; None when it depends."""
    if ref.startswith("refs/tags/"):
        return Verdict(False, f"{ref} is a tag: tag builds are never skipped")
    if context.event_name in NEVER_SKIPPED_EVENTS:
        return Verdict(False, f"{context.event_name} runs are never skipped")
    if not context.event_name:
        return Verdict(False, "no event name (GITHUB_EVENT_NAME is unset): not skipping")
    if context.payload is None:
        problem = context.payload_problem or "no event payload"
        return Verdict(False, f"{problem}; cannot check who made the commits, not skipping")
    return None


def decide_commits(
    commits: Sequence[Commit],
    bots: frozenset[str],
    subject: str,
    honour_instructions: bool = False,
) -> Verdict:
    """Skip when a skip instruction is present or every commit is a bot's."""
    if not commits:
        return Verdict(False, f"{subject} has no commits to check; not skipping")
    if honour_instructions:
        for commit in commits:
            instruction = skip_instruction(commit.message)
            if instruction:
                where = f"commit {_short(commit.sha)} in {subject}"
                return Verdict(True, f"{where} says {instruction!r}")
    for commit in commits:
        if not commit.has_people:
            return Verdict(False, f"commit {_short(commit.sha)} has no author data; not skipping")
        if not _is_bot_commit(commit, bots):
            return Verdict(False, f"{_human_reason(commit)}, in {subject}; not skipping")
    names = sorted({name for commit in commits for name in _bot_names(commit, bots)})
    count = "the commit" if len(commits) == 1 else f"all {len(commits)} commits"
    return Verdict(True, f"{count} in {subject} made by bots: {', '.join(names)}")


def lookup_failed(needed: LookupNeeded, why: str) -> Verdict:
    """The verdict when the commits `needed` could not be fetched."""
    what = ", ".join(_short(sha) for sha in needed.shas)
    return Verdict(False, f"could not check the author of {needed.subject} ({what}): {why}")


def _decide_push(context: RunContext, ref: str, bots: frozenset[str]) -> Verdict | LookupNeeded:
    payload = context.payload or {}
    subject = f"push to {ref or 'an unknown ref'}"
    if context.actor:
        subject += f" (actor {context.actor})"
    if payload.get("deleted") is True:
        return Verdict(True, f"{subject} deletes the branch: there is nothing to build")
    commits = [c for c in (_commit(item) for item in _list(payload.get("commits"))) if c]
    if not commits:
        head = _commit(payload.get("head_commit"))
        if head is None:
            sha = _text(payload.get("after")) or context.sha
            return _lookup_or_run(context, subject, (), (sha,) if sha else (), honour=True)
        commits = [head]
        subject += " (no new commits; judged by its head commit)"
    missing = tuple(c.sha for c in commits if not c.has_people)
    known = tuple(c for c in commits if c.has_people)
    if not missing:
        return decide_commits(commits, bots, subject, honour_instructions=True)
    early = decide_commits(known, bots, subject, honour_instructions=True) if known else None
    if early is not None and (early.skip is False or _has_instruction(known)):
        return early  # a human commit (or a skip instruction) settles it without lookups
    return _lookup_or_run(context, subject, known, missing, honour=True)


def _decide_pull_request(context: RunContext) -> Verdict | LookupNeeded:
    """Pull request payloads carry no commit authors: look the head commit up."""
    pull = _mapping(_get(context.payload, "pull_request"))
    number = _get(pull, "number") or _get(context.payload, "number")
    subject = f"pull request #{number}" if number else "the pull request"
    sha = _text(_get(_mapping(_get(pull, "head")), "sha"))  # not GITHUB_SHA: a merge commit
    honour = context.event_name in INSTRUCTION_EVENTS
    return _lookup_or_run(context, subject, (), (sha,) if sha else (), honour=honour)


def _lookup_or_run(
    context: RunContext,
    subject: str,
    known: tuple[Commit, ...],
    shas: tuple[str, ...],
    honour: bool,
) -> Verdict | LookupNeeded:
    repository = context.repository or _text(
        _get(_mapping(_get(context.payload, "repository")), "full_name")
    )
    if not shas or not all(shas):
        return Verdict(False, f"{subject}: the event names no commit to check; not skipping")
    if not repository:
        return Verdict(False, f"{subject}: the event names no repository; not skipping")
    if len(shas) > MAX_LOOKUPS:
        return Verdict(
            False,
            f"{subject}: {len(shas)} commits lack author data, more than the "
            f"{MAX_LOOKUPS} we look up; not skipping",
        )
    return LookupNeeded(repository, shas, subject, known, honour_instructions=honour)


def _is_bot_commit(commit: Commit, bots: frozenset[str]) -> bool:
    return bool(_bot_names(commit, bots))


def _bot_names(commit: Commit, bots: frozenset[str]) -> list[str]:
    names = (bot_identity(commit.author, bots), bot_identity(commit.committer, bots))
    return [name for name in names if name]


def _human_reason(commit: Commit) -> str:
    author = commit.author.label() if commit.author else "unknown"
    committer = commit.committer.label() if commit.committer else "unknown"
    if author == committer:
        return f"commit {_short(commit.sha)} by {author} is not a bot's"
    return f"commit {_short(commit.sha)} (author {author}, committer {committer}) is not a bot's"


def _has_instruction(commits: Iterable[Commit]) -> bool:
    return any(skip_instruction(commit.message) for commit in commits)


def _commit(value: object) -> Commit | None:
    """A payload commit (`id`, or `sha` in API shapes) read defensively."""
    data = _mapping(value)
    sha = _text(data.get("id")) or _text(data.get("sha"))
    if not sha:
        return None
    message = data.get("message")
    return Commit(
        sha=sha,
        author=_person(data.get("author")),
        committer=_person(data.get("committer")),
        message=message if isinstance(message, str) else None,
    )


def _person(value: object) -> Person | None:
    data = _mapping(value)
    person = Person(
        name=_text(data.get("name")),
        email=_text(data.get("email")),
        username=_text(data.get("username")),
    )
    return person if (person.name or person.email or person.username) else None


def _get(data: Mapping[str, Any] | None, key: str) -> Any:
    return data.get(key) if isinstance(data, Mapping) else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _short(sha: str) -> str:
    return sha[:7]
