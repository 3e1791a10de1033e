"""Base images for `RUN` steps, made here from a Debian package, never pulled.

A busybox rootfs: the static binary of Debian's `busybox-static` (installed by
scripts/bootstrap.sh) as /bin/busybox, with a symlink per applet it lists
(`sh`, `cat`, `echo`, `sha256sum`, ...), /tmp and /etc/passwd. It is pushed
to the tests' registry as one OCI layer through the registry API (no engine
needed, milliseconds), for linux/amd64, the machine's platform.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import tarfile
from pathlib import Path

from testbed.images import (
    CREATED,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    Blob,
    Image,
    canonical_json,
    sha256_digest,
)
from testbed.registry import RegistryService

BUSYBOX = Path("/bin/busybox")
REPOSITORY = "base/busybox"
TAG = "1"


def busybox_layer() -> bytes:
    """The rootfs tar: busybox, its applet links, /tmp, /etc/passwd (fixed metadata)."""
    applets = subprocess.run(
        [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory, mode in (("bin", 0o755), ("etc", 0o755), ("tmp", 0o1777)):
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, 0
            tar.addfile(info)
        data = BUSYBOX.read_bytes()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode, info.mtime = len(data), 0o755, 0
        tar.addfile(info, io.BytesIO(data))
        for applet in sorted(set(applets) - {"busybox"}):
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname, link.mode, link.mtime = tarfile.SYMTYPE, "busybox", 0o777, 0
            tar.addfile(link)
        passwd = b"root:x:0:0:root:/root:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size, info.mode, info.mtime = len(passwd), 0o644, 0
        tar.addfile(info, io.BytesIO(passwd))
    return buf.getvalue()


def busybox_image() -> Image:
    tar = busybox_layer()
    layer = Blob(OCI_LAYER, gzip.compress(tar, mtime=0))
    config_doc = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar)]},
        "history": [{"created": CREATED, "created_by": "testbed.base_images (busybox-static)"}],
    }
    config = Blob(OCI_CONFIG, canonical_json(config_doc))
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
    }
    return Image(config, (layer,), Blob(OCI_MANIFEST, canonical_json(manifest)))


def push_busybox(registry: RegistryService) -> str:
    """Push the busybox base image; returns `HOST/base/busybox:1` for `FROM`."""
    registry.push_built_image(REPOSITORY, busybox_image(), [TAG])
    return f"{registry.host}/{REPOSITORY}:{TAG}"
