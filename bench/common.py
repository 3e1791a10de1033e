"""Side-by-side timing: candidates and their baseline run interleaved in one
process, so machine noise hits both alike; figures are medians and ratios."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
GITOPS = str(VENV_BIN / "gitops-action")


def time_command(argv: Sequence[str], stdin: bytes = b"", cwd: Path | None = None) -> float:
    """Wall seconds of one run; fails loudly if the command fails."""
    start = time.perf_counter()
    subprocess.run(argv, input=stdin, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def interleave(runs: int, **named: Callable[[], float]) -> dict[str, float]:
    """Run each callable `runs` times, round-robin; return the median of each."""
    samples: dict[str, list[float]] = {name: [] for name in named}
    for _ in range(runs):
        for name, fn in named.items():
            samples[name].append(fn())
    return {name: statistics.median(values) for name, values in samples.items()}


def report(title: str, medians: dict[str, float], baseline: str, target: str) -> None:
    """Print one table: median ms and ratio to the baseline."""
    base = medians[baseline]
    print(f"\n## {title}  (target: {target})")
    print(f"| command | median ms | ratio vs {baseline} |")
    print("|---|---:|---:|")
    for name, value in medians.items():
        print(f"| {name} | {value * 1000:.1f} | {value / base:.2f}x |")
