"""The one error handler: families map to the contract's exit codes."""

from __future__ import annotations

import click
import pytest

from gitops_action.cli.errors import EXIT_BUG, EXIT_FAILED, EXIT_USAGE, exit_code_for, report
from gitops_action.domain import errors


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.ConfigError("x"), EXIT_USAGE),
        (errors.InvalidRange("x"), EXIT_USAGE),
        (errors.InvalidManifest("x"), EXIT_USAGE),
        (click.UsageError("x"), EXIT_USAGE),
        (errors.NoMatch("x"), EXIT_FAILED),
        (errors.OperationFailed("x"), EXIT_FAILED),
        (errors.GitopsError("x"), EXIT_FAILED),
        (RuntimeError("x"), EXIT_BUG),
        (KeyError("x"), EXIT_BUG),
    ],
)
def test_exit_code_for_each_family(error: BaseException, code: int) -> None:
    assert exit_code_for(error) == code


def test_report_prints_one_line_for_expected_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code = report(errors.InvalidRange("invalid semver range 'banana':\n  no version"))
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert err == "gitops-action: error: invalid semver range 'banana': no version\n"


def test_report_marks_bugs_as_bugs(capsys: pytest.CaptureFixture[str]) -> None:
    code = report(ZeroDivisionError("boom"))
    err = capsys.readouterr().err
    assert code == EXIT_BUG
    assert "internal error (a bug)" in err
    assert "ZeroDivisionError" in err
