"""The one place where errors become exit codes.

Exit codes are a fixed contract (DESIGN.md §3): 0 ok, 1 expected failure,
2 usage or config error, 3 bug. Commands raise; they never call `sys.exit`
with a number of their own.
"""

from __future__ import annotations

import sys
import traceback
from typing import Final

import click

from gitops_action.domain.errors import ConfigError, GitopsError, OperationFailed

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_BUG: Final = 3


def exit_code_for(error: BaseException) -> int:
    """Map an exception to the contract's exit code."""
    if isinstance(error, ConfigError | click.UsageError):
        return EXIT_USAGE
    if isinstance(error, OperationFailed | GitopsError):
        return EXIT_FAILED
    return EXIT_BUG


def report(error: BaseException) -> int:
    """Print a one-line message to stderr and return the exit code."""
    code = exit_code_for(error)
    if isinstance(error, click.ClickException):
        error.show()
    elif code == EXIT_BUG:
        traceback.print_exception(error, file=sys.stderr)
        click.echo(f"gitops-action: internal error (a bug): {error!r}", err=True)
    else:
        message = " ".join(str(error).split()) or type(error).__name__
        click.echo(f"gitops-action: error: {message}", err=True)
    return code
