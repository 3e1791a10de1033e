"""`gitops-action canary run PATH` and `canary status [NAME]`: Flagger-style progressive delivery.

`run` is what the CronJob calls after `sync`: one pass of analysis for every
Canary under PATH (the `flagger.app` YAML in the config repo). `status`
shows what the cluster keeps for each (the ConfigMap `<name>-canary-status`).
See docs/canary.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from gitops_action.adapters.git import validate_branch
from gitops_action.app.automate import normalise_path
from gitops_action.app.canary import CanaryOutcome, CanaryRequest, run, status
from gitops_action.app.git_session import DEFAULT_TRIES
from gitops_action.app.holds import RepoTarget
from gitops_action.cli.output import (
    allow_insecure_metrics_option,
    configure_logging,
    default_provider_option,
    env_option,
    output_option,
    provider_default,
    table,
    verbose_option,
)
from gitops_action.domain.errors import CanaryRolledBack
from gitops_action.domain.metrics import BuiltinMetrics

_EPILOG = """\b
Exit codes: 0 every canary handled; 1 a canary was rolled back in this run,
or the cluster, git or a service failed; 2 bad Canary/MetricTemplate config
or a missing target (nothing is changed); 3 bug.
"""


@click.group()
def canary() -> None:
    """Canary analysis, promotion and rollback as Flagger does it, written back to git."""


def _common(command: Any) -> Any:
    for decorator in (
        click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path)),
        env_option("--kubeconfig", envvar="KUBECONFIG", metavar="FILE", help="kubeconfig file."),
        env_option("--context", envvar="GITOPS_KUBE_CONTEXT", help="kubeconfig context."),
        output_option(envvar="GITOPS_OUTPUT"),
        verbose_option(),
    ):
        command = decorator(command)
    return command


@canary.command("run", epilog=_EPILOG)
@_common
@env_option("--prometheus-url", envvar="GITOPS_PROMETHEUS_URL", metavar="URL")
@allow_insecure_metrics_option()
@default_provider_option()
@env_option(
    "--repo", envvar="GITOPS_REPO", metavar="URL", help="Config repo for the rollback commit."
)
@env_option("--branch", envvar="GITOPS_BRANCH", metavar="B", help="With --repo [default: main].")
@env_option("--path", "repo_path", envvar="GITOPS_PATH", default=".", metavar="P")
@env_option("--cache-dir", envvar="GITOPS_CACHE_DIR", type=click.Path(path_type=Path))
@env_option("--push-retries", "tries", type=click.IntRange(1), default=DEFAULT_TRIES)
@env_option(
    "--ready-wait",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    envvar="GITOPS_CANARY_READY_WAIT",
    help="Seconds a run waits for pods it scaled or promoted.",
)
@env_option("--requests-metric", default=BuiltinMetrics.requests, show_default=True)
@env_option("--duration-metric", default=BuiltinMetrics.duration_buckets, show_default=True)
@env_option(
    "--canary-selector",
    default=BuiltinMetrics.selector,
    show_default=True,
    help="Label matchers of the canary's series in the built-in queries.",
)
@click.option("--name", "names", multiple=True, help="Only this Canary (repeatable).")
def run_command(**options: Any) -> None:
    """One pass of analysis for every Canary under PATH (what the CronJob runs)."""
    configure_logging(bool(options["verbose"]))
    repo = None
    if options["repo"]:
        branch = options["branch"]
        repo = RepoTarget(
            url=str(options["repo"]),
            branch=validate_branch(str(branch)) if branch else None,
            cache_dir=options["cache_dir"],
            environ=dict(os.environ),
            path=normalise_path(str(options["repo_path"])),
            tries=int(options["tries"]),
        )
    request = CanaryRequest(
        path=options["path"],
        kubeconfig=options["kubeconfig"],
        context=options["context"],
        prometheus_url=options["prometheus_url"],
        allow_insecure_metrics=bool(options["allow_insecure_metrics"]),
        default_provider=provider_default(options["default_provider"]),
        repo=repo,
        builtins=BuiltinMetrics(
            requests=options["requests_metric"],
            duration_buckets=options["duration_metric"],
            selector=options["canary_selector"],
        ),
        names=tuple(options["names"]),
        ready_wait=float(options["ready_wait"]),
        environ=dict(os.environ),
    )
    outcomes = run(request)
    _print_outcomes(outcomes, str(options["output"]))
    rolled_back = [outcome.canary for outcome in outcomes if outcome.rolled_back]
    if rolled_back:
        raise CanaryRolledBack(f"rolled back: {', '.join(rolled_back)}")


@canary.command("status")
@click.argument("name", required=False)
@env_option(
    "--path",
    "path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Show the Canaries under this directory (also those not started yet).",
)
@env_option("-n", "--namespace", default="", help="Only this namespace [default: all].")
@env_option("--kubeconfig", envvar="KUBECONFIG", metavar="FILE", help="kubeconfig file.")
@env_option("--context", envvar="GITOPS_KUBE_CONTEXT", help="kubeconfig context.")
@output_option(envvar="GITOPS_OUTPUT")
@verbose_option()
def status_command(**options: Any) -> None:
    """Phase, weight, failed checks and last metric values of each canary (NAME: only it).

    Read from the status ConfigMaps `<name>-canary-status` in the cluster.
    """
    configure_logging(bool(options["verbose"]))
    names = (options["name"],) if options["name"] else ()
    path = options["path"]
    request = CanaryRequest(
        path=path or Path(),
        kubeconfig=options["kubeconfig"],
        context=options["context"],
        names=names,
    )
    records = status(request, from_config=path is not None, namespace=options["namespace"])
    if options["output"] == "json":
        click.echo(json.dumps(records, indent=2))
        return
    rows = [["CANARY", "PHASE", "WEIGHT", "FAILED", "CHECKS"]]
    for record in records:
        rows.append(
            [
                record["canary"],
                str(record.get("phase", "")),
                str(record.get("canaryWeight", "")),
                str(record.get("failedChecks", "")),
                _checks_text(record.get("checks") or []),
            ]
        )
    click.echo(table(rows), nl=False)


def _checks_text(checks: list[dict[str, Any]]) -> str:
    parts = []
    for check in checks:
        value = check.get("value")
        shown = "no data" if value is None else f"{value:g}"
        parts.append(f"{check.get('name')}={shown}{'' if check.get('ok') else ' (failed)'}")
    return ", ".join(parts) or "-"


def _print_outcomes(outcomes: list[CanaryOutcome], output: str) -> None:
    if output == "json":
        click.echo(json.dumps([outcome.as_record() for outcome in outcomes], indent=2))
        return
    for outcome in outcomes:
        line = f"{outcome.canary}: {outcome.phase} weight {outcome.weight}"
        line += f", {outcome.failed_checks} failed checks"
        if outcome.message:
            line += f" ({outcome.message})"
        click.echo(line)
        if outcome.writeback and outcome.writeback.commit:
            click.echo(f"{outcome.canary}: rollback committed {outcome.writeback.commit[:12]}")
