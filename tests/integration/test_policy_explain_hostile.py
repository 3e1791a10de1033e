"""`policy select --explain` never prints a tag raw (issue 14, item 4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLI = Path(sys.executable).with_name("gitops-action")


def test_explain_escapes_bidi_and_control_characters_and_cuts_long_tags() -> None:
    tags = ["v1.0.0", "v9\u202e.0.0", "v8\x1b[31m.0.0", "v7." + "1" * 5000, "v1.1.0"]
    done = subprocess.run(
        [str(CLI), "policy", "select", "--semver", ">=1.0.0", "--explain"],
        input="\n".join(tags) + "\n", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout == "v1.1.0\n"
    assert "\u202e" not in done.stderr and "\x1b" not in done.stderr
    assert "v9\\u202e.0.0" in done.stderr
    assert "1" * 300 not in done.stderr and "(5003 chars)" in done.stderr
