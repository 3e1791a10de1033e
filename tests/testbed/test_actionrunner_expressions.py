"""The harness's expression evaluator against GitHub's documented semantics.

If the evaluator were wrong, action.yml tests could pass on expressions the
real runner reads differently; these cases pin the rules action.yml relies on.
"""

from __future__ import annotations

from typing import Any

import pytest

from testbed.actionrunner.expressions import (
    ExpressionError,
    condition,
    evaluate,
    substitute,
)

CONTEXTS: dict[str, Any] = {
    "inputs": {"push": "auto", "test-command": "make test", "empty": ""},
    "steps": {
        "skip": {"outputs": {"skip": "true", "reason": "bots"}, "outcome": "success"},
        "run": {"outputs": {"test-outcome": "failure"}, "outcome": "failure"},
    },
    "github": {"token": "ghs_x", "event": {"pull_request": {"number": 7}}},
    "env": {"GITOPS_ACTION_PYTHON": ""},
}
OK = {"success": True, "failure": False, "always": True, "cancelled": False}
FAILED = {"success": False, "failure": True, "always": True, "cancelled": False}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("steps.skip.outputs.skip == 'true'", True),
        ("steps.skip.outputs.skip == 'TRUE'", True),  # string == ignores case
        ("steps.skip.outputs.skip != 'true'", False),
        ("steps.missing.outputs.skip", None),  # missing property: null
        ("steps.run.outputs['test-outcome']", "failure"),
        ("steps.run.outputs.test-outcome", "failure"),  # `-` is part of a name
        ("inputs.empty || 'fallback'", "fallback"),  # || returns the operand
        ("inputs.push && 'yes'", "yes"),
        ("inputs.empty && 'yes'", ""),
        ("steps.skip.outputs.skip == 'true' && 'true' || 'false'", "true"),
        ("env.GITOPS_ACTION_PYTHON == ''", True),
        ("github.event.pull_request.number == '7'", True),  # mixed types compare as numbers
        ("!inputs.empty", True),
        ("1 < 2 && 'a' < 'B'", True),
        ("null == 0", True),  # mixed types: null is coerced to 0
        ("format('{0}-{1}', 'a', 1)", "a-1"),
        ("contains('Hello', 'ell')", True),
        ("startsWith(inputs.test-command, 'MAKE')", True),
        ("fromJSON('[1,2]')[1]", 2.0),
        ("'it''s'", "it's"),
    ],
)
def test_evaluate(expression: str, expected: object) -> None:
    assert evaluate(expression, CONTEXTS) == expected


def test_substitute_renders_values_as_strings() -> None:
    text = "a=${{ inputs.push }} b=${{ steps.none.outputs.x }} c=${{ 1 == 1 }} d=${{ 3 }}"
    assert substitute(text, CONTEXTS) == "a=auto b= c=true d=3"


@pytest.mark.parametrize(
    ("text", "status", "expected"),
    [
        ("steps.skip.outputs.skip != 'true'", OK, False),
        ("${{ steps.skip.outputs.skip == 'true' }}", OK, True),
        ("steps.skip.outputs.skip == 'true'", FAILED, False),  # success() && implied
        ("always() && steps.skip.outputs.skip == 'true'", FAILED, True),
        ("failure()", FAILED, True),
        (None, OK, True),
        (None, FAILED, False),
    ],
)
def test_condition(text: str | None, status: dict[str, bool], expected: bool) -> None:
    assert condition(text, CONTEXTS, status) is expected


@pytest.mark.parametrize("bad", ["inputs.", "unknown.x", "hashFiles('x')", "(1 == 1", "'open"])
def test_errors(bad: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(bad, CONTEXTS)
