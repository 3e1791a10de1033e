"""Flux `Kustomization` objects (kustomize.toolkit.fluxcd.io v1 and v1beta2), typed.

`sync` reconciles a Flux repository the way kustomize-controller does: each
Kustomization names a `path` in a `GitRepository`, and is built with kustomize
(after its own fields are merged into the path's `kustomization.yaml`) and
applied with its own inventory. This module reads one object into a
`FluxKustomization`, checking every field the tool honours and refusing by name
every field it cannot honour, so no Kustomization is ever half-applied. Reading
collects every problem of the object (`problems`) instead of stopping at the
first, so one run reports a whole tree's mistakes.

Field by field (see docs/migrate-from-flux.md):

- honoured: path, sourceRef (GitRepository), prune, dependsOn, suspend,
  targetNamespace, namePrefix, nameSuffix, commonMetadata, patches, images,
  components, ignoreMissingComponents, force, deletionPolicy, timeout, wait,
  healthChecks, serviceAccountName, postBuild (substitute, substituteFrom),
  patchesStrategicMerge and patchesJson6902 (v1beta2);
- accepted and not needed: interval, retryInterval (the CronJob's schedule
  decides when runs happen), buildMetadata;
- refused: decryption (SOPS), kubeConfig (remote clusters), healthCheckExprs
  (CEL), sourceRef kinds other than GitRepository, validation (v1beta1).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from gitops_action.domain.config_fields import Duration
from gitops_action.domain.manifests import Manifest, split_api_version

GROUP: Final = "kustomize.toolkit.fluxcd.io"
VERSIONS: Final = ("v1", "v1beta2")
SOURCE_GROUP: Final = "source.toolkit.fluxcd.io"
SUBSTITUTE_KEY: Final = f"{GROUP}/substitute"
DEFAULT_TIMEOUT: Final = Duration("5m", 300.0)

_REFUSED: Final = {
    "decryption": "SOPS decryption is not supported; keep decrypted Secrets out of git "
    "or create them separately",
    "kubeConfig": "applying to a remote cluster is not supported; run the tool in that cluster",
    "healthCheckExprs": "CEL health expressions are not supported",
    "validation": "the v1beta1 validation field is not supported",
}
_ACCEPTED: Final = frozenset(
    {
        "interval",
        "retryInterval",
        "buildMetadata",
        "path",
        "sourceRef",
        "prune",
        "dependsOn",
        "suspend",
        "targetNamespace",
        "namePrefix",
        "nameSuffix",
        "commonMetadata",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
        "images",
        "components",
        "ignoreMissingComponents",
        "force",
        "deletionPolicy",
        "timeout",
        "wait",
        "healthChecks",
        "serviceAccountName",
        "postBuild",
    }
)
_DELETION_POLICIES: Final = ("MirrorPrune", "Delete", "WaitForTermination", "Orphan")


def is_flux_kustomization(manifest: Manifest) -> bool:
    return manifest.group == GROUP and manifest.kind == "Kustomization"


def is_git_repository(manifest: Manifest) -> bool:
    return manifest.group == SOURCE_GROUP and manifest.kind == "GitRepository"


@dataclass(frozen=True, order=True)
class Ref:
    """namespace/name of a Flux object."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class SubstituteFrom:
    kind: str  # ConfigMap or Secret
    name: str
    optional: bool


@dataclass(frozen=True)
class HealthCheck:
    api_version: str
    kind: str
    name: str
    namespace: str


@dataclass(frozen=True)
class FluxKustomization:
    """One Flux Kustomization, as data (fields as kustomize-controller reads them)."""

    ref: Ref
    where: str  # "file: document N" of the object in its parent's build
    path: str  # normalised, relative to the source root ("." for the root)
    source: Ref
    prune: bool = False
    depends_on: tuple[Ref, ...] = ()
    suspend: bool = False
    target_namespace: str = ""
    name_prefix: str = ""
    name_suffix: str = ""
    common_labels: Mapping[str, str] = field(default_factory=dict)
    common_annotations: Mapping[str, str] = field(default_factory=dict)
    patches: tuple[Mapping[str, Any], ...] = ()
    patches_strategic_merge: tuple[Any, ...] = ()
    patches_json6902: tuple[Mapping[str, Any], ...] = ()
    images: tuple[Mapping[str, Any], ...] = ()
    components: tuple[str, ...] = ()
    ignore_missing_components: bool = False
    force: bool = False
    deletion_policy: str = "MirrorPrune"
    timeout: Duration = DEFAULT_TIMEOUT
    wait: bool = False
    health_checks: tuple[HealthCheck, ...] = ()
    service_account: str = ""
    substitute: Mapping[str, str] = field(default_factory=dict)
    substitute_from: tuple[SubstituteFrom, ...] = ()

    @property
    def has_post_build(self) -> bool:
        return bool(self.substitute or self.substitute_from)

    def overlay(self) -> dict[str, Any]:
        """The fields merged into the path's kustomization.yaml before the build, as
        kustomize-controller's generator merges them (see `merge_overlay`)."""
        out: dict[str, Any] = {}
        if self.target_namespace:
            out["namespace"] = self.target_namespace
        if self.name_prefix:
            out["namePrefix"] = self.name_prefix
        if self.name_suffix:
            out["nameSuffix"] = self.name_suffix
        if self.patches:
            out["patches"] = [dict(p) for p in self.patches]
        if self.patches_strategic_merge:
            out["patchesStrategicMerge"] = list(self.patches_strategic_merge)
        if self.patches_json6902:
            out["patchesJson6902"] = [dict(p) for p in self.patches_json6902]
        if self.components:
            out["components"] = list(self.components)
        if self.images:
            out["images"] = [dict(i) for i in self.images]
        return out


def merge_overlay(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """A kustomization.yaml with a Flux Kustomization's fields merged in, as Flux does:
    namespace, namePrefix and nameSuffix replace; patches and components append; images
    merge by name (newTag and digest replaced together)."""
    out = dict(base)
    for key in ("namespace", "namePrefix", "nameSuffix"):
        if key in overlay:
            out[key] = overlay[key]
    for key in ("patches", "patchesStrategicMerge", "patchesJson6902", "components"):
        if key in overlay:
            out[key] = [*(out.get(key) or []), *overlay[key]]
    if "images" in overlay:
        images = [dict(i) for i in out.get("images") or [] if isinstance(i, Mapping)]
        for image in overlay["images"]:
            same = next((i for i in images if i.get("name") == image.get("name")), None)
            if same is None:
                images.append(dict(image))
                continue
            if image.get("newName"):
                same["newName"] = image["newName"]
            if image.get("newTag") or image.get("digest"):
                for key in ("newTag", "digest"):
                    same.pop(key, None)
                    if image.get(key):
                        same[key] = image[key]
        out["images"] = images
    return out


class _Reader:
    """Reads fields and collects problems, each naming the object and field."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.problems: list[str] = []
        ns = manifest.namespace or "flux-system"
        self.prefix = f"{manifest.location}: Kustomization {ns}/{manifest.name}"

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{self.prefix}: {path}: {message}")

    def string(self, spec: Mapping[str, Any], key: str, path: str = "spec") -> str:
        value = spec.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(f"{path}.{key}", "must be a string")
            return ""
        return value

    def boolean(self, spec: Mapping[str, Any], key: str) -> bool:
        value = spec.get(key, False)
        if not isinstance(value, bool):
            self.fail(f"spec.{key}", "must be true or false")
            return False
        return value

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, "must be a mapping")
            return {}
        return value

    def items(self, spec: Mapping[str, Any], key: str) -> list[Any]:
        value = spec.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"spec.{key}", "must be a list")
            return []
        return value

    def strings(self, value: Any, path: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, item in self.mapping(value, path).items():
            if not isinstance(item, str):
                self.fail(f"{path}.{key}", "must be a string (quote numbers and booleans)")
            else:
                out[str(key)] = item
        return out


def read(manifest: Manifest, default_source: Ref | None) -> tuple[FluxKustomization, list[str]]:
    """The Kustomization and every problem with it (empty when it can be honoured)."""
    r = _Reader(manifest)
    namespace = manifest.namespace or "flux-system"
    version = split_api_version(manifest.api_version)[1]
    if version not in VERSIONS:
        r.fail("apiVersion", f"{manifest.api_version} is not supported (v1 or v1beta2)")
    spec = r.mapping(manifest.body.get("spec"), "spec")
    for key in spec:
        if key in _REFUSED:
            r.fail(f"spec.{key}", _REFUSED[key])
        elif key not in _ACCEPTED:
            r.fail(f"spec.{key}", "unknown field; refused rather than ignored")
    source = _source(r, spec, namespace, default_source)
    meta = r.mapping(spec.get("commonMetadata"), "spec.commonMetadata")
    post = r.mapping(spec.get("postBuild"), "spec.postBuild")
    deletion = r.string(spec, "deletionPolicy") or "MirrorPrune"
    if deletion not in _DELETION_POLICIES:
        r.fail("spec.deletionPolicy", f"{deletion!r} is not one of {', '.join(_DELETION_POLICIES)}")
    result = FluxKustomization(
        ref=Ref(namespace, manifest.name),
        where=str(manifest.location),
        path=_path(r, r.string(spec, "path")),
        source=source,
        prune=r.boolean(spec, "prune"),
        depends_on=tuple(_depends_on(r, spec, namespace)),
        suspend=r.boolean(spec, "suspend"),
        target_namespace=r.string(spec, "targetNamespace"),
        name_prefix=r.string(spec, "namePrefix"),
        name_suffix=r.string(spec, "nameSuffix"),
        common_labels=r.strings(meta.get("labels"), "spec.commonMetadata.labels"),
        common_annotations=r.strings(meta.get("annotations"), "spec.commonMetadata.annotations"),
        patches=tuple(_patches(r, spec)),
        patches_strategic_merge=tuple(r.items(spec, "patchesStrategicMerge")),
        patches_json6902=tuple(_mappings(r, spec, "patchesJson6902")),
        images=tuple(_mappings(r, spec, "images")),
        components=tuple(_components(r, spec)),
        ignore_missing_components=r.boolean(spec, "ignoreMissingComponents"),
        force=r.boolean(spec, "force"),
        deletion_policy=deletion,
        timeout=_timeout(r, spec),
        wait=r.boolean(spec, "wait"),
        health_checks=tuple(_health_checks(r, spec, namespace)),
        service_account=r.string(spec, "serviceAccountName"),
        substitute=r.strings(post.get("substitute"), "spec.postBuild.substitute"),
        substitute_from=tuple(_substitute_from(r, post)),
    )
    return result, r.problems


def _source(r: _Reader, spec: Mapping[str, Any], namespace: str, default: Ref | None) -> Ref:
    ref = r.mapping(spec.get("sourceRef"), "spec.sourceRef")
    kind = r.string(ref, "kind", "spec.sourceRef")
    name = r.string(ref, "name", "spec.sourceRef")
    if not name:
        if default is None:
            r.fail("spec.sourceRef.name", "required")
        return default or Ref(namespace, "")
    if kind != "GitRepository":
        r.fail(
            "spec.sourceRef.kind",
            f"{kind or 'missing'}: only GitRepository sources are supported",
        )
    return Ref(r.string(ref, "namespace", "spec.sourceRef") or namespace, name)


def _path(r: _Reader, text: str) -> str:
    """The path relative to the source root, `./` and trailing `/` removed; refused when it
    leaves the root."""
    cleaned = posixpath.normpath(text.strip().lstrip("/") or ".")
    if cleaned == ".." or cleaned.startswith("../"):
        r.fail("spec.path", f"{text!r} leaves the source root")
        return "."
    return cleaned


def _depends_on(r: _Reader, spec: Mapping[str, Any], namespace: str) -> list[Ref]:
    refs = []
    for index, item in enumerate(r.items(spec, "dependsOn")):
        entry = r.mapping(item, f"spec.dependsOn[{index}]")
        name = r.string(entry, "name", f"spec.dependsOn[{index}]")
        if not name:
            r.fail(f"spec.dependsOn[{index}].name", "required")
            continue
        refs.append(
            Ref(r.string(entry, "namespace", f"spec.dependsOn[{index}]") or namespace, name)
        )
    return refs


def _mappings(r: _Reader, spec: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    out = []
    for index, item in enumerate(r.items(spec, key)):
        if not isinstance(item, Mapping):
            r.fail(f"spec.{key}[{index}]", "must be a mapping")
        else:
            out.append(item)
    return out


def _patches(r: _Reader, spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    patches = _mappings(r, spec, "patches")
    for index, patch in enumerate(patches):
        if not isinstance(patch.get("patch"), str) or not patch["patch"].strip():
            r.fail(f"spec.patches[{index}].patch", "required (the patch as a YAML string)")
        for key in patch:
            if key not in ("patch", "target"):
                r.fail(f"spec.patches[{index}].{key}", "unknown field (patch, target)")
    return patches


def _components(r: _Reader, spec: Mapping[str, Any]) -> list[str]:
    out = []
    for index, item in enumerate(r.items(spec, "components")):
        if not isinstance(item, str) or not item:
            r.fail(f"spec.components[{index}]", "must be a path")
        elif not is_local_relative(item):
            r.fail(f"spec.components[{index}]", f"{item!r} must be local and relative")
        else:
            out.append(item)
    return out


def is_local_relative(path: str) -> bool:
    """As Flux's `IsLocalRelativePath`: no remote prefix, not absolute."""
    lowered = path.lower()
    for prefix in (
        "git::",
        "gh:",
        "ssh://",
        "https://",
        "http://",
        "git@",
        "github.com:",
        "github.com/",
    ):
        if len(prefix) < len(path) and lowered.startswith(prefix):
            return False
    return not (path.startswith("/") or lowered.removeprefix("file://").startswith("/"))


def _timeout(r: _Reader, spec: Mapping[str, Any]) -> Duration:
    text = r.string(spec, "timeout")
    if not text:
        interval = r.string(spec, "interval")
        parsed = Duration.parse(interval) if interval else None
        return parsed or DEFAULT_TIMEOUT  # Flux: the timeout defaults to the interval
    parsed = Duration.parse(text)
    if parsed is None:
        r.fail("spec.timeout", f"{text!r} is not a duration (30s, 5m, 1h)")
        return DEFAULT_TIMEOUT
    return parsed


def _health_checks(r: _Reader, spec: Mapping[str, Any], namespace: str) -> list[HealthCheck]:
    out = []
    for index, item in enumerate(r.items(spec, "healthChecks")):
        path = f"spec.healthChecks[{index}]"
        entry = r.mapping(item, path)
        kind, name = r.string(entry, "kind", path), r.string(entry, "name", path)
        if not kind or not name:
            r.fail(path, "kind and name are required")
            continue
        api_version = r.string(entry, "apiVersion", path) or _default_api_version(kind)
        out.append(
            HealthCheck(api_version, kind, name, r.string(entry, "namespace", path) or namespace)
        )
    return out


def _default_api_version(kind: str) -> str:
    return {
        "Deployment": "apps/v1",
        "StatefulSet": "apps/v1",
        "DaemonSet": "apps/v1",
        "Job": "batch/v1",
    }.get(kind, "v1")


def _substitute_from(r: _Reader, post: Mapping[str, Any]) -> list[SubstituteFrom]:
    out: list[SubstituteFrom] = []
    items = post.get("substituteFrom") or []
    if not isinstance(items, list):
        r.fail("spec.postBuild.substituteFrom", "must be a list")
        return out
    for index, item in enumerate(items):
        path = f"spec.postBuild.substituteFrom[{index}]"
        entry = r.mapping(item, path)
        kind, name = r.string(entry, "kind", path), r.string(entry, "name", path)
        if kind not in ("ConfigMap", "Secret"):
            r.fail(f"{path}.kind", f"{kind or 'missing'}: must be ConfigMap or Secret")
            continue
        if not name:
            r.fail(f"{path}.name", "required")
            continue
        optional = entry.get("optional", False)
        out.append(SubstituteFrom(kind, name, optional is True))
    return out


def dependency_order(
    kustomizations: Sequence[FluxKustomization],
) -> tuple[list[FluxKustomization], list[str]]:
    """The Kustomizations ordered so each comes after what it depends on (ties in the
    order given), and the problems: a dependency no Kustomization in the tree is, and
    every cycle, named as a chain `a -> b -> a`."""
    by_ref = {k.ref: k for k in kustomizations}
    problems: list[str] = []
    for k in kustomizations:
        for dep in k.depends_on:
            if dep not in by_ref:
                problems.append(
                    f"{k.where}: Kustomization {k.ref}: spec.dependsOn: {dep} is not a "
                    "Kustomization in the tree"
                )
    ordered: list[FluxKustomization] = []
    state: dict[Ref, int] = {}  # 1 visiting, 2 done
    cycles: set[tuple[Ref, ...]] = set()

    def visit(k: FluxKustomization, chain: list[Ref]) -> None:
        if state.get(k.ref) == 2:
            return
        if state.get(k.ref) == 1:
            cycle = chain[chain.index(k.ref) :]
            start = cycle.index(min(cycle))
            cycles.add(tuple(cycle[start:] + cycle[:start]))
            return
        state[k.ref] = 1
        for dep in k.depends_on:
            if dep in by_ref:
                visit(by_ref[dep], [*chain, k.ref])
        state[k.ref] = 2
        ordered.append(k)

    for k in kustomizations:
        visit(k, [])
    for cycle in sorted(cycles):
        first = by_ref[cycle[0]]
        text = " -> ".join(str(ref) for ref in [*cycle, cycle[0]])
        problems.append(f"{first.where}: Kustomization {first.ref}: spec.dependsOn: cycle {text}")
    return ordered, problems


def unmatched_patches(spec: FluxKustomization, objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """One problem per `spec.patches` entry whose target selects no object of the build.

    kustomize applies such a patch to nothing without a word; a Flux user who wrote it
    meant something, so it is named instead. Target fields are matched as kustomize
    matches them: group, version, kind exactly; name and namespace as anchored regular
    expressions (against the name before or after namePrefix/nameSuffix); label and
    annotation selectors as `key=value` lists.
    """
    problems = []
    for index, patch in enumerate(spec.patches):
        target = patch.get("target")
        if not isinstance(target, Mapping):
            continue
        if not any(_selects(target, obj, spec) for obj in objects):
            shown = ", ".join(f"{k}={v}" for k, v in sorted(target.items()))
            problems.append(
                f"{spec.where}: Kustomization {spec.ref}: spec.patches[{index}].target "
                f"({shown}) matches no object of the build"
            )
    return problems


def _selects(target: Mapping[str, Any], obj: Mapping[str, Any], spec: FluxKustomization) -> bool:
    group, version = split_api_version(str(obj.get("apiVersion") or ""))
    metadata = obj.get("metadata") or {}
    name = str(metadata.get("name") or "")
    bare = name.removeprefix(spec.name_prefix).removesuffix(spec.name_suffix) if name else name
    checks = (
        ("group", group),
        ("version", version),
        ("kind", str(obj.get("kind") or "")),
    )
    for key, value in checks:
        if target.get(key) and str(target[key]) != value:
            return False
    if target.get("name") and not any(_full_match(str(target["name"]), n) for n in (name, bare)):
        return False
    if target.get("namespace") and not _full_match(
        str(target["namespace"]), str(metadata.get("namespace") or "")
    ):
        return False
    for key, field_name in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        if target.get(key) and not _selector(str(target[key]), metadata.get(field_name) or {}):
            return False
    return True


def _full_match(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return pattern == value


def _selector(text: str, values: Mapping[str, Any]) -> bool:
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key, sep, want = part.partition("!=" if "!=" in part else "=")
        key, want = key.strip(), want.strip().lstrip("=")
        if not sep:
            if key not in values:
                return False
        elif (sep == "!=") == (str(values.get(key)) == want):
            return False
    return True
