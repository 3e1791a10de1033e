"""Flux image automation config, parsed from plain dicts into typed, validated objects.

The config is the Flux YAML a user already has: ``image.toolkit.fluxcd.io``
`ImageRepository`, `ImagePolicy` and `ImageUpdateAutomation` objects, read
from git (never applied to a cluster). The YAML adapter hands each document
over as a `Document` (its dict plus where it came from); this module turns
them into a `FluxConfig` and validates everything at once, so a bad range,
regex, order, template, missing field, unknown kind or version, dangling
reference or duplicate object fails before any registry or git work, with a
message like::

    cluster/app-policy.yaml: document 1 (ImagePolicy flux-system/app):
    spec.policy.semver.range: invalid semver range 'banana': ...

API versions: ``v1beta1``, ``v1beta2`` and ``v1`` of each kind. Every version
is read with the newest version's fields (``exclusionList``, ``insecure``,
``provider``, ImagePolicy ``suspend``, ``policySelector``,
``messageTemplateValues``): a field an older Flux would drop takes effect
here. Unknown fields are ignored, as the API server prunes them.

A missing ``metadata.namespace`` is `DEFAULT_NAMESPACE` (``flux-system``).
Kubernetes itself would use the namespace of whoever applies the file
(kubectl's context namespace, or a Flux Kustomization's ``targetNamespace``;
kustomize-controller refuses a namespaced object that has neither). Flux's
``flux create ... --export`` always writes ``flux-system``, and that is where
the image controllers run, so it is the least surprising default; callers
can pass another.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from gitops_action.domain.config_fields import (
    Duration,
    Fields,
    LabelSelector,
    check_name,
)
from gitops_action.domain.errors import (
    InvalidConfig,
    InvalidImageReference,
    InvalidPattern,
    InvalidPolicy,
    InvalidRange,
)
from gitops_action.domain.markers import PolicyRef, UpdateResult
from gitops_action.domain.policies import (
    AlphabeticalPolicy,
    Exclusions,
    NumericalPolicy,
    Policy,
    Selection,
    SemverPolicy,
    TagFilter,
    compile_regex,
    parse_order,
    select_tag,
)
from gitops_action.domain.refs import ImageName, parse_image_name
from gitops_action.domain.template_data import template_data
from gitops_action.domain.templates import Template, parse_template

GROUP: Final = "image.toolkit.fluxcd.io"
"""The API group of the kinds read here (the loader's cheap byte filter looks for it)."""

VERSIONS: Final = ("v1beta1", "v1beta2", "v1")
DEFAULT_NAMESPACE: Final = "flux-system"
PROVIDERS: Final = ("generic", "aws", "azure", "gcp")
POLICY_KINDS: Final = ("semver", "alphabetical", "numerical")


@dataclass(frozen=True, order=True)
class ObjectKey:
    """An object's namespace and name; prints as ``namespace/name``."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Source:
    """Where an object was written: file (relative to the directory loaded, ``/``-separated),
    1-based document index in the file, and the 1-based line of the document's first
    content (the line after its ``---``)."""

    file: str
    document: int
    line: int

    def __str__(self) -> str:
        return f"{self.file}: document {self.document}"


@dataclass(frozen=True)
class Document:
    """One YAML document as the loader read it."""

    source: Source
    data: Mapping[str, Any]


@dataclass(frozen=True)
class FluxObject:
    """What every parsed object has: apiVersion, namespace/name, labels and source."""

    kind: ClassVar[str] = ""
    api_version: str
    key: ObjectKey
    source: Source
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def description(self) -> str:
        """``ImagePolicy flux-system/app``."""
        return f"{self.kind} {self.key}"

    @property
    def where(self) -> str:
        """The prefix of every message about this object."""
        return f"{self.source} ({self.description})"


@dataclass(frozen=True)
class ImageRepository(FluxObject):
    """An image to scan for tags (``spec.image``) and how to reach its registry."""

    kind: ClassVar[str] = "ImageRepository"
    image: str = ""
    image_name: ImageName | None = None
    interval: Duration | None = None
    timeout: Duration | None = None
    secret_ref: str | None = None
    cert_secret_ref: str | None = None
    proxy_secret_ref: str | None = None
    service_account_name: str | None = None
    insecure: bool = False
    suspend: bool = False
    provider: str = "generic"
    exclusion_list: tuple[str, ...] | None = None
    """As written; None when absent. `exclusions` holds the effective, compiled list."""
    exclusions: Exclusions = field(default_factory=Exclusions.compile, compare=False)

    @property
    def effective_exclusion_list(self) -> tuple[str, ...]:
        """The regexes in force: the list given, or Flux's default when absent or empty."""
        return tuple(text for text, _compiled in self.exclusions.patterns)


@dataclass(frozen=True)
class ImagePolicy(FluxObject):
    """How to pick a tag of an ImageRepository."""

    kind: ClassVar[str] = "ImagePolicy"
    repository: ObjectKey = ObjectKey("", "")
    """``spec.imageRepositoryRef``, its namespace defaulted to the policy's."""
    policy: Policy = field(default_factory=AlphabeticalPolicy, compare=False)
    policy_spec: Mapping[str, str] = field(default_factory=dict, hash=False)
    """The policy as data, e.g. ``{"kind": "semver", "range": "^1.0.0"}``."""
    tag_filter: TagFilter | None = field(default=None, compare=False)
    filter_pattern: str | None = None
    filter_extract: str | None = None
    suspend: bool = False
    digest_reflection: str = "Never"
    """``spec.digestReflectionPolicy``: Never (tags only), IfNotPresent (the digest
    of a newly selected tag, reused while git already records it), Always (looked
    up by HEAD at every run)."""

    @property
    def ref(self) -> PolicyRef:
        """The policy as markers name it (``ns:name``)."""
        return PolicyRef(self.key.namespace, self.key.name)

    def select(self, tags: Iterable[str], repository: ImageRepository) -> Selection:
        """Run the policy over registry `tags` with `repository`'s exclusion list, as Flux does.

        Tags that are not OCI tags are dropped first (`domain.untrusted`).
        """
        return select_tag(
            tags,
            self.policy,
            tag_filter=self.tag_filter,
            exclusions=repository.exclusions,
            oci_only=True,
        )


@dataclass(frozen=True)
class SourceRef:
    kind: str
    name: str
    namespace: str


@dataclass(frozen=True)
class CheckoutRef:
    """``spec.git.checkout.ref`` (GitRepository ref fields); all optional."""

    branch: str | None = None
    tag: str | None = None
    semver: str | None = None
    name: str | None = None
    commit: str | None = None


@dataclass(frozen=True)
class ImageUpdateAutomation(FluxObject):
    """Where and how to commit marker updates."""

    kind: ClassVar[str] = "ImageUpdateAutomation"
    source_ref: SourceRef = SourceRef("GitRepository", "", "")
    checkout: CheckoutRef | None = None
    author_name: str = ""
    author_email: str = ""
    message_template: str = ""
    message_template_values: Mapping[str, str] = field(default_factory=dict, hash=False)
    template: Template | None = field(default=None, compare=False)
    push_branch: str | None = None
    """As written; see `effective_push_branch`."""
    push_refspec: str | None = None
    push_options: Mapping[str, str] = field(default_factory=dict, hash=False)
    update_path: str = "."
    """``spec.update.path`` normalised: relative to the repo root, ``/``-separated, ``.`` = root."""
    update_strategy: str = "Setters"
    interval: Duration | None = None
    suspend: bool = False
    policy_selector: LabelSelector | None = None

    @property
    def checkout_branch(self) -> str | None:
        return self.checkout.branch if self.checkout else None

    @property
    def effective_push_branch(self) -> str | None:
        """``push.branch``, else the checkout branch (Flux then falls back to the
        GitRepository's branch, which is not in our config: the caller's default)."""
        return self.push_branch or self.checkout_branch

    def commit_message(self, result: UpdateResult) -> str:
        """The commit message for `result`: ``messageTemplate`` (or Flux's default) rendered."""
        template = self.template or parse_template(self.message_template)
        data = template_data(
            result, self.key.namespace, self.key.name, self.message_template_values
        )
        return template.render(data)


# --- parsing one document ---------------------------------------------------------


class _Context:
    """The object being parsed, for error prefixes."""

    def __init__(self, source: Source, kind: str) -> None:
        self.source = source
        self.kind = kind
        self.key: ObjectKey | None = None

    @property
    def prefix(self) -> str:
        who = f"{self.kind} {self.key}" if self.key else self.kind
        return f"{self.source} ({who})"

    def fields(self, data: Mapping[str, Any]) -> Fields:
        return Fields(self.prefix, data)


def parse_document(
    document: Document, default_namespace: str = DEFAULT_NAMESPACE
) -> FluxObject | None:
    """The Flux object in `document`, or None when it is not an ``image.toolkit.fluxcd.io`` one."""
    data = document.data
    api_version = data.get("apiVersion")
    if not isinstance(api_version, str) or api_version.partition("/")[0] != GROUP:
        return None
    kind = data.get("kind")
    context = _Context(document.source, kind if isinstance(kind, str) and kind else "object")
    top = context.fields(data)
    if kind is None:
        raise top.fail("kind", f"required field is missing (an {GROUP} object needs a kind)")
    parser = _PARSERS.get(context.kind)
    if parser is None:
        expected = ", ".join(_PARSERS)
        raise top.fail("kind", f"{kind!r} is not a kind of {GROUP} (expected one of {expected})")
    key, labels = _metadata(context, top, default_namespace)
    context.key = key
    top = context.fields(data)  # the prefix now names the object
    version = api_version.partition("/")[2]
    if version not in VERSIONS:
        raise top.fail(
            "apiVersion",
            f"{api_version} is not supported for {context.kind} "
            f"(version {version or '(none)'}; supported: {', '.join(VERSIONS)})",
        )
    spec = top.required_mapping("spec")
    base = {"api_version": api_version, "key": key, "source": document.source, "labels": labels}
    return parser(context, spec, base)


def _metadata(
    context: _Context, top: Fields, default_namespace: str
) -> tuple[ObjectKey, dict[str, str]]:
    metadata = top.required_mapping("metadata")
    name = metadata.string("name", required=True)
    check_name(metadata, "name", name)
    namespace = metadata.string("namespace") or default_namespace
    check_name(metadata, "namespace", namespace, namespace=True)
    return ObjectKey(namespace, name), metadata.string_map("labels")


def _parse_repository(context: _Context, spec: Fields, base: dict[str, Any]) -> ImageRepository:
    image = spec.string("image", required=True)
    try:
        image_name = parse_image_name(image)
    except InvalidImageReference as err:
        raise spec.fail("image", str(err)) from err
    provider = spec.string("provider") or "generic"
    if provider not in PROVIDERS:
        raise spec.fail(
            "provider", f"unknown provider {provider!r} (expected {', '.join(PROVIDERS)})"
        )
    exclusion_list = spec.string_list("exclusionList")
    for index, pattern in enumerate(exclusion_list or ()):
        try:
            compile_regex(pattern, "exclusionList")
        except InvalidPattern as err:
            raise spec.fail(f"exclusionList[{index}]", str(err)) from err
    return ImageRepository(
        **base,
        image=image,
        image_name=image_name,
        interval=spec.duration("interval", required=True),
        timeout=spec.duration("timeout"),
        secret_ref=_reference_name(spec, "secretRef"),
        cert_secret_ref=_reference_name(spec, "certSecretRef"),
        proxy_secret_ref=_reference_name(spec, "proxySecretRef"),
        service_account_name=spec.optional_string("serviceAccountName"),
        insecure=spec.boolean("insecure"),
        suspend=spec.boolean("suspend"),
        provider=provider,
        exclusion_list=exclusion_list,
        # Flux's GetExclusionList: an absent or empty list means the default.
        exclusions=Exclusions.compile(exclusion_list or None),
    )


def _reference_name(spec: Fields, key: str) -> str | None:
    ref = spec.mapping(key)
    return None if ref is None else ref.string("name", required=True)


def _parse_policy(context: _Context, spec: Fields, base: dict[str, Any]) -> ImagePolicy:
    key: ObjectKey = base["key"]
    ref = spec.required_mapping("imageRepositoryRef")
    repository = ObjectKey(
        ref.string("namespace") or key.namespace, ref.string("name", required=True)
    )
    policy, policy_spec = _policy_choice(spec.required_mapping("policy"))
    tag_filter, pattern, extract = _filter_tags(spec.mapping("filterTags"))
    return ImagePolicy(
        **base,
        repository=repository,
        policy=policy,
        policy_spec=policy_spec,
        tag_filter=tag_filter,
        filter_pattern=pattern,
        filter_extract=extract,
        suspend=spec.boolean("suspend"),
        digest_reflection=_digest_reflection(spec),
    )


DIGEST_REFLECTION: Final = ("Never", "IfNotPresent", "Always")


def _digest_reflection(spec: Fields) -> str:
    value = spec.string("digestReflectionPolicy") or "Never"
    if value not in DIGEST_REFLECTION:
        raise spec.fail(
            "digestReflectionPolicy", f"{value!r} is not one of {', '.join(DIGEST_REFLECTION)}"
        )
    if value == "Always" and not spec.string("interval"):
        raise spec.fail("interval", "required when digestReflectionPolicy is Always (as in Flux)")
    return value


def _policy_choice(choice: Fields) -> tuple[Policy, dict[str, str]]:
    unknown = [name for name in choice.data if name not in POLICY_KINDS]
    if unknown:
        raise choice.fail(
            None, f"unknown policy kind {unknown[0]!r} (expected {', '.join(POLICY_KINDS)})"
        )
    given = [name for name in POLICY_KINDS if name in choice.data]
    if not given:
        raise choice.fail(None, f"no policy given (expected one of {', '.join(POLICY_KINDS)})")
    if len(given) > 1:
        raise choice.fail(None, f"more than one policy given ({', '.join(given)}); give one")
    name = given[0]
    settings = choice.mapping(name) or Fields(choice.prefix, {}, choice.at(name))
    if name == "semver":
        text = settings.string("range", required=True)
        try:
            return SemverPolicy.from_range(text), {"kind": name, "range": text}
        except InvalidRange as err:
            raise settings.fail("range", str(err)) from err
    order_text = settings.string("order") or "asc"
    try:
        order = parse_order(order_text)
    except InvalidPolicy as err:
        raise settings.fail("order", str(err)) from err
    chosen: Policy = AlphabeticalPolicy(order) if name == "alphabetical" else NumericalPolicy(order)
    return chosen, {"kind": name, "order": order}


def _filter_tags(filter_tags: Fields | None) -> tuple[TagFilter | None, str | None, str | None]:
    if filter_tags is None:
        return None, None, None
    pattern = filter_tags.string("pattern")
    extract = filter_tags.string("extract")
    if not pattern and not extract:
        return None, None, None
    try:
        compile_regex(pattern, "pattern")
    except InvalidPattern as err:
        raise filter_tags.fail("pattern", str(err)) from err
    try:
        compiled = TagFilter.compile(pattern, extract)
    except InvalidPattern as err:
        raise filter_tags.fail("extract", str(err)) from err
    return compiled, pattern, extract or None


def _parse_automation(
    context: _Context, spec: Fields, base: dict[str, Any]
) -> ImageUpdateAutomation:
    key: ObjectKey = base["key"]
    git = spec.required_mapping("git")
    commit = git.required_mapping("commit")
    author = commit.required_mapping("author")
    message_template = commit.string("messageTemplate")
    # An InvalidTemplate (a ConfigError) names this object and the field already.
    template = parse_template(message_template, f"{context.prefix}: {commit.at('messageTemplate')}")
    push = git.mapping("push")
    update = spec.mapping("update") or Fields(spec.prefix, {}, spec.at("update"))
    strategy = update.string("strategy") or "Setters"
    if strategy != "Setters":
        raise update.fail("strategy", f"unknown strategy {strategy!r} (only Setters is supported)")
    return ImageUpdateAutomation(
        **base,
        source_ref=_source_ref(spec.required_mapping("sourceRef"), key),
        checkout=_checkout(git.mapping("checkout")),
        author_name=author.string("name"),
        author_email=author.string("email", required=True),
        message_template=message_template,
        message_template_values=commit.string_map("messageTemplateValues"),
        template=template,
        push_branch=push.optional_string("branch") if push else None,
        push_refspec=push.optional_string("refspec") if push else None,
        push_options=push.string_map("options") if push else {},
        update_path=_update_path(update),
        update_strategy=strategy,
        interval=spec.duration("interval", required=True),
        suspend=spec.boolean("suspend"),
        policy_selector=spec.selector("policySelector"),
    )


def _source_ref(ref: Fields, key: ObjectKey) -> SourceRef:
    kind = ref.string("kind") or "GitRepository"
    if kind != "GitRepository":
        raise ref.fail("kind", f"source kind {kind!r} is not supported (only GitRepository)")
    return SourceRef(
        kind, ref.string("name", required=True), ref.string("namespace") or key.namespace
    )


def _checkout(checkout: Fields | None) -> CheckoutRef | None:
    ref = checkout.mapping("ref") if checkout else None
    if ref is None:
        return None
    return CheckoutRef(
        branch=ref.optional_string("branch"),
        tag=ref.optional_string("tag"),
        semver=ref.optional_string("semver"),
        name=ref.optional_string("name"),
        commit=ref.optional_string("commit"),
    )


def _update_path(update: Fields) -> str:
    """Relative to the repo root, as Flux's secure join reads it; leaving the repo is an error."""
    text = update.string("path") or "./"
    if "\\" in text or "\0" in text:
        raise update.fail("path", f"{text!r} is not a /-separated path")
    joined = posixpath.normpath("/" + text)
    if any(part == ".." for part in posixpath.normpath(text.lstrip("/") or ".").split("/")):
        raise update.fail("path", f"{text!r} leaves the repository")
    return joined.lstrip("/") or "."


_PARSERS: Final = {
    ImageRepository.kind: _parse_repository,
    ImagePolicy.kind: _parse_policy,
    ImageUpdateAutomation.kind: _parse_automation,
}


# --- the whole config ---------------------------------------------------------------


@dataclass(frozen=True)
class FluxConfig:
    """Every image automation object of a repo, validated together."""

    repositories: Mapping[ObjectKey, ImageRepository] = field(default_factory=dict)
    policies: Mapping[ObjectKey, ImagePolicy] = field(default_factory=dict)
    automations: tuple[ImageUpdateAutomation, ...] = ()

    @classmethod
    def from_documents(
        cls, documents: Iterable[Document], default_namespace: str = DEFAULT_NAMESPACE
    ) -> FluxConfig:
        """Parse and cross-check; documents of other kinds and groups are ignored."""
        objects = [parse_document(doc, default_namespace) for doc in documents]
        return cls.of([obj for obj in objects if obj is not None])

    @classmethod
    def of(cls, objects: Sequence[FluxObject]) -> FluxConfig:
        """Index `objects`, refusing duplicates and policies whose repository is missing."""
        seen: dict[tuple[str, ObjectKey], FluxObject] = {}
        for obj in objects:
            first = seen.setdefault((obj.kind, obj.key), obj)
            if first is not obj:
                raise InvalidConfig(
                    f"{obj.where}: metadata.name: duplicate {obj.description}, "
                    f"already defined in {first.source}"
                )
        repositories = {o.key: o for o in objects if isinstance(o, ImageRepository)}
        policies = {o.key: o for o in objects if isinstance(o, ImagePolicy)}
        automations = tuple(o for o in objects if isinstance(o, ImageUpdateAutomation))
        for policy in policies.values():
            if policy.repository not in repositories:
                raise InvalidConfig(
                    f"{policy.where}: spec.imageRepositoryRef: ImageRepository "
                    f"{policy.repository} is not in the config "
                    f"(no such object under the directory read)"
                )
        return cls(
            dict(sorted(repositories.items())),
            dict(sorted(policies.items())),
            tuple(sorted(automations, key=lambda automation: automation.key)),
        )

    def find_policy(self, ref: PolicyRef | ObjectKey) -> ImagePolicy | None:
        return self.policies.get(ObjectKey(ref.namespace, ref.name))

    def policy(self, ref: PolicyRef | ObjectKey) -> ImagePolicy:
        """The policy `ref` names; `InvalidConfig` when there is none."""
        found = self.find_policy(ref)
        if found is None:
            raise InvalidConfig(
                f"ImagePolicy {ref.namespace}/{ref.name} is not in the config "
                f"({len(self.policies)} policies found)"
            )
        return found

    def repository_of(self, policy: ImagePolicy) -> ImageRepository:
        """The ImageRepository the policy scans (present: `of` checked it)."""
        return self.repositories[policy.repository]

    def select(self, policy: ImagePolicy, tags: Iterable[str]) -> Selection:
        """`policy` run over `tags` with its repository's exclusions."""
        return policy.select(tags, self.repository_of(policy))

    def policies_for(self, automation: ImageUpdateAutomation) -> tuple[ImagePolicy, ...]:
        """The policies an automation applies: its namespace, filtered by ``policySelector``."""
        selector = automation.policy_selector or LabelSelector()
        return tuple(
            policy
            for policy in self.policies.values()
            if policy.key.namespace == automation.key.namespace and selector.matches(policy.labels)
        )
