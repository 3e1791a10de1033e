"""The `gitops-action` command line.

One click module per command group; this module only assembles them lazily
and owns the single error handler that turns exceptions into exit codes.
"""

from __future__ import annotations

import sys

import click

from gitops_action import __version__
from gitops_action.cli.errors import EXIT_OK, report
from gitops_action.cli.lazy import LazyCommand, LazyGroup

COMMANDS: dict[str, LazyCommand] = {
    "policy": LazyCommand(
        "gitops_action.cli.policy:policy", "Select image tags like a Flux ImagePolicy."
    ),
    "update": LazyCommand(
        "gitops_action.cli.update:update", "Rewrite Flux $imagepolicy markers in YAML."
    ),
    "check": LazyCommand(
        "gitops_action.cli.check:check",
        "Validate a config repository offline: every problem at once (a PR check).",
    ),
    "scan": LazyCommand(
        "gitops_action.cli.scan:scan",
        "Per ImagePolicy: tags in the registry, the selected tag, the value in git.",
    ),
    "automate": LazyCommand(
        "gitops_action.cli.automate:automate",
        "One run of image automation: scan, rewrite markers, commit, push.",
    ),
    "hold": LazyCommand(
        "gitops_action.cli.hold:hold", "Hold a policy off a tag (exclusionList entry in git)."
    ),
    "release": LazyCommand(
        "gitops_action.cli.hold:release", "Release a hold made by `hold` or by a revert."
    ),
    "sync": LazyCommand(
        "gitops_action.cli.sync:sync",
        "Apply manifests from git to the cluster: server-side apply, prune, health.",
    ),
    "canary": LazyCommand(
        "gitops_action.cli.canary:canary",
        "Flagger-style canary analysis: run, status; promote or roll back (in git too).",
    ),
    "reconcile": LazyCommand(
        "gitops_action.cli.reconcile:reconcile",
        "One CronJob run: automate, then sync, then canary; under a Lease.",
    ),
    "status": LazyCommand(
        "gitops_action.cli.status:status",
        "The last reconcile's phases and Flux Kustomizations (like flux get kustomizations).",
    ),
    "install": LazyCommand(
        "gitops_action.cli.install:install",
        "Render the in-cluster CronJob, ServiceAccount and least-privilege RBAC.",
    ),
    "ci": LazyCommand(
        "gitops_action.cli.ci:ci", "CI half: image tags, bot-commit skip, test-build-push."
    ),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gitops-action")
def cli() -> None:
    """GitOps delivery from one package: CI tags and builds, image automation, canaries.

    Exit codes: 0 ok, 1 expected failure (nothing matched, a check failed),
    2 usage or config error, 3 bug.
    """


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with the contract's code (the only exit point)."""
    try:
        cli.main(args=argv, prog_name="gitops-action", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except Exception as error:  # the one place errors are mapped to exit codes
        sys.exit(report(error))
    sys.exit(EXIT_OK)
