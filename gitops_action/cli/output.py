"""Small rendering helpers shared by `scan`, `automate`, `hold` and `release`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence


def configure_logging(verbose: bool) -> None:
    """Log lines of the tool go to stderr: warnings always, progress with `--verbose`."""
    logger = logging.getLogger("gitops_action")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("gitops-action: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as aligned columns (two spaces apart; the last column is not padded)."""
    if not rows:
        return ""
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"
