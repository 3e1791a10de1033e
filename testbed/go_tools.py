"""Where the Go-built peers are: `tools/build.sh NAME` builds a tool once into the
cache (keyed by its module) and prints its bin directory; later calls return at once.

The test command builds every tool before pytest starts, so its progress lines
are seen; a fixture that calls this on a machine where nothing was built yet
still works, only slowly and silently (pytest captures the progress).
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "tools" / "build.sh"


class ToolBuildError(RuntimeError):
    """tools/build.sh failed; the message carries its last lines."""


@cache
def bin_dir(name: str) -> Path:
    """The bin directory of Go tool `name` (tools/NAME/go.mod), built if needed."""
    proc = subprocess.run(["bash", str(BUILD), name], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ToolBuildError(f"tools/build.sh {name} failed:\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def program(tool: str, name: str) -> Path:
    """The path of program `name` built by Go tool module `tool`."""
    path = bin_dir(tool) / name
    if not path.exists():
        raise ToolBuildError(f"tools/{tool} built no program named {name} ({path})")
    return path
