"""Which image tags a CI build pushes, from the git ref and commit (DESIGN.md §3).

The CD half selects tags with Flux ImagePolicy semantics, so the CI half must
push exactly the tags such a policy can select: a release tag `v1.2.3` is
pushed verbatim (one leading `v` is what Flux strips before reading SemVer),
and build metadata is dropped (`+` is not allowed in an image tag, and turning
it into `-` would make a prerelease the policy never picks). Every build also
gets an immutable `sha-<7 hex>` tag so any image can be traced to its commit.

This module only computes; it returns a `TagPlan` that the CLI renders as text
or JSON and `ci run` uses for the build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gitops_action.domain.errors import InvalidGitRef
from gitops_action.domain.refs import TAG_MAX, ImageName, is_valid_tag
from gitops_action.domain.versions import Version, parse_tag

LatestMode = Literal["auto", "true", "false"]
RefKind = Literal["tag", "branch", "pull_request"]

LATEST = "latest"
VERSION_LABEL = "org.opencontainers.image.version"
REVISION_LABEL = "org.opencontainers.image.revision"
SHA_TAG_PREFIX = "sha-"
SHORT_SHA = 7

_SHA_RE = re.compile(r"[0-9a-fA-F]{7,64}")
_PULL_RE = re.compile(r"refs/pull/([1-9][0-9]*)/(?:merge|head)")
_NOT_TAG_CHAR = re.compile(r"[^A-Za-z0-9_.-]")
_UNSAFE_IN_REF = re.compile(r"[\x00-\x20\x7f]")
_NAMED_REFS: tuple[tuple[str, RefKind], ...] = (("refs/tags/", "tag"), ("refs/heads/", "branch"))


@dataclass(frozen=True)
class GitRef:
    """A full git ref classified: a tag, a branch, or a pull request."""

    ref: str
    kind: RefKind
    name: str
    """Tag name, branch name, or pull request number."""


@dataclass(frozen=True)
class TagPlan:
    """Everything `ci tags` decided, as data."""

    ref: GitRef
    sha: str
    tags: tuple[str, ...]
    version: str
    """The full version for the `org.opencontainers.image.version` label."""
    semver: bool
    prerelease: bool
    latest: bool
    latest_reason: str

    @property
    def labels(self) -> dict[str, str]:
        """OCI labels that describe what was built from where."""
        return {VERSION_LABEL: self.version, REVISION_LABEL: self.sha}

    def references(self, images: tuple[ImageName, ...]) -> list[str]:
        """`IMAGE:TAG` for every image and tag, images outer, in tag order."""
        return [image.with_tag(tag) for image in images for tag in self.tags]

    def document(self, images: tuple[ImageName, ...]) -> dict[str, object]:
        """The `ci tags --output json` document (JSON-ready; `ci run` reports it too)."""
        return {
            "ref": self.ref.ref,
            "kind": self.ref.kind,
            "sha": self.sha,
            "version": self.version,
            "semver": self.semver,
            "prerelease": self.prerelease,
            "latest": self.latest,
            "latest_reason": self.latest_reason,
            "tags": list(self.tags),
            "images": [image.original for image in images],
            "references": self.references(images),
            "labels": self.labels,
        }


def parse_ref(ref: str) -> GitRef:
    """Classify a full git ref (`refs/tags/...`, `refs/heads/...`, `refs/pull/N/merge`).

    `refs/pull/N/head` is accepted too: it names the same pull request.
    """
    if not ref or _UNSAFE_IN_REF.search(ref):
        raise InvalidGitRef(f"git ref {ref!r} is empty or contains spaces or control characters")
    for prefix, kind in _NAMED_REFS:
        if ref.startswith(prefix):
            name = ref[len(prefix) :]
            if not name:
                raise InvalidGitRef(f"git ref {ref!r} names no {kind}")
            return GitRef(ref=ref, kind=kind, name=name)
    pull = _PULL_RE.fullmatch(ref)
    if pull:
        return GitRef(ref=ref, kind="pull_request", name=pull.group(1))
    raise InvalidGitRef(
        f"git ref {ref!r} is not a tag, branch or pull request ref "
        "(refs/tags/T, refs/heads/B, refs/pull/N/merge)"
    )


def parse_sha(sha: str) -> str:
    """A commit SHA (7 to 64 hex digits), lower-cased; the full one is best."""
    if _SHA_RE.fullmatch(sha) is None:
        raise InvalidGitRef(f"commit SHA {sha!r} is not 7 to 64 hexadecimal digits")
    return sha.lower()


def flux_semver(tag: str) -> Version | None:
    """The version Flux reads in `tag`, or None when it is not a version.

    One leading lower-case `v` is removed; the rest must be strict SemVer 2.0
    (`1.2`, `01.2.3`, `V1.2.3` are not versions). This is the very function
    `policy select` uses, so CI pushes exactly what the CD half can select.
    """
    return parse_tag(tag)


def sanitise_tag(name: str) -> str:
    """Make `name` a valid image tag: the rule for branch and non-semver tag names.

    Every character outside `[A-Za-z0-9_.-]` becomes `-`, leading `.` and `-`
    are removed (a tag must start with a word character) and the result is cut
    to 128 characters. A name with nothing left (say a branch named `ü`) gets
    `_` and the hex of its UTF-8 bytes, so it stays valid and distinct.
    """
    tag = _NOT_TAG_CHAR.sub("-", name).lstrip(".-")[:TAG_MAX]
    if not tag:
        tag = ("_" + name.encode("utf-8").hex())[:TAG_MAX]
    return tag


def plan_tags(ref: str, sha: str, latest: LatestMode = "auto") -> TagPlan:
    """Decide the tags for a build of `sha` at `ref`.

    `latest`: `auto` adds `latest` only for a tag that is a non-prerelease
    version; `true` adds it for any tag ref; `false` never. Branches and pull
    requests never get `latest`, whatever `latest` says: they are not releases.
    """
    if latest not in ("auto", "true", "false"):
        raise InvalidGitRef(f"latest mode {latest!r} is not auto, true or false")
    git_ref = parse_ref(ref)
    full_sha = parse_sha(sha)
    sha_tag = SHA_TAG_PREFIX + full_sha[:SHORT_SHA]
    if git_ref.kind == "tag":
        return _plan_for_tag(git_ref, full_sha, sha_tag, latest)
    primary = _non_release_tag(git_ref)
    reason = f"{git_ref.ref} is not a tag: only tags are released as latest"
    return TagPlan(
        ref=git_ref,
        sha=full_sha,
        tags=_unique((primary, sha_tag)),
        version=primary,
        semver=False,
        prerelease=False,
        latest=False,
        latest_reason=reason,
    )


def _plan_for_tag(git_ref: GitRef, sha: str, sha_tag: str, latest: LatestMode) -> TagPlan:
    version = flux_semver(git_ref.name)
    if version is None:
        primary = sanitise_tag(git_ref.name)
        prerelease = False
    else:
        primary = git_ref.name.split("+", 1)[0]  # drop build metadata, keep the `v`
        prerelease = version.is_prerelease
        if not is_valid_tag(primary):
            raise InvalidGitRef(
                f"tag {git_ref.name!r} is a version too long for an image tag "
                f"(at most {TAG_MAX} characters without build metadata)"
            )
    add_latest, reason = _latest_decision(git_ref.name, version, latest)
    tags = (primary, LATEST, sha_tag) if add_latest else (primary, sha_tag)
    return TagPlan(
        ref=git_ref,
        sha=sha,
        tags=_unique(tags),
        version=git_ref.name,
        semver=version is not None,
        prerelease=prerelease,
        latest=add_latest,
        latest_reason=reason,
    )


def _latest_decision(tag: str, version: Version | None, latest: LatestMode) -> tuple[bool, str]:
    if latest == "true":
        return True, "latest forced on"
    if latest == "false":
        return False, "latest forced off"
    if version is None:
        return False, f"tag {tag!r} is not a SemVer version"
    if version.is_prerelease:
        return False, f"tag {tag!r} is a prerelease"
    return True, f"tag {tag!r} is a release version"


def _non_release_tag(git_ref: GitRef) -> str:
    """`pr-N` for pull requests, the sanitised name for branches.

    A branch literally named `latest` becomes `branch-latest`: the `latest`
    tag belongs to releases only.
    """
    if git_ref.kind == "pull_request":
        return f"pr-{git_ref.name}"
    tag = sanitise_tag(git_ref.name)
    return "branch-latest" if tag == LATEST else tag


def _unique(tags: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tags))
