"""Tags from a registry are OCI tags or dropped, and shown only escaped."""

from __future__ import annotations

import pytest

from gitops_action.domain.policies import AlphabeticalPolicy, select_tag
from gitops_action.domain.untrusted import INVALID_TAG, is_oci_tag, shown


@pytest.mark.parametrize(
    "tag", ["v1\nx", "$(id)", "a`b`", "a\u202eb", "x" * 129, "", ".hidden", "-x", "a b", "a+b"]
)
def test_what_is_not_an_oci_tag(tag: str) -> None:
    assert not is_oci_tag(tag)


@pytest.mark.parametrize("tag", ["v1.2.3", "_x", "a" * 128, "1.0-rc.1", "sha-abc1234"])
def test_what_is_an_oci_tag(tag: str) -> None:
    assert is_oci_tag(tag)


def test_shown_is_one_printable_line_cut_to_length() -> None:
    assert shown("v1\nforged") == "v1\\x0aforged"
    assert shown("a\u202eb") == "a\\u202eb"
    long = shown("9" * 5000)
    assert long.endswith("...(5000 chars)") and len(long) < 100
    assert all(32 <= ord(char) < 127 for char in shown("\x1b[31m\u200f\t"))


def test_invalid_tags_are_dropped_counted_and_never_kept_raw() -> None:
    tags = ["b\nforged", "zz$(id)", "a1", "z\u202e"]
    selection = select_tag(tags, AlphabeticalPolicy("asc"), oci_only=True)
    assert selection.selected == "a1"
    dropped = [d for d in selection.decisions if d.reason == INVALID_TAG]
    assert len(dropped) == 3
    assert all("\n" not in d.tag and "\u202e" not in d.tag for d in dropped)
    nothing = select_tag(tags[:2], AlphabeticalPolicy("asc"), oci_only=True)
    assert nothing.selected is None
    assert f"2 {INVALID_TAG}" in nothing.no_match_reason()
    assert select_tag(["1.0.0+b"], AlphabeticalPolicy("asc")).selected == "1.0.0+b"
