"""Holds: the hold regex, revert detection by policy order, and exclusionList text edits."""

from __future__ import annotations

import re

import pytest
import yaml

from gitops_action.adapters.yaml_exclusions import find_site
from gitops_action.domain.errors import HoldFailed
from gitops_action.domain.holds import (
    COMMENT_PREFIX,
    Revert,
    add_hold,
    find_lowered,
    held_tag,
    hold_pattern,
    is_below,
    manual_comment,
    remove_hold,
)
from gitops_action.domain.policies import AlphabeticalPolicy, SemverPolicy, TagFilter

SEMVER = SemverPolicy.from_range(">=1.0.0")


@pytest.mark.parametrize(
    ("tag", "pattern"),
    [("v1.1.0", r"^v1\.1\.0$"), ("1.2.3-rc.1", r"^1\.2\.3-rc\.1$"), ("main_2024", "^main_2024$")],
)
def test_hold_pattern_matches_exactly_that_tag_and_reads_back(tag: str, pattern: str) -> None:
    assert hold_pattern(tag) == pattern
    assert held_tag(pattern) == tag
    compiled = re.compile(pattern)
    assert compiled.search(tag)
    assert not compiled.search(tag + "1") and not compiled.search("x" + tag)
    if "." in tag:
        assert not compiled.search(tag.replace(".", "x"))


def test_only_hold_shaped_regexes_read_as_holds() -> None:
    assert held_tag(r"^.*\.sig$") is None
    assert held_tag("^v1.1.0$") is None  # unescaped dots: not one of ours
    with pytest.raises(HoldFailed):
        hold_pattern("bad tag")


def test_find_lowered_uses_the_policy_order() -> None:
    assert find_lowered(["v1.1.0"], ["v1.0.0"], SEMVER, None) == ("v1.1.0", "v1.0.0")
    assert find_lowered(["v1.1.0"], ["v1.1.0"], SEMVER, None) is None
    assert find_lowered(["v1.0.0"], ["v1.1.0"], SEMVER, None) is None  # raised: not a revert
    # Semver, not text order: 1.10.0 > 1.9.0.
    assert find_lowered(["1.10.0"], ["1.9.0"], SEMVER, None) == ("1.10.0", "1.9.0")
    assert find_lowered(["1.9.0"], ["1.10.0"], SEMVER, None) is None
    # Several markers: the best before, the lowest after.
    assert find_lowered(["1.1.0", "1.2.0"], ["1.2.0", "1.0.0"], SEMVER, None) == ("1.2.0", "1.0.0")
    # A value the policy cannot compare is not a lowering.
    assert find_lowered(["1.1.0"], ["latest"], SEMVER, None) is None
    assert find_lowered([], ["1.0.0"], SEMVER, None) is None


def test_find_lowered_with_filter_extract_and_alphabetical() -> None:
    stamp = TagFilter.compile(r"^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "$ts")
    newer, older = "main-abc123-1700000200", "main-def456-1700000100"
    assert find_lowered([newer], [older], AlphabeticalPolicy("asc"), stamp) == (newer, older)
    assert find_lowered([older], [newer], AlphabeticalPolicy("asc"), stamp) is None
    assert is_below(older, newer, AlphabeticalPolicy("asc"), stamp)
    assert not is_below(newer, older, AlphabeticalPolicy("asc"), stamp)


def test_comments_are_one_line_and_say_who_and_when() -> None:
    revert = Revert(
        "flux-system:app", "v1.1.0", "v1.0.0", "a" * 40, "Jane\nDoe <j@x>", "2024-05-01"
    )
    assert revert.comment() == (
        f"{COMMENT_PREFIX} v1.1.0 reverted to v1.0.0 by Jane Doe <j@x> in aaaaaaa on 2024-05-01"
    )
    assert manual_comment("v2", "ops", "2024-05-01", "bad\nbuild") == (
        f"{COMMENT_PREFIX} v2 held by ops on 2024-05-01: bad build"
    )


HEAD = (
    "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata:\n  name: app\n"
)

SHAPES = {
    "absent": HEAD + "spec:\n  image: ghcr.io/o/app # the image\n  interval: 1m\n",
    "block": HEAD + "spec:\n  image: x/app\n  exclusionList:\n    - '^.*\\.sig$'   # sigs\n"
    "    - ^nightly-.*\n  interval: 1m\n",
    "compact block": HEAD + "spec:\n  exclusionList:\n  - ^a$\n  image: x/app\n",
    "flow": HEAD
    + "spec:\n  image: x/app\n  exclusionList: [\"^a$\", '^b$']  # note\n  interval: 1m\n",
    "empty flow": HEAD + "spec:\n  image: x/app\n  exclusionList: []\n",
    "null": HEAD + "spec:\n  image: x/app\n  exclusionList:\n  interval: 1m\n",
    "crlf": (HEAD + "spec:\n  image: x/app\n  interval: 1m\n").replace("\n", "\r\n"),
    "second document": "---\n# first\napiVersion: v1\nkind: ConfigMap\n---\n"
    + HEAD
    + "spec:\n  image: x/app\n  interval: 1m\n...\n",
}
EXPECTED = {
    "absent": [r"^.*\.sig$", r"^v1\.1\.0$"],
    "block": [r"^.*\.sig$", "^nightly-.*", r"^v1\.1\.0$"],
    "compact block": ["^a$", r"^v1\.1\.0$"],
    "flow": ["^a$", "^b$", r"^v1\.1\.0$"],
    "empty flow": [r"^.*\.sig$", r"^v1\.1\.0$"],
    "null": [r"^.*\.sig$", r"^v1\.1\.0$"],
    "crlf": [r"^.*\.sig$", r"^v1\.1\.0$"],
    "second document": [r"^.*\.sig$", r"^v1\.1\.0$"],
}


def _spec(text: str, document: int) -> dict[str, object]:
    return list(yaml.safe_load_all(text))[document - 1]["spec"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_add_then_remove_a_hold_in_every_list_shape(shape: str) -> None:
    text = SHAPES[shape]
    document = 2 if shape == "second document" else 1
    site = find_site("f.yaml", text, document, "f.yaml: document 1")
    held = add_hold(site, "v1.1.0", manual_comment("v1.1.0", "me", "2024-01-01"))

    spec = _spec(held, document)
    assert spec["exclusionList"] == EXPECTED[shape]
    assert spec["image"] in ("x/app", "ghcr.io/o/app")
    assert f"{COMMENT_PREFIX} v1.1.0 held by me on 2024-01-01" in held
    if shape in ("absent", "block", "compact block", "crlf", "second document"):
        # Lines are only inserted: every original line is still there, in order.
        assert _is_subsequence(text.splitlines(), held.splitlines())
    if shape == "crlf":
        assert "\n" not in held.replace("\r\n", "")
    again = find_site("f.yaml", held, document, "x")
    assert add_hold(again, "v1.1.0", "# ignored") == held  # already there: unchanged

    released = remove_hold(again, "v1.1.0")
    assert COMMENT_PREFIX not in released
    assert _spec(released, document)["exclusionList"] == [
        item for item in EXPECTED[shape] if item != r"^v1\.1\.0$"
    ]
    assert remove_hold(find_site("f.yaml", released, document, "x"), "v1.1.0") == released
    if shape in ("block", "compact block"):
        assert released == text  # a hold added to an existing block list goes away cleanly


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    iterator = iter(big)
    return all(any(line == candidate for candidate in iterator) for line in small)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("spec: {image: x/app}\n", "flow style"),
        ("spec:\n  image: x/app\n  exclusionList: nope\n", "not a list"),
        ("spec:\n  image: x/app\n  exclusionList:\n    - {a: 1}\n", "other than strings"),
        ("spec:\n  interval: 1m\n", "spec.image is missing"),
    ],
)
def test_shapes_that_cannot_be_edited_are_named(spec: str, message: str) -> None:
    with pytest.raises(HoldFailed, match=message):
        site = find_site("f.yaml", HEAD + spec, 1, "f.yaml: document 1")
        add_hold(site, "v1", "# c")
