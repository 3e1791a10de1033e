"""Image references by the docker (CNCF Distribution) reference grammar."""

from __future__ import annotations

import pytest

from gitops_action.domain.errors import ConfigError, InvalidImageReference
from gitops_action.domain.refs import (
    is_valid_tag,
    parse_image_name,
    parse_image_reference,
    split_registry,
)


@pytest.mark.parametrize(
    ("text", "registry", "path", "api_host"),
    [
        ("alpine", "docker.io", "library/alpine", "registry-1.docker.io"),
        ("org/app", "docker.io", "org/app", "registry-1.docker.io"),
        ("docker.io/alpine", "docker.io", "library/alpine", "registry-1.docker.io"),
        ("index.docker.io/org/app", "docker.io", "org/app", "registry-1.docker.io"),
        ("ghcr.io/org/app", "ghcr.io", "org/app", "ghcr.io"),
        ("ghcr.io/org/team/app", "ghcr.io", "org/team/app", "ghcr.io"),
        ("localhost/app", "localhost", "app", "localhost"),
        ("localhost:5000/app", "localhost:5000", "app", "localhost:5000"),
        ("127.0.0.1:5000/a/b", "127.0.0.1:5000", "a/b", "127.0.0.1:5000"),
        ("[::1]:5000/app", "[::1]:5000", "app", "[::1]:5000"),
        ("Registry.Example.com/app", "Registry.Example.com", "app", "Registry.Example.com"),
        ("my_org/my__app", "docker.io", "my_org/my__app", "registry-1.docker.io"),
        ("a-b---c/d.e", "docker.io", "a-b---c/d.e", "registry-1.docker.io"),
    ],
)
def test_valid_names_and_their_normalised_parts(
    text: str, registry: str, path: str, api_host: str
) -> None:
    name = parse_image_name(text)
    assert (name.original, name.registry, name.path, name.api_host) == (
        text,
        registry,
        path,
        api_host,
    )
    assert name.canonical == f"{registry}/{path}"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        (" app", "spaces"),
        ("App", "repository path"),
        ("ghcr.io/Org/app", "repository path"),
        ("org//app", "repository path"),
        ("org/app/", "repository path"),
        ("-app", "repository path"),
        ("app-", "repository path"),
        ("a..b", "repository path"),
        ("a___b", "repository path"),
        ("org/app:v1", "must not carry a tag"),
        ("localhost:5000", "must not carry a tag"),
        ("org/app@sha256:" + "a" * 64, "must not carry a digest"),
        ("org/app@sha256:abc", "invalid digest"),
        ("org/app:", "invalid tag"),
        ("org/app:-x", "invalid tag"),
        ("-bad.io/app", "registry host"),
        ("bad_host.io/app", "registry host"),
        ("host.io:port/app", "registry host"),
        ("a/" + "b" * 260, "at most 255"),
    ],
)
def test_invalid_image_names_are_config_errors_naming_the_image(text: str, why: str) -> None:
    with pytest.raises(InvalidImageReference, match=why) as caught:
        parse_image_name(text)
    assert isinstance(caught.value, ConfigError)
    assert repr(text) in str(caught.value)


def test_full_references_split_into_name_tag_and_digest() -> None:
    digest = "sha256:" + "0" * 64
    ref = parse_image_reference(f"localhost:5000/org/app:v1.2.3@{digest}")
    assert (ref.name.registry, ref.name.path, ref.tag, ref.digest) == (
        "localhost:5000",
        "org/app",
        "v1.2.3",
        digest,
    )
    bare = parse_image_reference("alpine")
    assert (bare.name.canonical, bare.tag, bare.digest) == ("docker.io/library/alpine", None, None)


def test_with_tag_keeps_the_image_as_written_and_checks_the_tag() -> None:
    name = parse_image_name("docker.io/alpine")
    assert name.with_tag("3.20") == "docker.io/alpine:3.20"
    with pytest.raises(InvalidImageReference):
        name.with_tag("+build")


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("app", (None, "app")),
        ("org/app", (None, "org/app")),
        ("example.com/app", ("example.com", "app")),
        ("host:1/app", ("host:1", "app")),
        ("localhost/app", ("localhost", "app")),
        ("UPPER/app", ("UPPER", "app")),
    ],
)
def test_split_registry_follows_docker(name: str, split: tuple[str | None, str]) -> None:
    assert split_registry(name) == split


@pytest.mark.parametrize(
    ("tag", "valid"),
    [("v1.2.3", True), ("_x", True), ("a" * 128, True), ("a" * 129, False), (".x", False)],
)
def test_is_valid_tag(tag: str, valid: bool) -> None:
    assert is_valid_tag(tag) is valid
