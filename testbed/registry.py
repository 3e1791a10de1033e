"""The Debian `docker-registry` (CNCF Distribution 2.8) with htpasswd auth.

`RegistryService` starts it on a free 127.0.0.1 port with its storage in a
temp dir; `RegistryClient` is the small OCI distribution client that tests use
to arrange registry state (push images and indexes under tags, list tags,
delete) without a docker engine. The code under test talks to the same server
through its own adapter, so the two never share code.

Distribution facts tests rely on (checked against 2.8):
- `tags/list` ignores `?n=` (no Link header, one page) and returns the tags
  in storage order, not sorted: paging is tested against `paging_registry`.
- A manifest cannot be deleted by tag (DELETE .../manifests/TAG answers 400
  DIGEST_INVALID), only by digest; deleting a digest drops every tag on it.
- Reading a manifest needs an `Accept` header: without one, a schema 2
  manifest is served converted to schema 1 (`...manifest.v1+prettyjws`).
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from testbed.images import (
    MANIFEST_ACCEPT,
    Blob,
    Image,
    Index,
    make_image,
    make_index,
    parse_platform,
)
from testbed.ports import LOCALHOST, free_port
from testbed.process import ServiceProcess

DEFAULT_USER = "gitops"
DEFAULT_PASSWORD = "registry-pass-123"


class RegistryError(RuntimeError):
    """The registry answered a helper's request with an unexpected status."""


def _check(response: httpx.Response, *expected: int) -> httpx.Response:
    if response.status_code not in expected:
        raise RegistryError(
            f"{response.request.method} {response.request.url.path} -> "
            f"{response.status_code}: {response.text[:300]}"
        )
    return response


class RegistryClient:
    """Arrange registry state over the distribution HTTP API (Basic auth)."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self.username = username
        self.password = password

    def http(self, *, auth: bool = True, timeout: float = 30) -> httpx.Client:
        """A fresh httpx client on the registry (use it in a `with` block)."""
        return httpx.Client(
            base_url=self.url,
            auth=(self.username, self.password) if auth else None,
            timeout=timeout,
        )

    def upload_blob(self, client: httpx.Client, repo: str, blob: Blob) -> None:
        """Monolithic upload: POST to open a session, PUT the bytes with ?digest=."""
        if client.head(f"/v2/{repo}/blobs/{blob.digest}").status_code == 200:
            return
        start = _check(client.post(f"/v2/{repo}/blobs/uploads/"), 202)
        location = start.headers["Location"]
        sep = "&" if "?" in location else "?"
        _check(
            client.put(
                f"{location}{sep}digest={blob.digest}",
                content=blob.data,
                headers={"Content-Type": "application/octet-stream"},
            ),
            201,
        )

    def put_manifest(self, client: httpx.Client, repo: str, ref: str, manifest: Blob) -> str:
        """PUT a manifest under a tag or digest; returns the registry's digest."""
        response = _check(
            client.put(
                f"/v2/{repo}/manifests/{ref}",
                content=manifest.data,
                headers={"Content-Type": manifest.media_type},
            ),
            201,
        )
        digest = str(response.headers.get("Docker-Content-Digest", ""))
        if digest != manifest.digest:
            raise RegistryError(f"registry digest {digest} != pushed {manifest.digest}")
        return digest

    def push_built_image(self, repo: str, image: Image, tags: Sequence[str]) -> str:
        """Upload an Image's blobs and put its manifest under each tag."""
        with self.http() as client:
            for blob in image.blobs:
                self.upload_blob(client, repo, blob)
            if not tags:
                return self.put_manifest(client, repo, image.digest, image.manifest)
            for tag in tags:
                self.put_manifest(client, repo, tag, image.manifest)
        return image.digest

    def push_image(
        self,
        repo: str,
        tags: str | Sequence[str],
        *,
        files: dict[str, str | bytes] | None = None,
        labels: dict[str, str] | None = None,
        oci: bool = False,
        platform: str = "linux/amd64",
    ) -> str:
        """Push a one-layer image under one or more tags; returns the manifest digest.

        Without `files` the layer holds `repo:first-tag`, so each push of a new
        tag gets its own digest; push several tags at once to share one digest.
        """
        tag_list = [tags] if isinstance(tags, str) else list(tags)
        first = tag_list[0] if tag_list else "untagged"
        content = files if files is not None else {"tag.txt": f"{repo}:{first}"}
        image = make_image(content, oci=oci, labels=labels, platform=parse_platform(platform))
        return self.push_built_image(repo, image, tag_list)

    def push_index(
        self,
        repo: str,
        tags: str | Sequence[str],
        *,
        platforms: Sequence[str] = ("linux/amd64", "linux/arm64"),
        oci: bool = False,
        labels: dict[str, str] | None = None,
    ) -> Index:
        """Push one image per platform (by digest) and an index over them under tags."""
        tag_list = [tags] if isinstance(tags, str) else list(tags)
        first = tag_list[0] if tag_list else "untagged"
        images = [
            make_image(
                {"platform.txt": f"{repo}:{first} {platform}"},
                oci=oci,
                labels=labels,
                platform=parse_platform(platform),
            )
            for platform in platforms
        ]
        index = make_index(images, oci=oci)
        for image in images:
            self.push_built_image(repo, image, [])
        with self.http() as client:
            for tag in tag_list:
                self.put_manifest(client, repo, tag, index.manifest)
        return index

    def list_tags(self, repo: str) -> list[str]:
        """All tags of repo, sorted (Distribution sends one unsorted page); [] if unknown."""
        with self.http() as client:
            response = client.get(f"/v2/{repo}/tags/list")
        if response.status_code == 404:
            return []
        tags: list[str] | None = _check(response, 200).json().get("tags")
        return sorted(tags or [])

    def manifest_digest(self, repo: str, ref: str) -> str | None:
        """HEAD the manifest with Accept; its Docker-Content-Digest, None if missing."""
        with self.http() as client:
            response = client.head(
                f"/v2/{repo}/manifests/{ref}", headers={"Accept": MANIFEST_ACCEPT}
            )
        if response.status_code == 404:
            return None
        return _check(response, 200).headers["Docker-Content-Digest"]

    def get_manifest(self, repo: str, ref: str) -> tuple[str, dict[str, Any]]:
        """(media type, parsed manifest) of ref."""
        with self.http() as client:
            response = _check(
                client.get(f"/v2/{repo}/manifests/{ref}", headers={"Accept": MANIFEST_ACCEPT}), 200
            )
        return response.headers["Content-Type"], json.loads(response.content)

    def delete(self, repo: str, ref: str) -> str:
        """Delete the manifest ref names (tag or digest); returns the digest deleted.

        Distribution deletes by digest only, which also drops every other tag
        pointing at the same manifest.
        """
        digest = ref if ref.startswith("sha256:") else self.manifest_digest(repo, ref)
        if digest is None:
            raise RegistryError(f"{repo}:{ref} does not exist")
        with self.http() as client:
            _check(client.delete(f"/v2/{repo}/manifests/{digest}"), 202)
        return digest


class RegistryService(RegistryClient):
    """A running docker-registry; also a RegistryClient bound to it."""

    def __init__(
        self, workdir: Path, *, username: str = DEFAULT_USER, password: str = DEFAULT_PASSWORD
    ) -> None:
        self.port = free_port()
        self.host = f"{LOCALHOST}:{self.port}"
        super().__init__(f"http://{self.host}", username, password)
        self.workdir = workdir
        self.storage = workdir / "storage"
        self.config_path = workdir / "config.yml"
        self.htpasswd_path = workdir / "htpasswd"
        self.process = ServiceProcess(
            "docker-registry",
            ["docker-registry", "serve", str(self.config_path)],
            log_path=workdir / "registry.log",
        )

    def _write_config(self) -> None:
        entry = subprocess.run(
            ["htpasswd", "-Bbn", self.username, self.password],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        self.htpasswd_path.write_text(entry + "\n")
        self.storage.mkdir(parents=True, exist_ok=True)
        config = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text"},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage)},
                "delete": {"enabled": True},
                "cache": {"blobdescriptor": "inmemory"},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {"addr": self.host, "secret": "gitops-action-tests"},
            "auth": {"htpasswd": {"realm": "gitops-test", "path": str(self.htpasswd_path)}},
        }
        # JSON is YAML: no YAML writer needed.
        self.config_path.write_text(json.dumps(config, indent=2))

    def _answers(self) -> bool:
        with self.http(timeout=2) as client:
            return client.get("/v2/").status_code == 200

    def start(self, timeout: float = 20) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self.process.start()
        self.process.wait_ready(self._answers, timeout=timeout)

    def stop(self) -> None:
        self.process.stop()

    def docker_config(self) -> dict[str, object]:
        """A docker config.json body holding this registry's credentials."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"auths": {self.host: {"auth": token}}}

    def write_docker_config(self, directory: Path) -> Path:
        """Write DIR/config.json (point DOCKER_CONFIG at DIR); returns the file."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "config.json"
        path.write_text(json.dumps(self.docker_config()))
        return path
