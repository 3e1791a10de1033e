"""`gitops-action sync` of a repository in the shape `flux bootstrap` leaves, on the real
control plane: the Kustomization tree built with real kustomize, postBuild, dependsOn,
per-Kustomization inventories, health checks, and the whole tree's errors at once.

The Flux objects live in the test's namespace instead of `flux-system` (the cluster is
shared by the session); everything else is as Flux users write it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from testbed.kube import Kube

BIN = Path(sys.executable).parent / "gitops-action"
KS = "kustomize.toolkit.fluxcd.io/v1"


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())


def kustomization(name: str, ns: str, path: str, spec: str = "") -> str:
    extra = textwrap.indent(textwrap.dedent(spec).strip(), "  ") + "\n" if spec else ""
    return (
        f"apiVersion: {KS}\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
        f"spec:\n  interval: 10m\n  path: {path}\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" + extra
    )


def deployment(name: str, labels: dict[str, str] | None = None, env: tuple[str, ...] = ()) -> str:
    """A one-replica Deployment; `env` lines are `NAME=value` pairs (values quoted)."""
    text = textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
        spec:
          replicas: 1
          selector:
            matchLabels: {{app: {name}}}
          template:
            metadata:
              labels:
                app: {name}
        {{labels}}    spec:
              containers:
                - name: main
                  image: registry.k8s.io/pause:3.9
        """)
    extra = "".join(f'        {key}: "{value}"\n' for key, value in (labels or {}).items())
    text = text.replace("{labels}", extra)
    if env:
        text += "          env:\n"
        for pair in env:
            key, _, value = pair.partition("=")
            text += f'            - {{name: {key}, value: "{value}"}}\n'
    return text


def bootstrap_repo(
    root: Path, ns: str, *, infra_labels: dict[str, str] | None = None, timeout: str = "60s"
) -> Path:
    """A repository as `flux bootstrap --path=clusters/production` and a team leave it."""
    cluster = "clusters/production"
    write(
        root,
        f"{cluster}/flux-system/gotk-components.yaml",
        f"""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: flux-system
          labels: {{app.kubernetes.io/part-of: flux}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: source-controller
          namespace: {ns}
          labels: {{app.kubernetes.io/part-of: flux}}
        spec:
          selector:
            matchLabels: {{app: source-controller}}
          template:
            metadata:
              labels: {{app: source-controller}}
            spec:
              containers: [{{name: manager, image: ghcr.io/fluxcd/source-controller:v1.7.0}}]
        """,
    )
    source = textwrap.dedent(f"""\
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata:
          name: flux-system
          namespace: {ns}
        spec:
          interval: 1m0s
          ref: {{branch: main}}
          secretRef: {{name: flux-system}}
          url: ssh://git@github.com/example/fleet
        ---
        """)
    write(
        root,
        f"{cluster}/flux-system/gotk-sync.yaml",
        source + kustomization("flux-system", ns, "./clusters/production"),
    )
    write(
        root,
        f"{cluster}/flux-system/kustomization.yaml",
        """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - gotk-components.yaml
          - gotk-sync.yaml
        """,
    )
    write(
        root,
        f"{cluster}/infrastructure.yaml",
        kustomization(
            "infrastructure",
            ns,
            "./infrastructure",
            f"""
        targetNamespace: {ns}
        timeout: {timeout}
        healthChecks:
          - apiVersion: apps/v1
            kind: Deployment
            name: infra-controller
            namespace: {ns}
        """,
        ),
    )
    write(
        root,
        f"{cluster}/apps.yaml",
        kustomization(
            "apps",
            ns,
            "./apps/production",
            f"""
        dependsOn:
          - name: infrastructure
        targetNamespace: {ns}
        images:
          - name: registry.k8s.io/pause
            newTag: "3.10"
        postBuild:
          substitute:
            cluster_name: production
          substituteFrom:
            - kind: ConfigMap
              name: cluster-vars
            - kind: Secret
              name: cluster-secrets
            - kind: Secret
              name: not-there
              optional: true
        """,
        ),
    )
    write(
        root,
        f"{cluster}/cluster-vars.yaml",
        f"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cluster-vars
          namespace: {ns}
        data:
          domain: example.com
        """,
    )
    # infrastructure/ has no kustomization.yaml: Flux generates one.
    write(root, "infrastructure/controller.yaml", deployment("infra-controller", infra_labels))
    write(
        root,
        "infrastructure/settings.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: infra-settings
        data: {level: info}
        """,
    )
    write(root, "infrastructure/.github/workflows/ci.yaml", "on: push\njobs: {test: {}}\n")
    write(root, "infrastructure/charts/web/Chart.yaml", "apiVersion: v2\nname: web\n")
    write(root, "infrastructure/charts/web/templates/deploy.yaml", "{{ .Values.oops }}\n")
    write(root, "apps/base/kustomization.yaml", "resources: [web.yaml, service.yaml]\n")
    write(
        root,
        "apps/base/web.yaml",
        deployment(
            "web",
            {"cluster": "${cluster_name}"},
            (
                "DOMAIN=web.${domain}",
                "TOKEN_NAME=${token_name}",
                "REGION=${region:=eu-west-1}",
                "LITERAL=$${domain}",
            ),
        ),
    )
    write(
        root,
        "apps/base/service.yaml",
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          selector: {app: web}
          ports: [{port: 80}]
        """,
    )
    write(
        root,
        "apps/components/tier/kustomization.yaml",
        """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        labels:
          - pairs: {tier: frontend}
        """,
    )
    write(
        root,
        "apps/production/kustomization.yaml",
        """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ../base
          - raw.yaml
        components:
          - ../components/tier
        patches:
          - target: {kind: Deployment, name: web}
            patch: |
              - op: replace
                path: /spec/replicas
                value: 2
        configMapGenerator:
          - name: web-config
            literals: [mode=production]
        """,
    )
    write(
        root,
        "apps/production/raw.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: raw
          annotations:
            kustomize.toolkit.fluxcd.io/substitute: disabled
        data:
          kept: ${domain}
        """,
    )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root / cluster


def sync(kube: Kube, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [
        str(BIN),
        "sync",
        str(path),
        "--kubeconfig",
        str(kube.kubeconfig),
        "--inventory",
        f"{kube.namespace}/inventory",
        "--output",
        "json",
        *args,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


def report(result: subprocess.CompletedProcess[str], code: int = 0) -> dict[str, Any]:
    assert result.returncode == code, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def get(kube: Kube, api: str, kind: str, name: str, ns: str) -> dict[str, Any] | None:
    from kubernetes.dynamic.exceptions import NotFoundError

    resource = kube.dynamic_client().resources.get(api_version=api, kind=kind)
    try:
        found: dict[str, Any] = resource.get(name=name, namespace=ns).to_dict()
    except NotFoundError:
        return None
    return found


def cluster_secret(kube: Kube, name: str, data: dict[str, str]) -> None:
    from kubernetes import client

    client.CoreV1Api(kube.api_client()).create_namespaced_secret(
        kube.namespace,
        {"metadata": {"name": name}, "stringData": data},  # type: ignore[arg-type]
    )


@pytest.fixture
def repo(kube: Kube, tmp_path: Path) -> Path:
    cluster_secret(kube, "cluster-secrets", {"token_name": "api-token"})
    return bootstrap_repo(tmp_path / "fleet", kube.namespace)


def test_one_sync_applies_the_whole_tree_in_dependency_order(kube: Kube, repo: Path) -> None:
    ns = kube.namespace
    result = sync(kube, repo)
    data = report(result)
    units = [(u["name"], u["state"], u["ready"]) for u in data["kustomizations"]]
    assert units == [
        (f"{ns}/flux-system", "applied", True),
        (f"{ns}/infrastructure", "applied", True),
        (f"{ns}/apps", "applied", True),
    ]
    assert data["fluxComponentsLeftOut"] == ["clusters/production/flux-system/gotk-components.yaml"]
    assert "left out Flux's own controllers" in result.stderr
    assert get(kube, "apps/v1", "Deployment", "source-controller", ns) is None
    # infrastructure was applied (and healthy) before apps
    applied = [o["name"] for o in data["objects"] if o["action"] == "created"]
    assert applied.index("infra-controller") < applied.index("web")
    web = get(kube, "apps/v1", "Deployment", "web", ns)
    assert web is not None
    assert web["spec"]["replicas"] == 2  # the overlay's patch
    labels = web["metadata"]["labels"]
    assert labels["tier"] == "frontend"  # the component
    assert labels["kustomize.toolkit.fluxcd.io/name"] == "apps"
    assert web["spec"]["template"]["metadata"]["labels"]["cluster"] == "production"
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.k8s.io/pause:3.10"  # the Kustomization's images
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env == {
        "DOMAIN": "web.example.com",  # substituteFrom ConfigMap (in the tree)
        "TOKEN_NAME": "api-token",  # substituteFrom Secret (in the cluster)
        "REGION": "eu-west-1",  # ${var:=default}
        "LITERAL": "${domain}",  # $${escape}
    }
    raw = get(kube, "v1", "ConfigMap", "raw", ns)
    assert raw is not None and raw["data"] == {"kept": "${domain}"}  # substitute: disabled
    generated = [o["name"] for o in data["objects"] if o["name"].startswith("web-config-")]
    assert len(generated) == 1
    sources = {o["name"]: o["source"] for o in data["objects"]}
    assert sources["infra-settings"] == "infrastructure/settings.yaml: document 1"
    assert sources["web"] == "apps/base/web.yaml: document 1"
    # nothing from .github/ or the chart's templates/ was read as a manifest
    assert not any(o["source"] and ".github" in o["source"] for o in data["objects"])
    inventories = {u["name"]: u["inventory"] for u in data["kustomizations"]}
    assert inventories[f"{ns}/apps"] == f"{ns}/inventory.{ns}.apps"


def test_a_second_sync_writes_nothing(kube: Kube, repo: Path) -> None:
    report(sync(kube, repo))
    kube.reset_counters()
    data = report(sync(kube, repo))
    assert data["counts"]["created"] == data["counts"]["configured"] == 0
    assert kube.writes() == 0


def test_removing_a_file_prunes_exactly_that_object(kube: Kube, repo: Path) -> None:
    report(sync(kube, repo))
    (repo.parent.parent / "infrastructure" / "settings.yaml").unlink()
    data = report(sync(kube, repo))
    pruned = [(o["name"], o["kustomization"]) for o in data["objects"] if o["action"] == "pruned"]
    assert pruned == [("infra-settings", f"{kube.namespace}/infrastructure")]
    assert get(kube, "v1", "ConfigMap", "infra-settings", kube.namespace) is None
    assert get(kube, "apps/v1", "Deployment", "web", kube.namespace) is not None


def test_an_unhealthy_dependency_holds_the_dependents_back(kube: Kube, tmp_path: Path) -> None:
    ns = kube.namespace
    cluster_secret(kube, "cluster-secrets", {"token_name": "t"})
    label = {kube.never_ready_label: "yes"}
    repo = bootstrap_repo(tmp_path / "fleet", ns, infra_labels=label, timeout="3s")
    result = sync(kube, repo)
    data = report(result, code=1)
    states = {u["name"]: (u["state"], u["ready"]) for u in data["kustomizations"]}
    assert states[f"{ns}/infrastructure"] == ("applied", False)
    assert states[f"{ns}/apps"] == ("held", False)
    held = next(u for u in data["kustomizations"] if u["name"] == f"{ns}/apps")
    assert held["message"].startswith(f"dependency not ready: {ns}/infrastructure: ")
    assert "infra-controller" in held["message"]
    assert get(kube, "apps/v1", "Deployment", "web", ns) is None
    assert "held" in result.stderr


def test_every_problem_of_the_tree_is_named_and_nothing_is_applied(kube: Kube, repo: Path) -> None:
    ns = kube.namespace
    root = repo.parent.parent
    # a dependsOn cycle
    write(
        root,
        "clusters/production/infrastructure.yaml",
        kustomization("infrastructure", ns, "./infrastructure", "dependsOn: [{name: apps}]"),
    )
    # a patch that matches nothing, in a Kustomization of its own
    write(
        root,
        "clusters/production/extra.yaml",
        kustomization(
            "extra",
            ns,
            "./extra",
            """
        patches:
          - target: {kind: Deployment, name: nothing-has-this-name}
            patch: |
              - op: replace
                path: /spec/replicas
                value: 3
        postBuild:
          substituteFrom:
            - kind: ConfigMap
              name: missing-vars
        """,
        ),
    )
    write(root, "extra/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n")
    # a kustomize build error
    write(root, "clusters/production/broken.yaml", kustomization("broken", ns, "./broken"))
    write(root, "broken/kustomization.yaml", "resources: [does-not-exist.yaml]\n")
    kube.reset_counters()
    result = sync(kube, repo)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    message = result.stderr
    assert "problems in the tree (nothing applied)" in message
    assert (
        f"clusters/production/broken.yaml: document 1: Kustomization {ns}/broken: "
        "spec.path broken: kustomize build broken failed:" in message
    )
    assert "does-not-exist.yaml" in message
    assert (
        f"clusters/production/extra.yaml: document 1: Kustomization {ns}/extra: "
        "spec.patches[0].target (kind=Deployment, name=nothing-has-this-name) matches no "
        "object of the build" in message
    )
    assert (
        f"Kustomization {ns}/extra: spec.postBuild.substituteFrom[0]: ConfigMap "
        f"{ns}/missing-vars not found" in message
    )
    assert f"spec.dependsOn: cycle {ns}/apps -> {ns}/infrastructure -> {ns}/apps" in message
    assert kube.writes() == 0


def test_a_missing_substitute_from_that_is_not_optional_is_named(
    kube: Kube, tmp_path: Path
) -> None:
    repo = bootstrap_repo(tmp_path / "fleet", kube.namespace)  # cluster-secrets never created
    kube.reset_counters()
    result = sync(kube, repo)
    assert result.returncode == 2
    assert (
        f"clusters/production/apps.yaml: document 1: Kustomization {kube.namespace}/apps: "
        f"spec.postBuild.substituteFrom[1]: Secret {kube.namespace}/cluster-secrets not found "
        "(in the tree or the cluster) and not optional"
    ) in result.stderr
    assert kube.writes() == 0


def test_a_sync_failing_part_way_lists_what_it_had_applied(kube: Kube, tmp_path: Path) -> None:
    ns = kube.namespace
    write(
        tmp_path,
        "app/settings.yaml",
        f"""
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: settings, namespace: {ns}}}
        """,
    )
    write(
        tmp_path,
        "app/service.yaml",
        f"""
        apiVersion: v1
        kind: Service
        metadata: {{name: web, namespace: {ns}}}
        spec:
          selector: {{app: web}}
          ports: [{{port: 80}}]
        """,
    )
    kube.deny("patch", "services")
    result = sync(kube, tmp_path / "app")
    data = report(result, code=1)
    assert data["error"].endswith(f"; applied before the failure: ConfigMap/{ns}/settings")
    assert f"applied before the failure: ConfigMap/{ns}/settings" in result.stderr
    assert get(kube, "v1", "ConfigMap", "settings", ns) is not None


def test_a_service_account_kustomization_is_held_to_its_rbac(kube: Kube, tmp_path: Path) -> None:
    """serviceAccountName: the tenant's objects are applied as that ServiceAccount, so the
    API server's RBAC decides; an object for another namespace is refused and reported."""
    from kubernetes import client

    ns = kube.namespace
    api = kube.api_client()
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    core.create_namespaced_service_account(ns, {"metadata": {"name": "tenant"}})  # type: ignore[arg-type]
    rbac.create_namespaced_role(
        ns,
        {  # type: ignore[arg-type]
            "metadata": {"name": "tenant"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}],
        },
    )
    rbac.create_namespaced_role_binding(
        ns,
        {  # type: ignore[arg-type]
            "metadata": {"name": "tenant"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant"},
            "subjects": [{"kind": "ServiceAccount", "name": "tenant", "namespace": ns}],
        },
    )
    root = tmp_path / "fleet"
    write(
        root,
        "clusters/dev/tenant.yaml",
        kustomization(
            "tenant",
            ns,
            "./tenant",
            f"""
        targetNamespace: {ns}
        serviceAccountName: tenant
        """,
        ),
    )
    write(root, "tenant/mine.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mine}\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    data = report(sync(kube, root / "clusters/dev"))
    assert get(kube, "v1", "ConfigMap", "mine", ns) is not None
    assert [u["name"] for u in data["kustomizations"]] == ["clusters/dev", f"{ns}/tenant"]

    # The tenant reaches outside its namespace: the API server refuses it.
    write(
        root,
        "tenant/theirs.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: theirs, namespace: default}
        """,
    )
    write(
        root,
        "clusters/dev/tenant.yaml",
        kustomization(
            "tenant",
            ns,
            "./tenant",
            """
        serviceAccountName: tenant
        """,
        ),
    )
    result = sync(kube, root / "clusters/dev", "--namespace", ns)
    assert result.returncode == 1, result.stderr
    assert (
        "gitops-action: error: apply ConfigMap default/theirs: forbidden: "
        f'system:serviceaccount:{ns}:tenant lacks RBAC permission to "patch" configmaps '
        '(API group "") in namespace "default"'
    ) in result.stderr
    assert get(kube, "v1", "ConfigMap", "theirs", "default") is None


def test_a_kustomization_removed_from_git_is_pruned_as_its_deletion_policy_says(
    kube: Kube, repo: Path
) -> None:
    ns = kube.namespace
    root = repo.parent.parent
    # infrastructure keeps its objects when it leaves git (deletionPolicy: Orphan)
    write(
        root,
        "clusters/production/infrastructure.yaml",
        kustomization(
            "infrastructure",
            ns,
            "./infrastructure",
            f"targetNamespace: {ns}\ndeletionPolicy: Orphan",
        ),
    )
    report(sync(kube, repo))
    (root / "clusters/production/apps.yaml").unlink()
    (root / "clusters/production/infrastructure.yaml").unlink()
    data = report(sync(kube, repo))
    gone = {u["name"]: u["message"] for u in data["kustomizations"] if u["state"] == "deleted"}
    assert gone == {
        f"{ns}/apps": "no longer in git: its objects pruned (deletionPolicy MirrorPrune)",
        f"{ns}/infrastructure": "no longer in git: its objects left in place "
        "(deletionPolicy Orphan)",
    }
    pruned = sorted(o["name"] for o in data["objects"] if o["action"] == "pruned")
    assert pruned[:3] == ["raw", "web", "web"]  # the Deployment and the Service
    assert all(
        o["kustomization"] == f"{ns}/apps" for o in data["objects"] if o["action"] == "pruned"
    )
    assert get(kube, "apps/v1", "Deployment", "web", ns) is None
    assert get(kube, "apps/v1", "Deployment", "infra-controller", ns) is not None
    assert get(kube, "v1", "ConfigMap", f"inventory.{ns}.apps", ns) is None
    assert get(kube, "v1", "ConfigMap", f"inventory.{ns}.infrastructure", ns) is None
    # and the next run has nothing left to do
    kube.reset_counters()
    again = report(sync(kube, repo))
    assert not [u for u in again["kustomizations"] if u["state"] == "deleted"]
    assert kube.writes() == 0


def job(image: str) -> str:
    return f"""
        apiVersion: batch/v1
        kind: Job
        metadata: {{name: migrate}}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{{name: main, image: "{image}"}}]
        """


@pytest.mark.parametrize("force", [True, False])
def test_force_recreates_an_object_whose_immutable_field_changed(
    kube: Kube, tmp_path: Path, force: bool
) -> None:
    ns = kube.namespace
    root = tmp_path / "fleet"
    spec = f"targetNamespace: {ns}\nforce: {str(force).lower()}"
    write(root, "clusters/dev/jobs.yaml", kustomization("jobs", ns, "./jobs", spec))
    write(root, "jobs/job.yaml", job("registry.k8s.io/pause:3.9"))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    report(sync(kube, root / "clusters/dev"))
    first = get(kube, "batch/v1", "Job", "migrate", ns)
    assert first is not None
    write(root, "jobs/job.yaml", job("registry.k8s.io/pause:3.10"))
    result = sync(kube, root / "clusters/dev")
    live = get(kube, "batch/v1", "Job", "migrate", ns)
    assert live is not None
    image = live["spec"]["template"]["spec"]["containers"][0]["image"]
    if force:
        data = report(result)
        (item,) = [o for o in data["objects"] if o["name"] == "migrate"]
        assert item["note"] == "recreated (force: an immutable field changed)"
        assert image == "registry.k8s.io/pause:3.10"
        assert live["metadata"]["uid"] != first["metadata"]["uid"]
    else:
        assert result.returncode == 1
        assert f"apply Job {ns}/migrate: rejected as invalid by the API server" in result.stderr
        assert image == "registry.k8s.io/pause:3.9"


def test_a_health_check_on_an_object_the_kustomization_does_not_apply(
    kube: Kube, tmp_path: Path
) -> None:
    import yaml
    from kubernetes import utils

    ns = kube.namespace
    body = yaml.safe_load(deployment("external", {kube.never_ready_label: "yes"}))
    utils.create_from_dict(kube.api_client(), body, namespace=ns)
    root = tmp_path / "fleet"
    write(
        root,
        "clusters/dev/gate.yaml",
        kustomization(
            "gate",
            ns,
            "./gate",
            f"""
        targetNamespace: {ns}
        timeout: 3s
        healthChecks:
          - {{apiVersion: apps/v1, kind: Deployment, name: external, namespace: {ns}}}
        """,
        ),
    )
    write(
        root,
        "clusters/dev/after.yaml",
        kustomization(
            "after",
            ns,
            "./after",
            f"""
        targetNamespace: {ns}
        dependsOn: [{{name: gate}}]
        """,
        ),
    )
    write(root, "gate/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gate}\n")
    write(root, "after/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    data = report(sync(kube, root / "clusters/dev"), code=1)
    units = {u["name"]: u for u in data["kustomizations"]}
    gate = units[f"{ns}/gate"]
    assert (gate["state"], gate["ready"]) == ("failed", False)
    assert gate["message"].startswith(f"health check Deployment {ns}/external: ")
    assert units[f"{ns}/after"]["state"] == "held"
    assert get(kube, "v1", "ConfigMap", "gate", ns) is not None
    assert get(kube, "v1", "ConfigMap", "after", ns) is None
