"""The data a Flux commit message template sees, built from our `UpdateResult`.

Flux's image-automation-controller passes its templates a `TemplateData`
value. Its shape changed across API versions; we build the union, so a
template written for any version renders:

    .AutomationObject          types.NamespacedName, prints "namespace/name"
      .Namespace .Name
    .Updated                   update.Result (v1beta1; deprecated in v1beta2, gone in v1)
      .Files                   map[file]FileResult
        .Objects               map[ObjectIdentifier][]ImageRef
      .Images                  []ImageRef, each distinct image once (per policy)
      .Objects                 map[ObjectIdentifier][]ImageRef, all files together
    .Changed                   update.ResultV2 (v1beta2) / update.Result (v1)
      .FileChanges             map[file]map[ObjectIdentifier][]Change
      .ImageResult             the .Updated value again (v1beta2 only, kept here)
      .Changes                 []Change, each distinct change once
      .Objects                 map[ObjectIdentifier][]Change, all files together
    .Values                    map[string]string from spec.git.commit.messageTemplateValues

    ImageRef          prints as the full reference written ("chripp/app:v1.0.1");
                      .Repository ("chripp/app", "library/alpine" for "alpine"),
                      .Registry ("index.docker.io" for Docker Hub, else the host),
                      .Identifier (the tag), .Name ("index.docker.io/chripp/app:v1.0.1"),
                      .Policy (NamespacedName of the ImagePolicy, prints "ns/name")
    ObjectIdentifier  .APIVersion .Kind .Name .Namespace (empty for a document
                      that is not a Kubernetes object); prints as Go prints the
                      struct: {{{apps/v1 Deployment} {app default}}}
    Change            .OldValue .NewValue .Setter ("ns:policy", "ns:policy:tag",
                      "ns:policy:name"); prints {old new setter}

Flux fills its maps from Go map iteration, whose order is random; ours are
Go maps too, so ``range`` walks them in sorted-key order (files by path,
objects by apiVersion, kind, name, namespace) and `.Images`/`.Changes` list
items in that order, which makes the message reproducible. File paths are
those of the `UpdateResult` (relative to the directory the update ran on,
which for `automate` is the automation's ``update.path``, as in Flux).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from gitops_action.domain.errors import InvalidImageReference
from gitops_action.domain.gotemplate.values import GoMap, GoSlice, GoStruct
from gitops_action.domain.markers import Change as MarkerChange
from gitops_action.domain.markers import MarkerField, ObjectRef, UpdateResult
from gitops_action.domain.refs import DOCKER_HUB, parse_image_reference

GO_DOCKER_HUB = "index.docker.io"
"""How go-containerregistry (and so Flux's `.Registry`) names Docker Hub."""


class NamespacedName(GoStruct):
    go_type: ClassVar[str] = "types.NamespacedName"
    go_fields: ClassVar[tuple[str, ...]] = ("Namespace", "Name")

    def __init__(self, namespace: str, name: str) -> None:
        self.Namespace = namespace
        self.Name = name

    def go_string(self) -> str:
        return f"{self.Namespace}/{self.Name}"


class TypeMeta(GoStruct):
    go_type: ClassVar[str] = "yaml.TypeMeta"
    go_fields: ClassVar[tuple[str, ...]] = ("APIVersion", "Kind")

    def __init__(self, api_version: str, kind: str) -> None:
        self.APIVersion = api_version
        self.Kind = kind


class NameMeta(GoStruct):
    go_type: ClassVar[str] = "yaml.NameMeta"
    go_fields: ClassVar[tuple[str, ...]] = ("Name", "Namespace")

    def __init__(self, name: str, namespace: str) -> None:
        self.Name = name
        self.Namespace = namespace


class ResourceIdentifier(GoStruct):
    go_type: ClassVar[str] = "yaml.ResourceIdentifier"
    go_fields: ClassVar[tuple[str, ...]] = ("TypeMeta", "NameMeta")
    go_embedded: ClassVar[tuple[str, ...]] = ("TypeMeta", "NameMeta")

    def __init__(self, type_meta: TypeMeta, name_meta: NameMeta) -> None:
        self.TypeMeta = type_meta
        self.NameMeta = name_meta


class ObjectIdentifier(GoStruct):
    """The Kubernetes object a change was made in (kyaml's ResourceIdentifier, embedded)."""

    go_type: ClassVar[str] = "update.ObjectIdentifier"
    go_fields: ClassVar[tuple[str, ...]] = ("ResourceIdentifier",)
    go_embedded: ClassVar[tuple[str, ...]] = ("ResourceIdentifier",)

    def __init__(self, api_version: str, kind: str, name: str, namespace: str) -> None:
        self.ResourceIdentifier = ResourceIdentifier(
            TypeMeta(api_version, kind), NameMeta(name, namespace)
        )

    @classmethod
    def of(cls, obj: ObjectRef | None) -> ObjectIdentifier:
        if obj is None:
            return cls("", "", "", "")
        return cls(obj.api_version, obj.kind, obj.name, obj.namespace)


class ImageRef(GoStruct):
    """An image a policy selected; prints as the reference written into the file."""

    go_type: ClassVar[str] = "update.imageRef"
    go_methods: ClassVar[tuple[str, ...]] = (
        "String",
        "Identifier",
        "Repository",
        "Registry",
        "Name",
        "Policy",
    )

    def __init__(self, reference: str, policy: NamespacedName) -> None:
        self.reference = reference
        self.policy = policy
        self.registry, self.repository, self.tag = _split_reference(reference)

    def go_string(self) -> str:
        return self.reference

    def go_field_values(self) -> tuple[Any, ...]:
        return (self.reference, self.policy)

    def String(self) -> str:
        return self.reference

    def Identifier(self) -> str:
        return self.tag

    def Repository(self) -> str:
        return self.repository

    def Registry(self) -> str:
        return self.registry

    def Name(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"

    def Policy(self) -> NamespacedName:
        return self.policy


def _split_reference(reference: str) -> tuple[str, str, str]:
    """(registry, repository, tag) the way go-containerregistry reads a reference."""
    try:
        parsed = parse_image_reference(reference)
    except InvalidImageReference:
        image, _, tag = reference.rpartition(":")
        return GO_DOCKER_HUB, image, tag
    registry = parsed.name.registry
    tag = parsed.tag or parsed.digest or "latest"
    return (GO_DOCKER_HUB if registry == DOCKER_HUB else registry), parsed.name.path, tag


class Change(GoStruct):
    go_type: ClassVar[str] = "update.Change"
    go_fields: ClassVar[tuple[str, ...]] = ("OldValue", "NewValue", "Setter")

    def __init__(self, old: str, new: str, setter: str) -> None:
        self.OldValue = old
        self.NewValue = new
        self.Setter = setter

    @classmethod
    def of(cls, change: MarkerChange) -> Change:
        setter = str(change.policy)
        if change.field is not MarkerField.FULL:
            setter = f"{setter}:{change.field}"
        return cls(change.old, change.new, setter)


_IMAGES = "[]update.ImageRef"
_CHANGES = "[]update.Change"


def _object_map(items: Mapping[ObjectIdentifier, list[Any]], element: str) -> GoMap:
    return GoMap(
        {key: GoSlice(values, element) for key, values in items.items()},
        go_type=f"map[update.ObjectIdentifier]{element}",
        key_type=ObjectIdentifier.go_type,
        zero=GoSlice((), element),
    )


class FileResult(GoStruct):
    go_type: ClassVar[str] = "update.FileResult"
    go_fields: ClassVar[tuple[str, ...]] = ("Objects",)

    def __init__(self, objects: GoMap) -> None:
        self.Objects = objects


class Result(GoStruct):
    """v1beta1's `.Updated` (and v1beta2's `.Changed.ImageResult`)."""

    go_type: ClassVar[str] = "update.Result"
    go_fields: ClassVar[tuple[str, ...]] = ("Files",)
    go_methods: ClassVar[tuple[str, ...]] = ("Images", "Objects")

    def __init__(self, files: GoMap) -> None:
        self.Files = files

    def Images(self) -> GoSlice:
        seen: dict[ImageRef, None] = {}
        for file_result in self.Files.values():
            for refs in file_result.Objects.values():
                seen.update(dict.fromkeys(refs))
        return GoSlice(seen, _IMAGES)

    def Objects(self) -> GoMap:
        merged: dict[ObjectIdentifier, list[ImageRef]] = {}
        for file_result in self.Files.values():
            for obj, refs in file_result.Objects.items():
                merged.setdefault(obj, []).extend(refs)
        return _object_map(merged, _IMAGES)


class ResultV2(GoStruct):
    """`.Changed`: every change by file and object."""

    go_type: ClassVar[str] = "update.ResultV2"
    go_fields: ClassVar[tuple[str, ...]] = ("ImageResult", "FileChanges")
    go_methods: ClassVar[tuple[str, ...]] = ("Changes", "Objects")

    def __init__(self, image_result: Result, file_changes: GoMap) -> None:
        self.ImageResult = image_result
        self.FileChanges = file_changes

    def Changes(self) -> GoSlice:
        seen: dict[Change, None] = {}
        for objects in self.FileChanges.values():
            for changes in objects.values():
                seen.update(dict.fromkeys(changes))
        return GoSlice(seen, _CHANGES)

    def Objects(self) -> GoMap:
        merged: dict[ObjectIdentifier, list[Change]] = {}
        for objects in self.FileChanges.values():
            for obj, changes in objects.items():
                merged.setdefault(obj, []).extend(changes)
        return _object_map(merged, _CHANGES)


class TemplateData(GoStruct):
    """The value a commit message template is executed on (its dot)."""

    go_type: ClassVar[str] = "source.TemplateData"
    go_fields: ClassVar[tuple[str, ...]] = ("AutomationObject", "Updated", "Changed", "Values")

    def __init__(
        self, automation: NamespacedName, updated: Result, changed: ResultV2, values: GoMap
    ) -> None:
        self.AutomationObject = automation
        self.Updated = updated
        self.Changed = changed
        self.Values = values


def template_data(
    result: UpdateResult,
    automation_namespace: str,
    automation_name: str,
    values: Mapping[str, str] | None = None,
) -> TemplateData:
    """The template data for `result`, made by the named ImageUpdateAutomation."""
    images: dict[str, dict[ObjectIdentifier, dict[ImageRef, None]]] = {}
    changes: dict[str, dict[ObjectIdentifier, list[Change]]] = {}
    for change in result.changes:
        obj = ObjectIdentifier.of(change.obj)
        policy = NamespacedName(change.policy.namespace, change.policy.name)
        images.setdefault(change.file, {}).setdefault(obj, {})[ImageRef(change.image, policy)] = (
            None
        )
        changes.setdefault(change.file, {}).setdefault(obj, []).append(Change.of(change))
    updated = Result(
        GoMap(
            {
                file: FileResult(_object_map({o: list(r) for o, r in objs.items()}, _IMAGES))
                for file, objs in images.items()
            },
            go_type="map[string]update.FileResult",
            zero=FileResult(_object_map({}, _IMAGES)),
        )
    )
    file_changes = GoMap(
        {file: _object_map(objs, _CHANGES) for file, objs in changes.items()},
        go_type="map[string]update.ObjectChanges",
        zero=_object_map({}, _CHANGES),
    )
    return TemplateData(
        NamespacedName(automation_namespace, automation_name),
        updated,
        ResultV2(updated, file_changes),
        _values(values or {}),
    )


def _values(values: Mapping[str, str]) -> GoMap:
    return GoMap(dict(values), go_type="map[string]string", zero="")
