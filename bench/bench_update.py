"""`update` over a 10,000-file tree with 100 marked files, side by side with
`git grep -l '$imagepolicy'` over the same tree (DESIGN.md §6: within 3x).

Both run as whole commands (process start included). The update alternates
between two tags so every timed run really rewrites the 100 marked files; the
dry run (plan only) is shown too. Also shows cost growing with marked files.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

from common import GITOPS, interleave, report, time_command

PLAIN = """apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{i}
data:
  key: value-{i}
"""
MARKED = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example/app:v1.0.0 # {{"$imagepolicy": "flux-system:app"}}
"""


def make_tree(root: Path, files: int, marked: int) -> None:
    """`files` YAML files in 100 directories; every (files//marked)-th is marked."""
    step = files // marked if marked else files + 1
    for i in range(files):
        folder = root / f"dir{i % 100:03d}"
        folder.mkdir(exist_ok=True)
        text = MARKED if marked and i % step == 0 else PLAIN
        (folder / f"f{i:05d}.yaml").write_text(text.format(i=i))
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
    }
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "tree"]):
        subprocess.run(argv, cwd=root, check=True, env=env)


def bench_tree(files: int, marked: int, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_tree(root, files, marked)
        tags = iter(["v1.1.0", "v1.0.0"] * (runs + 1))

        def update() -> float:
            return time_command(
                [
                    GITOPS,
                    "update",
                    str(root),
                    "--set",
                    f"flux-system:app=registry.example/app:{next(tags)}",
                ]
            )

        def dry_run() -> float:
            return time_command(
                [
                    GITOPS,
                    "update",
                    str(root),
                    "--dry-run",
                    "--set",
                    "flux-system:app=registry.example/app:v9.9.9",
                ]
            )

        def git_grep() -> float:
            return time_command(["git", "grep", "-l", "$imagepolicy"], cwd=root)

        update()  # warm the page cache for both
        git_grep()
        return interleave(
            runs, **{"git grep -l": git_grep, "update": update, "update --dry-run": dry_run}
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    medians = bench_tree(10_000, 100, args.runs)
    report("update: 10,000 files, 100 marked", medians, "git grep -l", "update within 3x")
    print("\nGrowth with marked files (10,000 files):")
    print("| marked | update ms | git grep -l ms | ratio |")
    print("|---:|---:|---:|---:|")
    for marked in (10, 100, 1000):
        m = bench_tree(10_000, marked, max(5, args.runs // 3))
        print(
            f"| {marked} | {m['update'] * 1000:.1f} | {m['git grep -l'] * 1000:.1f} | "
            f"{m['update'] / m['git grep -l']:.2f}x |"
        )


if __name__ == "__main__":
    main()
