"""`gitops-action install --export`: print the in-cluster install (docs/install.md).

No option reads the environment: the output is checked in (cluster/gitops-system/)
and must depend on the flags alone.
"""

from __future__ import annotations

import click

from gitops_action.app.install import export
from gitops_action.cli.output import output_option
from gitops_action.domain.errors import InvalidInstallOption
from gitops_action.domain.install import (
    DEFAULT_IMAGE,
    DEFAULT_NAMESPACE,
    DEFAULT_POD_SECURITY,
    DEFAULT_SCHEDULE,
    DEFAULT_TARGETS,
    POD_SECURITY_LEVELS,
    InstallOptions,
)

_EPILOG = """\b
Examples:
  gitops-action install --export --repo https://github.com/acme/config.git | kubectl apply -f -
  gitops-action install --export --repo git@github.com:acme/config.git \\
      --target-namespace team-a --target-namespace team-b --registry-secret flux-system/regcred
  gitops-action install --export --repo https://github.com/acme/config.git --no-secrets \\
      | kubectl apply -f -          # an upgrade: leaves the filled-in Secrets alone

\b
Renders: the Namespace, the ServiceAccount, least-privilege RBAC (a ClusterRole
bound by a RoleBinding in each --target-namespace; a Role in --namespace for
the Lease, status and inventory; cluster-scoped kinds only with
--cluster-scope), Secret templates with placeholder values, and the CronJob
that runs `gitops-action reconcile`. Applying it needs cluster-admin (it
grants RBAC), so the tool only prints it: pipe it to `kubectl apply -f -`.

\b
Exit codes: 0 printed; 2 bad flag, or no --export; 3 bug. See docs/install.md.
"""


@click.command("install", epilog=_EPILOG)
@click.option(
    "--export",
    "export_",
    is_flag=True,
    help="Print the manifests on stdout (required: install applies nothing itself).",
)
@click.option("--repo", required=True, metavar="URL", help="The config repo (GITOPS_REPO).")
@click.option("--branch", metavar="B", help="GITOPS_BRANCH [default: as `automate` decides].")
@click.option("--path", metavar="P", help="GITOPS_PATH [default: as `automate` decides].")
@click.option(
    "--namespace",
    default=DEFAULT_NAMESPACE,
    show_default=True,
    help="Namespace of the CronJob, its ServiceAccount, Lease, status and inventory.",
)
@click.option(
    "--target-namespace",
    "targets",
    multiple=True,
    metavar="NS",
    help=f"A namespace the tool may manage (repeatable) [default: {DEFAULT_TARGETS[0]}].",
)
@click.option(
    "--cluster-scope",
    is_flag=True,
    help="Also let it apply and prune Namespaces and CRDs (a ClusterRoleBinding).",
)
@click.option(
    "--registry-secret",
    "registry_secrets",
    multiple=True,
    metavar="NS/NAME",
    help="An ImageRepository secretRef Secret: a dockerconfigjson template and `get` on "
    "exactly it (repeatable).",
)
@click.option(
    "--secrets/--no-secrets",
    default=True,
    show_default=True,
    help="Include the Secret templates (leave them out when upgrading a filled-in install).",
)
@click.option("--image", default=DEFAULT_IMAGE, show_default=True, help="The tool's image.")
@click.option(
    "--schedule", default=DEFAULT_SCHEDULE, show_default=True, help="The CronJob's schedule."
)
@click.option("--prometheus-url", metavar="URL", help="GITOPS_PROMETHEUS_URL, for canary analysis.")
@click.option(
    "--pod-security",
    type=click.Choice(list(POD_SECURITY_LEVELS)),
    default=DEFAULT_POD_SECURITY,
    show_default=True,
    help="Pod Security level enforced in the target namespaces (none: leave them unlabelled).",
)
@output_option(
    "yaml: a commented multi-document stream; json: one v1 List.", formats=("yaml", "json")
)
def install(  # noqa: PLR0917 - one parameter per option, as click passes them
    export_: bool,
    repo: str,
    branch: str | None,
    path: str | None,
    namespace: str,
    targets: tuple[str, ...],
    cluster_scope: bool,
    registry_secrets: tuple[str, ...],
    secrets: bool,
    image: str,
    schedule: str,
    prometheus_url: str | None,
    pod_security: str,
    output: str,
) -> None:
    """Render the in-cluster CronJob, its ServiceAccount, least-privilege RBAC and Secrets."""
    if not export_:
        raise InvalidInstallOption(
            "install does not apply anything itself yet (it needs cluster-admin rights the "
            "tool must not hold): add --export and pipe it to `kubectl apply -f -`"
        )
    options = InstallOptions(
        repo=repo,
        namespace=namespace,
        image=image,
        schedule=schedule,
        branch=branch or None,
        path=path or None,
        target_namespaces=targets or DEFAULT_TARGETS,
        cluster_scope=cluster_scope,
        prometheus_url=prometheus_url or None,
        registry_secrets=registry_secrets,
        secrets=secrets,
        pod_security=pod_security,
    )
    click.echo(export(options, output), nl=False)
