"""Ranges (parse, check) and semver selection against the oracle (Masterminds v3.4.0)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_action.domain.errors import InvalidRange
from gitops_action.domain.policies import Exclusions, SemverPolicy, select_tag
from gitops_action.domain.ranges import Range, parse_range
from gitops_action.domain.versions import parse_tag
from testbed.oracle import Oracle, examples

SETTINGS = settings(deadline=None, max_examples=examples())

_OPS = ["", "=", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^"]
_PARTS = ["0", "1", "2", "01", "x", "X", "*"]
_PRE = ["", "", "", "-0", "-rc.1", "-alpha", "-01"]


@st.composite
def range_versions(draw: st.DrawFn) -> str:
    parts = [draw(st.sampled_from(_PARTS)) for _ in range(draw(st.integers(1, 3)))]
    v = draw(st.sampled_from(["", "", "v"]))
    return v + ".".join(parts) + draw(st.sampled_from(_PRE))


@st.composite
def ranges(draw: st.DrawFn) -> str:
    groups = []
    for _ in range(draw(st.integers(1, 2))):
        if draw(st.integers(0, 5)) == 0:
            groups.append(f"{draw(range_versions())} - {draw(range_versions())}")
            continue
        terms = [
            draw(st.sampled_from(_OPS)) + draw(st.sampled_from(["", " "])) + draw(range_versions())
            for _ in range(draw(st.integers(1, 3)))
        ]
        groups.append(draw(st.sampled_from([" ", ", ", ","])).join(terms))
    return draw(st.sampled_from([" || ", "||"])).join(groups)


# Text that is not quite a range: the parser must refuse exactly what Masterminds refuses.
_NOISE = st.lists(
    st.sampled_from([*_OPS, *_PARTS, ".", " ", ",", "||", "-", "+b", "v", "a", "  "]), max_size=8
).map("".join)

_TAGS = st.lists(
    st.builds(
        "{}{}.{}.{}{}".format,
        st.sampled_from(["", "v"]),
        st.sampled_from(["0", "1", "2", "3"]),
        st.sampled_from(["0", "1", "2"]),
        st.sampled_from(["0", "1", "2"]),
        st.sampled_from(["", "", "-rc.1", "-0", "-alpha", "+b"]),
    ),
    min_size=1,
    max_size=12,
)


def _ours(text: str) -> Range | None:
    try:
        return parse_range(text)
    except InvalidRange:
        return None


@SETTINGS
@given(text=st.one_of(ranges(), _NOISE))
def test_range_parsing_equals_masterminds(oracle: Oracle, text: str) -> None:
    assert (_ours(text) is not None) == oracle.constraint_ok(text), text


@SETTINGS
@given(text=ranges(), tags=_TAGS)
def test_range_check_equals_masterminds(oracle: Oracle, text: str, tags: list[str]) -> None:
    parsed = _ours(text)
    answer = oracle.check(text, tags)
    if parsed is None or not answer["ok"]:
        assert parsed is None and not answer["ok"]
        return
    ours = []
    for tag in tags:
        version = parse_tag(tag)
        ours.append(None if version is None else parsed.admits(version))
    assert ours == answer["results"], text


@SETTINGS
@given(text=ranges(), tags=_TAGS)
def test_selection_equals_the_semver_policy(oracle: Oracle, text: str, tags: list[str]) -> None:
    parsed = _ours(text)
    if parsed is None:
        return
    ours = select_tag(tags, SemverPolicy(parsed), exclusions=Exclusions.compile([])).selected
    flux = oracle.latest(text, tags)["selected"]
    if flux is None or ours is None:
        assert ours == flux
        return
    # Documented divergence: among equal versions (v1.0.0, 1.0.0, 1.0.0+b) we pick the
    # greatest tag, Flux the first one it saw; the version is the same.
    ours_version, flux_version = parse_tag(ours), parse_tag(flux)
    assert ours_version is not None and flux_version is not None
    assert ours_version.key == flux_version.key


@pytest.mark.parametrize(
    ("text", "tag"),
    [(">=2025.1.1", "v2025.07.03"), ("^1.2.0-0", "1.2-rc.1"), ("~1", "01.2.3")],
)
def test_current_flux_tags_are_selected(oracle: Oracle, text: str, tag: str) -> None:
    assert oracle.latest(text, [tag])["selected"] == tag
    assert select_tag([tag], SemverPolicy.from_range(text)).selected == tag
