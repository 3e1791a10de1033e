"""Parsing of the registry client's headers, token lifetimes and message scrubbing."""

from __future__ import annotations

from datetime import UTC, datetime

from gitops_action.adapters.registry_auth import AuthState, token_lifetime
from gitops_action.adapters.registry_errors import scrub
from gitops_action.adapters.registry_headers import (
    Challenge,
    next_link,
    parse_challenges,
    pick_challenge,
    retry_after_seconds,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# -- WWW-Authenticate ------------------------------------------------------------


def test_docker_hub_bearer_challenge() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/alpine:pull"'
    )
    assert pick_challenge(header) == Challenge(
        "bearer",
        {
            "realm": "https://auth.docker.io/token",
            "service": "registry.docker.io",
            "scope": "repository:library/alpine:pull",
        },
    )


def test_quoted_commas_escapes_and_error_params() -> None:
    header = (
        'Bearer realm="https://r/token",service="s",'
        'scope="repository:a:pull,push repository:b:pull",error="insufficient_scope",x="q\\"d"'
    )
    challenge = pick_challenge(header)
    assert challenge is not None
    assert challenge.params["scope"] == "repository:a:pull,push repository:b:pull"
    assert challenge.params["error"] == "insufficient_scope"
    assert challenge.params["x"] == 'q"d'


def test_several_challenges_prefer_bearer() -> None:
    header = 'Basic realm="reg", Bearer realm="https://r/token", service="s"'
    assert [c.scheme for c in parse_challenges(header)] == ["basic", "bearer"]
    chosen = pick_challenge(header)
    assert chosen is not None
    assert (chosen.scheme, chosen.realm) == ("bearer", "https://r/token")
    assert chosen.params["service"] == "s"


def test_basic_challenge_and_unknown_ones() -> None:
    basic = pick_challenge('Basic realm="Registry Realm"')
    assert basic == Challenge("basic", {"realm": "Registry Realm"})
    assert pick_challenge("Negotiate") is None
    assert pick_challenge(None) is None
    assert pick_challenge("") is None
    unquoted = pick_challenge("Bearer realm=https://r/token,service=s")
    assert unquoted is not None
    assert unquoted.params == {"realm": "https://r/token", "service": "s"}


# -- Link ------------------------------------------------------------------------------


def test_relative_and_absolute_next_links() -> None:
    request = "https://ghcr.io/v2/o/a/tags/list?n=100"
    relative = '</v2/o/a/tags/list?n=100&last=v1.2>; rel="next"'
    assert next_link(relative, request) == "https://ghcr.io/v2/o/a/tags/list?n=100&last=v1.2"
    absolute = "<https://ghcr.io/v2/o/a/tags/list?last=x&n=100>; rel=next"
    assert next_link(absolute, request) == "https://ghcr.io/v2/o/a/tags/list?last=x&n=100"


def test_next_among_other_links_and_none() -> None:
    request = "https://r/v2/a/tags/list"
    header = '</v2/a/tags/list?last=a>; rel="prev", </v2/a/tags/list?last=z>; rel="next"'
    assert next_link(header, request) == "https://r/v2/a/tags/list?last=z"
    assert next_link('</x>; rel="prev"', request) is None
    assert next_link(None, request) is None
    assert next_link("", request) is None


# -- Retry-After -----------------------------------------------------------------------


def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds(" 0 ", now) == 0.0
    assert retry_after_seconds("Mon, 01 Jan 2024 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Mon, 01 Jan 2024 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds("-5", now) is None
    assert retry_after_seconds(None, now) is None


# -- tokens and scrubbing -----------------------------------------------------------------


def test_token_lifetime_defaults_and_margin() -> None:
    assert token_lifetime(None) == 55.0  # 60 s default, less 5 s
    assert token_lifetime(300) == 295.0  # less at most 5 s
    assert token_lifetime(10) == 9.0  # less 10 % when that is under 5 s
    assert token_lifetime("300") == 55.0
    assert token_lifetime(True) == 55.0


def test_auth_state_expires_tokens_by_the_clock() -> None:
    clock = FakeClock()
    state = AuthState(clock)
    key = ("r.io", "repository:a:pull", None)
    state.store(key, "tok-123", 100)
    clock.now = 94.9
    assert state.token(key) == "tok-123"
    clock.now = 95.0
    assert state.token(key) is None
    assert state.secrets() == []


def test_scrub_removes_secrets_and_newlines() -> None:
    text = "denied:\n token tok-abcdef for pass-word\tand pw"
    assert scrub(text, ["tok-abcdef", "pass-word", "pw"]) == "denied: token *** for *** and pw"
