"""Run `gitops-action ci run` as a workflow step would, and read what it wrote.

Each run is the console script in a subprocess with a clean environment (no
inherited GITHUB_* / GITOPS_* / DOCKER_*), a GitHub-shaped event file and the
outputs read back with the runner's parser (testbed/githubapi/runner.py).
Shared by test_ci_run.py and test_ci_run_buildkit.py.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from typing import Any

from testbed.actionrunner.scenario import SHA, make_project, push_event
from testbed.githubapi.runner import parse_file_command
from testbed.registry import RegistryService

SCRIPT = str(Path(sys.executable).with_name("gitops-action"))


class Run:
    """One `ci run` subprocess and the files it wrote."""

    def __init__(self, result: subprocess.CompletedProcess[str], output: Path, summary: Path):
        self.code = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.output_text = output.read_text() if output.exists() else ""
        self.summary = summary.read_text() if summary.exists() else ""
        self.outputs = parse_file_command(self.output_text)

    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "error" in line.lower()]


def ci_run(
    tmp_path: Path,
    *,
    image: str,
    docker_host: str,
    ref: str = "refs/tags/v1.2.3",
    event_name: str = "push",
    event: dict[str, Any] | None = None,
    workspace: Path | None = None,
    extra_env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    prefix: tuple[str, ...] = (),
) -> Run:
    event_path = tmp_path / f"event-{uuid.uuid4().hex[:6]}.json"
    event_path.write_text(json.dumps(event if event is not None else push_event(ref)))
    output = tmp_path / f"output-{uuid.uuid4().hex[:6]}"
    summary = tmp_path / f"summary-{uuid.uuid4().hex[:6]}"
    workspace = workspace or make_project(tmp_path / "ws")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "GITOPS_", "RUNNER_", "DOCKER_"))
    }
    env.update(
        {
            "DOCKER_HOST": docker_host,
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REF": ref,
            "GITHUB_SHA": SHA,
            "GITHUB_REPOSITORY": "acme/app",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITOPS_IMAGE": image,
            **(extra_env or {}),
        }
    )
    result = subprocess.run(
        [*prefix, SCRIPT, "ci", "run", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    return Run(result, output, summary)


FAKE_CREDENTIALS = {"GITOPS_REGISTRY_USERNAME": "ci", "GITOPS_REGISTRY_PASSWORD": "dry-run-s3cret"}


def credentials(registry: RegistryService, password: str | None = None) -> dict[str, str]:
    return {
        "GITOPS_REGISTRY_USERNAME": registry.username,
        "GITOPS_REGISTRY_PASSWORD": password if password is not None else registry.password,
    }


def platform_manifests(registry: RegistryService, repo: str, tag: str) -> dict[str, dict[str, Any]]:
    """`os/arch` -> image manifest under tag (an index is followed; attestations left out)."""
    media_type, manifest = registry.get_manifest(repo, tag)
    if "index" not in media_type and "list" not in media_type:
        return {"": manifest}
    found: dict[str, dict[str, Any]] = {}
    for entry in manifest["manifests"]:
        platform = entry.get("platform") or {}
        if platform.get("os") == "unknown":  # an attestation manifest
            continue
        _, child = registry.get_manifest(repo, entry["digest"])
        found[f"{platform.get('os')}/{platform.get('architecture')}"] = child
    return found


def blob(registry: RegistryService, repo: str, digest: str) -> bytes:
    with registry.http() as client:
        response = client.get(f"/v2/{repo}/blobs/{digest}")
    response.raise_for_status()
    return response.content


def image_config(registry: RegistryService, repo: str, tag: str) -> dict[str, Any]:
    """The image config under tag (linux/amd64's when tag is an index)."""
    manifests = platform_manifests(registry, repo, tag)
    manifest = manifests.get("", manifests.get("linux/amd64"))
    assert manifest is not None, f"{repo}:{tag} has no linux/amd64 image: {list(manifests)}"
    config: dict[str, Any] = json.loads(blob(registry, repo, manifest["config"]["digest"]))
    return config


def layer_files(registry: RegistryService, repo: str, tag: str) -> dict[str, bytes]:
    """Every regular file of every pushed layer (all platforms), by path, decompressed."""
    files: dict[str, bytes] = {}
    for manifest in platform_manifests(registry, repo, tag).values():
        for layer in manifest["layers"]:
            data = blob(registry, repo, layer["digest"])
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                for member in tar.getmembers():
                    handle = tar.extractfile(member) if member.isfile() else None
                    if handle is not None:
                        files[member.name] = handle.read()
    return files


def unique_repo(name: str) -> str:
    return f"cirun/{name}-{uuid.uuid4().hex[:8]}"
