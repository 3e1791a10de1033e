"""Options and rendering helpers shared by the command modules."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

env_option = functools.partial(click.option, show_envvar=True)
"""`click.option` that shows its `GITOPS_*` variable in `--help`."""


def output_option(
    help: str | None = None,
    *,
    formats: Sequence[str] = ("text", "json"),
    envvar: str | None = None,
) -> Callable[[Any], Any]:
    """`--output FORMAT`, the first format the default (and `envvar` where it is read)."""
    return click.option(
        "--output",
        type=click.Choice(list(formats)),
        default=formats[0],
        show_default=True,
        envvar=envvar,
        show_envvar=envvar is not None,
        help=help,
    )


def verbose_option() -> Callable[[Any], Any]:
    """`-v/--verbose`: progress lines on stderr (see `configure_logging`)."""
    return click.option("-v", "--verbose", is_flag=True, help="Log what is done on stderr.")


def allow_insecure_metrics_option() -> Callable[[Any], Any]:
    """`--allow-insecure-metrics`: Prometheus credentials may go to a plain-HTTP URL."""
    return env_option(
        "--allow-insecure-metrics",
        is_flag=True,
        envvar="GITOPS_ALLOW_INSECURE_METRICS",
        help="Send GITOPS_PROMETHEUS_USERNAME/PASSWORD to a plain-HTTP --prometheus-url "
        "(they never go to another origin, such as a MetricTemplate's address).",
    )


def default_provider_option() -> Callable[[Any], Any]:
    """`--default-provider`: the provider of a Canary without spec.provider (Flagger's
    `-mesh-provider`)."""
    return env_option(
        "--default-provider",
        envvar="GITOPS_DEFAULT_PROVIDER",
        metavar="PROVIDER",
        help="Provider of a Canary that sets no spec.provider (kubernetes, gatewayapi:v1, "
        "replicas) [default: kubernetes].",
    )


def provider_default(value: str | None) -> Any:
    """The `ProviderDefault` for `--default-provider`, naming where it was set."""
    from gitops_action.domain.canary_config import BUILTIN_DEFAULT, ProviderDefault

    if not value:
        return BUILTIN_DEFAULT
    source = click.get_current_context().get_parameter_source("default_provider")
    origin = (
        "GITOPS_DEFAULT_PROVIDER"
        if source is click.core.ParameterSource.ENVIRONMENT
        else ("--default-provider")
    )
    return ProviderDefault(value, f"the default from {origin}")


def allow_cluster_admin_option() -> Callable[[Any], Any]:
    """`--allow-cluster-admin-changes`: let sync apply what `domain.cluster_guard` refuses."""
    return env_option(
        "--allow-cluster-admin-changes",
        is_flag=True,
        envvar="GITOPS_ALLOW_CLUSTER_ADMIN_CHANGES",
        help="Apply objects that bind cluster-admin, grant wildcard or escalating RBAC, "
        "write into kube-system or set a privileged Pod Security label (refused by default).",
    )


def configure_logging(verbose: bool) -> None:
    """Log lines of the tool go to stderr: warnings always, progress with `--verbose`."""
    import logging  # not at import time: the fast commands share this module

    logger = logging.getLogger("gitops_action")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("gitops-action: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as aligned columns (two spaces apart; the last column is not padded)."""
    if not rows:
        return ""
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"
