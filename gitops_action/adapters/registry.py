"""An OCI Distribution client: the tags of an image, and the digest of a tag.

Image automation needs two reads from a registry and nothing else:

- `list_tags(image)`: `GET /v2/<name>/tags/list?n=<page>`, following
  `Link: <...>; rel="next"` until there is none (Docker Hub, GHCR, Harbor, ECR
  page; Distribution ignores `n` and answers at once). Capped (100,000 tags,
  1,000 pages) so a misbehaving registry cannot keep a run going forever.
- `digest(image, tag)`: `HEAD /v2/<name>/manifests/<tag>` with an `Accept` list
  that puts the OCI index and the Docker manifest list first, so a multi-arch
  tag gives the digest of its index (what `docker pull` and Flux record), read
  from `Docker-Content-Digest`. Manifests are never downloaded.

Around each request: anonymous, Basic or Bearer-token auth as the registry
challenges (`registry_auth`), a token bucket per host (`rate_limit`), retries
of 429/502/503/504 honouring `Retry-After` (capped), connect/read timeouts and
a total deadline per request (`Timeouts.total`, `GITOPS_REGISTRY_TIMEOUT`), a
cap on the bytes of any answer (`MAX_BODY`: a flood is cut off, never held in
memory),
https unless the host is insecure (Flux `spec.insecure`). Every failure is a
one-line `RegistryError` naming image, registry and status (`registry_errors`).

The client counts its HTTP requests (`request_count`, `token_request_count`):
the idle-run target is one tags request per image. It keeps connections, known
auth schemes and tokens between calls, so use one client per run, and close it.
It is not thread-safe.

httpx is imported here at module level; `policy` and `update` never import
this module.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType

import httpx

from gitops_action import __version__
from gitops_action.adapters.docker_config import Credentials, Keychain
from gitops_action.adapters.rate_limit import RateLimiter
from gitops_action.adapters.registry_auth import (
    AuthState,
    HostAuth,
    TokenKey,
    basic_authorization,
    pull_scope,
)
from gitops_action.adapters.registry_errors import (
    Target,
    status_error,
    token_error,
    transport_error,
)
from gitops_action.adapters.registry_headers import next_link, pick_challenge, retry_after_seconds
from gitops_action.domain.errors import ConfigError, InvalidImageReference, RegistryError
from gitops_action.domain.refs import DOCKER_HUB_API, ImageName, is_valid_tag, parse_image_name

log = logging.getLogger("gitops_action.registry")

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST])
"""Index types first: a multi-arch tag must resolve to its index, not one platform."""

RETRYABLE = frozenset({429, 502, 503, 504})
DEFAULT_RATE = 20.0
DEFAULT_PAGE_SIZE = 1000
MAX_TAGS = 100_000
MAX_PAGES = 1_000
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


TIMEOUT_ENV = "GITOPS_REGISTRY_TIMEOUT"
MAX_BODY = 32 * 1024 * 1024
"""Bytes of one answer at most: 100,000 tags of 128 characters fit, a flood does not."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection, for each read, and for a whole exchange.

    `total` bounds one request from connect to the last byte of the answer: a
    registry trickling one byte every few seconds never trips the read
    timeout, and must still not hold the run (and the reconcile Lease).
    """

    connect: float = 10.0
    read: float = 30.0
    total: float = 60.0

    def for_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(self.read, connect=self.connect)

    def within(self, remaining: float) -> httpx.Timeout:
        """The httpx timeouts of one request with `remaining` seconds of its deadline left."""
        left = max(remaining, 0.001)
        return httpx.Timeout(min(self.read, left), connect=min(self.connect, left))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Timeouts:
        """Defaults, with `total` from `GITOPS_REGISTRY_TIMEOUT` (seconds) when set."""
        text = environ.get(TIMEOUT_ENV, "").strip()
        if not text:
            return cls()
        try:
            total = float(text)
        except ValueError:
            total = -1.0
        if not total > 0:
            raise ConfigError(f"{TIMEOUT_ENV}={text!r}: expected a number of seconds above 0")
        return cls(connect=min(10.0, total), read=min(30.0, total), total=total)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of 429/502/503/504: at most `retries` after the first try.

    The wait is the answer's `Retry-After` (seconds or HTTP date), else
    `backoff` doubled per retry; never more than `max_wait`.
    """

    retries: int = 3
    max_wait: float = 30.0
    backoff: float = 1.0


@dataclass(frozen=True)
class TagList:
    """The tags of one image, as served, and what it cost to get them.

    `requests` counts every HTTP request the listing made (challenges, token
    fetches and retries included); `pages` the tags/list answers used.
    """

    image: str
    tags: tuple[str, ...]
    requests: int
    pages: int


@dataclass
class _Call:
    """One public call's fixed facts: where to send, with what, for what."""

    target: Target
    base: str  # scheme://host
    path: str  # repository path
    insecure: bool
    credentials: Credentials | None
    scope: str
    attempts: int = 0  # tries of the last exchange (for "after N attempts")


class RegistryClient:
    """Reads tags and digests from OCI registries (see the module docstring).

    `keychain` supplies credentials by registry host when a call passes none
    (normally the docker config, `load_docker_config()`). `insecure_hosts` are
    registry hosts reached over plain HTTP. `rate` is requests per second per
    host (`None` for no limit). `clock` and `sleep` drive the rate limiter,
    token expiry and retry waits, so tests can replace them.
    """

    def __init__(
        self,
        keychain: Keychain | None = None,
        *,
        insecure_hosts: Iterable[str] = (),
        rate: float | None = DEFAULT_RATE,
        burst: float | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_tags: int = MAX_TAGS,
        max_pages: int = MAX_PAGES,
        max_body: int = MAX_BODY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.keychain = keychain if keychain is not None else Keychain()
        self.insecure_hosts = frozenset(host.lower() for host in insecure_hosts)
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self.max_tags = max_tags
        self.max_pages = max_pages
        self.max_body = max_body
        self._sleep = sleep
        self._limiter = RateLimiter(rate, burst, clock=clock, sleep=sleep)
        self._auth = AuthState(clock)
        self._http = httpx.Client(
            timeout=self.timeouts.for_httpx(),
            follow_redirects=True,
            headers={"User-Agent": f"gitops-action/{__version__}"},
            trust_env=True,  # HTTPS_PROXY/NO_PROXY and SSL_CERT_FILE, as a cluster may need
        )
        self.request_count = 0
        """HTTP requests sent so far (registry and token service, retries included)."""
        self.token_request_count = 0
        """Of those, the requests to token services."""
        self.retry_waits: list[float] = []
        """Seconds waited before each retry, in order."""

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the two reads -----------------------------------------------------
    def list_tags(
        self,
        image: str | ImageName,
        *,
        credentials: Credentials | None = None,
        insecure: bool | None = None,
    ) -> TagList:
        """Every tag of `image` (a repository name without tag), following pages.

        `credentials` (from the ImageRepository secretRef) win over the
        keychain; `insecure=True` allows plain HTTP for this call.
        """
        name = _image_name(image)
        call = self._call(name, f"listing tags of {name.canonical}", credentials, insecure)
        before = self.request_count
        url: str | None = f"{call.base}/v2/{call.path}/tags/list?n={self.page_size}"
        tags: list[str] = []
        pages = 0
        seen: set[str] = set()
        while url is not None:
            if pages >= self.max_pages:
                raise self._too_many(call, f"more than {self.max_pages} pages", len(tags), pages)
            seen.add(url)
            response = self._registry_request(call, "GET", url)
            if response.status_code != 200:
                raise self._status_error(call, response, f"repository {name.canonical}")
            pages += 1
            tags.extend(self._page_tags(call, response))
            if len(tags) > self.max_tags:
                raise self._too_many(call, f"more than {self.max_tags} tags", len(tags), pages)
            url = self._next_page(call, response, seen)
        log.debug("%s: %d tags in %d page(s)", name.canonical, len(tags), pages)
        return TagList(name.canonical, tuple(tags), self.request_count - before, pages)

    def digest(
        self,
        image: str | ImageName,
        tag: str,
        *,
        credentials: Credentials | None = None,
        insecure: bool | None = None,
    ) -> str:
        """The manifest digest of `image:tag` (the index digest for a multi-arch tag)."""
        name = _image_name(image)
        if not is_valid_tag(tag):
            raise InvalidImageReference(f"tag {tag!r} for image {name.canonical} is not valid")
        action = f"reading the digest of {name.canonical}:{tag}"
        call = self._call(name, action, credentials, insecure)
        url = f"{call.base}/v2/{call.path}/manifests/{tag}"
        response = self._registry_request(call, "HEAD", url, {"Accept": MANIFEST_ACCEPT})
        if response.status_code != 200:
            raise self._status_error(call, response, f"manifest {name.canonical}:{tag}")
        digest = str(response.headers.get("Docker-Content-Digest", "")).strip()
        if not _DIGEST.fullmatch(digest):
            raise RegistryError(
                f"registry {call.target.host} sent no valid Docker-Content-Digest "
                f"{action} (got {digest[:80]!r})"
            )
        return digest

    # -- per-call set-up ---------------------------------------------------
    def _call(
        self,
        name: ImageName,
        action: str,
        credentials: Credentials | None,
        insecure: bool | None,
    ) -> _Call:
        host = name.api_host
        if insecure is None:
            hosts = self.insecure_hosts
            insecure = host.lower() in hosts or name.registry.lower() in hosts
        if credentials is None:
            credentials = self.keychain.lookup(name.registry)
        if credentials is not None and not (credentials.username or credentials.password):
            credentials = None
        notices = () if credentials is not None else self.keychain.all_notices()
        target = Target(name.canonical, host, action, credentials, notices)
        scheme = "http" if insecure else "https"
        return _Call(
            target, f"{scheme}://{host}", name.path, insecure, credentials, pull_scope(name.path)
        )

    # -- auth --------------------------------------------------------------
    def _registry_request(
        self, call: _Call, method: str, url: str, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """One registry request, answering one auth challenge if the first try gets 401."""
        authorization, fresh = self._authorization(call, refresh=False)
        response = self._exchange(call, method, url, _with_auth(headers, authorization))
        if response.status_code != 401:
            return response
        challenge = pick_challenge(response.headers.get("WWW-Authenticate"))
        if challenge is None or (challenge.scheme == "bearer" and not challenge.realm):
            return response
        learnt = HostAuth(challenge.scheme, challenge.realm, challenge.params.get("service"))
        known = self._auth.host(call.target.host)
        self._auth.learn(call.target.host, learnt)
        sent_basic = authorization is not None and authorization.startswith("Basic ")
        if learnt.scheme == "basic" and (call.credentials is None or sent_basic):
            return response  # nothing else to send: none, or these credentials were refused
        if learnt.scheme == "bearer" and fresh and known == learnt:
            return response  # a token fetched just now was refused: a new one will be too
        authorization, _ = self._authorization(
            call, refresh=True, scope=challenge.params.get("scope")
        )
        return self._exchange(call, method, url, _with_auth(headers, authorization))

    def _authorization(
        self, call: _Call, *, refresh: bool, scope: str | None = None
    ) -> tuple[str | None, bool]:
        """(the Authorization value for this host, whether a token was fetched for it)."""
        auth = self._auth.host(call.target.host)
        if auth is None:
            # Scheme not learnt yet. With credentials for this very host, offer Basic at
            # once: a Basic registry (Distribution + htpasswd) then answers the first
            # request, so an idle run costs one tags request per image, not a 401 first.
            # A Bearer registry answers 401 with its challenge, as it would anyway.
            # Docker Hub is known to be Bearer: its password never goes to the registry.
            if call.credentials is None or call.target.host == DOCKER_HUB_API:
                return None, False
            return basic_authorization(call.credentials), False
        if auth.scheme == "basic":
            credentials = call.credentials
            return (basic_authorization(credentials) if credentials else None), False
        key: TokenKey = (call.target.host, call.scope, call.credentials)
        token = None if refresh else self._auth.token(key)
        if token is not None:
            return f"Bearer {token}", False
        self._auth.forget(key)
        fetched, expires_in = self._fetch_token(call, auth, scope or call.scope)
        self._auth.store(key, fetched, expires_in)
        return f"Bearer {fetched}", True

    def _fetch_token(self, call: _Call, auth: HostAuth, scope: str) -> tuple[str, object]:
        """GET the realm for a token: (token, expires_in as sent)."""
        realm = httpx.URL(auth.realm or "")
        target = call.target
        if realm.scheme not in ("http", "https") or not realm.host:
            raise RegistryError(
                f"registry {target.host} named an unusable token realm {auth.realm!r} "
                f"{target.action}"
            )
        if realm.scheme == "http" and call.credentials is not None:
            if realm.host.lower() != httpx.URL(call.base).host.lower():
                # Plain HTTP to another host: anyone on the path, or the host the
                # registry names, would read the password. Never, insecure or not.
                raise RegistryError(
                    f"registry {target.host} asks for credentials to be sent to the plain-HTTP "
                    f"token realm on another host ({realm.host}); refused: credentials go to a "
                    f"token realm only over HTTPS or on the registry's own host {target.action}"
                )
            if not call.insecure:
                raise RegistryError(
                    f"registry {target.host} asks for credentials to be sent to the plain-HTTP "
                    f"token realm {realm.host}; refused (set spec.insecure: true to allow it) "
                    f"{target.action}"
                )
        params = {"scope": scope} | ({"service": auth.service} if auth.service else {})
        url = str(realm.copy_merge_params(params))
        headers = (
            {"Authorization": basic_authorization(call.credentials)} if call.credentials else {}
        )
        self.token_request_count += 1
        response = self._exchange(call, "GET", url, headers)
        if response.status_code != 200:
            raise token_error(target, realm.netloc.decode("ascii"), response)
        try:
            body = response.json()
        except ValueError:
            body = None
        value = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise RegistryError(
                f"token service {realm.host} sent no token {target.action} (HTTP 200 without "
                '"token" or "access_token")'
            )
        return value, body.get("expires_in") if isinstance(body, dict) else None

    # -- one exchange, with rate limit and retries -------------------------
    def _exchange(
        self, call: _Call, method: str, url: str, headers: Mapping[str, str]
    ) -> httpx.Response:
        """Send until the answer is not retryable or the retries are spent."""
        attempt = 0
        while True:
            attempt += 1
            response = self._send(call, method, url, headers)
            if response.status_code not in RETRYABLE or attempt > self.retry.retries:
                call.attempts = attempt
                return response
            wait = self._retry_wait(response, attempt)
            log.debug(
                "%s %s: HTTP %d, retry %d in %.3gs",
                method,
                _loggable(url),
                response.status_code,
                attempt,
                wait,
            )
            self.retry_waits.append(wait)
            self._sleep(wait)

    def _send(
        self, call: _Call, method: str, url: str, headers: Mapping[str, str]
    ) -> httpx.Response:
        host = httpx.URL(url).netloc.decode("ascii")
        self._limiter.acquire(host)
        self.request_count += 1
        deadline = time.monotonic() + self.timeouts.total
        timeout = self.timeouts.within(self.timeouts.total)
        try:
            request = self._http.build_request(method, url, headers=dict(headers), timeout=timeout)
            streamed = self._http.send(request, stream=True)
            try:
                body = self._bounded_body(call, host, streamed, deadline)
            finally:
                streamed.close()
        except httpx.HTTPError as error:
            raise transport_error(call.target, host, error, timeout, self._secrets(call)) from error
        log.debug("%s %s -> %d", method, _loggable(url), streamed.status_code)
        return _with_body(streamed, body)

    def _bounded_body(
        self, call: _Call, host: str, response: httpx.Response, deadline: float
    ) -> bytes:
        """The answer's body, read within the exchange's deadline and `max_body` bytes."""
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > self.max_body:
                raise RegistryError(
                    f"registry {host} sent an answer larger than {self.max_body} bytes "
                    f"{call.target.action}; stopped reading"
                )
            if time.monotonic() > deadline:
                raise RegistryError(
                    f"registry {host} did not finish its answer within "
                    f"{self.timeouts.total:g}s (total deadline) {call.target.action}"
                )
        return bytes(body)

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float:
        told = retry_after_seconds(response.headers.get("Retry-After"))
        wait = told if told is not None else self.retry.backoff * 2 ** (attempt - 1)
        return max(0.0, min(wait, self.retry.max_wait))

    # -- paging ------------------------------------------------------------
    def _page_tags(self, call: _Call, response: httpx.Response) -> list[str]:
        try:
            body = response.json()
        except ValueError:
            body = None
        tags = body.get("tags", []) if isinstance(body, dict) else None
        if tags is None and isinstance(body, dict):
            return []  # Distribution sends "tags": null for a repository without tags
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise RegistryError(
                f"registry {call.target.host} sent a tags list that is not "
                f'{{"tags": [strings]}} {call.target.action}'
            )
        return tags

    def _next_page(self, call: _Call, response: httpx.Response, seen: set[str]) -> str | None:
        url = next_link(response.headers.get("Link"), str(response.request.url))
        if url is None:
            return None
        here, there = httpx.URL(call.base), httpx.URL(url)
        if (there.scheme, there.host, there.port) != (here.scheme, here.host, here.port):
            raise RegistryError(
                f"registry {call.target.host} sent a next-page link to another origin "
                f"({there.scheme}://{there.netloc.decode('ascii')}) {call.target.action}; "
                "not followed"
            )
        if url in seen:
            raise RegistryError(
                f"registry {call.target.host} sent a next-page link back to a page already "
                f"read {call.target.action}"
            )
        return url

    # -- errors --------------------------------------------------------------
    def _status_error(self, call: _Call, response: httpx.Response, missing: str) -> RegistryError:
        return status_error(
            call.target,
            response,
            attempts=call.attempts,
            missing=missing,
            secrets=self._secrets(call),
        )

    def _too_many(self, call: _Call, what: str, count: int, pages: int) -> RegistryError:
        return RegistryError(
            f"registry {call.target.host} returned {what} {call.target.action} "
            f"({count} tags in {pages} pages); stopped, the limit guards against endless paging"
        )

    def _secrets(self, call: _Call) -> list[str]:
        secrets = self._auth.secrets()
        if call.credentials is not None:
            secrets.append(call.credentials.password)
            secrets.append(basic_authorization(call.credentials).removeprefix("Basic "))
        return secrets


def _with_body(streamed: httpx.Response, body: bytes) -> httpx.Response:
    """A complete response holding `body` (already decoded: no Content-Encoding left)."""
    headers = [
        (key, value)
        for key, value in streamed.headers.multi_items()
        if key.lower() not in {"content-encoding", "content-length", "transfer-encoding"}
    ]
    return httpx.Response(
        streamed.status_code, headers=headers, content=body, request=streamed.request
    )


def _image_name(image: str | ImageName) -> ImageName:
    return image if isinstance(image, ImageName) else parse_image_name(image)


def _with_auth(headers: Mapping[str, str] | None, authorization: str | None) -> dict[str, str]:
    merged = dict(headers or {})
    if authorization is not None:
        merged["Authorization"] = authorization
    return merged


def _loggable(url: str) -> str:
    """The URL for a log line: registry and token URLs carry no secrets, but be sure."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return url
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii').rpartition('@')[2]}{parsed.path}"
