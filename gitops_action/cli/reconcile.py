"""`gitops-action reconcile`: what the in-cluster CronJob runs (docs/reconcile.md).

Every option reads a `GITOPS_*` variable (the CronJob passes environment);
credentials are environment only (`GITOPS_GIT_USERNAME`/`GITOPS_GIT_PASSWORD`,
`GITOPS_GIT_SSH_KEY`), never flags, so they stay out of the process list.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from pathlib import Path
from types import FrameType

import click

from gitops_action.adapters.json_logs import configure
from gitops_action.app.git_session import DEFAULT_TRIES
from gitops_action.app.reconcile import (
    BUG,
    CONFIG,
    FAILED,
    ReconcileReport,
    ReconcileRequest,
    loop,
    run_once,
)
from gitops_action.cli.output import (
    allow_cluster_admin_option,
    allow_insecure_metrics_option,
    default_provider_option,
    env_option,
    output_option,
    provider_default,
    verbose_option,
)
from gitops_action.domain.config_fields import Duration
from gitops_action.domain.errors import ReconcileConfigError, ReconcileFailed
from gitops_action.domain.lease import DEFAULT_DURATION, micro_time

_EPILOG = """\b
One run: take the Lease gitops-action in --namespace (another run holds it:
say so and exit 0, doing nothing); automate (bump commit pushed); sync the
checkout (the tool's own install render is left out); canary analysis;
write the status ConfigMap gitops-action-status only when the outcome
changed; Events for bumps, holds, promotions and rollbacks; release the
Lease. A failing phase does not stop the next one.

\b
Exit codes: the worst phase's: 0 all ok (or the Lease is held by another
run); 1 a phase failed (a policy, git, the API, an unhealthy workload, a
rollback); 2 bad config in a phase or a bad flag; 3 bug. With --loop: 0
after SIGTERM/SIGINT (the run under way finishes first). See docs/reconcile.md.
"""


def _duration(text: str, flag: str) -> float:
    parsed = Duration.parse(text)
    if parsed is None or parsed.seconds <= 0:
        raise ReconcileConfigError(f"{flag} {text!r}: expected a duration like 30s, 2m, 1h")
    return parsed.seconds


def identity(environ: dict[str, str]) -> str:
    """Who holds the Lease: the pod name (the hostname in a pod) and the pid."""
    return f"{environ.get('POD_NAME') or socket.gethostname()}_{os.getpid()}"


@click.command("reconcile", epilog=_EPILOG)
@env_option("--repo", required=True, envvar="GITOPS_REPO", metavar="URL", help="The config repo.")
@env_option("--branch", envvar="GITOPS_BRANCH", metavar="B", help="As for automate.")
@env_option(
    "--path",
    envvar="GITOPS_PATH",
    metavar="P",
    help="Markers rewritten and tree synced [default: the automation's update.path, else root].",
)
@env_option("--cache-dir", envvar="GITOPS_CACHE_DIR", type=click.Path(path_type=Path))
@env_option("--kubeconfig", envvar="GITOPS_KUBECONFIG", metavar="FILE", help="kubeconfig file.")
@env_option("--context", envvar="GITOPS_KUBE_CONTEXT", help="kubeconfig context.")
@env_option(
    "--namespace",
    envvar="GITOPS_NAMESPACE",
    default="gitops-system",
    show_default=True,
    help="The tool's namespace: Lease, status and inventory.",
)
@env_option(
    "--target-namespace",
    envvar="GITOPS_TARGET_NAMESPACE",
    default="default",
    show_default=True,
    help="Namespace for synced objects that name none.",
)
@env_option("--prometheus-url", envvar="GITOPS_PROMETHEUS_URL", metavar="URL")
@allow_insecure_metrics_option()
@default_provider_option()
@allow_cluster_admin_option()
@env_option("--sync-timeout", envvar="GITOPS_SYNC_TIMEOUT", default="2m", show_default=True)
@env_option(
    "--deadline",
    envvar="GITOPS_DEADLINE",
    default="15m",
    show_default=True,
    help="The run's own deadline: past it the Lease is neither held nor renewed and no "
    "phase starts (keep it under the CronJob's activeDeadlineSeconds, 20m).",
)
@env_option(
    "--lease-duration",
    envvar="GITOPS_LEASE_DURATION",
    type=click.IntRange(5),
    default=DEFAULT_DURATION,
    show_default=True,
    help="Seconds a Lease claim lasts without renewal (renewed every third of it).",
)
@env_option("--push-retries", "tries", envvar="GITOPS_PUSH_RETRIES", type=click.IntRange(1),
            default=DEFAULT_TRIES, show_default=True)  # fmt: skip
@env_option("--insecure-registry", "insecure_registries", multiple=True,
            envvar="GITOPS_INSECURE_REGISTRIES", metavar="HOST[:PORT]")  # fmt: skip
@env_option(
    "--exclude-install/--include-install",
    envvar="GITOPS_EXCLUDE_INSTALL",
    default=True,
    show_default=True,
    help="Leave the tool's own install render out of sync.",
)
@env_option(
    "--log-format",
    envvar="GITOPS_LOG_FORMAT",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="stderr lines: text, or one JSON object per line.",
)
@output_option("The run's report on stdout.", envvar="GITOPS_OUTPUT")
@env_option("--loop", is_flag=True, envvar="GITOPS_LOOP", help="Run again every --interval.")
@env_option("--interval", envvar="GITOPS_INTERVAL", default="30s", show_default=True)
@verbose_option()
def reconcile(  # noqa: PLR0917 - one parameter per option, as click passes them
    repo: str,
    branch: str | None,
    path: str | None,
    cache_dir: Path | None,
    kubeconfig: str | None,
    context: str | None,
    namespace: str,
    target_namespace: str,
    prometheus_url: str | None,
    allow_insecure_metrics: bool,
    default_provider: str | None,
    allow_cluster_admin_changes: bool,
    sync_timeout: str,
    deadline: str,
    lease_duration: int,
    tries: int,
    insecure_registries: tuple[str, ...],
    exclude_install: bool,
    log_format: str,
    output: str,
    loop: bool,
    interval: str,
    verbose: bool,
) -> None:
    """One CronJob run: automate, then sync, then canary; under a Lease."""
    environ = dict(os.environ)
    configure(log_format, verbose, environ)
    request = ReconcileRequest(
        repo=repo,
        identity=identity(environ),
        namespace=namespace,
        branch=branch or None,
        path=path or None,
        cache_dir=cache_dir,
        kubeconfig=kubeconfig or None,
        context=context or None,
        prometheus_url=prometheus_url or None,
        allow_insecure_metrics=allow_insecure_metrics,
        default_provider=provider_default(default_provider),
        allow_cluster_admin_changes=allow_cluster_admin_changes,
        target_namespace=target_namespace,
        sync_timeout=_duration(sync_timeout, "--sync-timeout"),
        deadline=_duration(deadline, "--deadline"),
        lease_duration=lease_duration,
        tries=tries,
        insecure_registries=insecure_registries,
        exclude_install=exclude_install,
        environ=environ,
    )
    if loop:
        _loop(request, _duration(interval, "--interval"), output)
        return
    report = run_once(request)
    _print(report, output)
    _raise_worst(report)


def _loop(request: ReconcileRequest, interval: float, output: str) -> None:
    """Until SIGTERM/SIGINT: each signal lets the run under way finish, then exits 0."""
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"reconcile: {signal.Signals(signum).name}: stopping after this run", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)

    def wait(seconds: float) -> None:
        stop.wait(seconds)

    runs = loop(request, interval, stop.is_set, wait, lambda r: _print(r, output))
    click.echo(f"reconcile: stopped after {runs} run(s)", err=True)


def _print(report: ReconcileReport, output: str) -> None:
    if output == "json":
        click.echo(json.dumps(report.as_record()))
    else:
        for phase in report.phases:
            counts = ", ".join(f"{k} {v}" for k, v in phase.counts.items() if v)
            line = f"{phase.phase}: {phase.result}"
            line += f" ({counts})" if counts else ""
            line += f" at {phase.commit[:12]}" if phase.commit else ""
            line += f": {phase.error}" if phase.error else ""
            click.echo(line)
    lease = report.lease
    if report.held and lease is not None:
        until = micro_time(lease.until) if lease.until else "unknown"
        click.echo(
            f"reconcile: another run holds the lease ({lease.holder}, until {until}); nothing done",
            err=True,
        )


def _raise_worst(report: ReconcileReport) -> None:
    worst = report.code
    failed = [p for p in report.phases if p.code == worst and worst]
    if not failed:
        return
    if worst == BUG and failed[0].exception is not None:
        raise failed[0].exception
    summary = "; ".join(f"{p.phase}: {p.error}" for p in failed)
    if worst == CONFIG:
        raise ReconcileConfigError(summary)
    assert worst == FAILED
    raise ReconcileFailed(summary)
