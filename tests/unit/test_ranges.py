"""Masterminds/semver v3 ranges: table tests.

Most rows restate the cases of Masterminds' own constraint tests (with the
loose versions they feed NewVersion written out in full, since a tag must be
strict), plus the documented expansions of ^ and ~ and the prerelease rule.
"""

from __future__ import annotations

import pytest

from gitops_action.domain.errors import ConfigError, InvalidRange
from gitops_action.domain.ranges import parse_range
from gitops_action.domain.versions import parse_tag


def admits(range_text: str, tag: str) -> bool:
    version = parse_tag(tag)
    assert version is not None, f"test bug: {tag!r} is not a version"
    return parse_range(range_text).admits(version)


def table(rows: str) -> list[tuple[str, str, bool]]:
    """Rows of `range | version | yes/no`, so the tables read like the docs."""
    out = []
    for line in rows.strip().splitlines():
        range_text, tag, verdict = (cell.strip() for cell in line.rsplit("|", 2))
        out.append((range_text, tag, {"yes": True, "no": False}[verdict]))
    return out


EQUALITY_AND_COMPARISON = table("""
=2.0.0 | 1.2.3 | no
=2.0.0 | 2.0.0 | yes
=2.0 | 1.2.3 | no
=2.0 | 2.0.0 | yes
=2.0 | 2.0.1 | yes
= 2.0 | 2.0.0 | yes
4.1 | 4.1.0 | yes
0.0.0 | 1.2.3 | no
=0 | 1.0.0 | no
1.2.3 | 1.2.3+build | yes
!=4.1.0 | 4.1.0 | no
!=4.1.0 | 4.1.1 | yes
!=4.1 | 4.1.0 | no
!=4.1 | 4.1.1 | no
!=4.1 | 5.1.0 | yes
!=4.1 | 5.1.0-alpha.1 | no
!=4.1-alpha | 4.1.0 | yes
!=4.1-alpha | 4.1.0-alpha | no
!=4.1-alpha | 4.1.1-alpha | no
!=4.x | 5.1.0 | yes
!=4.x | 4.1.0 | no
!=4.1.x | 4.2.0 | yes
!=4.2.x | 4.2.3 | no
<11 | 0.1.0 | yes
<11 | 11.1.0 | no
<1.1 | 0.1.0 | yes
<1.1 | 1.1.0 | no
<1.1 | 1.1.1 | no
<1.x | 1.1.1 | no
<1.x | 0.1.1 | yes
<1.x | 2.0.0 | no
<1.1.x | 1.2.1 | no
<1.1.x | 1.1.500 | no
<1.1.x | 1.0.500 | yes
<1.2.x | 1.1.1 | yes
<=11 | 1.2.3 | yes
<=11 | 12.2.3 | no
<=11 | 11.2.3 | yes
<=1.1 | 1.2.3 | no
<=1.1 | 0.1.0 | yes
<=1.1 | 1.1.0 | yes
<=1.1 | 1.1.1 | yes
=<1.1 | 1.1.1 | yes
<=1.x | 1.1.0 | yes
<=2.x | 3.0.0 | no
<=1.1.x | 1.2.500 | no
<=4.5 | 3.4.0 | yes
<=4.5 | 3.7.0 | yes
<=4.5 | 4.6.3 | no
>1.1 | 4.1.0 | yes
>1.1 | 1.1.0 | no
>0 | 0.0.0 | no
>0 | 1.0.0 | yes
>11 | 11.1.0 | no
>11.1 | 11.1.0 | no
>11.1 | 11.1.1 | no
>11.1 | 11.2.1 | yes
>=11 | 11.1.2 | yes
>=11.1 | 11.1.2 | yes
>=11.1 | 11.0.2 | no
>=1.1 | 4.1.0 | yes
>=1.1 | 1.1.0 | yes
>=1.1 | 0.0.9 | no
=>1.1 | 1.1.0 | yes
>=0 | 0.0.0 | yes
""")

WILDCARDS = table("""
* | 1.0.0 | yes
* | 4.5.6 | yes
x | 0.0.0 | yes
X.2.3 | 7.0.0 | yes
2.* | 1.0.0 | no
2.* | 3.4.5 | no
2.* | 2.1.1 | yes
2.x.x | 2.9.9 | yes
2.1.* | 2.1.1 | yes
2.1.* | 2.2.1 | no
1.x.3 | 1.5.0 | yes
2 | 1.0.0 | no
2 | 3.4.5 | no
2 | 2.1.1 | yes
2.1 | 2.1.1 | yes
2.1 | 2.2.1 | no
4.1.x | 4.1.3 | yes
1.x | 1.4.0 | yes
0.x.x | 1.2.3 | no
0.0.x | 1.2.3 | no
>= 1.2.x | 1.2.0 | yes
<= 2.x | 2.99.0 | yes
<= 2.x | 3.0.0 | no
""")

TILDE = table("""
~1.2.3 | 1.2.3 | yes
~1.2.3 | 1.2.4 | yes
~1.2.3 | 1.2.5 | yes
~1.2.3 | 1.2.2 | no
~1.2.3 | 1.3.0 | no
~1.2.3 | 1.3.4 | no
~>1.2.3 | 1.2.9 | yes
~> 1.2.3 | 1.3.0 | no
~1.2 | 1.2.4 | yes
~1.2 | 1.3.4 | no
~1.2.x | 1.2.0 | yes
~1.2.x | 1.3.0 | no
~1 | 1.0.0 | yes
~1 | 1.2.4 | yes
~1 | 1.4.0 | yes
~1 | 2.0.0 | no
~1 | 2.3.4 | no
~1.x | 1.3.5 | yes
~1.x | 2.1.1 | no
~2.3 | 2.3.9 | yes
~2.3 | 2.4.0 | no
~0.2.3 | 0.2.5 | yes
~0.2.3 | 0.3.5 | no
~1.1 | 1.1.1 | yes
~1.1 | 1.2.3 | no
~1.3 | 2.4.5 | no
~0.0.0 | 1.2.3 | yes
~* | 2.1.1 | yes
""")

CARET = table("""
^1.2.3 | 1.2.3 | yes
^1.2.3 | 1.8.9 | yes
^1.2.3 | 1.99.99 | yes
^1.2.3 | 2.0.0 | no
^1.2.3 | 2.8.9 | no
^1.2.3 | 1.2.1 | no
^1.1.0 | 2.1.0 | no
^1.2.0 | 2.2.1 | no
^1.2 | 1.2.0 | yes
^1.2 | 1.8.9 | yes
^1.2 | 1.1.9 | no
^1.2 | 2.8.9 | no
^1.2.x | 1.9.0 | yes
^1.2.x | 1.1.0 | no
^1 | 1.0.0 | yes
^1 | 1.8.9 | yes
^1 | 2.8.9 | no
^1.1 | 1.1.1 | yes
^1.1 | 4.3.2 | no
^1.x | 1.1.1 | yes
^1.x | 2.1.1 | no
^2.x | 1.1.1 | no
^2.3 | 2.9.0 | yes
^2.3 | 3.0.0 | no
^0.2.3 | 0.2.3 | yes
^0.2.3 | 0.2.5 | yes
^0.2.3 | 0.2.2 | no
^0.2.3 | 0.3.0 | no
^0.2.3 | 0.5.6 | no
^0.2 | 0.2.0 | yes
^0.2 | 0.2.5 | yes
^0.2 | 0.3.0 | no
^0.2 | 0.5.6 | no
^0.0.3 | 0.0.3 | yes
^0.0.3 | 0.0.4 | no
^0.0.3 | 0.0.2 | no
^0.0.1 | 0.0.1 | yes
^0.0.1 | 0.3.1 | no
^0.0 | 0.0.0 | yes
^0.0 | 0.0.3 | yes
^0.0 | 0.1.4 | no
^0.0 | 1.0.4 | no
^0 | 0.0.0 | yes
^0 | 0.2.3 | yes
^0 | 0.99.0 | yes
^0 | 1.0.0 | no
^0 | 1.1.4 | no
^0.0.0 | 0.0.0 | yes
^0.0.0 | 1.2.3 | no
""")

HYPHEN_AND_LISTS = table("""
1.1 - 2 | 1.1.1 | yes
1.1 - 2 | 2.9.9 | yes
1.1 - 2 | 3.0.0 | no
1.2 - 1.4.5 | 1.2.0 | yes
1.2 - 1.4.5 | 1.4.5 | yes
1.2 - 1.4.5 | 1.4.6 | no
1.2 - 1.4.5 | 1.1.9 | no
2.3.4 - 4.5 | 2.3.4 | yes
2.3.4 - 4.5 | 4.5.9 | yes
2.3.4 - 4.5 | 4.6.0 | no
1.5.0 - 4.5 | 3.7.0 | yes
v1.2.3 - v1.4 | 1.4.9 | yes
1.0.0 - 2.0.0 <=2.0.0 | 1.5.0 | yes
1.0.0 - 2.0.0, <=2.0.0 | 1.5.0 | yes
1.1-3 | 4.3.2 | no
1.2-1.4.5 | 1.2.3 | yes
1.2-1.4.5 | 1.3.0 | no
>= 1.2, < 3.0.0 | 2.9.9 | yes
>= 1.2, < 3.0.0 | 3.0.0 | no
>=1.2 <3 | 1.2.0 | yes
>=1.2 <3 | 3.0.0 | no
>=1.2,<3 | 2.0.0 | yes
>=1.2 , <3 | 1.1.0 | no
>1.1, <2 | 1.1.1 | no
>1.1, <2 | 1.2.1 | yes
>1.1, <3 | 4.3.2 | no
>1.1 <2 | 1.2.1 | yes
>1.1    <3 | 4.3.2 | no
> 1.1, <     2 | 1.1.1 | no
>   1.1, <2 | 1.2.1 | yes
>=1.1, <2, !=1.2.3 | 1.2.3 | no
>=1.1    <2    !=1.2.3 | 1.2.3 | no
>=1.1, <2, !=1.2.3 || > 3 | 4.1.2 | yes
>=1.1, <2, !=1.2.3 || > 3 | 3.1.2 | no
>=1.1, <2, !=1.2.3 || >= 3 | 3.0.0 | yes
>=1.1, <2, !=1.2.3 || > 3 | 3.0.0 | no
>=1.1, <2, !=1.2.3 || > 3 | 1.2.3 | no
>= 1.1 <2 != 1.2.3 || >= 3 | 3.0.0 | yes
>= 1.2.3 < 2.0 || => 3.0 < 4 | 3.5.0 | yes
>= 1.2.3 < 2.0 || => 3.0 < 4 | 2.5.0 | no
3 - 4 || => 3.0, < 4 | 4.9.0 | yes
12.3.34 ~1.2.3 | 12.3.34 | no
""")

V_PREFIX = table("""
^v1.0.0 | 1.10.0 | yes
^v1.0.0 | 2.0.0 | no
v1 | 1.5.0 | yes
v1.x | 2.0.0 | no
>=v1.2 <v2 | 1.9.9 | yes
~v1.2.3 | 1.2.9 | yes
v2.3.5-20161202202307-sha.e8fc5e5 | 2.3.5-20161202202307-sha.e8fc5e5 | yes
""")

PRERELEASES = table("""
>=2.0.0-0 | 2.0.0-rc.1 | yes
>=2.0.0-0 | 2.0.0 | yes
^1.0.0 | 1.5.0-rc.1 | no
^1.0.0 | 1.5.0 | yes
* | 1.2.3-alpha.1 | no
*-0 | 1.2.3-alpha.1 | yes
>=0.0.0-0 | 1.2.3 | yes
>=0.0.0-0 | 3.4.5-beta.1 | yes
>=1.1 | 4.1.0-beta | no
<=1.1 | 0.1.0-alpha | no
<=1.1-a | 0.1.0-alpha | yes
>0 | 0.0.1-alpha | no
>0.0 | 0.0.1-alpha | no
>0-0 | 0.0.1-alpha | no
>0.0-0 | 0.0.1-alpha | no
>0 | 0.0.0-alpha | no
>0-0 | 0.0.0-alpha | no
>0.0.0-0 | 0.0.0-alpha | yes
>1.2.3-alpha.1 | 1.2.3-alpha.2 | yes
>1.2.3-alpha.1 | 1.3.3-alpha.2 | yes
>=0 | 0.0.1-alpha | no
>=0-0 | 0.0.1-alpha | yes
>=0.0-0 | 0.0.1-alpha | yes
>=0 | 0.0.0-alpha | no
>=0-0 | 0.0.0-alpha | yes
<0 | 0.0.0-alpha | no
<0-z | 0.0.0-alpha | yes
~1 | 1.3.5-beta | no
~1.x | 1.3.5-beta | no
~1.1 | 1.1.1-alpha | no
~1.1-alpha | 1.1.1-beta | yes
~1.1.1-beta | 1.1.1-alpha | no
~1.1.1-beta | 1.1.1 | yes
~1.2.3-beta.2 | 1.2.3-beta.4 | yes
~1.2.3-beta.2 | 1.2.4-beta.2 | yes
~1.2.3-beta.2 | 1.3.4-beta.2 | no
~1.3.6-alpha | 1.3.5-beta | no
~1.3.5-alpha | 1.3.5-beta | yes
~1.3.5-beta | 1.3.5-alpha | no
^1.2.0 | 1.2.1-alpha.1 | no
^1.2.0-alpha.0 | 1.2.1-alpha.1 | yes
^1.2.0-alpha.0 | 1.2.1-alpha.0 | yes
^1.2.0-alpha.2 | 1.2.0-alpha.1 | no
^1.x | 1.1.1-beta1 | no
^1.1.2-alpha | 1.2.1-beta1 | yes
^1.2.x-alpha | 1.1.1-beta1 | no
^0.2.3-beta.2 | 0.2.3-beta.2 | yes
^0.2.3-beta.2 | 0.2.3-beta.4 | yes
^0.2.3-beta.2 | 0.2.4-beta.2 | yes
^0.2.3-beta.2 | 0.3.4-beta.2 | no
>=1.2.3-BETA | 1.2.3-alpha | yes
>=1.0.0-0 <2.0.0 | 1.5.0-rc.1 | yes
>=1.0.0-0 <2.0.0 | 2.0.0-rc.1 | yes
>=1.0.0-0 <2.0.0 | 2.0.0 | no
<3 || >=1.0.0-0 | 2.5.0-rc.1 | yes
<3 || >=5.0.0-0 | 2.5.0-rc.1 | no
>=1.0.0-0 || <3 | 0.5.0-rc.1 | no
""")

WILDCARD_MAJOR = table("""
^* | 5.0.0 | no
^* | 0.0.0 | yes
^x | 0.3.1 | no
^* | 1.0.0-rc.1 | no
<* | 1.0.0 | no
>* | 0.0.0 | no
>* | 0.0.1 | yes
!=* | 0.0.0 | no
!=* | 3.0.0 | yes
<=* | 0.0.5 | yes
<=* | 0.1.0 | no
>=* | 9.9.9 | yes
""")


@pytest.mark.parametrize(
    ("range_text", "tag", "expected"),
    EQUALITY_AND_COMPARISON + WILDCARDS + TILDE + CARET + HYPHEN_AND_LISTS + V_PREFIX,
)
def test_masterminds_cases(range_text: str, tag: str, expected: bool) -> None:
    assert admits(range_text, tag) is expected


@pytest.mark.parametrize(("range_text", "tag", "expected"), PRERELEASES)
def test_prerelease_rule(range_text: str, tag: str, expected: bool) -> None:
    assert admits(range_text, tag) is expected


@pytest.mark.parametrize(("range_text", "tag", "expected"), WILDCARD_MAJOR)
def test_wildcard_major(range_text: str, tag: str, expected: bool) -> None:
    """Masterminds' code as it is (`^*` only 0.0.0, though documented as "any")."""
    assert admits(range_text, tag) is expected


@pytest.mark.parametrize(
    ("range_text", "ors", "ands"),
    [
        (">= 1.1", 1, 1),
        (">40.50.60, < 50.70", 1, 2),
        ("2.0", 1, 1),
        (">= 1.2.3 < 2.0", 1, 2),
        (">= 1.2.3 < 2.0 || => 3.0 < 4", 2, 2),
        (">= 1.2.3, < 2.0 || => 3.0, < 4", 2, 2),
        ("3 - 4 || => 3.0, < 4", 2, 2),
        ("12.3.34 ~1.2.3", 1, 2),
        ("1.0.0 - 2.0.0, <=2.0.0", 1, 3),
    ],
)
def test_structure(range_text: str, ors: int, ands: int) -> None:
    parsed = parse_range(range_text)
    assert len(parsed.groups) == ors
    assert len(parsed.groups[0].comparators) == ands
    assert str(parsed) == range_text


@pytest.mark.parametrize(
    "range_text",
    [
        "banana",
        ">=",
        "1.2.3.4",
        "12.3.4.1234",
        "^^1",
        "",
        "   ",
        ">=1 ||",
        "|| >=1",
        ">=1 |||| <2",
        "1.2.3,",
        ",1.2.3",
        ">=1,,<2",
        "V1",
        "vv1",
        "v",
        "1x",
        "x1",
        "xx",
        "1.2.",
        "1..2",
        "1.2.3-",
        "1.2.3+",
        "1.2.3-01",
        ">= bar",
        "BAR >= 1.2.3",
        "12.3.34~ 1.2.3",
        "1.2.3<2",
        "!1.2.3",
        "==1.2.3",
        ">>1",
        "~",
        "^",
        "1 | 2",
        "18446744073709551616",
        "1.2.3 - ",
        "- 1.2.3",
        ">=1.0.0 - 2.0.0",
        "1.2.3 ~",
        "\u00a01.2.3",  # NBSP is not whitespace to Go's \s
        "\uff11.2.3",  # a non-ASCII digit
        "1.2.3 latest",
    ],
)
def test_invalid_ranges(range_text: str) -> None:
    with pytest.raises(InvalidRange) as raised:
        parse_range(range_text)
    assert isinstance(raised.value, ConfigError)
    message = str(raised.value)
    assert message.startswith(f"invalid semver range {range_text!r}: ")
    assert "\n" not in message.replace(repr(range_text), "")


def test_message_names_the_problem() -> None:
    with pytest.raises(InvalidRange, match=r"'banana' is not a version constraint"):
        parse_range("banana")
    with pytest.raises(InvalidRange, match=r"leading zero"):
        parse_range(">=1.0.0-rc.01")
    with pytest.raises(InvalidRange, match=r"empty OR-group"):
        parse_range("^1 || ")


def test_leading_zeros_and_build_metadata_in_a_range_are_lenient() -> None:
    assert admits(">=01.02.03", "1.2.3")
    assert admits("=1.2.3+anything", "1.2.3+other")


def test_rejection_reasons() -> None:
    caret = parse_range("^v1.0.0")
    rc, old, good = parse_tag("v1.5.0-rc.1"), parse_tag("v0.9.0"), parse_tag("v1.5.0")
    assert rc is not None and old is not None and good is not None
    assert caret.rejection(rc) == "prerelease not allowed by range"
    assert caret.rejection(old) == "outside range ^v1.0.0"
    assert caret.rejection(good) is None
    with_pre = parse_range(">=2.0.0-0")
    assert with_pre.allows_prerelease
    assert with_pre.rejection(rc) == "outside range >=2.0.0-0"


def test_checker_agrees_with_admits() -> None:
    parsed = parse_range(">=1.2.x <3 !=2.0.0 || ^0.5 || ~4.1-beta")
    versions = [parse_tag(t) for t in ("1.2.0", "2.0.0", "2.5.1", "0.5.9", "4.1.0-beta.2", "5.0.0")]
    for group in parsed.groups:
        for comparator in group.comparators:
            for version in versions:
                assert version is not None
                assert comparator.checker()(version) is comparator.admits(version)


def test_overlong_ranges_are_refused_quickly() -> None:
    longest = " || ".join(["^1.2.3"] * 51)[:512].rstrip("| ")
    assert len(parse_range(longest).groups) > 1
    for hostile in (" " * 513, "1" + " " * 600 + "-", "1.0.0-" + "a-" * 300 + " - 2"):
        with pytest.raises(InvalidRange, match="longer than 512 characters"):
            parse_range(hostile)
