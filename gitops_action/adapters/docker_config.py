"""Registry credentials read from docker config documents.

Users already keep registry logins in two places, and `automate` reads both
rather than inventing a third:

- the ImageRepository `secretRef` Secret (type `kubernetes.io/dockerconfigjson`,
  key `.dockerconfigjson`; the legacy `kubernetes.io/dockercfg` shape, without
  the `auths` wrapper, is read too), whose decoded text the caller passes to
  `parse_docker_config`;
- the docker config file that `docker login` writes: `$DOCKER_CONFIG/config.json`,
  else `~/.docker/config.json` (`load_docker_config`).

An entry holds `auth` (base64 of `user:password`) or `username` + `password`.
Keys are matched to a registry host as docker matches them: with or without
`https://`, with or without a trailing path, and Docker Hub under its historic
key `https://index.docker.io/v1/` (or `docker.io`, `index.docker.io`,
`registry-1.docker.io`).

Credential helpers (`credsStore`, `credHelpers`) are programs docker runs to
fetch a password; running arbitrary programs from a config file in a CronJob is
not something this tool does, so they are reported as notices (shown in the
error when a registry then refuses anonymous access) and otherwise ignored.
Messages name the document and the host key, never a password or `auth` value.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_action.domain.errors import InvalidDockerConfig
from gitops_action.domain.refs import DOCKER_HUB

log = logging.getLogger("gitops_action.registry")

HUB_CONFIG_KEY = "https://index.docker.io/v1/"
"""The key `docker login` (no server) writes for Docker Hub."""

_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True)
class Credentials:
    """A username and password for one registry, and where they came from.

    `source` ("secret flux-system/regcred", "docker config /root/.docker/config.json")
    goes into error messages so a 401 says which login to fix. The password is
    left out of `repr` so a debug print or traceback cannot show it.
    """

    username: str
    password: str = field(repr=False)
    source: str = ""

    def describe(self) -> str:
        """`user "bot" from secret ns/name`: safe to print."""
        where = f" from {self.source}" if self.source else ""
        return f'user "{self.username}"{where}'


@dataclass(frozen=True)
class Keychain:
    """Credentials by docker config key, in document order, plus notices.

    `fallback` is asked when no entry matches: a secretRef keychain falls back
    to the docker config one.
    """

    entries: tuple[tuple[str, Credentials], ...] = ()
    notices: tuple[str, ...] = ()
    fallback: Keychain | None = None

    def lookup(self, registry: str) -> Credentials | None:
        """Credentials for `registry` (a host[:port] as in an image name), or None.

        Exact key first (`https://index.docker.io/v1/` for Docker Hub), then
        the first key whose host matches, then the fallback keychain.
        """
        wanted = config_key_host(registry)
        preferred = HUB_CONFIG_KEY if wanted == DOCKER_HUB else registry
        for key, credentials in self.entries:
            if key == preferred:
                return credentials
        for key, credentials in self.entries:
            if config_key_host(key) == wanted:
                return credentials
        return self.fallback.lookup(registry) if self.fallback is not None else None

    def with_fallback(self, other: Keychain) -> Keychain:
        """This keychain, then `other` for hosts it has no entry for."""
        fallback = other if self.fallback is None else self.fallback.with_fallback(other)
        return Keychain(self.entries, self.notices, fallback)

    def all_notices(self) -> tuple[str, ...]:
        """Notices of this keychain and its fallbacks."""
        rest = self.fallback.all_notices() if self.fallback is not None else ()
        return self.notices + rest


def config_key_host(key: str) -> str:
    """The registry host a docker config key (or image registry) stands for.

    `https://index.docker.io/v1/` -> `docker.io`; `http://reg:5000/v2` ->
    `reg:5000`. Hosts are compared case-insensitively, as DNS does.
    """
    text = key.strip()
    lowered = text.lower()
    for scheme in ("https://", "http://"):
        if lowered.startswith(scheme):
            text = text[len(scheme) :]
            break
    host = text.split("/", 1)[0].lower()
    return DOCKER_HUB if host in _HUB_ALIASES else host


def parse_docker_config(text: str | bytes, source: str) -> Keychain:
    """Read a docker config / `.dockerconfigjson` document.

    `source` names the document in messages and on the credentials. Raises
    `InvalidDockerConfig` for text that is not such a document.
    """
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        # `from None` here and below: the cause holds the document, which holds secrets.
        raise InvalidDockerConfig(f"{source}: not valid JSON ({_json_reason(error)})") from None
    if not isinstance(document, dict):
        raise InvalidDockerConfig(f"{source}: expected a JSON object at the top level")
    auths = document.get("auths")
    if auths is None and _looks_like_dockercfg(document):
        auths = document
    if auths is None:
        auths = {}
    if not isinstance(auths, dict):
        raise InvalidDockerConfig(f'{source}: "auths" must be an object of registry entries')
    notices = list(_helper_notices(document, source))
    entries: list[tuple[str, Credentials]] = []
    for key, entry in auths.items():
        credentials = _entry_credentials(str(key), entry, source, notices)
        if credentials is not None:
            entries.append((str(key), credentials))
    for notice in notices:
        log.debug("%s", notice)
    return Keychain(tuple(entries), tuple(notices))


def docker_config_path(environ: Mapping[str, str], home: Path) -> Path | None:
    """The docker config file to read: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.

    The first that exists wins; None when neither does.
    """
    candidates: list[Path] = []
    if environ.get("DOCKER_CONFIG"):
        candidates.append(Path(environ["DOCKER_CONFIG"]) / "config.json")
    candidates.append(home / ".docker" / "config.json")
    return next((path for path in candidates if path.is_file()), None)


def load_docker_config(
    environ: Mapping[str, str] | None = None, home: Path | None = None
) -> Keychain:
    """The keychain of the docker config file, empty when there is none."""
    env = os.environ if environ is None else environ
    path = docker_config_path(env, Path.home() if home is None else home)
    if path is None:
        return Keychain()
    try:
        text = path.read_bytes()
    except OSError as error:
        raise InvalidDockerConfig(
            f"docker config {path}: cannot read it ({error.strerror})"
        ) from None
    return parse_docker_config(text, f"docker config {path}")


def _entry_credentials(
    key: str, entry: object, source: str, notices: list[str]
) -> Credentials | None:
    """Credentials of one `auths` entry; None for entries that hold none we can use."""
    where = f'{source}: entry "{key}"'
    if not isinstance(entry, dict):
        raise InvalidDockerConfig(f"{where} must be an object")
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        username, password = _decode_auth(auth, where)
    else:
        username = _string_field(entry, "username", where)
        password = _string_field(entry, "password", where)
    if username or password:
        return Credentials(username, password, source)
    if entry.get("identitytoken") or entry.get("registrytoken"):
        notices.append(f"{where}: identity/registry tokens are not supported; entry ignored")
    return None


def _decode_auth(auth: str, where: str) -> tuple[str, str]:
    """`user:password` from the base64 `auth` field (the value is never shown)."""
    try:
        decoded = base64.b64decode(auth.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidDockerConfig(f'{where}: "auth" is not base64 of user:password') from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise InvalidDockerConfig(f'{where}: "auth" decodes to no "user:password" pair')
    return username, password


def _string_field(entry: Mapping[str, Any], name: str, where: str) -> str:
    value = entry.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidDockerConfig(f'{where}: "{name}" must be a string')
    return value


def _helper_notices(document: Mapping[str, Any], source: str) -> Iterable[str]:
    store = document.get("credsStore")
    if store:
        yield (
            f'{source}: "credsStore" ({store}) is not supported: credential helpers are not '
            'run; put the login in "auths" or use a secretRef'
        )
    helpers = document.get("credHelpers")
    if isinstance(helpers, dict) and helpers:
        hosts = ", ".join(sorted(str(host) for host in helpers))
        yield (
            f'{source}: "credHelpers" ({hosts}) are not supported: credential helpers are '
            'not run; put the login in "auths" or use a secretRef'
        )


def _looks_like_dockercfg(document: Mapping[str, Any]) -> bool:
    """The legacy `.dockercfg` shape: registry keys at the top level, no `auths`."""
    known = {"credsStore", "credHelpers", "HttpHeaders", "psFormat", "experimental"}
    return any(
        isinstance(value, dict) and ("auth" in value or "username" in value)
        for key, value in document.items()
        if key not in known
    )


def _json_reason(error: Exception) -> str:
    """Where the JSON broke, without echoing the document (it may hold passwords)."""
    if isinstance(error, json.JSONDecodeError):
        return f"line {error.lineno} column {error.colno}: {error.msg}"
    return type(error).__name__
