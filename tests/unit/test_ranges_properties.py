"""Properties of ranges and semver selection, checked with hypothesis.

The oracles here are independent restatements: documented expansions of ^, ~
and wildcards written as plain comparisons, set algebra for || and commas,
and a brute-force maximum for selection.
"""

from __future__ import annotations

import semver
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gitops_action.domain.errors import InvalidRange
from gitops_action.domain.policies import SemverPolicy, select_tag
from gitops_action.domain.ranges import Range, parse_range
from gitops_action.domain.versions import Version, make_version, parse_tag

SETTINGS = settings(deadline=None, max_examples=100)

small = st.integers(min_value=0, max_value=4)
identifiers = st.sampled_from(["0", "1", "2", "10", "alpha", "beta", "rc", "A", "x-y"])
prereleases = st.lists(identifiers, min_size=0, max_size=3).map(tuple)


@st.composite
def versions(draw: st.DrawFn, prerelease: bool = True) -> Version:
    pre = draw(prereleases) if prerelease else ()
    return make_version(draw(small), draw(small), draw(small), pre)


releases = versions(prerelease=False)


def render(version: Version, v_prefix: bool = False) -> str:
    return ("v" if v_prefix else "") + str(version)


@st.composite
def tags(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["version", "version", "version", "junk", "partial"]))
    if kind == "junk":
        return draw(st.sampled_from(["latest", "main", "sha-abc1234", "x.sig", "V1.0.0", "01.2.3"]))
    if kind == "partial":
        return ".".join(str(draw(small)) for _ in range(draw(st.integers(1, 2))))
    build = draw(st.sampled_from(["", "", "+b1", "+b2"]))
    return render(draw(versions()), draw(st.booleans())) + build


part = st.one_of(small.map(str), st.sampled_from(["x", "X", "*"]))


@st.composite
def version_bodies(draw: st.DrawFn) -> str:
    """A range version without its optional v: partial, wildcards, prerelease."""
    text = ".".join(draw(part) for _ in range(draw(st.integers(1, 3))))
    if draw(st.integers(0, 4)) == 0:
        text += "-" + ".".join(draw(st.lists(identifiers, min_size=1, max_size=2)))
    return text


operators = st.sampled_from(["", "=", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^"])
# A group is ("hyphen", low, high) or ("terms", [(operator, space, body)], separator).
GroupSpec = tuple[str, object, object]


@st.composite
def group_specs(draw: st.DrawFn) -> GroupSpec:
    if draw(st.integers(0, 5)) == 0:
        return ("hyphen", draw(version_bodies()), draw(version_bodies()))
    terms = [
        (draw(operators), draw(st.sampled_from(["", " "])), draw(version_bodies()))
        for _ in range(draw(st.integers(1, 3)))
    ]
    return ("terms", terms, draw(st.sampled_from([" ", ", ", ",", "  "])))


def render_group(spec: GroupSpec, v: str) -> str:
    kind, first, second = spec
    if kind == "hyphen":
        return f"{v}{first} - {v}{second}"
    terms = first
    assert isinstance(terms, list) and isinstance(second, str)
    return second.join(f"{op}{space}{v}{body}" for op, space, body in terms)


def render_range(specs: list[GroupSpec], v: str) -> str:
    return " || ".join(render_group(spec, v) for spec in specs)


range_specs = st.lists(group_specs(), min_size=1, max_size=3)
prefixes = st.sampled_from(["", "v"])
range_versions = st.builds(str.__add__, prefixes, version_bodies())
groups = st.builds(render_group, group_specs(), prefixes)
ranges = st.builds(render_range, range_specs, prefixes)


def admits(range_text: str | Range, version: Version) -> bool:
    parsed = parse_range(range_text) if isinstance(range_text, str) else range_text
    return parsed.admits(version)


# --- (1) selection --------------------------------------------------------------


@SETTINGS
@given(range_text=ranges, candidates=st.lists(tags(), max_size=25))
def test_selected_is_an_input_in_range_with_no_higher_candidate(
    range_text: str, candidates: list[str]
) -> None:
    parsed = parse_range(range_text)
    selection = select_tag(candidates, SemverPolicy(parsed), exclusions=None)
    satisfying = {}
    for tag in candidates:
        version = parse_tag(tag)
        if version is not None and not tag.endswith(".sig") and parsed.admits(version):
            satisfying[tag] = version
    if not satisfying:
        assert selection.selected is None
        return
    assert selection.selected in candidates
    chosen = satisfying[selection.selected]
    assert all(version.key <= chosen.key for version in satisfying.values())
    # the tie rule: the greatest tag among those of equal precedence
    equals = [tag for tag, version in satisfying.items() if version.key == chosen.key]
    assert selection.selected == max(equals)
    assert len(selection.decisions) == len(candidates)
    assert sum(decision.selected for decision in selection.decisions) == 1


@SETTINGS
@given(range_text=ranges, candidates=st.lists(tags(), max_size=15))
def test_selection_does_not_depend_on_input_order(range_text: str, candidates: list[str]) -> None:
    policy = SemverPolicy.from_range(range_text)
    forward = select_tag(candidates, policy).selected
    backward = select_tag(list(reversed(candidates)), policy).selected
    assert forward == backward


# --- (2) parsing never fails with anything but InvalidRange ---------------------------


def parses_or_invalid(text: str) -> None:
    try:
        parsed = parse_range(text)
    except InvalidRange as error:
        assert str(error).startswith("invalid semver range ")
        assert "\n" not in str(error).split(": ", 1)[1] or "\n" in text
        return
    assert parsed.text == text
    assert parsed.groups


@SETTINGS
@given(st.text())
def test_arbitrary_text_parses_or_raises_invalid_range(text: str) -> None:
    parses_or_invalid(text)


@SETTINGS
@given(st.text(alphabet="0123456789xX*.^~<>=!|, -vV+abrc\t\n", max_size=40))
def test_near_miss_text_parses_or_raises_invalid_range(text: str) -> None:
    parses_or_invalid(text)


@SETTINGS
@given(ranges)
def test_generated_ranges_parse(range_text: str) -> None:
    assert parse_range(range_text).text == range_text


# --- (3) algebra ------------------------------------------------------------------------


@SETTINGS
@given(versions())
def test_an_exact_bound_is_admitted_by_inclusive_operators(version: Version) -> None:
    text = render(version)
    for op in ("", "=", "^", "~", "~>", ">=", "<=", "=>", "=<"):
        assert admits(op + text, version), op + text
    for op in (">", "<", "!="):
        assert not admits(op + text, version), op + text


@SETTINGS
@given(left=ranges, right=ranges, version=versions())
def test_or_is_union(left: str, right: str, version: Version) -> None:
    assert admits(f"{left} || {right}", version) == (
        admits(left, version) or admits(right, version)
    )


@SETTINGS
@given(left=groups, right=groups, version=releases)
def test_comma_and_space_are_intersection_for_releases(
    left: str, right: str, version: Version
) -> None:
    expected = admits(left, version) and admits(right, version)
    assert admits(f"{left}, {right}", version) == expected
    if " - " not in right:  # Masterminds' hyphen rewrite eats the space before it
        assert admits(f"{left} {right}", version) == expected


@SETTINGS
@given(low=range_versions, high=range_versions, version=versions())
def test_hyphen_range_is_inclusive_pair(low: str, high: str, version: Version) -> None:
    assert admits(f"{low} - {high}", version) == admits(f">= {low}, <= {high}", version)


@SETTINGS
@given(specs=range_specs, version=versions())
def test_v_prefix_on_range_versions_changes_nothing(
    specs: list[GroupSpec], version: Version
) -> None:
    assert admits(render_range(specs, ""), version) == admits(render_range(specs, "v"), version)


@SETTINGS
@given(range_text=ranges, version=versions())
def test_prereleases_need_a_prerelease_in_the_range(range_text: str, version: Version) -> None:
    assume(version.prerelease)
    parsed = parse_range(range_text)
    if not any(
        comparator.version.prerelease for g in parsed.groups for comparator in g.comparators
    ):
        assert not parsed.admits(version)


def caret_upper(bound: Version) -> str:
    if bound.major > 0:
        return f"{bound.major + 1}.0.0"
    if bound.minor > 0:
        return f"0.{bound.minor + 1}.0"
    return f"0.0.{bound.patch + 1}"


@SETTINGS
@given(bound=releases, version=releases)
def test_caret_is_its_documented_expansion(bound: Version, version: Version) -> None:
    expansion = f">={bound}, <{caret_upper(bound)}"
    assert admits(f"^{bound}", version) == admits(expansion, version)


@SETTINGS
@given(major=small, minor=small, version=releases)
def test_partial_caret_and_tilde_expansions(major: int, minor: int, version: Version) -> None:
    next_major, next_minor = f"{major + 1}.0.0", f"{major}.{minor + 1}.0"
    caret_minor_upper = next_major if major > 0 else f"0.{minor + 1}.0"
    caret_major_upper = next_major
    cases = {
        f"^{major}.{minor}": f">={major}.{minor}.0 <{caret_minor_upper}",
        f"^{major}": f">={major}.0.0 <{caret_major_upper}",
        f"~{major}.{minor}": f">={major}.{minor}.0 <{next_minor}",
        f"~{major}": f">={major}.0.0 <{next_major}",
        f"{major}.x": f">={major}.0.0 <{next_major}",
        f"{major}.{minor}.x": f">={major}.{minor}.0 <{next_minor}",
        f">{major}": f">={next_major}",
        f">{major}.{minor}": f">={next_minor}",
        f"<={major}": f"<{next_major}",
        f"<={major}.{minor}": f"<{next_minor}",
        f"!={major}.{minor}": f"<{major}.{minor}.0 || >={next_minor}",
    }
    for shorthand, expansion in cases.items():
        assert admits(shorthand, version) == admits(expansion, version), shorthand
    # ^0.0 is special: the minor stays 0.
    assert admits("^0.0", version) == admits(">=0.0.0 <0.1.0", version)


@SETTINGS
@given(bound=releases, version=releases)
def test_tilde_is_its_documented_expansion(bound: Version, version: Version) -> None:
    if (bound.major, bound.minor, bound.patch) == (0, 0, 0):
        assert admits("~0.0.0", version)  # documented special case: everything
        return
    expansion = f">={bound}, <{bound.major}.{bound.minor + 1}.0"
    assert admits(f"~{bound}", version) == admits(expansion, version)


@SETTINGS
@given(bound=versions(), version=releases)
def test_less_and_greater_equal_split_the_releases(bound: Version, version: Version) -> None:
    assume(not bound.prerelease)
    assert admits(f"<{bound}", version) != admits(f">={bound}", version)
    assert admits(f"!={bound}", version) != admits(f"={bound}", version)


@SETTINGS
@given(version=versions())
def test_star_dash_zero_admits_everything(version: Version) -> None:
    assert admits("*-0", version)
    assert admits(">=0.0.0-0", version)
    assert admits("*", version) == (not version.prerelease)


# --- the tag reader agrees with python-semver ---------------------------------------------


@SETTINGS
@given(left=versions(), right=versions())
def test_precedence_agrees_with_python_semver(left: Version, right: Version) -> None:
    expected = semver.Version.parse(str(left)).compare(str(right))
    assert (left.key > right.key) - (left.key < right.key) == expected
