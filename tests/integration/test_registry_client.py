"""The registry client against real HTTP servers.

Three registries: Distribution 2.8 with htpasswd (`registry` fixture: Basic
auth, real manifests and digests), the paging server (`paging_registry`:
n/last/Link paging, injected 429/5xx), and a local token registry (this
package's `registry_token_server`: the Bearer challenge flow of Docker Hub and
GHCR). Plus a socket that never answers, for timeouts.
"""

from __future__ import annotations

import base64
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_action.adapters.docker_config import Credentials, load_docker_config
from gitops_action.adapters.registry import (
    MANIFEST_ACCEPT,
    RegistryClient,
    RetryPolicy,
    Timeouts,
)
from gitops_action.domain.errors import OperationFailed, RegistryError
from testbed.paging_registry import PagingRegistry
from testbed.ports import LOCALHOST, free_port
from testbed.registry import RegistryService
from tests.integration.registry_token_server import TokenRegistry, TokenRequest

SECRET = "s3cret-Pa55word-xyz"


class FakeClock:
    """A monotonic clock that only moves when told to (or when slept on)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


# -- Distribution 2.8 (htpasswd, Basic) ----------------------------------------


@pytest.fixture
def registry_client(registry: RegistryService, tmp_path: Path) -> Iterator[RegistryClient]:
    """A client whose credentials come from a docker config, as `automate` reads them."""
    registry.write_docker_config(tmp_path / "docker")
    keychain = load_docker_config({"DOCKER_CONFIG": str(tmp_path / "docker")}, tmp_path)
    with RegistryClient(keychain, insecure_hosts=[registry.host]) as client:
        yield client


@pytest.mark.services
def test_lists_every_tag_with_basic_auth_from_the_docker_config(
    registry: RegistryService, registry_client: RegistryClient
) -> None:
    registry.push_image("regclient/list", ["v1.0.0", "latest"])
    registry.push_image("regclient/list", "v1.1.0", oci=True)
    registry.push_index("regclient/list", "v2.0.0")
    image = f"{registry.host}/regclient/list"

    first = registry_client.list_tags(image)
    again = registry_client.list_tags(image)

    assert sorted(first.tags) == ["latest", "v1.0.0", "v1.1.0", "v2.0.0"]
    assert first.image == image
    assert first.pages == 1  # Distribution ignores n: one page
    assert first.requests == 1  # credentials for this host: Basic offered up front
    assert again.requests == 1  # one request per image
    assert sorted(again.tags) == sorted(first.tags)
    assert registry_client.request_count == 2
    assert registry_client.token_request_count == 0


@pytest.mark.services
def test_digest_is_the_pushed_manifest_digest_and_the_index_for_multi_arch(
    registry: RegistryService, registry_client: RegistryClient
) -> None:
    docker_v2 = registry.push_image("regclient/digest", "v1")
    oci = registry.push_image("regclient/digest", "v2", oci=True)
    index = registry.push_index("regclient/digest", "v3", platforms=("linux/amd64", "linux/arm64"))
    oci_index = registry.push_index("regclient/digest", "v4", oci=True)
    image = f"{registry.host}/regclient/digest"

    assert registry_client.digest(image, "v1") == docker_v2
    assert registry_client.digest(image, "v2") == oci
    assert registry_client.digest(image, "v3") == index.digest
    assert registry_client.digest(image, "v4") == oci_index.digest
    assert index.digest not in {image.digest for image in index.images}


def test_accept_header_lists_index_types_first() -> None:
    assert MANIFEST_ACCEPT.split(", ")[:2] == [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]


@pytest.mark.services
def test_wrong_password_is_a_one_line_401_without_the_password(
    registry: RegistryService, caplog: pytest.LogCaptureFixture
) -> None:
    registry.push_image("regclient/auth", "v1")
    wrong = Credentials(registry.username, SECRET, "secret flux-system/regcred")
    caplog.set_level(logging.DEBUG)
    with (
        RegistryClient(insecure_hosts=[registry.host]) as client,
        pytest.raises(RegistryError) as caught,
    ):
        client.list_tags(f"{registry.host}/regclient/auth", credentials=wrong)

    message = str(caught.value)
    assert isinstance(caught.value, OperationFailed)
    assert message.startswith(f"unauthorized: check the credentials for {registry.host}")
    assert "secret flux-system/regcred" in message
    assert "HTTP 401" in message
    assert f"{registry.host}/regclient/auth" in message
    assert "\n" not in message
    no_secret(message + caplog.text + repr(wrong), SECRET)
    assert caplog.text  # requests were logged, and the secret is not in them


@pytest.mark.services
def test_no_credentials_says_none_were_found(registry: RegistryService) -> None:
    with (
        RegistryClient(insecure_hosts=[registry.host]) as client,
        pytest.raises(RegistryError, match=r"wants credentials and none were found"),
    ):
        client.list_tags(f"{registry.host}/regclient/auth")


@pytest.mark.services
def test_unknown_repository_and_tag_are_404s_naming_them(
    registry: RegistryService, registry_client: RegistryClient
) -> None:
    registry.push_image("regclient/known", "v1")
    with pytest.raises(RegistryError) as caught:
        registry_client.list_tags(f"{registry.host}/regclient/nope")
    assert str(caught.value).startswith(
        f"repository {registry.host}/regclient/nope not found on {registry.host}: HTTP 404"
    )
    assert "NAME_UNKNOWN" in str(caught.value)

    with pytest.raises(RegistryError, match=r"manifest .*regclient/known:v9 not found.*HTTP 404"):
        registry_client.digest(f"{registry.host}/regclient/known", "v9")


@pytest.mark.services
def test_https_to_a_plain_http_registry_is_a_tls_error_pointing_at_insecure(
    registry: RegistryService,
) -> None:
    with RegistryClient() as client, pytest.raises(RegistryError) as caught:
        client.list_tags(f"{registry.host}/regclient/known")
    message = str(caught.value)
    assert message.startswith(f"TLS with registry {registry.host} failed")
    assert "spec.insecure: true" in message


def test_connection_refused_names_the_registry() -> None:
    host = f"{LOCALHOST}:{free_port()}"
    with RegistryClient(insecure_hosts=[host]) as client, pytest.raises(RegistryError) as caught:
        client.list_tags(f"{host}/team/app")
    assert str(caught.value) == (
        f"cannot connect to registry {host} listing tags of {host}/team/app: connection refused"
    )


# -- the paging registry: n/last/Link, 429, 5xx ----------------------------------


def paging_client(server: PagingRegistry, **options: Any) -> RegistryClient:
    return RegistryClient(insecure_hosts=[server.host], **options)


@pytest.mark.services
def test_follows_link_pages_and_counts_requests(paging_registry: PagingRegistry) -> None:
    tags = [f"1.0.{i}" for i in range(2500)]
    paging_registry.set_tags("team/app", tags)
    with paging_client(paging_registry, page_size=100) as client:
        listed = client.list_tags(f"{paging_registry.host}/team/app")

    assert sorted(listed.tags) == sorted(tags)
    assert len(listed.tags) == len(set(listed.tags))
    assert (listed.pages, listed.requests) == (25, 25)
    recorded = paging_registry.tag_list_requests("team/app")
    assert len(recorded) == 25
    assert all(r.query["n"] == "100" and r.status == 200 for r in recorded)
    assert "last" not in recorded[0].query
    assert recorded[1].query["last"] == sorted(tags)[99]


@pytest.mark.services
def test_server_page_size_without_n_is_followed_too(paging_registry: PagingRegistry) -> None:
    paging_registry.set_tags("team/app", [f"v{i}" for i in range(250)])
    paging_registry.default_page_size = 100
    with paging_client(paging_registry, page_size=100) as client:
        listed = client.list_tags(f"{paging_registry.host}/team/app")
    assert (len(listed.tags), listed.pages) == (250, 3)


@pytest.mark.services
def test_ten_thousand_tags_in_a_bounded_number_of_requests(
    paging_registry: PagingRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    tags = [f"2024.{i // 100}.{i % 100}" for i in range(10_000)]
    paging_registry.set_tags("big/app", tags)
    started = time.perf_counter()
    with paging_client(paging_registry) as client:
        listed = client.list_tags(f"{paging_registry.host}/big/app")
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n10,000 tags: {listed.requests} requests, {elapsed * 1000:.0f} ms")
    assert len(listed.tags) == 10_000
    assert listed.requests == 10  # pages of 1,000 (the default n)


@pytest.mark.services
def test_429_with_retry_after_is_waited_out(paging_registry: PagingRegistry) -> None:
    paging_registry.set_tags("team/app", ["v1", "v2"])
    paging_registry.fail_next(429, times=2, retry_after=1)
    clock = FakeClock()
    with paging_client(paging_registry, clock=clock, sleep=clock.sleep) as client:
        listed = client.list_tags(f"{paging_registry.host}/team/app")
    assert listed.tags == ("v1", "v2")
    assert listed.requests == 3
    assert clock.sleeps == [1.0, 1.0]
    assert client.retry_waits == [1.0, 1.0]
    statuses = [r.status for r in paging_registry.tag_list_requests("team/app")]
    assert statuses == [429, 429, 200]


@pytest.mark.services
def test_429_forever_fails_after_the_bound_with_capped_waits(
    paging_registry: PagingRegistry,
) -> None:
    paging_registry.set_tags("team/app", ["v1"])
    paging_registry.fail_next(429, times=50, retry_after=120)
    clock = FakeClock()
    retry = RetryPolicy(retries=3, max_wait=2.5)
    with (
        paging_client(paging_registry, retry=retry, clock=clock, sleep=clock.sleep) as client,
        pytest.raises(RegistryError) as caught,
    ):
        client.list_tags(f"{paging_registry.host}/team/app")
    assert clock.sleeps == [2.5, 2.5, 2.5]
    assert len(paging_registry.requests) == 4
    assert str(caught.value) == (
        f"too many requests: registry {paging_registry.host} answered HTTP 429 listing tags of "
        f"{paging_registry.host}/team/app after 4 attempts [TOOMANYREQUESTS: injected failure]; "
        "try again later or lower the request rate"
    )


@pytest.mark.services
def test_503_without_retry_after_backs_off_then_succeeds(paging_registry: PagingRegistry) -> None:
    paging_registry.set_tags("team/app", ["v1"])
    paging_registry.fail_next(503, times=2)
    clock = FakeClock()
    with paging_client(paging_registry, clock=clock, sleep=clock.sleep) as client:
        assert client.list_tags(f"{paging_registry.host}/team/app").tags == ("v1",)
    assert clock.sleeps == [1.0, 2.0]


@pytest.mark.services
def test_500_fails_at_once_naming_registry_and_status(paging_registry: PagingRegistry) -> None:
    paging_registry.set_tags("team/app", ["v1"])
    paging_registry.fail_next(500)
    with paging_client(paging_registry) as client, pytest.raises(RegistryError) as caught:
        client.list_tags(f"{paging_registry.host}/team/app")
    assert str(caught.value) == (
        f"registry {paging_registry.host} failed: HTTP 500 listing tags of "
        f"{paging_registry.host}/team/app [INTERNAL_ERROR: injected failure]"
    )
    assert len(paging_registry.requests) == 1


@pytest.mark.services
def test_403_names_the_user(paging_registry: PagingRegistry) -> None:
    paging_registry.set_tags("team/app", ["v1"])
    paging_registry.fail_next(403)
    creds = Credentials("bot", SECRET, "secret ns/regcred")
    with paging_client(paging_registry) as client, pytest.raises(RegistryError) as caught:
        client.list_tags(f"{paging_registry.host}/team/app", credentials=creds)
    assert str(caught.value).startswith(
        f'forbidden: user "bot" from secret ns/regcred may not pull {paging_registry.host}/team/app'
    )
    no_secret(str(caught.value), SECRET)


@pytest.mark.services
def test_basic_auth_is_sent_up_front_when_there_are_credentials(
    paging_registry: PagingRegistry,
) -> None:
    paging_registry.set_tags("team/app", [f"v{i}" for i in range(150)])
    paging_registry.set_tags("team/api", ["v1"])
    paging_registry.require_auth("u", "pass-word")
    creds = Credentials("u", "pass-word")
    with paging_client(paging_registry, page_size=100) as client:
        first = client.list_tags(f"{paging_registry.host}/team/app", credentials=creds)
        second = client.list_tags(f"{paging_registry.host}/team/api", credentials=creds)
    assert (first.requests, second.requests) == (2, 1)  # two pages, then one
    statuses = [r.status for r in paging_registry.requests]
    assert statuses == [200, 200, 200]
    expected = "Basic " + base64.b64encode(b"u:pass-word").decode()
    assert all(r.authorization == expected for r in paging_registry.requests)


@pytest.mark.services
def test_anonymous_first_then_basic_after_the_challenge_without_stored_scheme(
    paging_registry: PagingRegistry,
) -> None:
    """No credentials: nothing is offered; the 401 is the answer (and names the host)."""
    paging_registry.set_tags("team/app", ["v1"])
    paging_registry.require_auth("u", "pass-word")
    with (
        paging_client(paging_registry, page_size=100) as client,
        pytest.raises(RegistryError, match=r"401|unauthorized|credentials"),
    ):
        client.list_tags(f"{paging_registry.host}/team/app")
    assert [r.authorization for r in paging_registry.requests] == [None]


@pytest.mark.services
def test_too_many_tags_stop_with_a_clear_error(paging_registry: PagingRegistry) -> None:
    paging_registry.set_tags("team/app", [f"v{i}" for i in range(2500)])
    with (
        paging_client(paging_registry, page_size=100, max_tags=1000) as client,
        pytest.raises(RegistryError, match=r"returned more than 1000 tags listing tags"),
    ):
        client.list_tags(f"{paging_registry.host}/team/app")
    assert len(paging_registry.requests) == 11


@pytest.mark.services
def test_rate_limit_spaces_requests_per_host(paging_registry: PagingRegistry) -> None:
    paging_registry.set_tags("team/app", [f"v{i:04}" for i in range(2500)])
    clock = FakeClock()
    with paging_client(
        paging_registry, page_size=100, rate=10.0, burst=5, clock=clock, sleep=clock.sleep
    ) as client:
        listed = client.list_tags(f"{paging_registry.host}/team/app")
    assert listed.requests == 25
    # 5 requests from the burst, then 20 at 10/s: 2 s of (fake) waiting, 0.1 s each
    assert clock.sleeps == pytest.approx([0.1] * 20)


# -- the token registry: the Bearer challenge flow ------------------------------------


@pytest.fixture
def token_registry() -> Iterator[TokenRegistry]:
    server = TokenRegistry()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def token_client(server: TokenRegistry, clock: FakeClock | None = None) -> RegistryClient:
    if clock is None:
        return RegistryClient(insecure_hosts=[server.host])
    return RegistryClient(insecure_hosts=[server.host], clock=clock, sleep=clock.sleep)


def test_anonymous_token_for_a_public_repository(token_registry: TokenRegistry) -> None:
    token_registry.add_repo("library/app", ["1.0", "1.1"], public=True)
    with token_client(token_registry) as client:
        listed = client.list_tags(f"{token_registry.host}/library/app")
    assert listed.tags == ("1.0", "1.1")
    assert listed.requests == 3  # 401 challenge, token, tags
    assert token_registry.token_requests == [
        TokenRequest(None, "token-test", "repository:library/app:pull", 200)
    ]
    assert [r.status for r in token_registry.registry_requests] == [401, 200]


def test_basic_credentials_get_a_token_that_is_reused_until_it_expires(
    token_registry: TokenRegistry,
) -> None:
    token_registry.add_user("bot", SECRET)
    token_registry.add_repo("team/app", ["v1", "v2"], readers=("bot",))
    token_registry.expires_in = 300
    creds = Credentials("bot", SECRET, "docker config /x/config.json")
    clock = FakeClock()
    image = f"{token_registry.host}/team/app"
    with token_client(token_registry, clock) as client:
        first = client.list_tags(image, credentials=creds)
        clock.now += 200
        second = client.list_tags(image, credentials=creds)
        clock.now += 200  # past expires_in: fetched again up front, no 401 first
        third = client.list_tags(image, credentials=creds)

    assert first.tags == second.tags == third.tags == ("v1", "v2")
    assert (first.requests, second.requests, third.requests) == (3, 1, 2)
    assert [r.username for r in token_registry.token_requests] == ["bot", "bot"]
    assert client.token_request_count == 2
    assert [r.status for r in token_registry.registry_requests] == [401, 200, 200, 200]


def test_a_token_the_registry_revoked_is_fetched_again(token_registry: TokenRegistry) -> None:
    token_registry.add_repo("library/app", ["1.0"], public=True)
    image = f"{token_registry.host}/library/app"
    with token_client(token_registry) as client:
        client.list_tags(image)
        token_registry.revoke_tokens()
        again = client.list_tags(image)
    assert again.tags == ("1.0",)
    assert again.requests == 3  # stale token -> 401 invalid_token, new token, tags
    assert len(token_registry.token_requests) == 2


def test_access_token_field_and_default_lifetime(token_registry: TokenRegistry) -> None:
    token_registry.add_repo("library/app", ["1.0"], public=True)
    token_registry.token_field = "access_token"
    token_registry.expires_in = None  # the client assumes 60 s
    clock = FakeClock()
    image = f"{token_registry.host}/library/app"
    with token_client(token_registry, clock) as client:
        client.list_tags(image)
        clock.now += 50
        client.list_tags(image)
        clock.now += 20
        client.list_tags(image)
    assert len(token_registry.token_requests) == 2


def test_tokens_are_per_repository_scope(token_registry: TokenRegistry) -> None:
    token_registry.add_repo("library/app", ["1.0"], public=True)
    token_registry.add_repo("library/api", ["2.0"], public=True)
    with token_client(token_registry) as client:
        client.list_tags(f"{token_registry.host}/library/app")
        other = client.list_tags(f"{token_registry.host}/library/api")
    assert other.requests == 2  # token for the new scope up front, then tags: no 401
    assert [r.scope for r in token_registry.token_requests] == [
        "repository:library/app:pull",
        "repository:library/api:pull",
    ]


def test_wrong_credentials_at_the_token_service_are_a_clear_401(
    token_registry: TokenRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    token_registry.add_user("bot", "the-right-one")
    token_registry.add_repo("team/app", ["v1"], readers=("bot",))
    creds = Credentials("bot", SECRET, "secret flux-system/regcred")
    caplog.set_level(logging.DEBUG)
    with token_client(token_registry) as client, pytest.raises(RegistryError) as caught:
        client.list_tags(f"{token_registry.host}/team/app", credentials=creds)
    message = str(caught.value)
    assert message == (
        f"unauthorized: check the credentials for {token_registry.host} "
        '(user "bot" from secret flux-system/regcred): '
        f"token service {token_registry.host} answered HTTP 401 "
        f"listing tags of {token_registry.host}/team/app"
    )
    issued = list(token_registry.grants)
    no_secret(message + caplog.text, SECRET, *issued)


def test_anonymous_pull_of_a_private_repository_is_refused_once(
    token_registry: TokenRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    token_registry.add_repo("team/private", ["v1"])
    caplog.set_level(logging.DEBUG)
    with token_client(token_registry) as client, pytest.raises(RegistryError) as caught:
        client.list_tags(f"{token_registry.host}/team/private")
    assert "wants credentials and none were found" in str(caught.value)
    assert "HTTP 401" in str(caught.value)
    assert len(token_registry.token_requests) == 1
    issued = list(token_registry.grants)
    assert issued
    no_secret(str(caught.value) + caplog.text, *issued)


def test_digest_through_a_token_with_the_accept_list(token_registry: TokenRegistry) -> None:
    digest = "sha256:" + "ab" * 32
    token_registry.add_repo("library/app", ["1.0"], public=True, digests={"1.0": digest})
    with token_client(token_registry) as client:
        assert client.digest(f"{token_registry.host}/library/app", "1.0") == digest
        with pytest.raises(RegistryError, match=r"manifest .*library/app:2.0 not found"):
            client.digest(f"{token_registry.host}/library/app", "2.0")
    heads = [r for r in token_registry.registry_requests if r.method == "HEAD"]
    assert heads
    assert {r.accept for r in heads} == {MANIFEST_ACCEPT}
    assert not any(r.method == "GET" and "/manifests/" in r.path for r in heads)


def test_absolute_link_urls_are_followed(token_registry: TokenRegistry) -> None:
    tags = [f"v{i:03}" for i in range(250)]
    token_registry.add_repo("library/app", tags, public=True)
    with RegistryClient(insecure_hosts=[token_registry.host], page_size=100) as client:
        listed = client.list_tags(f"{token_registry.host}/library/app")
    assert listed.tags == tuple(tags)
    assert listed.pages == 3
    assert [r.query.get("last") for r in token_registry.tags_requests()] == [
        None,
        None,
        "v099",
        "v199",
    ]


# -- a server that never answers -------------------------------------------------------


@pytest.fixture
def silent_host() -> Iterator[str]:
    """A port that accepts TCP connections (kernel backlog) and never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        sock.listen(8)
        yield f"{LOCALHOST}:{sock.getsockname()[1]}"


def test_read_timeout_is_bounded_and_names_the_registry(silent_host: str) -> None:
    started = time.monotonic()
    timeouts = Timeouts(connect=1.0, read=0.3)
    with (
        RegistryClient(insecure_hosts=[silent_host], timeouts=timeouts) as client,
        pytest.raises(RegistryError) as caught,
    ):
        client.list_tags(f"{silent_host}/team/app")
    assert time.monotonic() - started < 3
    assert str(caught.value) == (
        f"registry {silent_host} did not answer within 0.3s (read timeout) "
        f"listing tags of {silent_host}/team/app"
    )
