"""Tiny container images built as bytes: layer, config, manifest, index.

Why build them by hand: pushing through the registry HTTP API needs no docker
engine and takes milliseconds, so tag-scanning and digest tests can create
many tags cheaply. The bytes are deterministic (fixed tar mtimes, gzip mtime 0,
sorted JSON keys), so the same inputs always give the same digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

#: What a client reading manifests should send: without it Distribution may
#: answer with (or refuse to convert to) the old schema 1.
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST])

CREATED = "2024-01-01T00:00:00Z"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Blob:
    """Content plus the media type it is referenced with."""

    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {
            "mediaType": self.media_type,
            "size": len(self.data),
            "digest": self.digest,
            **extra,
        }


@dataclass(frozen=True)
class Image:
    """One single-platform image: its blobs and its manifest bytes."""

    config: Blob
    layers: tuple[Blob, ...]
    manifest: Blob
    platform: tuple[str, str] = ("linux", "amd64")

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def blobs(self) -> tuple[Blob, ...]:
        return (*self.layers, self.config)


@dataclass(frozen=True)
class Index:
    """A multi-platform image: its child images and the index/list bytes."""

    images: tuple[Image, ...]
    manifest: Blob = field(repr=False)

    @property
    def digest(self) -> str:
        return self.manifest.digest


def layer_tar(files: Mapping[str, str | bytes]) -> bytes:
    """An uncompressed tar of files with fixed metadata (deterministic bytes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            content = files[name]
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def make_image(
    files: Mapping[str, str | bytes],
    *,
    oci: bool = False,
    labels: Mapping[str, str] | None = None,
    platform: tuple[str, str] = ("linux", "amd64"),
) -> Image:
    """A one-layer image holding files; schema 2 (docker) or OCI media types."""
    tar = layer_tar(files)
    layer = Blob(OCI_LAYER if oci else DOCKER_LAYER, _gzip(tar))
    config_doc = {
        "architecture": platform[1],
        "os": platform[0],
        "created": CREATED,
        "config": {"Labels": dict(labels or {})},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar)]},
        "history": [{"created": CREATED, "created_by": "testbed.images"}],
    }
    config = Blob(OCI_CONFIG if oci else DOCKER_CONFIG, canonical_json(config_doc))
    media_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
    }
    return Image(config, (layer,), Blob(media_type, canonical_json(manifest_doc)), platform)


def make_index(images: Sequence[Image], *, oci: bool = False) -> Index:
    """A manifest list (docker) or image index (OCI) over the given images."""
    media_type = OCI_INDEX if oci else DOCKER_MANIFEST_LIST
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            image.manifest.descriptor(
                platform={"os": image.platform[0], "architecture": image.platform[1]}
            )
            for image in images
        ],
    }
    return Index(tuple(images), Blob(media_type, canonical_json(doc)))


def parse_platform(text: str) -> tuple[str, str]:
    """'linux/arm64' -> ('linux', 'arm64')."""
    os_name, _, arch = text.partition("/")
    if not arch:
        raise ValueError(f"platform {text!r} is not OS/ARCH")
    return os_name, arch
