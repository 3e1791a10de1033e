"""The BuildKit inputs of `ci run`: checked before the tests, errors name the input."""

from __future__ import annotations

import pytest

from gitops_action.domain.build_options import (
    RawBuildOptions,
    count_steps,
    parse_build_options,
)
from gitops_action.domain.errors import InvalidBuildInput


def test_every_input_is_parsed_into_buildx_terms() -> None:
    options = parse_build_options(
        RawBuildOptions(
            platforms=("linux/amd64, linux/arm64", "linux/x86_64"),
            cache_from=("type=registry,ref=r.example/app:cache\nuser/app:cache",),
            cache_to=("type=inline",),
            secrets=("npm=tok=en with = signs", "gh=x"),
            secret_files=("key=keys/id.pem",),
            provenance="mode=max",
            sbom="TRUE",
            labels=("a=1\nb = two words ",),
            annotations=("index:org.example.x=1",),
            build_contexts=("alpine=docker-image://alpine:3",),
            no_cache=True,
        )
    )
    assert options.platforms == ("linux/amd64", "linux/arm64")
    assert options.cache_from == ("type=registry,ref=r.example/app:cache", "user/app:cache")
    assert options.secrets == {"npm": "tok=en with = signs", "gh": "x"}
    assert options.secret_files == {"key": "keys/id.pem"}
    assert (options.provenance, options.sbom) == ("mode=max", "true")
    assert options.labels == {"a": "1", "b": "two words"}
    assert options.build_contexts == {"alpine": "docker-image://alpine:3"}
    assert options.no_cache and not options.pull
    assert options.needs_buildx() == [
        "platforms (more than one)",
        "provenance",
        "sbom",
        "annotations",
        "build-contexts",
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (RawBuildOptions(secrets=("=s3cret-value",)), "secrets: line 1 is not id=value"),
        (RawBuildOptions(secrets=("ok=1", "s3cret-value")), "secrets: line 2 is not id=value"),
        (
            RawBuildOptions(cache_to=("type=floppy,dest=/a",)),
            "cache-to: unknown cache type 'floppy'",
        ),
        (RawBuildOptions(cache_from=("type=local",)), "cache-from: type=local needs src=DIR"),
        (
            RawBuildOptions(cache_to=("type=registry,mode=max",)),
            "cache-to: type=registry needs ref",
        ),
        (RawBuildOptions(platforms=("linux",)), "platform 'linux' is not os/arch"),
        (RawBuildOptions(annotations=("novalue",)), "annotations: 'novalue'"),
        (RawBuildOptions(network="bridge"), "network: 'bridge'"),
    ],
)
def test_bad_input_names_the_input_and_never_the_secret(raw: RawBuildOptions, message: str) -> None:
    with pytest.raises(InvalidBuildInput) as caught:
        parse_build_options(raw)
    assert str(caught.value).startswith(message)
    assert "s3cret" not in str(caught.value)


def test_cached_steps_are_counted_from_the_plain_progress_log() -> None:
    log = [
        "#1 [internal] load build definition from Dockerfile",
        "#5 [deps 1/3] FROM r.example/base:1@sha256:abc",
        "#5 CACHED",
        "#6 [deps 2/3] RUN --mount=type=cache,target=/c make deps",
        "#6 CACHED",
        "#7 [linux/arm64 stage-1 2/2] COPY . /app",
        "#7 DONE 0.1s",
        "#8 [internal] load .dockerignore",
        "#8 CACHED",
    ]
    assert count_steps(log) == (3, 2)
