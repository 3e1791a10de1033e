"""Use case: should this CI run be skipped? And its stdlib-only entry point.

The skip decision runs first in the action, before Python dependencies are
installed, so that a bot's commit costs seconds rather than a full install. So
this module and everything it imports (`gitops_action`, `.app`, `.adapters`,
`.adapters.github_env`, `.adapters.github_api`, `.domain`, `.domain.skip`,
`.domain.errors`) use the standard library alone and run on Python 3.9+.
It runs as a file or as a module:

    python3 "$ACTION_PATH/gitops_action/app/should_skip.py" --bot NAME
    PYTHONPATH="$ACTION_PATH" python3 -m gitops_action.app.should_skip --bot NAME

and `gitops-action ci should-skip` calls the same `evaluate` and `publish`.
When the payload lacks author data, commits are looked up with PyGithub if it
is importable and a token is set; otherwise the answer is "don't skip".
"""

from __future__ import annotations

import os
import sys

if not __package__:  # run as a file: make the package importable, unshadow the stdlib
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    sys.path.insert(0, os.path.dirname(os.path.dirname(_HERE)))

import argparse
from collections.abc import Iterable, Mapping

from gitops_action.adapters import github_api, github_env
from gitops_action.domain.errors import GitHubApiError
from gitops_action.domain.skip import (
    LookupNeeded,
    RunContext,
    Verdict,
    decide,
    decide_commits,
    lookup_failed,
    normalise_bots,
)


def evaluate(environ: Mapping[str, str], bots: Iterable[str] = ()) -> Verdict:
    """Decide for the run described by `environ` (`--bot` values plus `GITOPS_BOT`)."""
    env = github_env.ActionsEnv.from_environ(environ)
    payload, problem = github_env.read_event(env.event_path)
    context = RunContext(
        event_name=env.event_name,
        ref=env.ref,
        actor=env.actor,
        repository=env.repository,
        sha=env.sha,
        payload=payload,
        payload_problem=problem,
    )
    known_bots = normalise_bots([*bots, *env.bots])
    decision = decide(context, known_bots)
    if isinstance(decision, Verdict):
        return decision
    return _look_up(decision, env, known_bots)


def _look_up(needed: LookupNeeded, env: github_env.ActionsEnv, bots: frozenset[str]) -> Verdict:
    """Fetch the commits the payload did not describe; any failure means "run"."""
    if not github_api.pygithub_available():
        return lookup_failed(needed, "PyGithub is not installed (stdlib fast path)")
    if not env.token:
        return lookup_failed(needed, "no API token (set GITHUB_TOKEN or GITOPS_GITHUB_TOKEN)")
    try:
        fetched = github_api.fetch_commits(
            needed.repository, needed.shas, token=env.token, base_url=env.api_url
        )
    except GitHubApiError as error:
        return lookup_failed(needed, str(error))
    commits = [*needed.known, *fetched]
    return decide_commits(commits, bots, needed.subject, needed.honour_instructions)


def render(verdict: Verdict) -> str:
    """The stdout lines: `skip=true|false`, then `reason=...`."""
    reason = " ".join(verdict.reason.split())
    return f"skip={'true' if verdict.skip else 'false'}\nreason={reason}\n"


def publish(verdict: Verdict, environ: Mapping[str, str]) -> str | None:
    """Write `skip` and `reason` to `$GITHUB_OUTPUT` if set; a problem, or None.

    A failed write is reported, not raised: the step must still exit 0, and a
    missing `skip` output reads as "don't skip" downstream.
    """
    path = environ.get("GITHUB_OUTPUT", "")
    if not path:
        return None
    outputs = {"skip": "true" if verdict.skip else "false", "reason": verdict.reason}
    try:
        github_env.write_outputs(path, outputs)
    except OSError as error:
        return f"could not write $GITHUB_OUTPUT ({path}): {error.strerror or error}"
    return None


def run(bots: Iterable[str], environ: Mapping[str, str]) -> tuple[str, str | None]:
    """Evaluate and publish; return the stdout text and a problem to warn about."""
    verdict = evaluate(environ, bots)
    return render(verdict), publish(verdict, environ)


def main(argv: list[str] | None = None) -> int:
    """The stdlib fast path: same output and exit code (0) as `ci should-skip`."""
    parser = argparse.ArgumentParser(
        prog="should_skip",
        description="Print skip=true|false for this GitHub Actions run (bot commits).",
    )
    parser.add_argument(
        "--bot",
        action="append",
        default=[],
        metavar="NAME",
        help="a bot's git name, e-mail or GitHub login (repeatable; GITOPS_BOT adds more)",
    )
    args = parser.parse_args(argv)
    text, problem = run(args.bot, os.environ)
    sys.stdout.write(text)
    sys.stdout.flush()
    if problem:
        github_env.emit(github_env.annotation("warning", problem))
    return 0


if __name__ == "__main__":
    sys.exit(main())
