"""`policy select` over 10,000 tags (DESIGN.md §6: under 50 ms of selection
work). Selection work is timed in-process (parsing the range, the tags, and
choosing); the whole command, process start included, is shown beside it."""

from __future__ import annotations

import argparse
import random
import statistics
import time

from common import GITOPS, time_command

from gitops_action.domain.policies import SemverPolicy, select_tag


def make_tags(count: int, seed: int = 7) -> list[str]:
    """A realistic mix: semver with and without v, prereleases, shas, junk."""
    rng = random.Random(seed)
    tags: list[str] = []
    while len(tags) < count:
        kind = rng.random()
        a, b, c = rng.randrange(4), rng.randrange(40), rng.randrange(40)
        if kind < 0.5:
            tags.append(f"v{a}.{b}.{c}")
        elif kind < 0.7:
            tags.append(f"{a}.{b}.{c}-rc.{rng.randrange(20)}")
        elif kind < 0.85:
            tags.append(f"sha-{rng.getrandbits(28):07x}")
        else:
            tags.append(f"main-{rng.randrange(10**6)}")
    return tags


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    tags = make_tags(10_000)
    in_process = []
    for _ in range(args.runs):
        start = time.perf_counter()
        result = select_tag(tags, SemverPolicy.from_range("^v1.0.0"))
        in_process.append(time.perf_counter() - start)
    stdin = ("\n".join(tags) + "\n").encode()
    whole = [
        time_command([GITOPS, "policy", "select", "--semver", "^v1.0.0"], stdin=stdin)
        for _ in range(max(5, args.runs // 2))
    ]
    print("\n## policy select over 10,000 tags  (target: selection under 50 ms)")
    print("| measure | median ms |")
    print("|---|---:|")
    print(f"| selection work (in-process) | {statistics.median(in_process) * 1000:.1f} |")
    print(f"| whole command incl. start | {statistics.median(whole) * 1000:.1f} |")
    print(f"\nselected: {result.selected}")


if __name__ == "__main__":
    main()
