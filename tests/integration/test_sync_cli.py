"""`gitops-action sync` acceptance, through the real console script, against the `kube` cluster."""

from __future__ import annotations

import re
import time
from pathlib import Path

from testbed.kube import Kube
from tests.integration.sync_support import (
    REPO,
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


def test_applying_cluster_creates_every_object_and_skips_config(kube: Kube, tmp_path: Path) -> None:
    root = example_tree(kube, tmp_path)
    ns = example_namespace(kube)
    result = ok(run_sync(kube, root))
    assert lines(result) == [f"Service/{ns}/demo created", f"Deployment/{ns}/demo created"]
    skip_lines = [line for line in result.stderr.splitlines() if "skipped" in line]
    assert skip_lines == [
        "sync: skipped 3 gitops-action config objects, never applied "
        "(ImagePolicy 1, ImageRepository 1, ImageUpdateAutomation 1)"
    ]
    live = get(kube, "apps/v1", "Deployment", "demo", ns)
    assert live["spec"]["replicas"] == 2
    image = live["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "chripp/app:v1.0.0"
    assert get(kube, "v1", "Service", "demo", ns)["spec"]["ports"][0]["port"] == 80
    assert inventory_lines(kube, kube.namespace) == [
        f"apps/v1/Deployment/{ns}/demo",
        f"v1/Service/{ns}/demo",
    ]
    assert kube.writes(group="image.toolkit.fluxcd.io") == 0
    assert kube.writes(resource="deployments") == 1
    assert kube.writes(resource="services") == 1


def test_changing_replicas_changes_only_that_deployment(kube: Kube, tmp_path: Path) -> None:
    root = example_tree(kube, tmp_path)
    ns = example_namespace(kube)
    ok(run_sync(kube, root))
    before = get(kube, "apps/v1", "Deployment", "demo", ns)["metadata"]["generation"]
    service = get(kube, "v1", "Service", "demo", ns)["metadata"]["resourceVersion"]
    manifest = root / "deployment.yaml"
    manifest.write_text(manifest.read_text().replace("replicas: 2", "replicas: 3"))
    kube.reset_counters()
    result = ok(run_sync(kube, root))
    assert lines(result) == [f"Service/{ns}/demo unchanged", f"Deployment/{ns}/demo configured"]
    live = get(kube, "apps/v1", "Deployment", "demo", ns)
    assert live["spec"]["replicas"] == 3
    assert live["metadata"]["generation"] == before + 1
    assert get(kube, "v1", "Service", "demo", ns)["metadata"]["resourceVersion"] == service
    assert kube.writes() == 1
    assert kube.writes(verb="patch", resource="deployments", name="demo") == 1


def test_deleting_a_file_prunes_exactly_that_object(kube: Kube, tmp_path: Path) -> None:
    root = example_tree(kube, tmp_path)
    ns = example_namespace(kube)
    write(root, "extra.yaml", configmap("extra", ns, key="value"))
    ok(run_sync(kube, root))
    assert get(kube, "v1", "ConfigMap", "extra", ns) is not None
    (root / "extra.yaml").unlink()
    kube.reset_counters()
    result = ok(run_sync(kube, root))
    assert f"ConfigMap/{ns}/extra pruned" in lines(result)
    assert get(kube, "v1", "ConfigMap", "extra", ns) is None
    assert get(kube, "apps/v1", "Deployment", "demo", ns) is not None
    assert get(kube, "v1", "Service", "demo", ns) is not None
    assert get(kube, "v1", "ConfigMap", "kube-root-ca.crt", ns) is not None
    assert get(kube, "v1", "ServiceAccount", "default", ns) is not None
    assert f"v1/ConfigMap/{ns}/extra" not in inventory_lines(kube, kube.namespace)
    assert kube.writes(verb="delete") == 1
    assert kube.writes(verb="delete", resource="configmaps", name="extra") == 1
    assert kube.writes() == 2  # the delete and the inventory update


def test_second_sync_without_changes_makes_zero_writes(kube: Kube, tmp_path: Path) -> None:
    root = example_tree(kube, tmp_path)
    ns = example_namespace(kube)
    write(root, "more/config.yaml", configmap("one", ns, a="1") + "---\n" + configmap("two", ns))
    ok(run_sync(kube, root))
    kube.reset_counters()
    result = ok(run_sync(kube, root))
    assert all(line.endswith(" unchanged") for line in lines(result)), result.stdout
    assert len(lines(result)) == 4
    assert kube.writes() == 0


def test_failed_rollout_fails_after_the_timeout_naming_the_deployment(
    kube: Kube, tmp_path: Path
) -> None:
    write(tmp_path, "web.yaml", deployment("web", kube.namespace, replicas=2, never_ready=True))
    started = time.monotonic()
    result = run_sync(kube, tmp_path, "--timeout", "2s")
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert elapsed >= 2.0
    error = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"gitops-action: error: not healthy: Deployment {kube.namespace}/web: "
        r"not healthy after 2s: [12] of 2 replicas updated, 0 available",
        error,
    ), error
    assert f"Deployment/{kube.namespace}/web created (failed: not healthy after 2s: " in (
        result.stdout
    )


def test_progress_deadline_exceeded_fails_without_waiting_out_the_timeout(
    kube: Kube, tmp_path: Path
) -> None:
    write(
        tmp_path,
        "web.yaml",
        deployment("web", kube.namespace, replicas=2, never_ready=True, progress_deadline=1),
    )
    started = time.monotonic()
    result = run_sync(kube, tmp_path, "--timeout", "60s")
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 30
    assert (
        f"Deployment {kube.namespace}/web: 2 of 2 replicas updated, 0 available "
        "(Progressing=False: ProgressDeadlineExceeded)" in result.stderr
    )


def test_document_without_kind_is_named_and_nothing_is_applied(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", configmap("first", kube.namespace))
    write(
        tmp_path,
        "b.yaml",
        configmap("second", kube.namespace) + "---\napiVersion: v1\nmetadata:\n  name: nokind\n",
    )
    result = run_sync(kube, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == "gitops-action: error: b.yaml: document 2: missing kind"
    assert kube.writes() == 0
    assert get(kube, "v1", "ConfigMap", "first", kube.namespace) is None


def test_document_without_name_is_named_and_nothing_is_applied(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", configmap("first", kube.namespace))
    write(
        tmp_path, "z.yaml", "---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n"
    )
    result = run_sync(kube, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "gitops-action: error: z.yaml: document 2: ConfigMap has no metadata.name"
    )
    assert kube.writes() == 0


def test_unknown_kind_is_named_and_nothing_is_applied(kube: Kube, tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", configmap("first", kube.namespace))
    write(
        tmp_path,
        "widgets/w.yaml",
        f"""
        apiVersion: example.com/v1
        kind: Widget
        metadata:
          name: w
          namespace: {kube.namespace}
        """,
    )
    result = run_sync(kube, tmp_path)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert message.startswith(
        "gitops-action: error: widgets/w.yaml: document 1: unknown kind Widget in example.com/v1"
    ), message
    assert kube.writes() == 0


def test_forbidden_apply_names_the_missing_permission(kube: Kube, tmp_path: Path) -> None:
    kube.deny("patch", "deployments", group="apps")
    write(tmp_path, "web.yaml", deployment("web", kube.namespace))
    result = run_sync(kube, tmp_path)
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()
    assert len(message) == 1
    assert message[0] == (
        f"gitops-action: error: apply Deployment {kube.namespace}/web: forbidden: {kube.user} "
        f'lacks RBAC permission to "patch" deployments.apps (API group "apps") '
        f'in namespace "{kube.namespace}"'
    )


def test_forbidden_read_names_verb_and_cluster_scope(kube: Kube, tmp_path: Path) -> None:
    kube.deny("get", "namespaces")
    write(tmp_path, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n")
    result = run_sync(kube, tmp_path)
    assert result.returncode == 1
    assert (
        'lacks RBAC permission to "get" namespaces (API group "") in namespace "team-a"'
        in result.stderr
    )


def test_a_canary_s_services_and_replicas_are_left_to_the_canary_manager(
    kube: Kube, tmp_path: Path
) -> None:
    """The whole cluster/ (with its Canary): sync and the canary manager never fight."""
    root = example_tree(kube, tmp_path)
    ns = kube.namespace
    canary = (REPO / "cluster" / "canary.yaml").read_text()
    (root / "canary.yaml").write_text(canary.replace("namespace: default", f"namespace: {ns}"))
    result = ok(run_sync(kube, root))
    assert lines(result) == [f"Deployment/{ns}/demo created"]
    assert f"left to the canary manager, not applied: Service/{ns}/demo" in result.stderr
    assert get(kube, "v1", "Service", "demo", ns) is None
    live = get(kube, "apps/v1", "Deployment", "demo", ns)
    managed = [f for f in live["metadata"]["managedFields"] if f["manager"] == "gitops-action"]
    assert "f:replicas" not in str(managed)


def test_a_service_sync_applied_is_not_pruned_when_a_canary_takes_it_over(
    kube: Kube, tmp_path: Path
) -> None:
    root = example_tree(kube, tmp_path)
    ns = kube.namespace
    ok(run_sync(kube, root))
    assert get(kube, "v1", "Service", "demo", ns) is not None
    canary = (REPO / "cluster" / "canary.yaml").read_text()
    (root / "canary.yaml").write_text(canary.replace("namespace: default", f"namespace: {ns}"))
    kube.reset_counters()
    result = ok(run_sync(kube, root))
    assert get(kube, "v1", "Service", "demo", ns) is not None  # not pruned
    assert kube.writes(verb="delete") == 0
    assert f"Service/{ns}/demo" not in "\n".join(inventory_lines(kube, kube.namespace))
    assert "left to the canary manager" in result.stderr
