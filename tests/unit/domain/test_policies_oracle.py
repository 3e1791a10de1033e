"""filterTags (pattern, extract) and exclusionList against the oracle (Go regexp)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_action.domain.errors import InvalidPattern
from gitops_action.domain.policies import Exclusions, TagFilter
from testbed.oracle import Oracle, examples

SETTINGS = settings(deadline=None, max_examples=examples())

_REGEX_PIECES = [
    "^", "$", ".", "*", "+", "?", "*?", "{2}", "{,2}", "{1,}", "|", "(", ")", "(?:", "(?i)",
    "(?P<ts>", "(?<n>", "[", "]", "[^", "-", "[[:alpha:]]", "[[:digit:]]", "\\d", "\\w", "\\s",
    "\\b", "\\pL", "\\p{Greek}", "\\.", "\\1", "(?=", "(?!", "(?<=", "\\Q.\\E", "\\z", "\\A",
    "a", "b", "v", "1", "2", "-", "_", "é", "\\x{e9}", "\\C", "(?s)", "(?U)",
]  # fmt: skip
_TAG_PIECES = ["v", "1", "2", ".", "-", "a", "b", "A", "é", "É", "\u0661", "\n", "_", "rc", "β"]

patterns = st.lists(st.sampled_from(_REGEX_PIECES), max_size=7).map("".join)
tags = st.lists(st.lists(st.sampled_from(_TAG_PIECES), max_size=7).map("".join), max_size=8)


def _compile(pattern: str, extract: str = "") -> TagFilter | None:
    try:
        return TagFilter.compile(pattern, extract)
    except InvalidPattern:
        return None


@SETTINGS
@given(pattern=patterns, candidates=tags)
def test_pattern_matches_equal_go(oracle: Oracle, pattern: str, candidates: list[str]) -> None:
    ours = _compile(pattern)
    answer = oracle.regex(pattern, candidates)
    assert (ours is not None) == answer["ok"], (pattern, answer.get("error"))
    if ours is not None:
        assert [ours.apply(tag) for tag in candidates] == answer["results"], pattern


@st.composite
def filters(draw: st.DrawFn) -> tuple[str, str]:
    """A valid pattern with groups, and an extract template using only those groups."""
    inner = [draw(st.sampled_from(["[0-9]+", "[a-z]*", "\\d", "(?i:A)", ".", "é?"])) for _ in "ab"]
    pattern = f"^(?P<p>{inner[0]})-?(?<ts>{inner[1]})?(x)?"
    # Bare $name only before a non-name character: $pv would name group "pv".
    refs = ["$p-", "${p}", "$ts.", "${ts}_", "$1-", "${2}", "${3}", "${0}", "$$", "-", "v", "é"]
    extract = "".join(draw(st.lists(st.sampled_from(refs), min_size=1, max_size=4)))
    return pattern, extract


@SETTINGS
@given(spec=filters(), candidates=tags)
def test_extract_equals_go_expand(
    oracle: Oracle, spec: tuple[str, str], candidates: list[str]
) -> None:
    pattern, extract = spec
    ours = TagFilter.compile(pattern, extract)
    answer = oracle.regex(pattern, candidates, extract)
    assert [ours.apply(tag) for tag in candidates] == answer["results"]


@SETTINGS
@given(excludes=st.lists(patterns, max_size=3), candidates=tags)
def test_exclusions_equal_go(oracle: Oracle, excludes: list[str], candidates: list[str]) -> None:
    answers = [oracle.regex(pattern, candidates) for pattern in excludes]
    if not all(answer["ok"] for answer in answers):
        with pytest.raises(InvalidPattern):
            Exclusions.compile(excludes)
        return
    exclusions = Exclusions.compile(excludes)
    go = [
        any(answer["results"][i] is not None for answer in answers) for i in range(len(candidates))
    ]
    assert [exclusions.excluded_by(tag) is not None for tag in candidates] == go


# The differences the issue listed: each was answered the Python way before.
@pytest.mark.parametrize(
    ("pattern", "tag"),
    [
        ("^[[:alpha:]]+$", "release"),  # Python: a class of ':', 'a', 'l', ... then ']'
        ("^\\d+$", "\u0661\u0662"),  # Go's \d is ASCII: Arabic-Indic digits do not match
        ("^a{,2}$", "a{,2}"),  # Go: a literal; Python: a quantifier
        ("^(?i)release-\\d$", "RELEASE-1"),  # Python refuses a flag after ^
        ("(?=v)v1", "v1"),  # lookahead: Go refuses
        ("(a)\\1", "aa"),  # backreference: Go refuses
    ],
)
def test_listed_differences_answer_as_go(oracle: Oracle, pattern: str, tag: str) -> None:
    answer = oracle.regex(pattern, [tag])
    ours = _compile(pattern)
    assert (ours is not None) == answer["ok"]
    if ours is not None:
        assert [ours.apply(tag)] == answer["results"]


@pytest.mark.timeout(10)
def test_catastrophic_backtracking_pattern_is_linear() -> None:
    tag_filter = TagFilter.compile("^v(a+)+$")
    assert tag_filter.apply("v" + "a" * 30 + "!") is None
    exclusions = Exclusions.compile(["^(a|a)*$"])
    assert exclusions.excluded_by("a" * 40 + "b") is None
