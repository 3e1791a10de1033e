"""`gitops-action automate`: one run of image automation over the config repo (DESIGN §3).

Every option also reads `GITOPS_<OPTION>` (the CronJob passes them as
environment). Credentials are environment only: `GITOPS_GIT_USERNAME`,
`GITOPS_GIT_PASSWORD`, `GITOPS_GIT_SSH_KEY`, `GITOPS_GITHUB_TOKEN`; a flag
would put them in the process list.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from gitops_action.adapters.registry import DEFAULT_RATE
from gitops_action.app.automate import (
    AutomateAborted,
    AutomateReport,
    AutomateRequest,
    Automation,
)
from gitops_action.app.git_session import DEFAULT_TRIES
from gitops_action.cli.output import (
    configure_logging,
    env_option,
    output_option,
    table,
    verbose_option,
)
from gitops_action.domain.errors import AutomationFailed

_EPILOG = """\b
Each run: fetch the repo (a cached clone, reused across runs), scan the
registries of its ImagePolicies, hold tags a human reverted, rewrite the
$imagepolicy markers under --path, make ONE commit (the
ImageUpdateAutomation's author and messageTemplate) and push it. A push the
remote refuses because the branch moved is re-planned on the new head and
retried (never merged, rebased or forced). Nothing to change: no commit.

\b
Git credentials: GITOPS_GIT_USERNAME + GITOPS_GIT_PASSWORD (https),
GITOPS_GIT_SSH_KEY (a private key file, ssh), or the URL's own. Registry
credentials: the ImageRepository secretRef (Kubernetes API in a cluster),
else the docker config. Pull requests: GITOPS_GITHUB_TOKEN or GITHUB_TOKEN,
GITHUB_API_URL.

\b
Exit codes: 0 every policy handled (with or without a commit); 1 a policy
failed (the others were applied) or git failed; 2 config error (nothing is
pushed); 3 bug. See docs/automate.md.
"""


@click.command("automate", epilog=_EPILOG)
@env_option(
    "--repo",
    required=True,
    envvar="GITOPS_REPO",
    metavar="URL",
    help="The config repo: anything `git clone` takes (https, ssh, a local path).",
)
@env_option(
    "--branch",
    envvar="GITOPS_BRANCH",
    metavar="B",
    help="Branch to update [default: the ImageUpdateAutomation's checkout branch, else main].",
)
@env_option(
    "--path",
    envvar="GITOPS_PATH",
    metavar="P",
    help="Directory whose markers are rewritten [default: the automation's "
    "update.path, else the repo root].",
)
@env_option(
    "--dry-run",
    is_flag=True,
    envvar="GITOPS_DRY_RUN",
    help="Plan and print the diff; no commit, no push.",
)
@output_option("Report format on stdout.", envvar="GITOPS_OUTPUT")
@env_option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="GITOPS_CACHE_DIR",
    help="Where the clone is kept between runs [default: $XDG_CACHE_HOME/"
    "gitops-action, else ~/.cache/gitops-action].",
)
@env_option(
    "--depth",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    envvar="GITOPS_DEPTH",
    help="Commits fetched by the first clone (deepened when a hold needs more).",
)
@env_option(
    "--push-retries",
    "tries",
    type=click.IntRange(1),
    default=DEFAULT_TRIES,
    show_default=True,
    envvar="GITOPS_PUSH_RETRIES",
    help="Tries when the branch moves during the run (each re-plans from the new head).",
)
@env_option(
    "--pull-request",
    is_flag=True,
    envvar="GITOPS_PULL_REQUEST",
    help="Push each change to gitops/NS/NAME-TAG and open or update a pull request.",
)
@env_option(
    "--github-repository",
    envvar="GITOPS_GITHUB_REPOSITORY",
    metavar="OWNER/NAME",
    help="Repository for pull requests [default: GITHUB_REPOSITORY, else the github.com URL].",
)
@env_option(
    "--automation",
    envvar="GITOPS_AUTOMATION",
    metavar="NS/NAME",
    help="The ImageUpdateAutomation to follow when the repo has several.",
)
@env_option(
    "--holds/--no-holds",
    default=True,
    show_default=True,
    envvar="GITOPS_HOLDS",
    help="Hold tags a human reverted (exclusionList entry) instead of re-bumping.",
)
@env_option(
    "--insecure-registry",
    "insecure_registries",
    multiple=True,
    envvar="GITOPS_INSECURE_REGISTRIES",
    metavar="HOST[:PORT]",
    help="Registry reached over plain HTTP even without spec.insecure (repeatable; "
    "the variable takes a space-separated list).",
)
@env_option(
    "--registry-rate",
    type=click.FloatRange(min=0),
    default=DEFAULT_RATE,
    show_default=True,
    envvar="GITOPS_REGISTRY_RATE",
    help="Registry requests per second per host, in bursts of as many (0: no limit).",
)
@verbose_option()
def automate(  # noqa: PLR0917 - one parameter per option, as click passes them
    repo: str,
    branch: str | None,
    path: str | None,
    dry_run: bool,
    output: str,
    cache_dir: Path | None,
    depth: int,
    tries: int,
    pull_request: bool,
    github_repository: str | None,
    automation: str | None,
    holds: bool,
    insecure_registries: tuple[str, ...],
    registry_rate: float,
    verbose: bool,
) -> None:
    """One run of Flux-style image automation over the config repo at --repo."""
    configure_logging(verbose)
    request = AutomateRequest(
        repo=repo,
        branch=branch or None,
        path=path,
        dry_run=dry_run,
        cache_dir=cache_dir,
        depth=depth,
        tries=tries,
        pull_request=pull_request,
        automation=automation or None,
        holds=holds,
        github_repository=github_repository or None,
        insecure_registries=insecure_registries,
        registry_rate=registry_rate or None,
        environ=dict(os.environ),
    )
    try:
        report = Automation(request).run()
    except AutomateAborted as aborted:
        if output == "json":  # the report of what was planned, and why it stopped
            click.echo(json.dumps({**aborted.report.as_record(), "error": str(aborted)}, indent=2))
        raise
    if output == "json":
        click.echo(json.dumps(report.as_record(), indent=2))
    else:
        click.echo(render_text(report), nl=False)
    for notice in report.notices:
        click.echo(f"automate: note: {notice}", err=True)
    for outcome in report.failed:
        click.echo(f"automate: {outcome.policy} failed: {outcome.error}", err=True)
    click.echo(f"automate: {summary(report)}", err=True)
    failed = report.failed
    if failed:
        raise AutomationFailed(
            f"{len(failed)} of {len(report.policies)} policies failed: {failed[0].error}"
        )


def render_text(report: AutomateReport) -> str:
    """The policy table, then the diff (dry run) or what was committed."""
    rows = [["POLICY", "IMAGE", "CURRENT", "SELECTED", "ACTION", "WHY"]]
    for outcome in report.policies:
        rows.append(
            [
                outcome.policy,
                outcome.image,
                ",".join(outcome.current) or "-",
                outcome.selected or "-",
                outcome.action,
                outcome.error or outcome.reason,
            ]
        )
    text = table(rows) if report.policies else ""
    if report.dry_run and report.diff:
        text += report.diff
    return text


def summary(report: AutomateReport) -> str:
    """One line for stderr: what happened to git."""
    if report.suspended:
        return f"{report.automation} is suspended; nothing done"
    changes = report.changes
    markers = f"{len(changes.changes)} marker(s) in {len(changes.files)} file(s)"
    holds = f", {len(report.holds)} hold(s)" if report.holds else ""
    cost = f"{report.registry_requests} registry requests, {report.git_fetches} fetch(es)"
    if report.dry_run:
        return f"dry run: would change {markers}{holds} on {report.branch}; {cost}"
    if not report.commits:
        return f"nothing to change on {report.branch} ({report.head[:7]}); {cost}"
    shas = ", ".join(sha[:7] for sha in report.commits)
    where = ", ".join(report.push_branches) or "(already there)"
    tries = f" after {report.attempts} tries" if report.attempts > 1 else ""
    pulls = "".join(f", PR #{pull.number} {pull.action}" for pull in report.pull_requests)
    return f"committed {shas} ({markers}{holds}), pushed to {where}{tries}{pulls}; {cost}"
