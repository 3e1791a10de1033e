"""The `check` use case: validate a config repository offline, every problem at once.

One walk over the tree reads every `*.yaml`/`*.yml` file and every file named
`Kustomization`; each document that belongs to Flux or Flagger is validated
on its own (a broken one never hides the next), then the cross-checks run.
What is read: Flux image objects (ImageRepository, ImagePolicy,
ImageUpdateAutomation, templates included), Flux Kustomizations (as `sync`
reads them, refused fields by name), HelmReleases (as far as the tool reads
them: a name and a chart), Flagger Canaries and MetricTemplates, and every
`$imagepolicy` marker (setter JSON, namespace, a policy that exists). No
cluster, registry or network is touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from gitops_action.adapters import files
from gitops_action.adapters.config_loader import parse_chunk, split_documents
from gitops_action.adapters.yaml_scan import scan_scalars
from gitops_action.app.update import MARKED_NAMES
from gitops_action.domain import config as flux_config
from gitops_action.domain import flux_kustomization
from gitops_action.domain.canary_config import GROUP as FLAGGER
from gitops_action.domain.canary_config import CanaryConfig
from gitops_action.domain.check import (
    CheckReport,
    Problem,
    flux_cross_problems,
    problem,
    unknown_policy_problems,
)
from gitops_action.domain.config import Document, FluxObject, Source
from gitops_action.domain.errors import ConfigError, GitopsError
from gitops_action.domain.manifests import Location, read_manifest
from gitops_action.domain.marker_values import marker_values
from gitops_action.domain.markers import MARKER_BYTES, PolicyRef, plan_file

KUSTOMIZE: Final = "kustomize.toolkit.fluxcd.io"
HELM: Final = "helm.toolkit.fluxcd.io"
_GROUPS: Final = (flux_config.GROUP, FLAGGER, KUSTOMIZE, HELM)


@dataclass
class _Collected:
    problems: list[Problem] = field(default_factory=list)
    flux: list[FluxObject] = field(default_factory=list)
    canaries: list[Document] = field(default_factory=list)
    templates: list[Document] = field(default_factory=list)
    markers: list[tuple[str, int, PolicyRef]] = field(default_factory=list)
    objects: int = 0


def check_repository(root: Path) -> CheckReport:
    """Every problem under `root` (a directory), sorted by file."""
    found = _Collected()
    candidates = files.find_candidates(root, b"", names=MARKED_NAMES)
    for candidate in candidates:
        _check_file(candidate.file, candidate.data, found)
    found.problems += flux_cross_problems(found.flux)
    found.problems += _flagger_problems(found)
    policies = [obj.key for obj in found.flux if obj.kind == "ImagePolicy"]
    found.problems += unknown_policy_problems(found.markers, policies)
    unique = sorted(set(found.problems))
    return CheckReport(tuple(unique), len(candidates), found.objects)


def _check_file(file: str, data: bytes, found: _Collected) -> None:
    needs_markers = MARKER_BYTES in data
    if not needs_markers and not any(group.encode() in data for group in _GROUPS):
        return
    try:
        text = files.decode(file, data)
    except GitopsError as err:
        found.problems.append(problem(file, str(err)))
        return
    for document in _documents(file, text, found):
        _check_document(document, found)
    if needs_markers:
        _check_markers(file, text, found)


def _documents(file: str, text: str, found: _Collected) -> Iterator[Document]:
    for number, first_line, chunk in split_documents(text):
        if not any(group in chunk for group in _GROUPS):
            continue
        try:
            data, line = parse_chunk(file, chunk, first_line)
        except GitopsError as err:
            found.problems.append(problem(file, str(err)))
            continue
        if isinstance(data, dict):
            yield Document(Source(file, number, line), data)


def _check_document(document: Document, found: _Collected) -> None:
    group = str(document.data.get("apiVersion", "")).partition("/")[0]
    file = document.source.file
    try:
        if group == flux_config.GROUP:
            parsed = flux_config.parse_document(document)
            if parsed is not None:
                found.flux.append(parsed)
        elif group == FLAGGER:
            kind = document.data.get("kind")
            (found.templates if kind == "MetricTemplate" else found.canaries).append(document)
        elif group == KUSTOMIZE and document.data.get("kind") == "Kustomization":
            found.problems += [problem(file, text) for text in _kustomization(document)]
        elif group == HELM and document.data.get("kind") == "HelmRelease":
            found.problems += [problem(file, text) for text in _helm_release(document)]
        else:
            return
    except ConfigError as err:
        found.problems.append(problem(file, str(err)))
    found.objects += 1


def _kustomization(document: Document) -> list[str]:
    location = Location(document.source.file, document.source.document)
    manifest = read_manifest(location, document.data)
    default = flux_kustomization.Ref(manifest.namespace or "flux-system", "flux-system")
    return flux_kustomization.read(manifest, default)[1]


def _helm_release(document: Document) -> list[str]:
    """A HelmRelease as far as the tool reads it: a name and a chart to install."""
    location = Location(document.source.file, document.source.document)
    manifest = read_manifest(location, document.data)
    spec: Any = document.data.get("spec")
    where = f"{location} (HelmRelease {manifest.name})"
    if not isinstance(spec, dict):
        return [f"{where}: spec: required field is missing"]
    if not isinstance(spec.get("chart"), dict) and not isinstance(spec.get("chartRef"), dict):
        return [f"{where}: spec.chart: a HelmRelease needs spec.chart or spec.chartRef"]
    chart = spec.get("chart", {}).get("spec") if isinstance(spec.get("chart"), dict) else None
    if isinstance(spec.get("chart"), dict) and not (
        isinstance(chart, dict) and isinstance(chart.get("chart"), str) and chart["chart"]
    ):
        return [f"{where}: spec.chart.spec.chart: required field is missing"]
    return []


def _flagger_problems(found: _Collected) -> list[Problem]:
    problems: list[Problem] = []
    templates: list[Document] = []
    for document in found.templates:
        if _flagger_error(document, [], problems):
            templates.append(document)
    for document in found.canaries:
        _flagger_error(document, templates, problems)
    return problems


def _flagger_error(document: Document, templates: list[Document], out: list[Problem]) -> bool:
    try:
        CanaryConfig.from_documents([document, *templates])
    except ConfigError as err:
        out.append(problem(document.source.file, str(err)))
        return False
    return True


def _check_markers(file: str, text: str, found: _Collected) -> None:
    try:
        spans = scan_scalars(file, text)
    except GitopsError as err:
        found.problems.append(problem(file, str(err)))
        return
    plan = plan_file(file, text, spans, {})
    found.problems += [problem(file, warning.removesuffix(" (not a marker: skipped)"))
                       for warning in plan.warnings]  # fmt: skip
    for value in marker_values(file, text, spans):
        found.markers.append((file, value.line, value.policy))
