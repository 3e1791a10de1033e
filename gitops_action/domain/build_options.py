"""The BuildKit inputs of `ci run` (docker/build-push-action's names), checked as data.

platforms, cache-from / cache-to, secrets / secret-files, provenance, sbom,
labels, annotations, build-contexts, no-cache, pull. Each is checked before
the tests run, so a typo stops the run in milliseconds; an error names the
input and the line (never a secret's value: a build secret's line is named by
its number only). The values are then handed to `docker buildx build` in its
own syntax, unchanged.

Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gitops_action.domain.build_inputs import parse_platform
from gitops_action.domain.errors import InvalidBuildInput

CACHE_TYPES = ("registry", "local", "inline", "gha", "s3", "azblob")
"""Cache backends buildx knows (`type=`); anything else is refused by name."""

_ID = re.compile(r"[A-Za-z0-9_.-]+")
_LABEL_KEY = re.compile(r"[^\s=]+")
_ANNOTATION_KEY = re.compile(r"(?:[a-z-]+(?:\[[^\]]*\])?:)?[^\s=:]+[^\s=]*")
_CONTEXT_NAME = re.compile(r"[A-Za-z0-9_./:@-]+")
_TRUE = frozenset({"true", "1", "yes", "on"})


@dataclass(frozen=True)
class BuildOptions:
    """The BuildKit inputs, checked; strings are buildx's own syntax."""

    platforms: tuple[str, ...] = ()
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    secrets: dict[str, str] = field(default_factory=dict)
    """Build secret id -> value (masked, passed to buildx through its environment)."""
    secret_files: dict[str, str] = field(default_factory=dict)
    """Build secret id -> file path (relative to the workspace)."""
    provenance: str = ""
    sbom: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: tuple[str, ...] = ()
    build_contexts: dict[str, str] = field(default_factory=dict)
    no_cache: bool = False
    pull: bool = False
    network: str = ""
    """`--network` for RUN steps (default, none, host), as build-push-action's `network`."""

    def needs_buildx(self) -> list[str]:
        """Inputs that `DOCKER_BUILDKIT=1 docker build` on the engine cannot honour."""
        named = {
            "platforms (more than one)": len(self.platforms) > 1,
            "cache-to (other than type=inline)": any(
                cache_type(v) != "inline" for v in self.cache_to
            ),
            "provenance": bool(self.provenance) and self.provenance != "false",
            "sbom": bool(self.sbom) and self.sbom != "false",
            "annotations": bool(self.annotations),
            "build-contexts": bool(self.build_contexts),
        }
        return [name for name, used in named.items() if used]


@dataclass(frozen=True)
class RawBuildOptions:
    """The inputs as given: one string per line of a multi-line input."""

    platforms: tuple[str, ...] = ()
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    secret_files: tuple[str, ...] = ()
    provenance: str = ""
    sbom: str = ""
    labels: tuple[str, ...] = ()
    annotations: tuple[str, ...] = ()
    build_contexts: tuple[str, ...] = ()
    no_cache: bool = False
    pull: bool = False
    network: str = ""


def parse_build_options(raw: RawBuildOptions) -> BuildOptions:
    """Check every BuildKit input; raise `InvalidBuildInput` naming the first bad one."""
    return BuildOptions(
        platforms=parse_platforms(raw.platforms),
        cache_from=tuple(check_cache("cache-from", v) for v in _lines(raw.cache_from)),
        cache_to=tuple(check_cache("cache-to", v) for v in _lines(raw.cache_to)),
        secrets=parse_secrets(raw.secrets),
        secret_files=_pairs("secret-files", raw.secret_files, _ID, "id=path", secret=False),
        provenance=check_attestation("provenance", raw.provenance),
        sbom=check_attestation("sbom", raw.sbom),
        labels=_pairs("labels", raw.labels, _LABEL_KEY, "key=value", secret=False),
        annotations=tuple(check_annotation(v) for v in _lines(raw.annotations)),
        build_contexts=_pairs(
            "build-contexts", raw.build_contexts, _CONTEXT_NAME, "name=path", secret=False
        ),
        no_cache=raw.no_cache,
        pull=raw.pull,
        network=check_network(raw.network),
    )


def parse_platforms(values: tuple[str, ...]) -> tuple[str, ...]:
    """`linux/amd64,linux/arm64` (commas and/or lines) -> normalised, unique, in order."""
    items = (item.strip() for value in values for item in value.split(","))
    parsed = (str(parse_platform(item)) for item in items if item)
    return tuple(dict.fromkeys(parsed))


def cache_type(value: str) -> str:
    """The `type=` of a cache spec; a bare reference means `registry` (as in buildx)."""
    fields = dict(_csv(value))
    return fields.get("type", "registry" if "=" not in value else "")


def check_cache(name: str, value: str) -> str:
    """A cache-from/cache-to spec whose type buildx knows; an error names the input."""
    kind = cache_type(value)
    if kind not in CACHE_TYPES:
        shown = kind or "(none)"
        raise InvalidBuildInput(
            f"{name}: unknown cache type {shown!r} (expected type= one of {', '.join(CACHE_TYPES)})"
        )
    fields = dict(_csv(value))
    if kind == "registry" and "=" in value and not fields.get("ref"):
        raise InvalidBuildInput(f"{name}: type=registry needs ref=IMAGE:TAG")
    if kind == "local" and not fields.get("dest" if name == "cache-to" else "src"):
        need = "dest" if name == "cache-to" else "src"
        raise InvalidBuildInput(f"{name}: type=local needs {need}=DIR")
    return value


def parse_secrets(lines: tuple[str, ...]) -> dict[str, str]:
    """`id=value` lines (as build-push-action's `secrets`); named by line number only."""
    return _pairs("secrets", lines, _ID, "id=value", secret=True)


def check_attestation(name: str, value: str) -> str:
    """`provenance`/`sbom`: true, false, or buildx's `key=value,...` form."""
    text = value.strip()
    lowered = text.lower()
    if lowered in _TRUE:
        return "true"
    if lowered in ("false", "0", "no", "off"):
        return "false"
    if not text:
        return ""
    for key, _value in _csv(text):
        if not key:
            raise InvalidBuildInput(f"{name}: {text!r} is not true, false or key=value,...")
    return text


def check_network(value: str) -> str:
    """`network`: default, none or host (what BuildKit's RUN steps can use)."""
    text = value.strip()
    if text not in ("", "default", "none", "host"):
        raise InvalidBuildInput(f"network: {text!r} is not default, none or host")
    return text


def check_annotation(value: str) -> str:
    """`[type:]key=value` (buildx's `--annotation`)."""
    key, equals, _rest = value.partition("=")
    if not equals or _ANNOTATION_KEY.fullmatch(key.strip()) is None:
        raise InvalidBuildInput(f"annotations: {value!r} is not [type:]key=value")
    return value


def _pairs(
    name: str, lines: tuple[str, ...], key_pattern: re.Pattern[str], shape: str, *, secret: bool
) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for number, line in enumerate(_lines(lines), start=1):
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not key or key_pattern.fullmatch(key) is None:
            what = f"line {number}" if secret else f"{line!r}"
            head = shape.partition("=")[0]
            raise InvalidBuildInput(f"{name}: {what} is not {shape} (no {head})")
        pairs[key] = value if secret else value.strip()
    return pairs


def _lines(values: tuple[str, ...]) -> list[str]:
    return [line for value in values for line in value.splitlines() if line.strip()]


def _csv(value: str) -> list[tuple[str, str]]:
    """`a=b,c=d` -> [(a, b), (c, d)] (buildx's attribute lists; no quoting needed here)."""
    fields = []
    for part in value.split(","):
        key, _equals, item = part.partition("=")
        fields.append((key.strip(), item.strip()))
    return fields


@dataclass(frozen=True)
class BuildSpec:
    """Everything one build needs (paths already resolved, inputs checked)."""

    context: str
    dockerfile: str
    references: tuple[str, ...]
    """Every `IMAGE:TAG`: all named by the one build, so all get the one digest."""
    build_args: dict[str, str] = field(default_factory=dict)
    target: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    """Ours (OCI) and the user's `labels`; the user's win on the same key."""
    options: BuildOptions = field(default_factory=BuildOptions)
    secret_files: dict[str, str] = field(default_factory=dict)
    """Build secret id -> absolute path."""
    push: bool = False


@dataclass(frozen=True)
class BuildResult:
    """What a build reported: ids, the pushed digest, its metadata, the cache's share."""

    builder: str
    """`buildx (builder NAME, driver DRIVER)` or `docker build (engine BuildKit)`."""
    image_id: str
    digest: str = ""
    metadata: str = ""
    """The build's metadata JSON (buildx `--metadata-file`), compact; '' if none."""
    steps: int = 0
    cached_steps: int = 0


_STEP = re.compile(r"^#(\d+) \[(?!internal\]|auth\])[^\]]*\b\d+/\d+\] ")
_CACHED = re.compile(r"^#(\d+) CACHED\s*$")


def count_steps(lines: list[str]) -> tuple[int, int]:
    """(Dockerfile steps, steps taken from the cache) in BuildKit's plain progress log.

    A step is a vertex named `[stage n/m] INSTRUCTION` (`[internal]` loads
    are not steps); it came from the cache when the log says `#N CACHED`.
    """
    steps = {m.group(1) for m in map(_STEP.match, lines) if m}
    cached = {m.group(1) for m in map(_CACHED.match, lines) if m}
    return len(steps), len(steps & cached)


_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)\b(.*)$")


def runs_on_target_platform(dockerfile: str) -> bool:
    """True when a `RUN` step executes on the target platform (so needs it natively).

    A stage `FROM --platform=$BUILDPLATFORM ...` runs on the builder's own
    platform (cross-compilation), so its `RUN`s need no emulation; any other
    stage's `RUN` executes binaries of the target platform. A Dockerfile
    without such a `RUN` (`COPY`-only) builds for any platform anywhere.
    """
    on_build_platform = False
    for line in dockerfile.splitlines():
        match = _INSTRUCTION.match(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        word, rest = match.group(1).upper(), match.group(2)
        if word == "FROM":
            on_build_platform = "$BUILDPLATFORM" in rest or "${BUILDPLATFORM}" in rest
        elif word == "RUN" and not on_build_platform:
            return True
    return False
