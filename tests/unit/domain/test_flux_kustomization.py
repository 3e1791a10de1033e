"""Flux Kustomization objects read as data: honoured fields, refusals by name, dependsOn."""

from __future__ import annotations

from typing import Any

from gitops_action.domain.flux_kustomization import (
    FluxKustomization,
    Ref,
    dependency_order,
    merge_overlay,
    read,
    unmatched_patches,
)
from gitops_action.domain.manifests import Location, Manifest

ROOT = Ref("flux-system", "flux-system")


def ks(name: str, spec: dict[str, Any], version: str = "v1", doc: int = 1) -> Manifest:
    body = {
        "apiVersion": f"kustomize.toolkit.fluxcd.io/{version}",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": spec,
    }
    return Manifest(Location("clusters/production/apps.yaml", doc), body)


def test_every_honoured_field_is_read() -> None:
    spec = {
        "interval": "10m",
        "path": "./apps/production/",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        "dependsOn": [{"name": "infrastructure"}, {"name": "db", "namespace": "data"}],
        "targetNamespace": "web",
        "namePrefix": "p-",
        "commonMetadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}},
        "patches": [{"patch": "- op: add\n", "target": {"kind": "Deployment"}}],
        "images": [{"name": "app", "newTag": "v2"}],
        "components": ["../components/tls"],
        "wait": True,
        "timeout": "2m",
        "healthChecks": [{"kind": "Deployment", "name": "web", "namespace": "web"}],
        "serviceAccountName": "deployer",
        "postBuild": {
            "substitute": {"domain": "example.com"},
            "substituteFrom": [{"kind": "Secret", "name": "vars", "optional": True}],
        },
    }
    k, problems = read(ks("apps", spec), ROOT)
    assert problems == []
    assert k.path == "apps/production"
    assert k.depends_on == (Ref("flux-system", "infrastructure"), Ref("data", "db"))
    assert k.timeout.seconds == 120
    assert k.health_checks[0].api_version == "apps/v1"
    assert k.substitute == {"domain": "example.com"}
    assert k.substitute_from[0].optional
    assert k.overlay() == {
        "namespace": "web",
        "namePrefix": "p-",
        "patches": [{"patch": "- op: add\n", "target": {"kind": "Deployment"}}],
        "components": ["../components/tls"],
        "images": [{"name": "app", "newTag": "v2"}],
    }


def test_unhonourable_fields_are_refused_by_name_all_at_once() -> None:
    spec = {
        "path": "../outside",
        "sourceRef": {"kind": "OCIRepository", "name": "oci"},
        "decryption": {"provider": "sops"},
        "kubeConfig": {"secretRef": {"name": "remote"}},
        "timeout": "soon",
        "postBuild": {"substitute": {"replicas": 3}},
        "surprise": 1,
    }
    _k, problems = read(ks("apps", spec, doc=2), ROOT)
    prefix = "clusters/production/apps.yaml: document 2: Kustomization flux-system/apps: "
    assert all(p.startswith(prefix) for p in problems)
    fields = sorted(p[len(prefix) :].split(":")[0] for p in problems)
    assert fields == [
        "spec.decryption",
        "spec.kubeConfig",
        "spec.path",
        "spec.postBuild.substitute.replicas",
        "spec.sourceRef.kind",
        "spec.surprise",
        "spec.timeout",
    ]


def test_v1beta2_is_read_and_other_versions_refused() -> None:
    _k, problems = read(ks("a", {"path": "./a"}, version="v1beta2"), ROOT)
    assert problems == []
    _k, problems = read(ks("a", {"path": "./a"}, version="v1beta1"), ROOT)
    assert problems and "apiVersion" in problems[0]


def test_overlay_merges_as_flux_generator_does() -> None:
    base = {
        "resources": ["deploy.yaml"],
        "namespace": "old",
        "patches": [{"path": "p.yaml"}],
        "images": [{"name": "app", "newTag": "v1", "digest": "sha256:old"}, {"name": "db"}],
    }
    overlay = {
        "namespace": "new",
        "patches": [{"patch": "x"}],
        "images": [{"name": "app", "newTag": "v2"}, {"name": "cache", "newName": "redis"}],
    }
    assert merge_overlay(base, overlay) == {
        "resources": ["deploy.yaml"],
        "namespace": "new",
        "patches": [{"path": "p.yaml"}, {"patch": "x"}],
        "images": [
            {"name": "app", "newTag": "v2"},
            {"name": "db"},
            {"name": "cache", "newName": "redis"},
        ],
    }


def _named(name: str, *deps: str) -> FluxKustomization:
    k, problems = read(ks(name, {"path": name, "dependsOn": [{"name": d} for d in deps]}), ROOT)
    assert problems == []
    return k


def test_dependency_order_puts_dependencies_first() -> None:
    items = [_named("apps", "infra"), _named("infra", "crds"), _named("crds"), _named("other")]
    ordered, problems = dependency_order(items)
    assert problems == []
    assert [k.ref.name for k in ordered] == ["crds", "infra", "apps", "other"]


def test_cycles_and_missing_dependencies_are_named() -> None:
    items = [_named("a", "b"), _named("b", "c"), _named("c", "a"), _named("d", "ghost")]
    _ordered, problems = dependency_order(items)
    assert problems == [
        "clusters/production/apps.yaml: document 1: Kustomization flux-system/d: "
        "spec.dependsOn: flux-system/ghost is not a Kustomization in the tree",
        "clusters/production/apps.yaml: document 1: Kustomization flux-system/a: "
        "spec.dependsOn: cycle flux-system/a -> flux-system/b -> flux-system/c -> flux-system/a",
    ]


def test_patch_targets_that_select_nothing_are_named() -> None:
    spec = {
        "path": "./apps",
        "namePrefix": "prod-",
        "patches": [
            {"patch": "x", "target": {"kind": "Deployment", "name": "web"}},
            {"patch": "x", "target": {"kind": "Deployment", "name": "we.*", "group": "apps"}},
            {"patch": "x", "target": {"kind": "Deployment", "labelSelector": "tier=front"}},
            {"patch": "x", "target": {"kind": "Service"}},
            {"patch": "x"},
        ],
    }
    k, problems = read(ks("apps", spec), ROOT)
    assert problems == []
    objects = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "prod-web", "labels": {"tier": "back"}},
        }
    ]
    found = unmatched_patches(k, objects)
    assert [p.split(": ")[3].split(" ")[0] for p in found] == [
        "spec.patches[2].target",
        "spec.patches[3].target",
    ]
    assert found[1].endswith("spec.patches[3].target (kind=Service) matches no object of the build")
