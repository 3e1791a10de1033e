"""Flux `postBuild` for the rendered tree: variables from `substitute` and
`substituteFrom` (ConfigMaps and Secrets: the tree's own object first, else the
cluster's, as the cluster will hold the tree's after the apply), substituted into
every object of the Kustomization as kustomize-controller does (the object rendered
as YAML, `domain.envsubst` over the text, parsed back), except objects marked
`kustomize.toolkit.fluxcd.io/substitute: disabled`. Problems are collected.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from gitops_action.adapters.manifest_loader import parse_documents, render_unfolded
from gitops_action.domain.envsubst import SubstitutionError, check_names, clean_value, substitute
from gitops_action.domain.errors import ConfigError
from gitops_action.domain.flux_kustomization import SUBSTITUTE_KEY, FluxKustomization
from gitops_action.domain.manifests import Manifest, read_manifest

if TYPE_CHECKING:
    from gitops_action.app.flux_tree import Unit

# Reads a ConfigMap's or Secret's data from the cluster (None: it does not exist).
LiveVariables = Callable[[str, str, str], Mapping[str, str] | None]


def substitute_all(units: list[Unit], live: LiveVariables, problems: list[str]) -> None:
    """Every unit with a postBuild substituted in place; problems appended."""
    in_tree = {
        (m.kind, m.namespace, m.name): m
        for unit in units
        for m in [*unit.manifests]
        if m.group == "" and m.kind in ("ConfigMap", "Secret")
    }
    for unit in units:
        spec = unit.spec
        if spec is None or not spec.has_post_build:
            continue
        prefix = f"{spec.where}: Kustomization {spec.ref}: "
        variables = _variables(spec, in_tree, live, prefix, problems)
        if variables is None or not variables:
            continue
        names = check_names(variables)
        if names:
            problems.extend(prefix + "spec.postBuild: " + p for p in names)
            continue
        unit.manifests = [_substituted(m, variables, prefix, problems) for m in unit.manifests]
        unit.config = [_substituted(m, variables, prefix, problems) for m in unit.config]


def _variables(
    spec: FluxKustomization,
    in_tree: Mapping[tuple[str, str, str], Manifest],
    live: LiveVariables,
    prefix: str,
    problems: list[str],
) -> dict[str, str] | None:
    """substituteFrom in order (the tree's object first, else the cluster's), then the
    inline `substitute` over them, as Flux does."""
    variables: dict[str, str] = {}
    ok = True
    for index, source in enumerate(spec.substitute_from):
        data: Mapping[str, str] | None = _from_tree(
            in_tree.get((source.kind, spec.ref.namespace, source.name))
        )
        if data is None:
            data = live(source.kind, spec.ref.namespace, source.name)
        if data is None:
            if not source.optional:
                ok = False
                problems.append(
                    f"{prefix}spec.postBuild.substituteFrom[{index}]: {source.kind} "
                    f"{spec.ref.namespace}/{source.name} not found (in the tree or the "
                    "cluster) and not optional"
                )
            continue
        variables.update({k: clean_value(v) for k, v in data.items()})
    variables.update({k: clean_value(v) for k, v in spec.substitute.items()})
    return variables if ok else None


def _substituted(
    manifest: Manifest, variables: Mapping[str, str], prefix: str, problems: list[str]
) -> Manifest:
    metadata = manifest.body.get("metadata") or {}
    for key in ("labels", "annotations"):
        marks = metadata.get(key)
        if isinstance(marks, Mapping) and marks.get(SUBSTITUTE_KEY) == "disabled":
            return manifest
    try:
        text = substitute(render_unfolded(dict(manifest.body)), variables)
        documents = parse_documents(str(manifest.location), text)
    except (SubstitutionError, ConfigError) as error:
        problems.append(f"{prefix}{manifest.location}: postBuild substitution: {error}")
        return manifest
    body = documents[0] if len(documents) == 1 else None
    if not isinstance(body, dict):
        problems.append(
            f"{prefix}{manifest.location}: postBuild substitution did not give one object"
        )
        return manifest
    try:
        return read_manifest(manifest.location, body)
    except ConfigError as error:
        problems.append(f"{prefix}postBuild substitution: {error}")
        return manifest


def _from_tree(manifest: Manifest | None) -> dict[str, str] | None:
    if manifest is None:
        return None
    body = manifest.body
    out: dict[str, str] = {}
    if manifest.kind == "Secret":
        for key, value in (body.get("data") or {}).items():
            try:
                out[str(key)] = base64.b64decode(str(value), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
        out.update({str(k): str(v) for k, v in (body.get("stringData") or {}).items()})
        return out
    out.update({str(k): str(v) for k, v in (body.get("data") or {}).items()})
    return out
