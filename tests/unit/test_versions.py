"""Tags read as Flux reads them, and SemVer precedence."""

from __future__ import annotations

import pytest

from gitops_action.domain.versions import compare, is_uint64, make_version, parse_tag


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("1.2.3", (1, 2, 3, (), "")),
        ("v1.2.3", (1, 2, 3, (), "")),
        ("v0.0.0", (0, 0, 0, (), "")),
        ("1.2.3-rc.1", (1, 2, 3, ("rc", "1"), "")),
        ("v2.0.0-rc.1+build.7", (2, 0, 0, ("rc", "1"), "build.7")),
        ("1.0.0+20240101", (1, 0, 0, (), "20240101")),
        ("1.0.0-0.3.7", (1, 0, 0, ("0", "3", "7"), "")),
        ("1.0.0-x-y-z.--", (1, 0, 0, ("x-y-z", "--"), "")),
        ("18446744073709551615.0.0", (2**64 - 1, 0, 0, (), "")),
        # Current Flux (fluxcd/pkg/version v0.10.0+): leading zeros and CalVer.
        ("01.2.3", (1, 2, 3, (), "")),
        ("1.02.3", (1, 2, 3, (), "")),
        ("1.2.03", (1, 2, 3, (), "")),
        ("v2025.07.03", (2025, 7, 3, (), "")),
        ("2024.01.15", (2024, 1, 15, (), "")),
        ("1.2-rc.1", (1, 2, 0, ("rc", "1"), "")),  # three dot-separated parts
    ],
)
def test_versions_flux_reads(tag: str, expected: tuple[object, ...]) -> None:
    version = parse_tag(tag)
    assert version is not None
    assert (version.major, version.minor, version.patch, version.prerelease, version.build) == (
        expected
    )


@pytest.mark.parametrize(
    "tag",
    [
        "1.2",  # partial versions are for ranges only
        "1",
        "1.2-rc",  # two dot-separated parts
        "20240101",
        "V1.2.3",  # only a lowercase v is dropped
        "vv1.2.3",  # and only one
        "v",
        "",
        "latest",
        "1.2.3.4",
        "1.2.3-",
        "1.2.3+",
        "1.2.3-01",  # numeric prerelease identifier with a leading zero
        "1.2.3-rc..1",
        " 1.2.3",
        "1.2.3 ",
        "1.2.3\n",
        "1.2.3-rc.1_2",
        "\uff11.2.3",  # a non-ASCII digit
        "18446744073709551616.0.0",  # does not fit Go's uint64
        "1." + "9" * 5000 + ".0",  # beyond int()'s digit limit: still just "not a version"
        "sha256-abcdef.sig",
    ],
)
def test_not_versions(tag: str) -> None:
    assert parse_tag(tag) is None


def test_v_prefix_does_not_change_the_version() -> None:
    plain, prefixed = parse_tag("1.2.3-rc.1"), parse_tag("v1.2.3-rc.1")
    assert plain is not None and prefixed is not None
    assert plain.key == prefixed.key
    assert str(prefixed) == "1.2.3-rc.1"


# Each list is in strictly increasing precedence (SemVer §11 and its example).
ASCENDING = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0-rc.9",
    "1.0.0-rc.10",
    "1.0.0",
    "1.0.1",
    "1.9.0",
    "1.10.0",
    "2.0.0-0",
    "2.0.0-1",
    "2.0.0-A",  # ASCII: uppercase before lowercase
    "2.0.0-a",
    "2.0.0",
    "10.0.0",
]


@pytest.mark.parametrize("index", range(len(ASCENDING) - 1))
def test_precedence_order(index: int) -> None:
    lower, higher = parse_tag(ASCENDING[index]), parse_tag(ASCENDING[index + 1])
    assert lower is not None and higher is not None
    assert compare(lower, higher) == -1
    assert compare(higher, lower) == 1
    assert lower.key < higher.key


def test_build_metadata_is_ignored_for_precedence() -> None:
    left, right = parse_tag("1.0.0+a"), parse_tag("v1.0.0+b.2")
    assert left is not None and right is not None
    assert compare(left, right) == 0
    assert left.build != right.build


def test_prerelease_numbers_beyond_uint64_compare_as_text_as_masterminds() -> None:
    text_nines = parse_tag("1.0.0-rc." + "9" * 30)
    text_ten = parse_tag("1.0.0-rc.1" + "0" * 30)
    number = parse_tag("1.0.0-rc.99")
    assert text_nines is not None and text_ten is not None and number is not None
    assert compare(text_nines, text_ten) == 1  # "9..." > "1..." in ASCII
    assert compare(number, text_ten) == -1  # numbers sort below text


def test_make_version_matches_parse() -> None:
    parsed = parse_tag("3.4.5-beta.2+meta")
    assert parsed is not None
    assert make_version(3, 4, 5, ("beta", "2"), "meta") == parsed
    assert parsed.is_prerelease
    assert not make_version(3, 4, 5).is_prerelease


@pytest.mark.parametrize(
    ("digits", "fits"),
    [
        ("0", True),
        ("18446744073709551615", True),
        ("18446744073709551616", False),
        ("99999999999999999999", False),
        ("000000000000000000000000001", True),
        ("1" * 25, False),
    ],
)
def test_uint64_limit(digits: str, fits: bool) -> None:
    assert is_uint64(digits) is fits
