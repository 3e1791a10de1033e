"""The inputs of `ci run`, checked before anything runs (DESIGN.md §3).

A bad input should stop the run in milliseconds, not after the tests and a
ten-minute build: build args, platforms, the push mode, which registries the
credentials are for, and the OCI labels are all decided here, as data. The
file system checks (context and Dockerfile exist) are the adapter's; the
engine's own platform is asked of the engine.

Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from gitops_action.domain.ci_tags import TagPlan
from gitops_action.domain.errors import InvalidBuildInput
from gitops_action.domain.refs import DOCKER_HUB, ImageName

SOURCE_LABEL = "org.opencontainers.image.source"
CREATED_LABEL = "org.opencontainers.image.created"
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})

_BUILD_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLATFORM_PART = re.compile(r"[a-z0-9_]+")
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm"}
_DEFAULT_VARIANTS = {"amd64": "v1", "arm64": "v8"}
"""Variants that mean the same as none at all, as containerd normalises them."""
_TRUE = frozenset({"true", "1", "yes", "on", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "off", "n", "f"})
_HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)


@dataclass(frozen=True)
class Platform:
    """`os/arch[/variant]`, normalised (`x86_64` -> `amd64`, `arm64/v8` -> `arm64`)."""

    os: str
    arch: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.arch, self.variant) if part)


def parse_build_args(lines: tuple[str, ...]) -> dict[str, str]:
    """`KEY=VALUE` lines -> dict (a later KEY wins, as with docker).

    A bad line is named by its number, never by its text: build args often
    carry tokens, and error messages must not.
    """
    args: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or _BUILD_ARG_NAME.fullmatch(key) is None:
            raise InvalidBuildInput(
                f"build-arg {number} is not KEY=VALUE (KEY: letters, digits and _, "
                "not starting with a digit)"
            )
        args[key] = value
    return args


def parse_platform(text: str) -> Platform:
    """Parse `os/arch[/variant]`; an error names the value."""
    parts = text.strip().lower().split("/")
    if not 2 <= len(parts) <= 3 or not all(_PLATFORM_PART.fullmatch(p) for p in parts):
        raise InvalidBuildInput(f"platform {text!r} is not os/arch[/variant], e.g. linux/amd64")
    os_name, arch = parts[0], _ARCH_ALIASES.get(parts[1], parts[1])
    variant = parts[2] if len(parts) == 3 else ""
    if variant and _DEFAULT_VARIANTS.get(arch) == variant:
        variant = ""
    return Platform(os_name, arch, variant)


def parse_push_mode(value: str) -> bool | None:
    """`GITOPS_PUSH`: true/false (and yes/no/1/0), or empty/`auto` -> None (decide by event)."""
    text = value.strip().lower()
    if text in ("", "auto"):
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidBuildInput(f"push {value!r} is not true, false or auto")


def decide_push(requested: bool | None, event_name: str) -> tuple[bool, str]:
    """Push or not, and why. `auto`: everything but pull requests is pushed.

    A pull request's code has not been reviewed yet; its image is built (so a
    broken Dockerfile fails the check) but not published.
    """
    if requested is not None:
        return requested, "push: true" if requested else "push: false"
    if event_name in PULL_REQUEST_EVENTS:
        return False, f"{event_name} builds are not pushed (push: auto)"
    return True, "push: auto"


def normalise_registry(host: str) -> str:
    """A registry as users write it (`https://ghcr.io/`, `index.docker.io`) -> image host form."""
    text = host.strip().lower()
    for scheme in ("https://", "http://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    text = text.split("/", 1)[0]
    return DOCKER_HUB if text in _HUB_ALIASES else text


def login_hosts(images: tuple[ImageName, ...], registry: str = "") -> tuple[str, ...]:
    """Registry hosts to log in to with the one username/password pair.

    Without `registry`, the credentials are for every image's host; with it,
    for that host only (the others use the docker config, or no auth). A
    `registry` that no image lives on is a mistake worth stopping on.
    """
    hosts = tuple(dict.fromkeys(image.registry for image in images))
    if not registry.strip():
        return hosts
    wanted = normalise_registry(registry)
    if wanted not in hosts:
        raise InvalidBuildInput(
            f"registry {registry.strip()!r} is not the host of any image (images are on "
            f"{', '.join(hosts)})"
        )
    return (wanted,)


def check_credentials(username: str, password: str) -> bool:
    """True when credentials are given; one without the other is an input error."""
    if bool(username) != bool(password):
        given, missing = ("username", "password") if username else ("password", "username")
        raise InvalidBuildInput(
            f"registry {given} given without a {missing} "
            "(set both GITOPS_REGISTRY_USERNAME and GITOPS_REGISTRY_PASSWORD)"
        )
    return bool(username)


def source_url(server_url: str, repository: str) -> str:
    """`https://github.com/owner/repo` for the source label ('' outside Actions)."""
    if not repository:
        return ""
    return f"{(server_url or 'https://github.com').rstrip('/')}/{repository}"


def rfc3339(epoch_seconds: float) -> str:
    """UTC RFC 3339 with a `Z`, to the second (what OCI's `created` label wants)."""
    moment = datetime.fromtimestamp(int(epoch_seconds), tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def oci_labels(plan: TagPlan, *, source: str, created: str) -> dict[str, str]:
    """The OCI labels `ci run` sets: source, revision, version, created."""
    labels: dict[str, str] = {}
    if source:
        labels[SOURCE_LABEL] = source
    labels.update(plan.labels)
    labels[CREATED_LABEL] = created
    return labels
