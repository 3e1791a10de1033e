"""Flux ImagePolicy selection: policies, filterTags, exclusionList, decisions."""

from __future__ import annotations

import json

import pytest

from gitops_action.domain.errors import ConfigError, InvalidPattern, InvalidPolicy, InvalidRange
from gitops_action.domain.policies import (
    DEFAULT_EXCLUSIONS,
    AlphabeticalPolicy,
    Decision,
    Exclusions,
    NumericalPolicy,
    SemverPolicy,
    TagFilter,
    compile_regex,
    parse_order,
    select_tag,
)

ACCEPTANCE_TAGS = ["v1.9.0", "v1.10.0", "latest", "v2.0.0-rc.1"]


def by_tag(decisions: tuple[Decision, ...]) -> dict[str, Decision]:
    return {decision.tag: decision for decision in decisions}


# --- semver -----------------------------------------------------------------


def test_semver_picks_highest_in_range_and_explains_every_tag() -> None:
    selection = select_tag(ACCEPTANCE_TAGS, SemverPolicy.from_range("^v1.0.0"))
    assert selection.selected == "v1.10.0"
    decisions = by_tag(selection.decisions)
    assert [d.tag for d in selection.decisions] == ACCEPTANCE_TAGS  # input order kept
    assert decisions["v1.10.0"] == Decision("v1.10.0", "v1.10.0", True, True, "selected")
    assert decisions["v1.9.0"].kept and not decisions["v1.9.0"].selected
    assert decisions["v1.9.0"].reason == "lower than v1.10.0"
    assert decisions["latest"] == Decision("latest", "latest", False, False, "not semver")
    assert decisions["v2.0.0-rc.1"].reason == "prerelease not allowed by range"


def test_semver_prerelease_range_admits_prereleases() -> None:
    selection = select_tag(ACCEPTANCE_TAGS, SemverPolicy.from_range(">=2.0.0-0"))
    assert selection.selected == "v2.0.0-rc.1"
    assert by_tag(selection.decisions)["v1.10.0"].reason == "outside range >=2.0.0-0"


def test_semver_numeric_prerelease_identifiers() -> None:
    tags = ["1.0.0-rc.9", "1.0.0-rc.10", "1.0.0-rc.2"]
    assert select_tag(tags, SemverPolicy.from_range(">=1.0.0-0")).selected == "1.0.0-rc.10"


def test_semver_release_beats_its_prereleases() -> None:
    tags = ["2.0.0-rc.1", "2.0.0", "2.0.0-rc.2"]
    assert select_tag(tags, SemverPolicy.from_range(">=1.0.0-0")).selected == "2.0.0"


@pytest.mark.parametrize(
    "tags",
    [["1.0.0", "v1.0.0"], ["v1.0.0", "1.0.0"]],
)
def test_semver_tie_goes_to_greatest_tag_whatever_the_order(tags: list[str]) -> None:
    selection = select_tag(tags, SemverPolicy.from_range("^1"))
    assert selection.selected == "v1.0.0"
    assert by_tag(selection.decisions)["1.0.0"].reason == (
        "same precedence as v1.0.0; ties go to the greatest tag"
    )


def test_semver_tie_on_build_metadata() -> None:
    tags = ["1.0.0+b", "1.0.0+a", "0.9.0"]
    assert select_tag(tags, SemverPolicy.from_range("*")).selected == "1.0.0+b"


def test_semver_not_versions_are_dropped() -> None:
    tags = ["1.2", "1.2.3.4", "20240101", "V1.2.3", "1.2.3"]
    selection = select_tag(tags, SemverPolicy.from_range(">=0.0.0"))
    assert selection.selected == "1.2.3"
    reasons = {d.tag: d.reason for d in selection.decisions}
    assert {reasons[t] for t in tags[:4]} == {"not semver"}


def test_invalid_range_is_a_config_error() -> None:
    with pytest.raises(InvalidRange, match="banana"):
        SemverPolicy.from_range("banana")


# --- alphabetical and numerical ---------------------------------------------


def test_alphabetical_asc_selects_the_last_as_flux() -> None:
    tags = ["RELEASE.2023-01-31", "RELEASE.2024-03-01", "RELEASE.2023-12-24"]
    selection = select_tag(tags, AlphabeticalPolicy("asc"))
    assert selection.selected == "RELEASE.2024-03-01"
    assert by_tag(selection.decisions)["RELEASE.2023-01-31"].reason == (
        "sorts before RELEASE.2024-03-01"
    )


def test_alphabetical_desc_selects_the_first() -> None:
    tags = ["b", "a", "c"]
    selection = select_tag(tags, AlphabeticalPolicy("desc"))
    assert selection.selected == "a"
    assert by_tag(selection.decisions)["c"].reason == "sorts after a"


def test_alphabetical_is_code_point_order_not_natural_order() -> None:
    # "Z" < "a" and "10" < "9" in code-point order, as Go's string comparison.
    assert select_tag(["a", "Z"], AlphabeticalPolicy("asc")).selected == "a"
    assert select_tag(["10", "9"], AlphabeticalPolicy("asc")).selected == "9"


def test_numerical_asc_selects_the_highest() -> None:
    tags = ["9", "10", "2.5", "-3"]
    selection = select_tag(tags, NumericalPolicy("asc"))
    assert selection.selected == "10"
    assert by_tag(selection.decisions)["9"].reason == "lower than 10"


def test_numerical_desc_selects_the_lowest() -> None:
    selection = select_tag(["9", "10", "-3", "1e-2"], NumericalPolicy("desc"))
    assert selection.selected == "-3"
    assert by_tag(selection.decisions)["10"].reason == "higher than -3"


def test_numerical_drops_non_numbers_instead_of_failing() -> None:
    tags = ["latest", "1700000000", "inf", "nan", "0x10", "1_000", "", "12a", "1699999999"]
    selection = select_tag([t for t in tags if t], NumericalPolicy("asc"))
    assert selection.selected == "1700000000"
    reasons = by_tag(selection.decisions)
    for tag in ("latest", "inf", "nan", "0x10", "1_000", "12a"):
        assert reasons[tag].reason == "not a number"
        assert not reasons[tag].kept


def test_numerical_is_exact_beyond_float_precision() -> None:
    # As float64 these two are equal; Flux would keep whichever came last.
    tags = ["12345678901234567891", "12345678901234567890"]
    assert select_tag(tags, NumericalPolicy("asc")).selected == "12345678901234567891"
    assert select_tag(tags, NumericalPolicy("desc")).selected == "12345678901234567890"


def test_numerical_equal_values_tie_to_greatest_tag() -> None:
    selection = select_tag(["1.0", "1", "01"], NumericalPolicy("asc"))
    assert selection.selected == "1.0"
    assert by_tag(selection.decisions)["1"].reason.startswith("same number as 1.0")


@pytest.mark.parametrize(("given", "order"), [("asc", "asc"), ("DESC", "desc"), ("Asc", "asc")])
def test_parse_order(given: str, order: str) -> None:
    assert parse_order(given) == order


def test_bad_order_is_a_config_error() -> None:
    with pytest.raises(InvalidPolicy, match="sideways") as raised:
        parse_order("sideways")
    assert isinstance(raised.value, ConfigError)


# --- filterTags ---------------------------------------------------------------

TIMESTAMPED = ["main-abc1234-1700000100", "main-def5678-1700000200", "feature-x-1800000000", "v1"]


def test_pattern_and_extract_select_on_the_value_but_return_the_tag() -> None:
    tag_filter = TagFilter.compile(r"^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "$ts")
    selection = select_tag(TIMESTAMPED, NumericalPolicy("asc"), tag_filter=tag_filter)
    assert selection.selected == "main-def5678-1700000200"
    decisions = by_tag(selection.decisions)
    assert decisions["main-def5678-1700000200"].value == "1700000200"
    assert decisions["feature-x-1800000000"].reason == (
        r"does not match pattern ^main-[a-f0-9]+-(?P<ts>[0-9]+)$"
    )
    assert not decisions["v1"].kept


def test_go_named_group_spelling_is_accepted() -> None:
    tag_filter = TagFilter.compile(r"^main-[a-f0-9]+-(?<ts>[0-9]+)$", "${ts}")
    selection = select_tag(TIMESTAMPED, NumericalPolicy("asc"), tag_filter=tag_filter)
    assert selection.selected == "main-def5678-1700000200"


@pytest.mark.parametrize(
    ("pattern", "template", "tag", "value"),
    [
        (r"^v(\d+)\.(\d+)$", "$1.$2.0", "v3.4", "3.4.0"),
        (r"^(?P<major>\d+)-(?P<minor>\d+)$", "${major}.${minor}.0", "3-4", "3.4.0"),
        (r"^(?P<a>x)(?P<a_b>y)$", "$a_b/${a}_b", "xy", "y/x_b"),  # longest name wins
        (r"^(\d+)$", "$$$1", "42", "$42"),
        (r"^(\d+)?x$", "[$1]", "x", "[]"),  # an unmatched group expands to nothing
        (r"^rel-(.*)$", "$0", "rel-1", "rel-1"),
        (r"(\d+\.\d+\.\d+)", "$1", "app-1.2.3-linux", "1.2.3"),  # search, not anchored
    ],
)
def test_extract_follows_go_expand(pattern: str, template: str, tag: str, value: str) -> None:
    assert TagFilter.compile(pattern, template).apply(tag) == value


def test_pattern_without_extract_keeps_the_tag_as_value() -> None:
    tag_filter = TagFilter.compile(r"^v1\.")
    assert tag_filter.apply("v1.2.3") == "v1.2.3"
    assert tag_filter.apply("v2.0.0") is None


def test_semver_on_extracted_values() -> None:
    tags = ["app-1.2.3-linux", "app-1.10.0-linux", "app-2.0.0-rc.1-linux", "other-9.9.9"]
    tag_filter = TagFilter.compile(r"^app-(?P<v>\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+?)?)-linux$", "$v")
    selection = select_tag(tags, SemverPolicy.from_range("^1"), tag_filter=tag_filter)
    assert selection.selected == "app-1.10.0-linux"


def test_extracted_values_that_collide_tie_to_the_greatest_original() -> None:
    tags = ["b-7", "a-7", "c-3"]
    tag_filter = TagFilter.compile(r"-(\d+)$", "$1")
    assert select_tag(tags, NumericalPolicy("asc"), tag_filter=tag_filter).selected == "b-7"


@pytest.mark.parametrize(
    ("pattern", "template", "problem"),
    [
        (r"^(?P<ts>\d+)$", "$tss", "'tss', which the pattern does not define"),
        (r"^(\d+)$", "$2", "group 2, but the pattern has 1 group(s)"),
        (r"^(\d+)$", "${1", "unclosed or empty"),
        (r"^(\d+)$", "${}", "unclosed or empty"),
        (r"^(\d+)$", "v$", "must start $name"),
        (r"^(\d+)$", "$-1", "must start $name"),
        (r"^(\d+)$", "$01", "'01', which the pattern does not define"),
    ],
)
def test_invalid_templates(pattern: str, template: str, problem: str) -> None:
    with pytest.raises(InvalidPattern) as raised:
        TagFilter.compile(pattern, template)
    assert template in str(raised.value)
    assert problem in str(raised.value)


@pytest.mark.parametrize(
    "pattern",
    # Go refuses lookarounds, backreferences and \C; Python's re accepted the first three.
    ["(", "[a-", "a{2,1}", "*x", "(?<=a", "(?=a)", "(?<!v)1", r"(a)\1", r"\C"],
)
def test_invalid_regexes(pattern: str) -> None:
    with pytest.raises(InvalidPattern) as raised:
        TagFilter.compile(pattern)
    assert isinstance(raised.value, ConfigError)
    assert f"invalid pattern regex {pattern!r}" in str(raised.value)


@pytest.mark.parametrize(
    ("pattern", "tag", "matches"),
    [
        (r"(?P<1>x)", "x", True),  # Go allows a digit group name
        (r"\(?<x>", "<x>", True),  # escaped paren: not a group
        (r"[(?<x>]+", "<x>", True),  # inside a class: not a group
        (r"[]](?<n>a)", "]a", True),  # ']' first in a class is literal
        (r"[^]](?<n>a)", "xa", True),
    ],
)
def test_go_group_translation_leaves_other_syntax_alone(
    pattern: str, tag: str, matches: bool
) -> None:
    assert (compile_regex(pattern, "pattern").search(tag) is not None) is matches


# --- exclusionList --------------------------------------------------------------

SIGNED = ["v1.0.0", "sha256-0a1b2c.sig", "v1.1.0", "v1.1.0.sig"]


def test_default_exclusion_drops_signature_tags() -> None:
    selection = select_tag(SIGNED, AlphabeticalPolicy("asc"))
    assert selection.selected == "v1.1.0"  # "v1.1.0.sig" would sort last
    assert by_tag(selection.decisions)["v1.1.0.sig"].reason == r"excluded by ^.*\.sig$"
    assert DEFAULT_EXCLUSIONS == (r"^.*\.sig$",)


def test_any_exclusion_replaces_the_default() -> None:
    exclusions = Exclusions.compile([r"^v1\.0"])
    selection = select_tag(SIGNED, AlphabeticalPolicy("asc"), exclusions=exclusions)
    assert selection.selected == "v1.1.0.sig"
    assert by_tag(selection.decisions)["v1.0.0"].reason == r"excluded by ^v1\.0"


def test_empty_exclusion_list_excludes_nothing() -> None:
    selection = select_tag(SIGNED, AlphabeticalPolicy("asc"), exclusions=Exclusions.compile([]))
    assert selection.selected == "v1.1.0.sig"


def test_exclusions_match_anywhere_and_run_before_the_pattern() -> None:
    exclusions = Exclusions.compile(["rc", "^latest$"])
    tag_filter = TagFilter.compile(r"^v")
    tags = ["v1.0.0-rc.1", "latest", "v0.9.0", "x"]
    selection = select_tag(
        tags, AlphabeticalPolicy("asc"), tag_filter=tag_filter, exclusions=exclusions
    )
    reasons = {d.tag: d.reason for d in selection.decisions}
    assert reasons["v1.0.0-rc.1"] == "excluded by rc"
    assert reasons["latest"] == "excluded by ^latest$"
    assert reasons["x"] == "does not match pattern ^v"
    assert selection.selected == "v0.9.0"


def test_invalid_exclusion_is_named() -> None:
    with pytest.raises(InvalidPattern, match=r"invalid exclude regex '\['"):
        Exclusions.compile(["["])


# --- the selection as data ----------------------------------------------------------


def test_duplicates_are_kept_once() -> None:
    selection = select_tag(["v1.0.0", "v1.0.0"], SemverPolicy.from_range("*"))
    assert [(d.selected, d.reason) for d in selection.decisions] == [
        (True, "selected"),
        (False, "duplicate"),
    ]


def test_no_match_reason_counts_why() -> None:
    selection = select_tag([*ACCEPTANCE_TAGS, "x.sig"], SemverPolicy.from_range("^3"))
    assert selection.selected is None
    assert all(not d.kept for d in selection.decisions)
    assert selection.no_match_reason() == (
        "no tag satisfies semver range '^3' (5 tags: 2 outside the range, 1 not semver, "
        "1 prerelease not allowed by range, 1 excluded)"
    )


def test_no_tags_at_all() -> None:
    selection = select_tag([], NumericalPolicy("asc"))
    assert selection.selected is None
    assert selection.decisions == ()
    assert "no tags" in selection.no_match_reason()


def test_as_dict_is_json_ready() -> None:
    tag_filter = TagFilter.compile(r"^v(?P<v>.*)$", "$v")
    selection = select_tag(
        ["v1.0.0", "v1.1.0"], SemverPolicy.from_range("~1"), tag_filter=tag_filter
    )
    data = json.loads(json.dumps(selection.as_dict()))
    assert data["selected"] == "v1.1.0"
    assert data["policy"] == {
        "kind": "semver",
        "range": "~1",
        "pattern": "^v(?P<v>.*)$",
        "extract": "$v",
        "exclude": [r"^.*\.sig$"],
    }
    assert data["decisions"][0] == {
        "tag": "v1.0.0",
        "value": "1.0.0",
        "kept": True,
        "selected": False,
        "reason": "lower than v1.1.0",
    }
    assert selection.no_match_reason() == ""
