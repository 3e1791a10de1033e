"""Set-up for the reconcile tests: the seed config repo, its registry images, the CLI env."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.integration.automate_support import ROOT, Cli, cli_env, seed_files
from tests.kubeapi.fixtures import Kube
from testbed.git_server import GitHttpServer
from testbed.registry import RegistryService

INSTALL_RENDER = ROOT / "cluster" / "gitops-system" / "gitops-action.yaml"


@dataclass
class Setup:
    cli: Cli
    repo: str  # registry repository
    image: str
    name: str  # git repository
    url: str


def setup(
    name: str,
    registry: RegistryService,
    git_server: GitHttpServer,
    kube: Kube,
    git_env: dict[str, str],
    tmp_path: Path,
    tags: tuple[str, ...] = ("v1.1.0",),
) -> Setup:
    repo = f"rec-{name}/app"
    for tag in ("v1.0.0", *tags):
        registry.push_image(repo, tag)
    image = f"{registry.host}/{repo}"
    files = seed_files(image)
    files["cluster/deployment.yaml"] = files["cluster/deployment.yaml"].replace(
        "namespace: default", f"namespace: {kube.namespace}"
    )
    # The checked-in install render sits in the synced tree, as in this repo: never applied.
    files["cluster/gitops-system/gitops-action.yaml"] = INSTALL_RENDER.read_text()
    git_server.create_repo(f"rec-{name}", files)
    url = git_server.repo_url(f"rec-{name}", auth=False)
    env = cli_env(
        git_env,
        cache=tmp_path / "cache",
        docker_config=registry.write_docker_config(tmp_path / "docker").parent,
        git_user=git_server.username,
        git_password=git_server.password,
        insecure=registry.host,
    )
    env.update(
        {
            "KUBECONFIG": str(kube.kubeconfig),
            "GITOPS_REPO": url,
            "GITOPS_NAMESPACE": kube.namespace,
            "GITOPS_TARGET_NAMESPACE": kube.namespace,
            "GITOPS_SYNC_TIMEOUT": "20s",
        }
    )
    return Setup(Cli(env), repo, image, f"rec-{name}", url)
