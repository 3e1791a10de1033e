"""`parse_tag` and precedence against the oracle (fluxcd/pkg/version.ParseVersion)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_action.domain.versions import compare, parse_tag
from testbed.oracle import Oracle, examples

SETTINGS = settings(deadline=None, max_examples=examples())

_NUMBERS = ["0", "1", "2", "10", "01", "007", "2025", str(2**64 - 1), str(2**64)]
_PIECES = [*_NUMBERS, ".", ".", ".", "-", "+", "v", "V", "rc", "alpha", "a-b", "x", " ", "\u0661"]


def _flux_reads(oracle: Oracle, tag: str) -> tuple[object, ...] | None:
    answer = oracle.version(tag)
    if not answer["ok"]:
        return None
    pre = answer["prerelease"]
    return (answer["major"], answer["minor"], answer["patch"], pre, answer["metadata"])


def _we_read(tag: str) -> tuple[object, ...] | None:
    version = parse_tag(tag)
    if version is None:
        return None
    pre = ".".join(version.prerelease)
    return (version.major, version.minor, version.patch, pre, version.build)


@pytest.mark.parametrize(
    "tag", ["v2025.07.03", "2024.01.15", "01.2.3", "1.2-rc.1", "v1.2.3", "1.2.3-rc.1+b"]
)
def test_current_flux_reads_these_as_versions(oracle: Oracle, tag: str) -> None:
    assert _flux_reads(oracle, tag) is not None
    assert _we_read(tag) == _flux_reads(oracle, tag)


@pytest.mark.parametrize("tag", ["1.2", "20240101", "V1.2.3", "vv1.2.3", "1.2.3-01", "1.2.3.4"])
def test_current_flux_does_not_read_these(oracle: Oracle, tag: str) -> None:
    assert _flux_reads(oracle, tag) is None
    assert _we_read(tag) is None


tags = st.lists(st.sampled_from(_PIECES), max_size=9).map("".join)


@SETTINGS
@given(tag=tags)
def test_tag_parsing_equals_flux(oracle: Oracle, tag: str) -> None:
    assert _we_read(tag) == _flux_reads(oracle, tag)


_VERSIONS = st.builds(
    "{}.{}.{}{}".format,
    st.sampled_from(["0", "1", "01"]),
    st.sampled_from(["0", "2"]),
    st.sampled_from(["0", "3"]),
    st.sampled_from(["", "-rc.1", "-rc.10", "-rc.9", "-alpha", "-1", "-" + "9" * 20, "+b"]),
)


@SETTINGS
@given(pair=st.lists(_VERSIONS, min_size=2, max_size=2, unique=True))
def test_precedence_equals_flux(oracle: Oracle, pair: list[str]) -> None:
    first, second = pair
    ours = parse_tag(first), parse_tag(second)
    assert ours[0] is not None and ours[1] is not None
    # Masterminds' Check with "=" tells equality; the selection tells which is greater.
    picked = oracle.latest(">=0.0.0-0", [first, second])["selected"]
    order = compare(ours[0], ours[1])
    if order == 0:
        assert picked == first  # Flux keeps the first of equals
    else:
        assert picked == (first if order > 0 else second)
