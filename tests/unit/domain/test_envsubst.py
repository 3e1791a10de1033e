"""Flux postBuild substitution: the cases fluxcd/pkg/envsubst and kustomize_varsub define."""

from __future__ import annotations

import pytest

from gitops_action.domain.envsubst import SubstitutionError, check_names, clean_value, substitute

VARS = {"cluster": "prod", "region": "eu-1", "empty": "", "Mixed": "hello World"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: ${cluster}", "name: prod"),
        ("${cluster}-${region}", "prod-eu-1"),
        ("unset: ${missing}", "unset: "),
        ("bare $cluster stays", "bare $cluster stays"),
        ("${missing:=fallback}", "fallback"),
        ("${missing:-fallback}", "fallback"),
        ("${missing=fallback}", "fallback"),
        ("${empty:=fallback}", "fallback"),
        ("${cluster:=fallback}", "prod"),
        ("${missing:=${region}}", "eu-1"),
        ("${missing:=a b c}", "a b c"),
        ("${missing:=http:\\/\\/x}", "http://x"),
        ("$${cluster}", "${cluster}"),
        ("cost: $$5", "cost: $5"),
        ("$$$", "$$"),
        ("${#cluster}", "4"),
        ("${Mixed^^}", "HELLO WORLD"),
        ("${Mixed,,}", "hello world"),
        ("${cluster^}", "Prod"),
        ("${region:1}", "u-1"),
        ("${region:0:2}", "eu"),
        ("no references at all", "no references at all"),
    ],
)
def test_renders_as_flux_does(text: str, expected: str) -> None:
    assert substitute(text, VARS) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("${cluster", "missing closing brace"),
        ("${}", "unable to parse variable name"),
        ("${cluster#x}", "pattern functions are not supported"),
        ("${cluster/a/b}", "pattern functions are not supported"),
    ],
)
def test_bad_references_are_named(text: str, problem: str) -> None:
    with pytest.raises(SubstitutionError, match=problem):
        substitute(text, VARS)


def test_variable_names_must_be_identifiers() -> None:
    problems = check_names({"ok_name": "", "bad-name": "", "9lives": ""})
    assert len(problems) == 2
    assert problems[0].startswith("'9lives' var name is invalid")
    assert problems[1].startswith("'bad-name' var name is invalid")


def test_values_lose_their_newlines() -> None:
    assert clean_value("line1\nline2\n") == "line1line2"
