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
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class BuildSpec:
    """Everything the engine needs for one build (paths already resolved)."""

    context: str
    dockerfile: str
    tag: str
    """The first `IMAGE:TAG`; the others are added with `docker tag` after the build."""
    build_args: dict[str, str] = field(default_factory=dict)
    target: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    platform: str = ""


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


def split_platform_list(values: tuple[str, ...]) -> tuple[str, ...]:
    """Platforms given one per line and/or comma-separated (as docker actions take them)."""
    items = (item.strip() for value in values for item in value.split(","))
    return tuple(dict.fromkeys(item for item in items if item))


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


def check_platform_count(platforms: tuple[str, ...]) -> Platform | None:
    """The one platform asked for (None: the engine's own); several need BuildKit.

    Checked before the tests run: no engine is needed to know that the legacy
    builder the docker SDK drives builds one platform per build.
    """
    if not platforms:
        return None
    parsed = [parse_platform(text) for text in platforms]
    if len(parsed) > 1:
        names = ", ".join(str(p) for p in parsed)
        raise InvalidBuildInput(
            f"platforms {names}: a multi-platform image needs buildx/BuildKit; the docker "
            "engine's legacy builder used here builds only the engine's own platform "
            "(use docker/setup-buildx-action and docker/build-push-action for this)"
        )
    return parsed[0]


def match_engine_platform(requested: Platform | None, engine_os: str, engine_arch: str) -> str:
    """The platform to pass to the build: the request if the engine can build it natively."""
    engine = parse_platform(f"{engine_os}/{engine_arch}")
    if requested is None:
        return ""
    if requested != engine:
        raise InvalidBuildInput(
            f"platform {requested} needs buildx/BuildKit (or QEMU emulation): the docker "
            f"engine's legacy builder used here builds only its own platform, {engine}"
        )
    return str(requested)


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


_ESCAPE_DIRECTIVE = re.compile(r"#\s*escape\s*=\s*(\S)\s*$", re.IGNORECASE)


def dockerfile_with_labels(text: str, labels: dict[str, str]) -> str | None:
    """The Dockerfile with all `labels` in ONE `LABEL` line at its end, or None.

    Why: the classic builder turns the build API's `labels` into one LABEL
    step per label, and each step creates and commits a container (about
    60 ms each on a small machine): four OCI labels cost more than building
    a small image. One appended line costs one step. Appending lands on the
    last stage, which is what the API's labels do when no target is set (the
    caller keeps the API route for `--target`). None when appending is not
    safe: a non-default escape character (the quoting below assumes `\\`),
    a last line that continues, or a value with a line break.
    """
    if not labels or any("\n" in v or "\r" in v for v in (*labels, *labels.values())):
        return None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        directive = _ESCAPE_DIRECTIVE.fullmatch(stripped)
        if directive and directive.group(1) != "\\":
            return None
    meaningful = [
        line.rstrip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if meaningful and meaningful[-1].endswith("\\"):
        return None
    pairs = " ".join(f"{_quote(key)}={_quote(value)}" for key, value in sorted(labels.items()))
    separator = "" if text.endswith("\n") or not text else "\n"
    return f"{text}{separator}LABEL {pairs}\n"


def _quote(text: str) -> str:
    """A double-quoted Dockerfile word: no variable expansion, no word splitting."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'
