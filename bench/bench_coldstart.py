"""CLI cold start side by side with `python -c "import click"` (DESIGN.md §6:
within 2.5x). Heavy clients must stay unloaded on these paths."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import GITOPS, interleave, report, time_command


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "app.yaml").write_text('image: app:v1 # {"$imagepolicy": "ns:app"}\n')
        tags = b"v1.0.0\nv1.1.0\nv2.0.0\n"
        medians = interleave(
            args.runs,
            **{
                "python -c 'import click'": lambda: time_command(
                    [sys.executable, "-c", "import click"]
                ),
                "gitops-action --help": lambda: time_command([GITOPS, "--help"]),
                "policy select": lambda: time_command(
                    [GITOPS, "policy", "select", "--semver", "^v1.0.0"], stdin=tags
                ),
                "update": lambda: time_command([GITOPS, "update", tmp, "--set", "ns:app=app:v1"]),
            },
        )
    report("CLI cold start", medians, "python -c 'import click'", "each within 2.5x")


if __name__ == "__main__":
    main()
