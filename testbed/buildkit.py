"""A private BuildKit daemon, and a docker CLI config whose buildx builder is it.

`buildkitd` and the buildx plugin come from tools/buildkit (their Go modules,
pinned; `tools/build.sh buildkit`). The daemon runs the OCI worker (runc, as
root) with host networking, trusts the tests' registry over plain HTTP, and
keeps everything under a short /tmp/bk-XXXX directory (the unix socket path
must fit ~107 bytes). Stop is by PID; overlay mounts left under the directory
are unmounted lazily before it is removed. A second daemon is a fresh runner:
an empty cache.

`BuildxConfig` is a `DOCKER_CONFIG` directory of its own (never the user's):
`cli-plugins/docker-buildx` links to the built plugin, and a builder created
with the `remote` driver, pointed at the daemon's socket, is the current one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from testbed.go_tools import program
from testbed.process import ServiceProcess


def buildkit_program(name: str) -> Path:
    """buildkitd, buildctl or buildx from tools/buildkit (built on first use)."""
    return program("buildkit", name)


class BuildKitDaemon:
    """A running buildkitd; `address` is its `unix://` endpoint."""

    def __init__(self, log_dir: Path, *, insecure_registry: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bk-", dir="/tmp"))
        self.socket = self.dir / "buildkitd.sock"
        self.address = f"unix://{self.socket}"
        config = self.dir / "buildkitd.toml"
        config.write_text(
            f'root = "{self.dir / "root"}"\n'
            "[grpc]\n"
            f'  address = ["{self.address}"]\n'
            "[worker.oci]\n  enabled = true\n  gc = false\n"
            "[worker.containerd]\n  enabled = false\n"
            f'[registry."{insecure_registry}"]\n  http = true\n  insecure = true\n'
        )
        self.process = ServiceProcess(
            "buildkitd",
            [
                str(buildkit_program("buildkitd")),
                "--config", str(config),
                "--oci-worker-net=host",
            ],
            log_path=log_dir / f"buildkitd-{self.dir.name}.log",
        )  # fmt: skip

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        probe = subprocess.run(
            [str(buildkit_program("buildctl")), "--addr", self.address, "debug", "workers"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        return probe.returncode == 0

    def start(self, timeout: float = 60) -> None:
        self.process.start()
        self.process.wait_ready(self._answers, timeout=timeout)

    def stop(self) -> None:
        self.process.stop(timeout=15)
        prefix = str(self.dir) + "/"
        with open("/proc/self/mounts") as mounts:
            points = [line.split()[1] for line in mounts]
        for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class BuildxConfig:
    """A DOCKER_CONFIG with the buildx plugin and a `remote` builder as the current one."""

    def __init__(self, directory: Path, docker_host: str) -> None:
        self.dir = directory
        self.docker_host = docker_host
        plugins = directory / "cli-plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        link = plugins / "docker-buildx"
        if not link.exists():
            link.symlink_to(buildkit_program("buildx"))
        if not (directory / "config.json").exists():
            (directory / "config.json").write_text("{}\n")

    def env(self) -> dict[str, str]:
        return {"DOCKER_CONFIG": str(self.dir), "DOCKER_HOST": self.docker_host}

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI with this config (and the given engine)."""
        return subprocess.run(
            ["docker", *args],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    def use_remote(self, name: str, daemon: BuildKitDaemon) -> None:
        """`docker buildx create --driver remote` at the daemon, made the current builder."""
        self.docker("buildx", "rm", name, check=False)
        self.docker("buildx", "create", "--name", name, "--driver", "remote", daemon.address)
        self.docker("buildx", "use", name)
        self.docker("buildx", "inspect", "--bootstrap")
