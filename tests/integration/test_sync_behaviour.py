"""`gitops-action sync` beyond the acceptance cases: dry-run, diff, JSON, drift, canaries,
kustomizations, prune safety, interrupted runs, ordering, health of other kinds."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from testbed.kube import Kube
from testbed.kube_cluster import FAIL_LABEL, NEVER_READY_LABEL
from tests.integration.sync_support import (
    BIN,
    INVENTORY,
    configmap,
    deployment,
    example_namespace,
    example_tree,
    get,
    inventory_lines,
    lines,
    ok,
    run_sync,
    write,
)

# ---------------------------------------------------------------- dry-run, diff, json


def test_dry_run_plans_everything_and_writes_nothing(kube: Kube, tmp_path: Path) -> None:
    ns = kube.namespace
    write(tmp_path, "a.yaml", configmap("keep", ns, k="v"))
    write(tmp_path, "b.yaml", configmap("drop", ns))
    write(tmp_path, "c.yaml", configmap("change", ns, k="1"))
    ok(run_sync(kube, tmp_path))
    (tmp_path / "b.yaml").unlink()
    write(tmp_path, "c.yaml", configmap("change", ns, k="2"))
    write(tmp_path, "d.yaml", configmap("new", ns))
    kube.reset_counters()
    result = ok(run_sync(kube, tmp_path, "--dry-run"))
    assert lines(result) == [
        f"ConfigMap/{ns}/change configured (dry run)",
        f"ConfigMap/{ns}/keep unchanged (dry run)",
        f"ConfigMap/{ns}/new created (dry run)",
        f"ConfigMap/{ns}/drop pruned (dry run)",
    ]
    assert "(dry run: nothing written)" in result.stderr
    assert kube.writes() == 0
    assert get(kube, "v1", "ConfigMap", "drop", ns) is not None
    assert get(kube, "v1", "ConfigMap", "change", ns)["data"] == {"k": "1"}


def test_diff_shows_only_the_fields_we_apply(kube: Kube, tmp_path: Path) -> None:
    root = example_tree(kube, tmp_path)
    ns = example_namespace(kube)
    ok(run_sync(kube, root))
    manifest = root / "deployment.yaml"
    manifest.write_text(manifest.read_text().replace("replicas: 2", "replicas: 3"))
    kube.reset_counters()
    result = ok(run_sync(kube, root, "--dry-run", "--diff"))
    diff = result.stdout.split(f"Service/{ns}/demo unchanged (dry run)\n")[1]
    diff = diff.split(f"Deployment/{ns}/demo configured (dry run)\n")[0]
    assert diff == (
        f"--- live Deployment/{ns}/demo\n"
        f"+++ git Deployment/{ns}/demo\n"
        "@@ -6,7 +6,7 @@\n"
        "   name: demo\n"
        f"   namespace: {ns}\n"
        " spec:\n"
        "-  replicas: 2\n"
        "+  replicas: 3\n"
        "   selector:\n"
        "     matchLabels:\n"
        "       app: demo\n"
    )
    assert kube.writes() == 0


def test_diff_of_a_secret_never_shows_its_values(kube: Kube, tmp_path: Path) -> None:
    secret = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: creds
          namespace: {ns}
        stringData:
          password: {password}
          user: admin
        """
    write(tmp_path, "s.yaml", secret.format(ns=kube.namespace, password="hunter2"))
    created = ok(run_sync(kube, tmp_path, "--diff"))
    assert "hunter2" not in created.stdout
    assert "YWRtaW4" not in created.stdout  # base64 of "admin"
    kube.reset_counters()
    assert lines(ok(run_sync(kube, tmp_path))) == [f"Secret/{kube.namespace}/creds unchanged"]
    assert kube.writes() == 0  # stringData compared as the data the server stored
    write(tmp_path, "s.yaml", secret.format(ns=kube.namespace, password="hunter3"))
    changed = ok(run_sync(kube, tmp_path, "--diff", "--dry-run"))
    assert "-  password: <redacted>\n+  password: <redacted, changed>\n" in changed.stdout
    assert "user: <redacted>" in changed.stdout
    assert "hunter" not in changed.stdout


def test_json_output_is_the_result_as_data(kube: Kube, tmp_path: Path) -> None:
    root = example_tree(kube, tmp_path)
    ns = example_namespace(kube)
    result = ok(run_sync(kube, root, "--output", "json"))
    data = json.loads(result.stdout)
    assert data["dryRun"] is False
    assert data["healthy"] is True
    assert data["inventory"] == f"{kube.namespace}/{INVENTORY}"
    assert data["counts"] == {
        "created": 2,
        "configured": 0,
        "unchanged": 0,
        "pruned": 0,
        "kept": 0,
        "skipped": 3,
    }
    assert [(o["id"], o["action"], o["health"]) for o in data["objects"]] == [
        (f"/Service/{ns}/demo", "created", None),
        (f"apps/Deployment/{ns}/demo", "created", "healthy"),
    ]
    assert data["objects"][1]["source"] == "deployment.yaml: document 1"
    assert sorted(s["kind"] for s in data["skipped"]) == [
        "ImagePolicy",
        "ImageRepository",
        "ImageUpdateAutomation",
    ]


# ---------------------------------------------------------------- drift and canaries


def test_drift_is_corrected_and_then_left_alone(kube: Kube, tmp_path: Path) -> None:
    from kubernetes import client

    ns = kube.namespace
    write(tmp_path, "web.yaml", deployment("web", ns, replicas=2))
    ok(run_sync(kube, tmp_path))
    apps = client.AppsV1Api(kube.api_client())
    apps.patch_namespaced_deployment(
        "web",
        ns,
        {
            "spec": {
                "replicas": 5,
                "template": {
                    "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.8"}]}
                },
            }
        },
    )
    kube.reset_counters()
    assert lines(ok(run_sync(kube, tmp_path))) == [f"Deployment/{ns}/web configured"]
    live = apps.read_namespaced_deployment("web", ns)
    assert live.spec.replicas == 2
    assert live.spec.template.spec.containers[0].image == "registry.k8s.io/pause:3.9"
    kube.reset_counters()
    assert lines(ok(run_sync(kube, tmp_path))) == [f"Deployment/{ns}/web unchanged"]
    assert kube.writes() == 0


def test_fields_added_by_others_are_not_drift(kube: Kube, tmp_path: Path) -> None:
    from kubernetes import client

    ns = kube.namespace
    write(tmp_path, "cm.yaml", configmap("settings", ns, a="1"))
    ok(run_sync(kube, tmp_path))
    core = client.CoreV1Api(kube.api_client())
    core.patch_namespaced_config_map(
        "settings", ns, {"metadata": {"annotations": {"team": "x"}}, "data": {"b": "2"}}
    )
    kube.reset_counters()
    assert lines(ok(run_sync(kube, tmp_path))) == [f"ConfigMap/{ns}/settings unchanged"]
    assert kube.writes() == 0


def test_canary_target_is_applied_without_replicas(kube: Kube, tmp_path: Path) -> None:
    from kubernetes import client

    ns = kube.namespace
    write(tmp_path, "web.yaml", deployment("web", ns, replicas=3))
    write(
        tmp_path,
        "canary.yaml",
        f"""
        apiVersion: flagger.app/v1beta1
        kind: Canary
        metadata:
          name: web
          namespace: {ns}
        spec:
          targetRef:
            apiVersion: apps/v1
            kind: Deployment
            name: web
        """,
    )
    result = ok(run_sync(kube, tmp_path))
    assert "skipped 1 gitops-action config object, never applied (Canary 1)" in result.stderr
    apps = client.AppsV1Api(kube.api_client())
    live = apps.read_namespaced_deployment("web", ns)
    ours = [m for m in live.metadata.managed_fields if m.manager == "gitops-action"]
    assert len(ours) == 1
    assert "f:replicas" not in ours[0].fields_v1["f:spec"]
    apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 4}})
    kube.reset_counters()
    assert lines(ok(run_sync(kube, tmp_path))) == [f"Deployment/{ns}/web unchanged"]
    assert kube.writes() == 0
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 4


# ---------------------------------------------------------------- reading the tree


def test_kustomization_takes_only_what_it_lists(kube: Kube, tmp_path: Path) -> None:
    """Real kustomize reads the tree: only what a kustomization lists, a base once."""
    ns = kube.namespace
    write(
        tmp_path,
        "kustomization.yaml",
        "resources:\n  - apps/overlay\n  - plain/list.yaml\n",
    )
    write(
        tmp_path,
        "apps/base/kustomization.yaml",
        """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - listed.yaml
          - sub
        """,
    )
    write(tmp_path, "apps/base/listed.yaml", configmap("listed", ns))
    write(tmp_path, "apps/base/unlisted.yaml", configmap("unlisted", ns))
    write(tmp_path, "apps/base/sub/kustomization.yaml", "resources: [inner.yml]\n")
    write(tmp_path, "apps/base/sub/inner.yml", configmap("inner", ns))
    write(tmp_path, "apps/overlay/kustomization.yaml", "resources:\n  - ../base\n")
    write(
        tmp_path,
        "plain/list.yaml",
        f"""
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: ConfigMap
            metadata: {{name: item-one, namespace: {ns}}}
          - apiVersion: v1
            kind: ConfigMap
            metadata: {{name: item-two, namespace: {ns}}}
        """,
    )
    write(tmp_path, "notes.txt", "not yaml: [")
    result = ok(run_sync(kube, tmp_path))
    assert sorted(lines(result)) == [
        f"ConfigMap/{ns}/{name} created" for name in ("inner", "item-one", "item-two", "listed")
    ]


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ("github.com/example/repo//deploy?ref=v1", "resources"),
        ("https://example.com/app.yaml", "resources"),
    ],
)
def test_remote_kustomize_bases_are_refused(
    kube: Kube, tmp_path: Path, entry: str, field: str
) -> None:
    write(tmp_path, "app/kustomization.yaml", f"{field}:\n  - ok.yaml\n  - {entry}\n")
    write(tmp_path, "app/ok.yaml", configmap("ok", kube.namespace))
    result = run_sync(kube, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"gitops-action: error: app/kustomization.yaml: resources entry {entry!r} is a remote "
        "base; sync only applies files from the repository (vendor the base into the repository)"
    )
    assert kube.writes() == 0


def test_kustomize_features_are_applied_as_kustomize_builds_them(
    kube: Kube, tmp_path: Path
) -> None:
    ns = kube.namespace
    write(
        tmp_path,
        "kustomization.yaml",
        f"""
        resources: [a.yaml]
        namespace: {ns}
        namePrefix: prod-
        configMapGenerator:
          - name: settings
            literals: [mode=prod]
            options: {{disableNameSuffixHash: true}}
        """,
    )
    write(tmp_path, "a.yaml", configmap("a", "elsewhere"))
    result = ok(run_sync(kube, tmp_path))
    assert sorted(lines(result)) == [
        f"ConfigMap/{ns}/prod-a created",
        f"ConfigMap/{ns}/prod-settings created",
    ]
    assert get(kube, "v1", "ConfigMap", "prod-settings", ns)["data"] == {"mode": "prod"}


def test_invalid_yaml_is_named_with_its_line(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "ok.yaml", configmap("fine", kube.namespace))
    write(tmp_path, "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n")
    result = run_sync(kube, tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("gitops-action: error: bad.yaml:5: invalid YAML")
    assert kube.writes() == 0


def test_the_same_object_twice_is_refused(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", configmap("same", kube.namespace))
    write(tmp_path, "b.yaml", configmap("same", kube.namespace, x="y"))
    result = run_sync(kube, tmp_path)
    assert result.returncode == 2
    assert (
        f"ConfigMap {kube.namespace}/same is defined twice: a.yaml: document 1 and "
        "b.yaml: document 1" in result.stderr
    )


def test_default_namespace_option_places_unnamespaced_objects(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: loose\n")
    result = ok(run_sync(kube, tmp_path, "--namespace", kube.namespace))
    assert lines(result) == [f"ConfigMap/{kube.namespace}/loose created"]
    assert get(kube, "v1", "ConfigMap", "loose", kube.namespace) is not None


# ---------------------------------------------------------------- order and inventory


def test_namespaces_and_crds_are_applied_first(kube: Kube, tmp_path: Path) -> None:
    suffix = kube.namespace.rsplit("-", 1)[-1]
    team, group = f"team-{suffix}", f"{suffix}.example.com"
    for api_version, kind, name in (
        ("v1", "Namespace", team),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"widgets.{group}"),
    ):
        kube.delete_later(api_version, kind, name)
    write(
        tmp_path,
        "a-widget.yaml",
        f"""
        apiVersion: {group}/v1
        kind: Widget
        metadata:
          name: gear
          namespace: {team}
        spec:
          size: 3
        """,
    )
    write(tmp_path, "b-config.yaml", configmap("settings", team))
    write(
        tmp_path,
        "c-crd.yaml",
        f"""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.{group}
        spec:
          group: {group}
          scope: Namespaced
          names: {{kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}}
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
        """,
    )
    write(
        tmp_path,
        "d-namespace.yaml",
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {team}\n",
    )
    result = ok(run_sync(kube, tmp_path))
    assert lines(result) == [
        f"Namespace/{team} created",
        f"CustomResourceDefinition/widgets.{group} created",
        f"ConfigMap/{team}/settings created",
        f"Widget/{team}/gear created",
    ]
    assert get(kube, f"{group}/v1", "Widget", "gear", team)["spec"] == {"size": 3}
    applied = [
        r.resource
        for r in kube.requests(verb="patch")
        if r.resource != "configmaps" or r.namespace == team
    ]
    assert applied == ["namespaces", "customresourcedefinitions", "configmaps", "widgets"]
    kube.reset_counters()
    assert all(line.endswith("unchanged") for line in lines(ok(run_sync(kube, tmp_path))))
    assert kube.writes() == 0


def test_default_inventory_lives_in_gitops_system(kube: Kube, tmp_path: Path) -> None:
    from kubernetes import client

    core = client.CoreV1Api(kube.api_client())
    # gitops-system is cluster-wide: only its inventory ConfigMap is this test's.
    inventory = "gitops-action-inventory"
    kube.defer(lambda: core.delete_namespaced_config_map(inventory, "gitops-system"))
    write(tmp_path, "cm.yaml", configmap("a", kube.namespace))
    ok(run_sync(kube, tmp_path, inventory=False))
    namespace = get(kube, "v1", "Namespace", "gitops-system", None)
    assert namespace is not None
    assert inventory_lines(kube, "gitops-system", "gitops-action-inventory") == [
        f"v1/ConfigMap/{kube.namespace}/a"
    ]
    kube.reset_counters()
    ok(run_sync(kube, tmp_path, inventory=False))
    assert kube.writes() == 0


def test_prune_never_deletes_what_sync_did_not_apply(kube: Kube, tmp_path: Path) -> None:
    from kubernetes import client

    ns = kube.namespace
    core = client.CoreV1Api(kube.api_client())
    core.create_namespaced_config_map(ns, {"metadata": {"name": "by-kubectl"}, "data": {"a": "b"}})
    write(tmp_path, "mine.yaml", configmap("mine", ns))
    ok(run_sync(kube, tmp_path))
    # Someone puts objects sync never applied into its inventory by hand.
    smuggled = [
        f"v1/ConfigMap/{ns}/kube-root-ca.crt",
        f"v1/ServiceAccount/{ns}/default",
        f"v1/ConfigMap/{ns}/by-kubectl",
    ]
    core.patch_namespaced_config_map(
        INVENTORY, ns, {"data": {"objects": "\n".join([f"v1/ConfigMap/{ns}/mine", *smuggled])}}
    )
    (tmp_path / "mine.yaml").unlink()
    result = ok(run_sync(kube, tmp_path))
    assert f"ConfigMap/{ns}/mine pruned" in lines(result)
    for line in smuggled:
        kind, name = line.split("/")[1], line.split("/")[3]
        assert (
            f"{kind}/{ns}/{name} kept (not applied by gitops-action; dropped from the "
            "inventory)" in lines(result)
        )
    assert core.read_namespaced_config_map("kube-root-ca.crt", ns) is not None
    assert core.read_namespaced_config_map("by-kubectl", ns).data == {"a": "b"}
    assert core.read_namespaced_service_account("default", ns) is not None
    cm = core.read_namespaced_config_map(INVENTORY, ns)
    assert cm.data["objects"] == ""


def test_no_prune_keeps_stale_objects_in_the_inventory(kube: Kube, tmp_path: Path) -> None:
    ns = kube.namespace
    write(tmp_path, "a.yaml", configmap("a", ns))
    write(tmp_path, "b.yaml", configmap("b", ns))
    ok(run_sync(kube, tmp_path))
    (tmp_path / "b.yaml").unlink()
    result = ok(run_sync(kube, tmp_path, "--no-prune"))
    assert f"ConfigMap/{ns}/b kept (prune disabled)" in lines(result)
    assert get(kube, "v1", "ConfigMap", "b", ns) is not None
    assert f"v1/ConfigMap/{ns}/b" in inventory_lines(kube, ns)
    later = ok(run_sync(kube, tmp_path))
    assert f"ConfigMap/{ns}/b pruned" in lines(later)
    assert get(kube, "v1", "ConfigMap", "b", ns) is None


def test_a_run_that_dies_midway_leaves_everything_prunable(kube: Kube, tmp_path: Path) -> None:
    ns = kube.namespace
    write(tmp_path, "a.yaml", configmap("a", ns))
    write(tmp_path, "web.yaml", deployment("web", ns))
    kube.fail_next("patch", "deployments", code=500, retry_after=0, times=4)
    failed = run_sync(kube, tmp_path)
    assert failed.returncode == 1
    assert f"apply Deployment {ns}/web: API error 500 (injected failure)" in failed.stderr
    assert get(kube, "v1", "ConfigMap", "a", ns) is not None
    # The inventory already holds both, before either was applied.
    assert inventory_lines(kube, ns) == [f"apps/v1/Deployment/{ns}/web", f"v1/ConfigMap/{ns}/a"]
    ok(run_sync(kube, tmp_path))
    (tmp_path / "a.yaml").unlink()
    (tmp_path / "web.yaml").unlink()
    result = ok(run_sync(kube, tmp_path))
    assert sorted(lines(result)) == [f"ConfigMap/{ns}/a pruned", f"Deployment/{ns}/web pruned"]
    assert inventory_lines(kube, ns) == []


def test_throttling_is_retried(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", configmap("a", kube.namespace))
    kube.fail_next(
        "patch", "configmaps", code=429, reason="TooManyRequests", retry_after=0, times=2
    )
    ok(run_sync(kube, tmp_path))
    assert get(kube, "v1", "ConfigMap", "a", kube.namespace) is not None


# ---------------------------------------------------------------- health of other kinds


def _job(name: str, namespace: str, *, fail: bool = False) -> str:
    failing = f"\n            metadata:\n              labels: {{{FAIL_LABEL}: 'yes'}}"
    labels = failing if fail else ""
    return f"""
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {name}
          namespace: {namespace}
        spec:
          backoffLimit: 0
          template:{labels}
            spec:
              restartPolicy: Never
              containers:
                - name: run
                  image: busybox:1.36
                  command: ["true"]
        """


def test_job_is_waited_for_until_complete(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "job.yaml", _job("once", kube.namespace))
    result = ok(run_sync(kube, tmp_path, "--timeout", "60s"))
    assert lines(result) == [f"Job/{kube.namespace}/once created"]
    assert "all healthy" in result.stderr


def test_failed_job_fails_the_sync(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "job.yaml", _job("once", kube.namespace, fail=True))
    result = run_sync(kube, tmp_path, "--timeout", "30s")
    assert result.returncode == 1
    assert f"Job {kube.namespace}/once: Failed: BackoffLimitExceeded" in result.stderr


def test_statefulset_and_daemonset_are_waited_for(kube: Kube, tmp_path: Path) -> None:
    ns = kube.namespace
    pod = """
          selector:
            matchLabels: {app: x}
          template:
            metadata:
              labels: {app: x, LABEL: "yes"}
            spec:
              containers:
                - name: app
                  image: registry.k8s.io/pause:3.9
        """
    write(
        tmp_path,
        "sts.yaml",
        f"""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: db
          namespace: {ns}
        spec:
          serviceName: db
          replicas: 2
        """
        + pod.replace("LABEL", NEVER_READY_LABEL),
    )
    write(
        tmp_path,
        "ds.yaml",
        f"""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: agent
          namespace: {ns}
        spec:
        """
        + pod.replace("LABEL", "ready"),
    )
    result = run_sync(kube, tmp_path, "--timeout", "2s")
    assert result.returncode == 1
    assert f"StatefulSet {ns}/db: not healthy after 2s: " in result.stderr
    assert f"DaemonSet/{ns}/agent created\n" in result.stdout  # healthy: no note


# ---------------------------------------------------------------- flags and connection


def test_kubeconfig_from_the_environment_and_unknown_context(kube: Kube, tmp_path: Path) -> None:
    import os

    write(tmp_path, "a.yaml", configmap("a", kube.namespace))
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig)}
    argv = [str(BIN), "sync", str(tmp_path), "--inventory", f"{kube.namespace}/{INVENTORY}"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    wrong = subprocess.run(
        [*argv, "--context", "nope"], capture_output=True, text=True, env=env, check=False
    )
    assert wrong.returncode == 2
    assert wrong.stderr.startswith(
        f"gitops-action: error: cannot load Kubernetes config from {kube.kubeconfig}: "
    )
    assert "nope" in wrong.stderr


def test_bad_timeout_is_a_usage_error(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", configmap("a", kube.namespace))
    result = run_sync(kube, tmp_path, "--timeout", "soon")
    assert result.returncode == 2
    assert "--timeout 'soon'" in result.stderr
    assert kube.writes() == 0


def test_unreachable_api_server_exits_1_naming_it(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    write(tmp_path, "m/a.yaml", configmap("a", "default"))
    result = subprocess.run(
        [str(BIN), "sync", str(tmp_path / "m"), "--kubeconfig", str(kubeconfig)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot reach the Kubernetes API server at http://127.0.0.1:9" in result.stderr


def test_in_a_pod_without_kubeconfig_the_service_account_is_used(tmp_path: Path) -> None:
    import os

    write(tmp_path, "m/a.yaml", configmap("a", "default"))
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env.update(
        HOME=str(tmp_path / "home"),
        KUBERNETES_SERVICE_HOST="127.0.0.1",
        KUBERNETES_SERVICE_PORT="9",
    )
    result = subprocess.run(
        [str(BIN), "sync", str(tmp_path / "m")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        "gitops-action: error: cannot load Kubernetes config from the pod's ServiceAccount: "
        "Service token file does not exist."
    ), result.stderr


def test_without_list_permission_objects_are_read_one_by_one(kube: Kube, tmp_path: Path) -> None:
    kube.deny("list", "configmaps")
    for name in ("a", "b", "c", "d"):
        write(tmp_path, f"{name}.yaml", configmap(name, kube.namespace))
    ok(run_sync(kube, tmp_path))
    kube.reset_counters()
    assert len(lines(ok(run_sync(kube, tmp_path)))) == 4
    assert kube.writes() == 0
    assert kube.reads(verb="get", resource="configmaps") == 5  # 4 objects + the inventory


def test_the_inventory_cannot_come_from_git(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "inv.yaml", configmap(INVENTORY, kube.namespace))
    result = run_sync(kube, tmp_path)
    assert result.returncode == 2
    assert (
        f"inv.yaml: document 1: ConfigMap {kube.namespace}/{INVENTORY} is sync's inventory"
        in result.stderr
    )


def test_the_namespace_holding_the_inventory_is_never_pruned(kube: Kube, tmp_path: Path) -> None:
    ops = f"{kube.namespace}-ops"
    kube.delete_later("v1", "Namespace", ops)
    write(tmp_path, "ns.yaml", f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ops}\n")
    write(tmp_path, "cm.yaml", configmap("a", ops))
    ok(run_sync(kube, tmp_path, "--inventory", f"{ops}/inv", inventory=False))
    (tmp_path / "ns.yaml").unlink()
    result = ok(run_sync(kube, tmp_path, "--inventory", f"{ops}/inv", inventory=False))
    assert f"Namespace/{ops} kept (holds the inventory; never pruned)" in lines(result)
    assert get(kube, "v1", "Namespace", ops, None) is not None
    assert inventory_lines(kube, ops, "inv") == [f"v1/ConfigMap/{ops}/a"]


# ---------------------------------------------------------------- the tool's own install


def _install_render(ns: str) -> str:
    """What `install --export` writes, in small: labelled objects, one a Secret template."""
    labels = "\n  labels:\n    app.kubernetes.io/name: gitops-action"
    return (
        f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: gitops-action\n"
        f"  namespace: {ns}{labels}\n---\n"
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: gitops-action-git\n"
        f"  namespace: {ns}{labels}\nstringData:\n  password: REPLACE-ME\n"
    )


def test_the_install_render_is_left_out_unless_asked(kube: Kube, tmp_path: Path) -> None:
    """A hand-run `sync cluster` must not reset the real Secrets to the render's placeholders."""
    from kubernetes import client

    ns = kube.namespace
    core = client.CoreV1Api(kube.api_client())
    core.create_namespaced_secret(
        ns, {"metadata": {"name": "gitops-action-git"}, "stringData": {"password": "real"}}
    )
    write(tmp_path, "app.yaml", configmap("app", ns))
    write(tmp_path, "gitops-system/gitops-action.yaml", _install_render(ns))
    write(tmp_path, "gitops-system/notes.yaml", configmap("beside-the-render", ns))
    result = ok(run_sync(kube, tmp_path, "--output", "json"))
    record = json.loads(result.stdout)
    assert record["installRenderLeftOut"] == [
        "gitops-system/gitops-action.yaml",
        "gitops-system/notes.yaml",
    ]
    assert [item["name"] for item in record["objects"]] == ["app"]
    assert (
        "sync: left out the tool's own install render (gitops-system/gitops-action.yaml, "
        "gitops-system/notes.yaml); --include-install applies it"
    ) in result.stderr
    secret = core.read_namespaced_secret("gitops-action-git", ns)
    assert secret.data == {"password": "cmVhbA=="}  # "real", untouched
    assert get(kube, "v1", "ServiceAccount", "gitops-action", ns) is None

    included = ok(run_sync(kube, tmp_path, "--include-install"))
    assert f"ServiceAccount/{ns}/gitops-action created" in lines(included)
    assert get(kube, "v1", "ConfigMap", "beside-the-render", ns) is not None
    assert "install render" not in included.stderr


def test_objects_of_the_install_are_never_pruned(kube: Kube, tmp_path: Path) -> None:
    """Applied once with --include-install, then left out: kept, and out of the inventory."""
    ns = kube.namespace
    write(tmp_path, "app.yaml", configmap("app", ns))
    write(tmp_path, "gitops-system/gitops-action.yaml", _install_render(ns))
    ok(run_sync(kube, tmp_path, "--include-install"))
    assert f"v1/ServiceAccount/{ns}/gitops-action" in inventory_lines(kube, ns)

    result = ok(run_sync(kube, tmp_path))
    kept = "kept (the tool's own install, left out of sync; never pruned)"
    assert f"ServiceAccount/{ns}/gitops-action {kept}" in lines(result)
    assert f"Secret/{ns}/gitops-action-git {kept}" in lines(result)
    assert get(kube, "v1", "ServiceAccount", "gitops-action", ns) is not None
    assert get(kube, "v1", "Secret", "gitops-action-git", ns) is not None
    assert inventory_lines(kube, ns) == [f"v1/ConfigMap/{ns}/app"]
