"""A private Docker engine (Debian docker.io `dockerd`) for build and push tests.

Everything lives under a short /tmp/gd-XXXX directory: the API socket path
must fit the ~107-byte unix socket limit, which pytest's deep temp dirs break.
The log goes to the pytest temp dir instead, so it survives the teardown.

dockerd starts its own containerd, which calls setsid() and so leaves
dockerd's process group; `ServiceProcess.stop` finds it in /proc below dockerd
and kills it too. dockerd bind-mounts its data root; a clean SIGTERM unmounts
it, and teardown lazily unmounts anything left before removing the directory.

No image is ever pulled: images are built `FROM scratch` from files the test
supplies (`build_scratch_image`), with the legacy builder the SDK uses.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from testbed.process import ServiceProcess

DOCKERFILE = "FROM scratch\nCOPY . /\n"


def scratch_context(files: Mapping[str, str | bytes], dockerfile: str = DOCKERFILE) -> bytes:
    """A build context tar: the files plus a Dockerfile (kept out of the image)."""
    entries: dict[str, bytes] = {
        name.lstrip("/"): content.encode() if isinstance(content, str) else content
        for name, content in files.items()
    }
    entries["Dockerfile"] = dockerfile.encode()
    entries[".dockerignore"] = b"Dockerfile\n.dockerignore\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in sorted(entries):
            info = tarfile.TarInfo(name)
            info.size = len(entries[name])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(entries[name]))
    return buf.getvalue()


class DockerEngine:
    """A running dockerd; `docker_host` is what DOCKER_HOST should be set to."""

    def __init__(self, log_dir: Path, *, insecure_registry: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gd-", dir="/tmp"))
        self.socket = self.dir / "docker.sock"
        self.docker_host = f"unix://{self.socket}"
        self.insecure_registry = insecure_registry
        config = self.dir / "daemon.json"
        config.write_text("{}\n")  # never read the host's /etc/docker/daemon.json
        self.process = ServiceProcess(
            "dockerd",
            [
                "dockerd",
                "--host", self.docker_host,
                "--data-root", str(self.dir / "data"),
                "--exec-root", str(self.dir / "exec"),
                "--pidfile", str(self.dir / "pid"),
                "--config-file", str(config),
                "--iptables=false",
                "--ip-masq=false",
                "--bridge=none",
                "--insecure-registry", insecure_registry,
            ],
            log_path=log_dir / "dockerd.log",
        )  # fmt: skip

    def ping(self) -> bool:
        """GET /_ping over the unix socket answers OK."""
        transport = httpx.HTTPTransport(uds=str(self.socket))
        with httpx.Client(transport=transport, timeout=2) as client:
            response = client.get("http://docker/_ping")
        return response.status_code == 200 and response.text == "OK"

    def start(self, timeout: float = 30) -> None:
        self.process.start()
        self.process.wait_ready(lambda: self.socket.exists() and self.ping(), timeout=timeout)

    def stop(self) -> None:
        containerd = self._containerd_pid()
        self.process.stop(timeout=15)
        if containerd is not None:
            # Found below dockerd by stop() normally; this covers a dockerd that
            # died earlier, after which containerd is no longer its child.
            with contextlib.suppress(ProcessLookupError):
                os.kill(containerd, signal.SIGKILL)
        self._unmount_leftovers()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _containerd_pid(self) -> int | None:
        """PID from containerd's pid file, if that process still runs from our dir."""
        try:
            pid = int((self.dir / "exec" / "containerd" / "containerd.pid").read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if str(self.dir).encode() in cmdline else None

    def _unmount_leftovers(self) -> None:
        prefix = str(self.dir) + "/"
        with open("/proc/self/mounts") as mounts:
            points = [line.split()[1] for line in mounts]
        for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)

    @contextlib.contextmanager
    def client(self) -> Iterator[Any]:
        """A docker SDK client on this engine, closed after the block."""
        import docker

        client = docker.DockerClient(base_url=self.docker_host, timeout=60)
        try:
            yield client
        finally:
            client.close()

    def build_scratch_image(
        self,
        files: Mapping[str, str | bytes],
        tag: str,
        *,
        labels: Mapping[str, str] | None = None,
    ) -> str:
        """Build `FROM scratch` + COPY of files as tag; returns the image id."""
        with self.client() as client:
            image, _logs = client.images.build(
                fileobj=io.BytesIO(scratch_context(files)),
                custom_context=True,
                tag=tag,
                labels=dict(labels or {}),
                rm=True,
                forcerm=True,
            )
            image_id: str = image.id
            return image_id

    def push(self, repository: str, tag: str, *, username: str, password: str) -> str:
        """Push repository:tag with Basic credentials; returns the pushed digest."""
        with self.client() as client:
            events = client.images.push(
                repository,
                tag=tag,
                auth_config={"username": username, "password": password},
                stream=True,
                decode=True,
            )
            digest = ""
            for event in events:
                if "error" in event:
                    raise RuntimeError(f"push of {repository}:{tag} failed: {event['error']}")
                aux = event.get("aux") or {}
                digest = aux.get("Digest", digest)
        if not digest:
            raise RuntimeError(f"push of {repository}:{tag} reported no digest")
        return digest
