"""`gitops-action scan PATH` on the real registry; secretRef via the Kubernetes API stand-in."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from testbed.gitenv import write_tree
from testbed.registry import RegistryService
from tests.integration.automate_support import Cli, cli_env, seed_files

pytestmark = pytest.mark.services


def test_scan_reports_tags_selection_current_value_and_why(
    registry: RegistryService, git_env: dict[str, str], tmp_path: Path
) -> None:
    repo = "scan-basic/app"
    registry.push_image(repo, "v1.0.0")
    registry.push_image(repo, "v1.1.0")
    registry.push_image(repo, "v2.0.0")
    registry.push_image(repo, "v1.2.0-rc.1")
    image = f"{registry.host}/{repo}"
    checkout = tmp_path / "config"
    files = seed_files(image)
    files["cluster/other.yaml"] = (
        files["cluster/app-registry.yaml"]
        .replace("name: app", "name: gone")
        .replace(f"image: {image}", f"image: {registry.host}/scan-basic/gone")
    )
    files["cluster/other-policy.yaml"] = files["cluster/app-policy.yaml"].replace(
        "name: app", "name: gone"
    )
    write_tree(checkout, files)
    env = cli_env(
        git_env,
        cache=tmp_path / "cache",
        docker_config=registry.write_docker_config(tmp_path / "docker").parent,
        insecure=registry.host,
    )

    result = Cli(env).run("scan", str(checkout), "--output", "json", check=1)

    records = {record["policy"]: record for record in result.json()}
    app = records["flux-system:app"]
    assert app["tags"] == 4 and app["selected"] == "v1.1.0"
    assert app["status"] == "would update"
    assert app["current"] == [
        {"file": "cluster/deployment.yaml", "line": 22, "field": "full", "value": f"{image}:v1.0.0"}
    ]
    assert "semver range '^v1.0.0'" in app["reason"] and "4 tags listed" in app["reason"]
    gone = records["flux-system:gone"]
    assert gone["status"] == "failed" and "HTTP 404" in gone["error"]
    assert "1 of 2 policies failed" in result.stderr

    text = Cli(env).run("scan", str(checkout), check=1).stdout
    header, *rows = text.splitlines()
    assert header.split() == ["POLICY", "IMAGE", "TAGS", "SELECTED", "CURRENT", "STATUS", "WHY"]
    assert rows[0].split()[:5] == ["flux-system:app", image, "4", "v1.1.0", "v1.0.0"]


def test_scan_reads_registry_credentials_from_the_secret_ref(
    registry: RegistryService, git_env: dict[str, str], tmp_path: Path, kube
) -> None:
    from kubernetes import client

    repo = "scan-secret/app"
    registry.push_image(repo, "v1.0.0")
    image = f"{registry.host}/{repo}"
    namespace = kube.namespace
    files = {
        name: text.replace("namespace: flux-system", f"namespace: {namespace}").replace(
            "flux-system:app", f"{namespace}:app"
        )
        for name, text in seed_files(image).items()
    }
    files["cluster/app-registry.yaml"] = files["cluster/app-registry.yaml"].replace(
        "  interval: 30s", "  interval: 30s\n  secretRef:\n    name: regcred"
    )
    checkout = tmp_path / "config"
    write_tree(checkout, files)
    env = cli_env(git_env, cache=tmp_path / "cache", insecure=registry.host)  # no docker config
    env["GITOPS_KUBECONFIG"] = str(kube.kubeconfig)

    missing = Cli(env).run("scan", str(checkout), "--output", "json", check=1).json()
    assert f"secret {namespace}/regcred: not found" in missing[0]["error"]

    dockerconfig = json.dumps(registry.docker_config()).encode()
    core = client.CoreV1Api(kube.api_client())
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="regcred"),
            type="kubernetes.io/dockerconfigjson",
            data={".dockerconfigjson": base64.b64encode(dockerconfig).decode()},
        ),
    )
    found = Cli(env).run("scan", str(checkout), "--output", "json").json()
    assert found[0]["selected"] == "v1.0.0" and found[0]["status"] == "up to date"

    # Outside a cluster (no GITOPS_KUBECONFIG) the secretRef is noted and the docker config used.
    outside = {k: v for k, v in env.items() if k != "GITOPS_KUBECONFIG"}
    outside["DOCKER_CONFIG"] = str(registry.write_docker_config(tmp_path / "docker").parent)
    fallback = Cli(outside).run("scan", str(checkout))
    assert "secretRef regcred is read only in a cluster" in fallback.stderr
