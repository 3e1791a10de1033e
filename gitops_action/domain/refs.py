"""Image references: the docker reference grammar, parsed and normalised.

`ci tags` must refuse an `--image` that docker would refuse *before* a build
runs for minutes and fails at push time, and the registry client needs the same
split (registry host, repository path) to know where to send requests. Both use
this module so the two halves agree on what an image name means.

The grammar is the one CNCF Distribution (`distribution/reference`) defines:

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component ( "/" path-component )*
    domain     := host [ ":" port ]        host: DNS name or [IPv6]
    component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}

The first path element is a registry host only when it looks like one (has a
`.` or `:`, is `localhost`, or has upper-case letters); otherwise the image
lives on Docker Hub, where a one-element path means `library/<name>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitops_action.domain.errors import InvalidImageReference

DOCKER_HUB = "docker.io"
"""The canonical name of Docker Hub in image references."""

DOCKER_HUB_API = "registry-1.docker.io"
"""Where Docker Hub's registry API actually answers (`docker.io` does not)."""

_LEGACY_HUB_NAMES = frozenset({"index.docker.io", "registry-1.docker.io"})
NAME_MAX = 255
TAG_MAX = 128

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_DOMAIN_LABEL = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_HOST = rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[A-Fa-f0-9:]+\])"
_DOMAIN_RE = re.compile(rf"{_HOST}(?::[0-9]+)?")
TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
"""A valid image tag (docker's `[\\w][\\w.-]{0,127}`, ASCII only)."""
_DIGEST_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")


@dataclass(frozen=True)
class ImageName:
    """An image repository without tag or digest.

    `original` is what the user wrote (used verbatim when printing
    `IMAGE:TAG`, so output matches the input); `registry` and `path` are the
    normalised parts (`docker.io`, `library/alpine`) used to talk to a registry.
    """

    original: str
    registry: str
    path: str

    @property
    def canonical(self) -> str:
        """The fully qualified name, e.g. `docker.io/library/alpine`."""
        return f"{self.registry}/{self.path}"

    @property
    def is_docker_hub(self) -> bool:
        return self.registry == DOCKER_HUB

    @property
    def api_host(self) -> str:
        """The host[:port] whose `/v2/` API serves this repository."""
        return DOCKER_HUB_API if self.is_docker_hub else self.registry

    def with_tag(self, tag: str) -> str:
        """`IMAGE:TAG` as the user wrote the image; the tag must be valid."""
        if not is_valid_tag(tag):
            raise InvalidImageReference(f"tag {tag!r} for image {self.original!r} is not valid")
        return f"{self.original}:{tag}"


@dataclass(frozen=True)
class ImageReference:
    """A parsed `name[:tag][@digest]` reference."""

    name: ImageName
    tag: str | None
    digest: str | None


def is_valid_tag(tag: str) -> bool:
    """True when docker accepts `tag` as an image tag."""
    return TAG_RE.fullmatch(tag) is not None


def parse_image_name(text: str) -> ImageName:
    """Parse an image repository name; a tag or digest is an error here.

    `--image` names where to push, and the tags are computed, so an image that
    already carries a tag or digest is a mistake worth stopping on.
    """
    reference = parse_image_reference(text)
    if reference.digest is not None:
        raise InvalidImageReference(f"image {text!r} must not carry a digest (@{reference.digest})")
    if reference.tag is not None:
        raise InvalidImageReference(f"image {text!r} must not carry a tag (:{reference.tag})")
    return reference.name


def parse_image_reference(text: str) -> ImageReference:
    """Parse `name[:tag][@digest]` by the docker reference grammar."""
    if not text or text != text.strip():
        raise InvalidImageReference(f"image reference {text!r} is empty or has spaces around it")
    remainder, digest = _split_digest(text)
    name_text, tag = _split_tag(remainder, text)
    return ImageReference(name=_parse_name(name_text, text), tag=tag, digest=digest)


def _split_digest(text: str) -> tuple[str, str | None]:
    name, at, digest = text.partition("@")
    if not at:
        return text, None
    if _DIGEST_RE.fullmatch(digest) is None:
        raise InvalidImageReference(f"image reference {text!r} has an invalid digest {digest!r}")
    return name, digest


def _split_tag(text: str, whole: str) -> tuple[str, str | None]:
    """A `:` after the last `/` starts the tag; one before it is a port."""
    colon = text.rfind(":")
    if colon <= text.rfind("/"):
        return text, None
    tag = text[colon + 1 :]
    if not is_valid_tag(tag):
        raise InvalidImageReference(f"image reference {whole!r} has an invalid tag {tag!r}")
    return text[:colon], tag


def _parse_name(name: str, whole: str) -> ImageName:
    if len(name) > NAME_MAX:
        raise InvalidImageReference(
            f"image name {whole!r} is {len(name)} characters long (at most {NAME_MAX})"
        )
    registry, path = split_registry(name)
    if registry is not None and _DOMAIN_RE.fullmatch(registry) is None:
        raise InvalidImageReference(f"image {whole!r} has an invalid registry host {registry!r}")
    if _PATH_RE.fullmatch(path) is None:
        raise InvalidImageReference(
            f"image {whole!r} has an invalid repository path {path!r}: path components are "
            "lower-case letters and digits joined by '.', '_', '__' or '-', separated by '/'"
        )
    if registry is None or registry in _LEGACY_HUB_NAMES:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return ImageName(original=name, registry=registry, path=path)


def split_registry(name: str) -> tuple[str | None, str]:
    """Split `host[:port]/path` the way docker does; `None` when there is no host.

    The first element is a host only if it has a `.` or `:`, is `localhost`,
    or is not all lower-case (repository paths must be lower-case, so such a
    name could not be a path anyway).
    """
    first, slash, rest = name.partition("/")
    if not slash:
        return None, name
    if "." in first or ":" in first or first == "localhost" or first.lower() != first:
        return first, rest
    return None, name
