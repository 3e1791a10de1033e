"""`python -m testbed.cluster_cli up|down|env|serve`: the test control plane by hand
(scripts/cluster.sh wraps it).

`up` builds the binaries if needed (progress on stderr), starts a detached
keeper process (`serve`) that runs the control plane until it gets SIGTERM,
waits until the cluster is ready and prints `export KUBECONFIG=...`. `env`
prints that line again, `down` stops the keeper (which stops every component
by PID) and removes the state directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from testbed.go_tools import BUILD
from testbed.kube_cluster import ControlPlane


def state_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("GITOPS_CLUSTER_DIR") or Path(base) / "gitops-action" / "cluster")


def _export(directory: Path) -> str:
    return f"export KUBECONFIG={directory / 'admin.kubeconfig'}"


def _keeper_pid(directory: Path) -> int | None:
    try:
        pid = int((directory / "keeper.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def serve(directory: Path) -> int:
    """Run the control plane in this process until SIGTERM/SIGINT."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    plane = ControlPlane(directory).start()
    (directory / "ready").write_text(plane.url)
    stop.wait()
    plane.stop()
    return 0


def up(directory: Path) -> int:
    if _keeper_pid(directory) is not None and (directory / "ready").exists():
        print(_export(directory))
        return 0
    for tool in ("kube", "kwok"):  # build with the progress line visible
        subprocess.run(["bash", str(BUILD), tool], check=True, stdout=subprocess.DEVNULL)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ready").unlink(missing_ok=True)
    with (directory / "keeper.log").open("ab") as log:
        keeper = subprocess.Popen(
            [sys.executable, "-m", "testbed.cluster_cli", "serve"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, "GITOPS_CLUSTER_DIR": str(directory)},
        )
    (directory / "keeper.pid").write_text(str(keeper.pid))
    deadline = time.monotonic() + 180
    while not (directory / "ready").exists():
        if keeper.poll() is not None or time.monotonic() > deadline:
            print(f"cluster: did not come up; see {directory / 'keeper.log'}", file=sys.stderr)
            keeper.kill()
            return 1
        time.sleep(0.2)
    print(f"cluster: Kubernetes up at {(directory / 'ready').read_text()}", file=sys.stderr)
    print(_export(directory))
    return 0


def down(directory: Path) -> int:
    pid = _keeper_pid(directory)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _keeper_pid(directory) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
    subprocess.run(["rm", "-rf", str(directory)], check=False)
    print("cluster: stopped and removed", file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    directory = state_dir()
    command = argv[0] if argv else ""
    if command == "up":
        return up(directory)
    if command == "down":
        return down(directory)
    if command == "serve":
        return serve(directory)
    if command == "env":
        if not (directory / "ready").exists():
            print("cluster: not running (scripts/cluster.sh up)", file=sys.stderr)
            return 1
        print(_export(directory))
        return 0
    print("usage: scripts/cluster.sh up|down|env", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
