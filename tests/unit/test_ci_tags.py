"""The CI tag rules (DESIGN.md §3 `ci tags`): refs, SHAs, sanitising, latest."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_action.domain.ci_tags import (
    REVISION_LABEL,
    VERSION_LABEL,
    flux_semver,
    parse_ref,
    parse_sha,
    plan_tags,
    sanitise_tag,
)
from gitops_action.domain.errors import ConfigError, InvalidGitRef
from gitops_action.domain.refs import parse_image_name

SHA = "0123456789abcdef0123456789abcdef01234567"
SHA_TAG = "sha-0123456"
VALID_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@pytest.mark.parametrize(
    ("ref", "latest", "tags"),
    [
        ("refs/tags/v1.2.3", "auto", ("v1.2.3", "latest", SHA_TAG)),
        ("refs/tags/1.2.3", "auto", ("1.2.3", "latest", SHA_TAG)),
        ("refs/tags/v0.0.1", "auto", ("v0.0.1", "latest", SHA_TAG)),
        ("refs/tags/v1.2.3-rc.1", "auto", ("v1.2.3-rc.1", SHA_TAG)),
        ("refs/tags/v1.2.3-rc.1", "true", ("v1.2.3-rc.1", "latest", SHA_TAG)),
        ("refs/tags/v1.2.3", "false", ("v1.2.3", SHA_TAG)),
        ("refs/tags/v3.0.0+build.7", "auto", ("v3.0.0", "latest", SHA_TAG)),
        ("refs/tags/v2.0.0-beta.2+exp.sha.5114f85", "auto", ("v2.0.0-beta.2", SHA_TAG)),
        # current Flux (pkg/version v0.10.0+) reads CalVer and leading zeros as versions
        ("refs/tags/01.2.3", "auto", ("01.2.3", "latest", SHA_TAG)),
        ("refs/tags/v2025.07.03", "auto", ("v2025.07.03", "latest", SHA_TAG)),
        # not versions as Flux reads them: verbatim (sanitised), no latest on auto
        ("refs/tags/v1.2", "auto", ("v1.2", SHA_TAG)),
        ("refs/tags/V1.2.3", "auto", ("V1.2.3", SHA_TAG)),
        ("refs/tags/vv1.2.3", "auto", ("vv1.2.3", SHA_TAG)),
        # Flux stores each part in a uint64: larger numbers are not versions
        ("refs/tags/v18446744073709551616.0.0", "auto", ("v18446744073709551616.0.0", SHA_TAG)),
        ("refs/tags/release/2024", "auto", ("release-2024", SHA_TAG)),
        ("refs/tags/nightly+1", "auto", ("nightly-1", SHA_TAG)),
        ("refs/tags/nightly", "true", ("nightly", "latest", SHA_TAG)),
        # branches and pull requests: never latest, even when asked
        ("refs/heads/main", "auto", ("main", SHA_TAG)),
        ("refs/heads/main", "true", ("main", SHA_TAG)),
        ("refs/heads/feature/login-form", "auto", ("feature-login-form", SHA_TAG)),
        ("refs/heads/fix/ümlaut", "auto", ("fix--mlaut", SHA_TAG)),
        ("refs/heads/.hidden", "auto", ("hidden", SHA_TAG)),
        ("refs/heads/latest", "true", ("branch-latest", SHA_TAG)),
        ("refs/heads/v1.2.3", "auto", ("v1.2.3", SHA_TAG)),
        ("refs/pull/42/merge", "auto", ("pr-42", SHA_TAG)),
        ("refs/pull/42/merge", "true", ("pr-42", SHA_TAG)),
        ("refs/pull/7/head", "auto", ("pr-7", SHA_TAG)),
    ],
)
def test_tags_for_ref(ref: str, latest: str, tags: tuple[str, ...]) -> None:
    plan = plan_tags(ref, SHA, latest)  # type: ignore[arg-type]
    assert plan.tags == tags
    assert plan.latest == ("latest" in tags)


def test_build_metadata_is_kept_for_the_version_label() -> None:
    plan = plan_tags("refs/tags/v3.0.0+build.7", SHA)
    assert plan.tags[0] == "v3.0.0"
    assert plan.version == "v3.0.0+build.7"
    assert plan.labels == {VERSION_LABEL: "v3.0.0+build.7", REVISION_LABEL: SHA}
    assert (plan.semver, plan.prerelease) == (True, False)


def test_non_release_version_label_is_the_pushed_tag() -> None:
    assert plan_tags("refs/heads/feature/x", SHA).version == "feature-x"
    assert plan_tags("refs/pull/9/merge", SHA).version == "pr-9"


def test_prerelease_is_reported() -> None:
    plan = plan_tags("refs/tags/v1.0.0-rc.10", SHA)
    assert (plan.semver, plan.prerelease, plan.latest) == (True, True, False)
    assert "prerelease" in plan.latest_reason


def test_references_are_images_outer_tags_inner_as_written() -> None:
    images = (parse_image_name("ghcr.io/org/app"), parse_image_name("localhost:5000/app"))
    assert plan_tags("refs/tags/v1.0.0", SHA).references(images) == [
        "ghcr.io/org/app:v1.0.0",
        "ghcr.io/org/app:latest",
        "ghcr.io/org/app:sha-0123456",
        "localhost:5000/app:v1.0.0",
        "localhost:5000/app:latest",
        "localhost:5000/app:sha-0123456",
    ]


def test_sha_is_lower_cased_and_shortened_for_the_tag() -> None:
    plan = plan_tags("refs/heads/main", SHA.upper())
    assert plan.sha == SHA
    assert plan.tags[-1] == SHA_TAG


def test_a_branch_named_like_the_sha_tag_is_not_doubled() -> None:
    assert plan_tags(f"refs/heads/{SHA_TAG}", SHA).tags == (SHA_TAG,)


@pytest.mark.parametrize(
    "sha", ["", "abc", "xyz1234", "0123456789abcdef0123456789abcdef0123456g", "a" * 65, " " + SHA]
)
def test_invalid_sha_is_a_config_error_naming_it(sha: str) -> None:
    with pytest.raises(InvalidGitRef, match=re.escape(repr(sha))):
        parse_sha(sha)


@pytest.mark.parametrize("sha", ["abcdef0", SHA, "f" * 64])
def test_valid_shas(sha: str) -> None:
    assert parse_sha(sha) == sha


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "main",
        "v1.2.3",
        "refs/heads/",
        "refs/tags/",
        "refs/pull/abc/merge",
        "refs/pull/0/merge",
        "refs/pull/12",
        "refs/remotes/origin/main",
        "refs/heads/has space",
        "refs/tags/v1.2.3\n",
    ],
)
def test_unusable_refs_are_config_errors(ref: str) -> None:
    with pytest.raises(InvalidGitRef) as caught:
        plan_tags(ref, SHA)
    assert isinstance(caught.value, ConfigError)
    assert repr(ref) in str(caught.value)


def test_parse_ref_kinds() -> None:
    assert (parse_ref("refs/tags/a/b").kind, parse_ref("refs/tags/a/b").name) == ("tag", "a/b")
    assert parse_ref("refs/heads/x").kind == "branch"
    assert parse_ref("refs/pull/3/merge").name == "3"


def test_invalid_latest_mode_is_rejected() -> None:
    with pytest.raises(InvalidGitRef, match="maybe"):
        plan_tags("refs/tags/v1.0.0", SHA, "maybe")  # type: ignore[arg-type]


def test_a_version_too_long_for_a_tag_is_an_error_not_a_silent_cut() -> None:
    tag = "v1.0.0-" + "a" * 130
    with pytest.raises(InvalidGitRef, match="too long"):
        plan_tags(f"refs/tags/{tag}", SHA)


def test_long_branch_names_are_cut_to_128() -> None:
    plan = plan_tags("refs/heads/" + "b" * 300, SHA)
    assert plan.tags[0] == "b" * 128


@pytest.mark.parametrize(
    ("tag", "version"),
    [
        ("v1.2.3", "1.2.3"),
        ("1.2.3-rc.1+b.2", "1.2.3-rc.1+b.2"),
        ("v1.2", None),
        ("V1.2.3", None),
        ("01.2.3", "1.2.3"),  # current Flux: leading zeros allowed
        ("v2025.07.03", "2025.7.3"),
        ("20240101", None),
        ("1.2.3-01", None),
        ("vv1.2.3", None),
        ("1.2.3\n", None),
    ],
)
def test_flux_semver(tag: str, version: str | None) -> None:
    parsed = flux_semver(tag)
    assert (str(parsed) if parsed else None) == version


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("main", "main"),
        ("feature/x", "feature-x"),
        ("a b:c", "a-b-c"),
        ("--x", "x"),
        ("..-x", "x"),
        ("-", "_2d"),
        ("ü", "_c3bc"),
        ("_ok", "_ok"),
    ],
)
def test_sanitise_examples(name: str, tag: str) -> None:
    assert sanitise_tag(name) == tag


@given(st.text(max_size=400))
def test_sanitised_tags_are_always_valid(name: str) -> None:
    tag = sanitise_tag(name)
    assert VALID_TAG.match(tag), (name, tag)
    assert sanitise_tag(tag) == tag  # idempotent: valid tags pass unchanged


@given(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", fullmatch=True))
def test_valid_tags_pass_unchanged(name: str) -> None:
    assert sanitise_tag(name) == name
