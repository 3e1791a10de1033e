"""Rendering a Flux repository's tree: every Kustomization built, substituted, checked.

`sync PATH` starts at the cluster path (`flux bootstrap --path`). Its build is
the root unit; when it holds the bootstrap `Kustomization` whose `path` is that
same path (`flux-system/gotk-sync.yaml`), the root takes that Kustomization's
name and fields, and Flux's own controllers (`flux-system/gotk-components.yaml`)
are left out unless asked for. Every `kustomize.toolkit.fluxcd.io`
Kustomization found in a unit's build is followed: its path built with its
fields merged (`adapters.kustomize`), its `postBuild` variables substituted,
`commonMetadata` and Flux's ownership labels set, and the Kustomizations in
its own build followed in turn.

Nothing is applied here. Every problem of the whole tree (a field refused, a
kustomize build error, a missing `substituteFrom` object, a dependsOn cycle)
is collected, and the render fails with all of them at once, before any write.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from gitops_action.adapters import kustomize
from gitops_action.app.post_build import LiveVariables, substitute_all
from gitops_action.domain.errors import ConfigError, InvalidSyncInput
from gitops_action.domain.flux_kustomization import (
    GROUP,
    FluxKustomization,
    Ref,
    dependency_order,
    is_flux_kustomization,
    read,
    unmatched_patches,
)
from gitops_action.domain.manifests import Manifest, read_manifest, split_config

BOOTSTRAP_SOURCE: Final = Ref("flux-system", "flux-system")
FLUX_COMPONENTS: Final = "gotk-components.yaml"
NAME_LABEL: Final = f"{GROUP}/name"
NAMESPACE_LABEL: Final = f"{GROUP}/namespace"


class TreeInvalid(InvalidSyncInput):
    """The tree has problems; each is one entry of `problems` (file, document, object, field)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        if len(problems) == 1:
            super().__init__(problems[0])
        else:
            count = f"{len(problems)} problems in the tree (nothing applied)"
            super().__init__(f"{count}: " + " | ".join(problems))


@dataclass
class Unit:
    """One Flux Kustomization (or the plain path when none describes it), rendered."""

    path: str
    spec: FluxKustomization | None
    manifests: list[Manifest] = field(default_factory=list)
    config: list[Manifest] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.spec.ref) if self.spec else self.path


@dataclass
class Tree:
    units: list[Unit]  # in dependency order
    flux_components: list[str] = field(default_factory=list)  # files left out


def render(
    source_root: Path,
    cluster_path: str,
    *,
    binary: str,
    live_variables: LiveVariables,
    include_flux_components: bool = False,
) -> Tree:
    """The whole tree under `cluster_path` (relative to `source_root`)."""
    with kustomize.staged(source_root) as stage:
        renderer = _Renderer(stage, binary, include_flux_components)
        renderer.walk(cluster_path)
        substitute_all(renderer.units, live_variables, renderer.problems)
    specs = [unit.spec for unit in renderer.units if unit.spec is not None]
    ordered, problems = dependency_order(specs)
    renderer.problems.extend(problems)
    if renderer.problems:
        raise TreeInvalid(renderer.problems)
    by_ref = {unit.spec.ref: unit for unit in renderer.units if unit.spec is not None}
    plain = [unit for unit in renderer.units if unit.spec is None]
    return Tree([*plain, *(by_ref[k.ref] for k in ordered)], renderer.flux_components)


class _Renderer:
    def __init__(self, stage: Path, binary: str, include_flux_components: bool) -> None:
        self.stage = stage
        self.binary = binary
        self.include_flux = include_flux_components
        self.problems: list[str] = kustomize.check_references(stage)
        self.units: list[Unit] = []
        self.flux_components: list[str] = []

    def walk(self, cluster_path: str) -> None:
        if self.problems:
            return  # remote bases: kustomize must not run at all
        cluster_path = posixpath.normpath(cluster_path)
        root = self._build(cluster_path, None, "")
        if root is None:
            return
        found = [m for m in root.config if is_flux_kustomization(m)]
        root_spec = self._root_spec(found, cluster_path)
        if root_spec is not None:
            found = [
                m
                for m in found
                if m.name != root_spec.ref.name
                or (m.namespace or "flux-system") != root_spec.ref.namespace
            ]
            if root_spec.overlay():
                root = self._build(cluster_path, root_spec, f"{root_spec.where}: ") or root
            root.spec = root_spec
            _label(root)
        self.units.append(root)
        source = root_spec.source if root_spec else BOOTSTRAP_SOURCE
        seen = {root_spec.ref} if root_spec else set()
        queue = list(found)
        while queue:
            manifest = queue.pop(0)
            spec, problems = read(manifest, source)
            self.problems.extend(problems)
            if problems:
                continue
            prefix = f"{spec.where}: Kustomization {spec.ref}: "
            if spec.ref in seen:
                self.problems.append(prefix + "defined twice in the tree")
                continue
            seen.add(spec.ref)
            # Without a bootstrap Kustomization, a GitRepository named `flux-system` (in any
            # namespace) is the repository being synced, as `flux bootstrap` names it.
            ours = spec.source == source or (
                root_spec is None and spec.source.name == BOOTSTRAP_SOURCE.name
            )
            if not ours:
                self.problems.append(
                    f"{prefix}spec.sourceRef: GitRepository {spec.source} is not the repository "
                    f"being synced ({source}); other sources are not supported yet"
                )
                continue
            unit = self._build(spec.path, spec, f"{prefix}spec.path {spec.path}: ")
            if unit is None:
                continue
            _label(unit)
            self.units.append(unit)
            queue.extend(m for m in unit.config if is_flux_kustomization(m))

    def _root_spec(self, found: list[Manifest], cluster_path: str) -> FluxKustomization | None:
        for manifest in found:
            spec, problems = read(manifest, None)
            if spec.path == cluster_path and spec.source is not None:
                self.problems.extend(problems)
                return spec
        return None

    def _build(self, path: str, spec: FluxKustomization | None, prefix: str) -> Unit | None:
        overlay = spec.overlay() if spec else {}
        try:
            name, generated = kustomize.prepare(self.stage, path, overlay)
            built = kustomize.build(self.binary, self.stage, path, name, generated)
        except ConfigError as error:
            self.problems.append(prefix + str(error))
            return None
        unit = Unit(path, spec)
        manifests: list[Manifest] = []
        for where, document in built.objects:
            if self._is_flux_component(where.file):
                if where.file not in self.flux_components:
                    self.flux_components.append(where.file)
                continue
            try:
                manifests.append(read_manifest(where, document))
            except ConfigError as error:
                self.problems.append(prefix + str(error))
        if spec is not None:
            self.problems.extend(unmatched_patches(spec, [doc for _w, doc in built.objects]))
        unit.manifests, unit.config = _split(manifests)
        return unit

    def _is_flux_component(self, file: str) -> bool:
        parts = file.split("/")
        return (
            not self.include_flux
            and parts[-1] == FLUX_COMPONENTS
            and len(parts) >= 2
            and parts[-2] == "flux-system"
        )


def _label(unit: Unit) -> None:
    """Flux's ownership labels, and the Kustomization's commonMetadata, on every object."""
    spec = unit.spec
    if spec is None:
        return
    labels = {**spec.common_labels, NAME_LABEL: spec.ref.name, NAMESPACE_LABEL: spec.ref.namespace}
    unit.manifests = [_with_metadata(m, labels, spec.common_annotations) for m in unit.manifests]


def _with_metadata(
    manifest: Manifest, labels: Mapping[str, str], annotations: Mapping[str, str]
) -> Manifest:
    body: dict[str, Any] = dict(manifest.body)
    metadata = dict(body["metadata"])
    metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
    if annotations:
        metadata["annotations"] = {**(metadata.get("annotations") or {}), **annotations}
    body["metadata"] = metadata
    return Manifest(manifest.location, body)


def _split(manifests: list[Manifest]) -> tuple[list[Manifest], list[Manifest]]:
    return split_config(manifests)
