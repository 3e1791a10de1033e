"""Flux setter markers: what `# {"$imagepolicy": "ns:name"}` means, and the edit it asks for.

A marker is the line comment of a scalar (a mapping value or a sequence item),
read as JSON after its leading `#`s, exactly as Flux's image-automation-controller
reads it. `"ns:name"` sets the whole `IMAGE:TAG`, `"ns:name:tag"` only the tag,
`"ns:name:name"` only the image name.

This module is pure: the YAML adapter finds the scalars and their offsets
(`ScalarSpan`), and everything else is decided here on the text itself, so
that only the marked scalar's characters ever change. Comments, quoting of
other scalars, CRLF line ends, `---` separators and block scalars are never
re-emitted by a serializer, because none is used.

The outcome is data (`Change`, `FilePlan`, `UpdateResult`), like Flux's
update `Result`: commit messages, summaries, `--dry-run` diffs and JSON output
are all rendered from it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from gitops_action.domain.errors import InvalidImageReference, InvalidManifest, InvalidSetting
from gitops_action.domain.refs import is_valid_tag, parse_image_name

MARKER_KEY = "$imagepolicy"
# Files whose bytes lack this are never decoded or parsed (the fast path).
MARKER_BYTES = MARKER_KEY.encode()


class MarkerField(StrEnum):
    """Which part of the image reference a marker sets."""

    FULL = "full"  # IMAGE:TAG, or IMAGE:TAG@DIGEST when the policy has a digest
    TAG = "tag"
    NAME = "name"
    DIGEST = "digest"


class ScalarStyle(StrEnum):
    """How a scalar is written in the file (PyYAML's style letters)."""

    PLAIN = ""
    SINGLE = "'"
    DOUBLE = '"'
    LITERAL = "|"
    FOLDED = ">"

    @property
    def is_block(self) -> bool:
        return self in (ScalarStyle.LITERAL, ScalarStyle.FOLDED)


@dataclass(frozen=True, order=True)
class PolicyRef:
    """An ImagePolicy by namespace and name; printed the way markers write it."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}:{self.name}"


@dataclass(frozen=True)
class Marker:
    """A parsed `$imagepolicy` comment."""

    policy: PolicyRef
    field: MarkerField


@dataclass(frozen=True)
class ImageSetting:
    """The image a policy selected (`--set NS:NAME=IMAGE:TAG[@DIGEST]`).

    `digest` is set when the ImagePolicy reflects digests
    (``digestReflectionPolicy`` IfNotPresent or Always); as in Flux, the full
    marker then holds ``IMAGE:TAG@DIGEST`` and ``:digest`` markers the digest.
    """

    policy: PolicyRef
    image: str
    tag: str
    digest: str = ""

    @property
    def ref(self) -> str:
        text = f"{self.image}:{self.tag}"
        return f"{text}@{self.digest}" if self.digest else text

    def value_for(self, field: MarkerField) -> str | None:
        """The text a marker of this `field` should hold (None: no digest known)."""
        if field is MarkerField.TAG:
            return self.tag
        if field is MarkerField.NAME:
            return self.image
        if field is MarkerField.DIGEST:
            return self.digest or None
        return self.ref


@dataclass(frozen=True, order=True)
class ObjectRef:
    """The Kubernetes object (YAML document) a marker lives in, for per-object reports."""

    kind: str
    namespace: str
    name: str
    api_version: str = ""

    def __str__(self) -> str:
        return "/".join(part for part in (self.kind, self.namespace, self.name) if part)


class ScalarSpan(NamedTuple):
    """A mapping value or sequence item as the YAML adapter found it.

    `start`/`end` are offsets into the decoded text covering exactly the scalar's
    own characters (quotes included, anchors and tags excluded); lines are 1-based.
    A named tuple, not a dataclass: a manifest has thousands of scalars and
    only a few are marked, so building these must cost next to nothing.
    """

    start: int
    end: int
    line: int
    end_line: int
    style: ScalarStyle
    value: str
    obj: ObjectRef | None = None


@dataclass(frozen=True)
class Change:
    """One marked scalar that gets a new value."""

    file: str
    line: int
    policy: PolicyRef
    field: MarkerField
    old: str
    new: str
    image: str  # the full IMAGE:TAG the policy selected
    obj: ObjectRef | None = None

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready view (the `--output json` element)."""
        return {
            "file": self.file,
            "line": self.line,
            "policy": str(self.policy),
            "field": str(self.field),
            "old": self.old,
            "new": self.new,
            "image": self.image,
            "object": None
            if self.obj is None
            else {
                "apiVersion": self.obj.api_version,
                "kind": self.obj.kind,
                "namespace": self.obj.namespace,
                "name": self.obj.name,
            },
        }


@dataclass(frozen=True)
class FilePlan:
    """One file's text before and after its markers are applied."""

    file: str
    before: str
    after: str
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    """Comments that mention $imagepolicy but are not markers, each file:line: why."""

    @property
    def changed(self) -> bool:
        return self.after != self.before


@dataclass(frozen=True)
class UpdateResult:
    """Every change an update made (or would make), ordered by file then line."""

    changes: tuple[Change, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changes)

    @property
    def files(self) -> dict[str, tuple[Change, ...]]:
        """file -> its changes, files in order."""
        grouped: dict[str, list[Change]] = {}
        for change in self.changes:
            grouped.setdefault(change.file, []).append(change)
        return {file: tuple(changes) for file, changes in grouped.items()}

    @property
    def objects(self) -> dict[tuple[str, ObjectRef | None], tuple[Change, ...]]:
        """(file, object) -> its changes, for per-object commit messages."""
        grouped: dict[tuple[str, ObjectRef | None], list[Change]] = {}
        for change in self.changes:
            grouped.setdefault((change.file, change.obj), []).append(change)
        return {key: tuple(changes) for key, changes in grouped.items()}

    @property
    def images(self) -> tuple[str, ...]:
        """The distinct IMAGE:TAG references written (Flux's `.Updated.Images`)."""
        return tuple(sorted({change.image for change in self.changes}))

    @property
    def policies(self) -> tuple[PolicyRef, ...]:
        return tuple(sorted({change.policy for change in self.changes}))

    @classmethod
    def of(cls, plans: Iterable[FilePlan]) -> UpdateResult:
        ordered = sorted(plans, key=lambda plan: plan.file)
        return cls(tuple(change for plan in ordered for change in plan.changes))


# --- reading markers and settings --------------------------------------------------

_POLICY_PART = re.compile(r"[^\s:=]+")


def _policy_ref(parts: Sequence[str]) -> PolicyRef | None:
    if len(parts) == 2 and all(_POLICY_PART.fullmatch(part) for part in parts):
        return PolicyRef(parts[0], parts[1])
    return None


_MAX_MARKER_BRACKETS = 64
"""A marker is one flat object; a comment with more brackets is not one, and JSON
nested thousands deep would overflow the decoder's recursion (exit 3)."""


def parse_marker(comment: str, where: str) -> Marker | None:
    """Read a line comment (from its first `#`) as a marker.

    Returns None when the comment does not mention `$imagepolicy` (an ordinary
    comment). A comment that mentions it but is not a well-formed marker raises
    `InvalidManifest` naming `where` (file:line): silently skipping it would
    leave an image un-updated with no hint why.
    """
    body = comment.lstrip("#").strip()
    if MARKER_KEY not in body:
        return None
    if body.count("[") + body.count("{") > _MAX_MARKER_BRACKETS:  # json.loads would recurse
        raise InvalidManifest(f"{where}: marker is not valid JSON: nested too deeply")
    try:
        data = json.loads(body)
    except json.JSONDecodeError as err:
        raise InvalidManifest(
            f"{where}: marker is not valid JSON: {err.msg} at character {err.pos + 1}"
        ) from err
    if not isinstance(data, dict):
        raise InvalidManifest(f"{where}: marker is not a JSON object")
    value = data.get(MARKER_KEY)
    if not isinstance(value, str):
        raise InvalidManifest(f'{where}: marker has no string "{MARKER_KEY}" value')
    parts = value.split(":")
    field = MarkerField.FULL
    if len(parts) == 3 and parts[2] in (MarkerField.TAG, MarkerField.NAME, MarkerField.DIGEST):
        field = MarkerField(parts[2])
        parts = parts[:2]
    policy = _policy_ref(parts)
    if policy is None:
        hint = " (the namespace is required)" if len(parts) == 1 else ""
        raise InvalidManifest(
            f'{where}: marker "{MARKER_KEY}" value {value!r} is not '
            f"ns:name[:tag|:name|:digest]{hint}"
        )
    return Marker(policy, field)


_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


def parse_setting(text: str) -> ImageSetting:
    """Read `NS:NAME=IMAGE:TAG[@DIGEST]`; IMAGE:TAG splits at the last `:` (ports stay in IMAGE)."""
    policy_text, equals, ref = text.partition("=")
    ref, at, digest = ref.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise InvalidSetting(f"--set {text!r}: {digest!r} is not a digest (sha256:<64 hex>)")
    if not equals:
        raise InvalidSetting(f"--set {text!r}: expected NS:NAME=IMAGE:TAG")
    policy = _policy_ref(policy_text.split(":"))
    if policy is None:
        raise InvalidSetting(
            f"--set {text!r}: {policy_text!r} is not NS:NAME (the namespace is required)"
        )
    image, colon, tag = ref.rpartition(":")
    if not colon or not is_valid_tag(tag):
        raise InvalidSetting(f"--set {text!r}: {ref!r} has no tag (expected IMAGE:TAG)")
    try:
        parse_image_name(image)
    except InvalidImageReference as err:
        raise InvalidSetting(f"--set {text!r}: {err}") from err
    return ImageSetting(policy, image, tag, digest)


def index_settings(settings: Iterable[ImageSetting]) -> dict[PolicyRef, ImageSetting]:
    """Settings by policy; the same policy set twice to different images is an error."""
    index: dict[PolicyRef, ImageSetting] = {}
    for setting in settings:
        known = index.setdefault(setting.policy, setting)
        if known != setting:
            raise InvalidSetting(
                f"--set {setting.policy}: given twice ({known.ref} and {setting.ref})"
            )
    return index


# --- writing a scalar back ----------------------------------------------------------

# Plain scalars that a YAML 1.1 (PyYAML, go-yaml v2) or 1.2 core (go-yaml v3)
# reader would NOT read back as a string: null, bool, int, float, timestamp,
# merge key, PyYAML's `=`. The union of both schemas, so Kubernetes tooling and
# Python tooling alike read the value as the string we meant.
_NON_STRING = re.compile(
    r"""
    ~ | null | Null | NULL
    | [yYnN] | yes | Yes | YES | no | No | NO | true | True | TRUE | false | False | FALSE
    | on | On | ON | off | Off | OFF
    | [-+]?0b[01_]+ | [-+]?0o[0-7_]+ | [-+]?0x[0-9a-fA-F_]+ | [-+]?[0-9][0-9_]*
    | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    | [-+]?(?:\.[0-9][0-9_]* | [0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    | [0-9]{4}-[0-9]{2}-[0-9]{2}
    | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[\ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?
      (?:[\ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?
    | << | =
    """,
    re.VERBOSE,
)
# Characters that are plain-safe anywhere (block or flow context) when there is
# no space: no indicator can start, no `: `/` #` can appear, no flow punctuation.
_SAFE_PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./+~=@:-]*")
_NAMED_ESCAPES = {'"': '\\"', "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"}


def needs_quotes(value: str) -> bool:
    """Whether `value` written as a plain scalar would not read back as this string."""
    if not _SAFE_PLAIN.fullmatch(value) or value.endswith(":"):
        return True
    return _NON_STRING.fullmatch(value) is not None


def _must_escape(char: str) -> bool:
    code = ord(char)
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xDFFF
        or char in "\u2028\u2029\ufeff\ufffe\uffff"
    )


def _double_quoted(value: str) -> str:
    out = []
    for char in value:
        if char in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[char])
        elif _must_escape(char):
            code = ord(char)
            out.append(f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def render_scalar(value: str, style: ScalarStyle) -> str:
    """`value` written in `style`, falling back to double quotes where needed.

    A plain scalar stays plain unless it would then read as something else
    (`1.10`, `true`, `20240101`); single quotes stay single unless the value
    holds characters only double quotes can escape.
    """
    if style is ScalarStyle.SINGLE and not any(_must_escape(char) for char in value):
        return "'" + value.replace("'", "''") + "'"
    if style is ScalarStyle.PLAIN and not needs_quotes(value):
        return value
    return _double_quoted(value)


# --- planning a file ----------------------------------------------------------------

# A comment needs a space or tab before its `#`; it runs to the end of the line.
_LINE_COMMENT = re.compile(r"[ \t]+(#[^\r\n\x85\u2028\u2029]*)")


def line_comment(text: str, end: int) -> str | None:
    """The comment that follows offset `end` on the same line, if nothing else does."""
    match = _LINE_COMMENT.match(text, end)
    return match.group(1).rstrip() if match else None


def plan_file(
    file: str,
    text: str,
    spans: Iterable[ScalarSpan],
    settings: Mapping[PolicyRef, ImageSetting],
    *,
    strict: bool = False,
) -> FilePlan:
    """Plan one file: every marked scalar whose policy is set and whose value differs.

    Block scalars are never markers (text inside them that looks like a marker
    is content), nor are empty scalars (there is nothing to rewrite in place).
    As in Flux, a comment that mentions `$imagepolicy` but is not a marker
    (not setter JSON, no namespace) is skipped, with a warning in the plan;
    `strict` makes it an `InvalidManifest` instead (lint mode).
    """
    edits: list[tuple[ScalarSpan, str]] = []
    changes: list[Change] = []
    warnings: list[str] = []
    seen: set[int] = set()
    for span in sorted(spans, key=lambda span: span.start):
        if span.start in seen or span.style.is_block or span.start == span.end:
            continue  # aliases repeat their anchor's scalar
        seen.add(span.start)
        marker = _marker_at(text, span, file, warnings, strict=strict)
        setting = None if marker is None else settings.get(marker.policy)
        if marker is None or setting is None:
            continue
        new = setting.value_for(marker.field)
        if new is None:
            warnings.append(
                f"{file}:{span.end_line}: digest marker of {marker.policy} left as is: "
                "the policy has no digest (digestReflectionPolicy Never)"
            )
            continue
        if new == span.value:
            continue
        edits.append((span, render_scalar(new, span.style)))
        changes.append(
            Change(
                file,
                span.end_line,
                marker.policy,
                marker.field,
                span.value,
                new,
                setting.ref,
                span.obj,
            )
        )
    return FilePlan(file, text, _splice(text, edits), tuple(changes), tuple(warnings))


def _marker_at(
    text: str, span: ScalarSpan, file: str, warnings: list[str], *, strict: bool
) -> Marker | None:
    comment = line_comment(text, span.end)
    if comment is None:
        return None
    try:
        return parse_marker(comment, f"{file}:{span.end_line}")
    except InvalidManifest as err:
        if strict:
            raise
        warnings.append(f"{err} (not a marker: skipped)")
        return None


def _splice(text: str, edits: Sequence[tuple[ScalarSpan, str]]) -> str:
    pieces: list[str] = []
    position = 0
    for span, replacement in edits:  # in offset order, never overlapping
        pieces += [text[position : span.start], replacement]
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)


# --- rendering ----------------------------------------------------------------------


# Lines as git sees them: split after `\n` only (str.splitlines also splits on
# form feeds and Unicode separators, which would misnumber the hunks).
_LINES = re.compile(r"[^\n]*\n|[^\n]+")


def unified_diff(plans: Iterable[FilePlan]) -> str:
    """A git-style unified diff (`a/`, `b/` paths) of every changed file."""
    out: list[str] = []
    for plan in sorted(plans, key=lambda plan: plan.file):
        if not plan.changed:
            continue
        lines = difflib.unified_diff(
            _LINES.findall(plan.before),
            _LINES.findall(plan.after),
            fromfile=f"a/{plan.file}",
            tofile=f"b/{plan.file}",
        )
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
