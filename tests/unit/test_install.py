"""`install --export` as data: what the CronJob promises, least-privilege RBAC, Secret
templates, option checks, the YAML layout, and the Dockerfile's static promises."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_action.adapters.yaml_render import render_stream
from gitops_action.domain.errors import InvalidInstallOption
from gitops_action.domain.install import (
    CLUSTER_RULES,
    DEFAULT_IMAGE,
    MANAGE_RULES,
    PLACEHOLDER,
    InstallOptions,
    header,
    own_rules,
    render,
    split_install_render,
)
from gitops_action.domain.manifests import Location, Manifest

REPO = Path(__file__).resolve().parents[2]
HTTPS = "https://github.com/acme/config.git"


def objects(**options: Any) -> list[dict[str, Any]]:
    return render(InstallOptions(**{"repo": HTTPS, **options}).validate())


def one(items: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in items if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, [(o["kind"], o["metadata"]["name"]) for o in items]
    return found[0]


def pod(items: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = one(items, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def env(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        e["name"]: e.get("value", e.get("valueFrom")) for e in pod(items)["containers"][0]["env"]
    }


def test_default_render_kinds_in_apply_order() -> None:
    assert [(o["kind"], o["metadata"].get("namespace")) for o in objects()] == [
        ("Namespace", None),
        ("Namespace", None),  # the target namespace, for its Pod Security labels
        ("ServiceAccount", "gitops-system"),
        ("Secret", "gitops-system"),
        ("ClusterRole", None),
        ("ClusterRole", None),
        ("ClusterRoleBinding", None),
        ("Role", "gitops-system"),
        ("RoleBinding", "gitops-system"),
        ("RoleBinding", "default"),
        ("CronJob", "gitops-system"),
    ]


def test_cronjob_schedule_concurrency_and_history() -> None:
    spec = one(objects(schedule="0 * * * *"), "CronJob")["spec"]
    assert spec["schedule"] == "0 * * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] > 0
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] > 0


def test_pod_is_locked_down() -> None:
    spec = pod(objects())
    assert spec["serviceAccountName"] == "gitops-action"
    assert spec["automountServiceAccountToken"] is True
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = spec["containers"]
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True and context["runAsUser"] == 65532
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["resources"]["limits"]["memory"]
    assert container["image"] == DEFAULT_IMAGE
    assert container["args"] == ["reconcile"]


def test_only_the_cronjob_pod_gets_a_token() -> None:
    items = objects()
    assert one(items, "ServiceAccount")["automountServiceAccountToken"] is False
    assert pod(items)["automountServiceAccountToken"] is True


def test_writable_paths_are_emptydirs_and_env_points_at_them() -> None:
    items = objects()
    spec = pod(items)
    mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert set(mounts) == {"/cache", "/tmp"}
    assert all("emptyDir" in volumes[name] for name in mounts.values())
    variables = env(items)
    assert variables["GITOPS_CACHE_DIR"] == "/cache"
    assert variables["XDG_CACHE_HOME"] == "/cache"
    assert variables["HOME"] == "/tmp"
    assert variables["GITOPS_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}


def test_flags_become_the_reconcile_environment() -> None:
    variables = env(
        objects(branch="release", path="deploy/prod", prometheus_url="http://prom.monitoring:9090")
    )
    assert variables["GITOPS_REPO"] == HTTPS
    assert variables["GITOPS_BRANCH"] == "release"
    assert variables["GITOPS_PATH"] == "deploy/prod"
    assert variables["GITOPS_PROMETHEUS_URL"] == "http://prom.monitoring:9090"
    assert "GITOPS_BRANCH" not in env(objects())


def test_https_repo_gets_username_and_password_from_the_secret() -> None:
    items = objects()
    secret = one(items, "Secret", "gitops-action-git")
    assert set(secret["stringData"]) == {"GITOPS_GIT_USERNAME", "GITOPS_GIT_PASSWORD"}
    assert PLACEHOLDER in secret["stringData"]["GITOPS_GIT_PASSWORD"]
    variables = env(items)
    for key in ("GITOPS_GIT_USERNAME", "GITOPS_GIT_PASSWORD"):
        assert variables[key] == {"secretKeyRef": {"name": "gitops-action-git", "key": key}}
    assert "GITOPS_GIT_SSH_KEY" not in variables


@pytest.mark.parametrize(
    "repo", ["git@github.com:acme/config.git", "ssh://git@example.com:2222/config.git"]
)
def test_ssh_repo_mounts_a_key_file(repo: str) -> None:
    items = objects(repo=repo)
    secret = one(items, "Secret", "gitops-action-git")
    assert secret["type"] == "kubernetes.io/ssh-auth"
    assert list(secret["stringData"]) == ["ssh-privatekey"]
    spec = pod(items)
    volume = next(v for v in spec["volumes"] if "secret" in v)
    assert volume["secret"]["secretName"] == "gitops-action-git"
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == volume["name"])
    assert mount["readOnly"] is True
    variables = env(items)
    assert variables["GITOPS_GIT_SSH_KEY"] == mount["mountPath"] + "/ssh-privatekey"
    assert "GITOPS_GIT_PASSWORD" not in variables


@pytest.mark.parametrize("repo", ["git://example.com/config.git", "/srv/git/config.git"])
def test_repo_without_credentials_gets_no_secret(repo: str) -> None:
    items = objects(repo=repo)
    assert [o for o in items if o["kind"] == "Secret"] == []
    assert not [k for k in env(items) if k.startswith("GITOPS_GIT_")]


def test_no_secrets_leaves_the_templates_out_but_still_uses_them() -> None:
    items = objects(secrets=False, registry_secrets=("flux-system/regcred",))
    assert [o for o in items if o["kind"] == "Secret"] == []
    assert env(items)["GITOPS_GIT_PASSWORD"]["secretKeyRef"]["name"] == "gitops-action-git"
    assert one(items, "Role", "gitops-action-registry-secrets")["metadata"]["namespace"] == (
        "flux-system"
    )


def test_registry_secrets_get_a_template_and_get_on_exactly_them() -> None:
    items = objects(registry_secrets=("flux-system/regcred", "flux-system/other", "apps/pull"))
    secrets = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in items
        if o["kind"] == "Secret" and o["type"] == "kubernetes.io/dockerconfigjson"
    }
    assert set(secrets) == {("flux-system", "regcred"), ("flux-system", "other"), ("apps", "pull")}
    assert PLACEHOLDER in secrets[("apps", "pull")]["stringData"][".dockerconfigjson"]
    roles = {
        o["metadata"]["namespace"]: o["rules"]
        for o in items
        if o["kind"] == "Role" and o["metadata"]["name"] == "gitops-action-registry-secrets"
    }
    assert roles == {
        "flux-system": [
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": ["regcred", "other"],
                "verbs": ["get"],
            }
        ],
        "apps": [
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": ["pull"],
                "verbs": ["get"],
            }
        ],
    }


def rules_of(items: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (o["kind"], o["metadata"]["name"], rule)
        for o in items
        if o["kind"] in ("Role", "ClusterRole")
        for rule in o["rules"]
    ]


@pytest.mark.parametrize("cluster_scope", [False, True])
def test_no_wildcards_no_escalation_and_secrets_only_by_name(cluster_scope: bool) -> None:
    items = objects(cluster_scope=cluster_scope, registry_secrets=("flux-system/regcred",))
    for kind, name, rule in rules_of(items):
        where = f"{kind} {name}: {rule}"
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], where
        assert not {"escalate", "bind", "impersonate", "watch"} & set(rule["verbs"]), where
        assert not {"roles", "rolebindings", "clusterroles", "clusterrolebindings"} & set(
            rule["resources"]
        ), where
        if "secrets" in rule["resources"]:
            assert rule["verbs"] == ["get"] and rule["resourceNames"], where
        assert "pods/exec" not in rule["resources"], where


def test_managing_is_granted_per_target_namespace_only() -> None:
    items = objects(target_namespaces=("team-a", "team-b"))
    bindings = [
        o for o in items if o["kind"] == "RoleBinding" and o["roleRef"]["kind"] == "ClusterRole"
    ]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["team-a", "team-b"]
    assert {b["roleRef"]["name"] for b in bindings} == {"gitops-action-manage"}
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "gitops-action", "namespace": "gitops-system"}
        ]


def test_without_cluster_scope_cluster_bindings_grant_only_named_reads() -> None:
    items = objects()
    roles = {o["metadata"]["name"]: o for o in items if o["kind"] == "ClusterRole"}
    for binding in (o for o in items if o["kind"] == "ClusterRoleBinding"):
        for rule in roles[binding["roleRef"]["name"]]["rules"]:
            assert rule["verbs"] == ["get"], rule
            assert rule["resourceNames"] == ["gitops-system"], rule


def test_cluster_scope_adds_namespaces_and_crds_with_a_binding() -> None:
    items = objects(cluster_scope=True, namespace="ops")
    role = one(items, "ClusterRole", "gitops-action-cluster")
    assert {r for rule in role["rules"] for r in rule["resources"]} == {
        "namespaces",
        "customresourcedefinitions",
    }
    binding = one(items, "ClusterRoleBinding", "gitops-action-cluster-ops")
    assert binding["roleRef"]["name"] == "gitops-action-cluster"
    assert binding["subjects"][0]["namespace"] == "ops"


def test_own_role_names_the_objects_it_may_change_but_its_inventories() -> None:
    """The Lease by name; ConfigMaps of its own namespace only (a Role): one inventory per
    Flux Kustomization, named at run time, so they cannot be listed by name here."""
    role = one(objects(), "Role", "gitops-action")
    for rule in role["rules"]:
        if rule["verbs"] != ["create"]:
            assert rule.get("resourceNames") or rule["resources"] in (
                ["events"],
                ["configmaps"],
            ), rule
        assert "delete" not in rule["verbs"] or rule["resources"] == ["configmaps"], rule
    named = {n for rule in role["rules"] for n in rule.get("resourceNames", [])}
    assert named == {"gitops-action"}  # the Lease


def test_namespace_flag_moves_everything_of_the_tool() -> None:
    items = objects(namespace="ops")
    assert one(items, "Namespace", "ops")["metadata"]["name"] == "ops"
    namespaced = [o for o in items if o["kind"] not in ("Namespace", "ClusterRole")]
    homes = {o["metadata"].get("namespace") for o in namespaced if o["kind"] != "RoleBinding"}
    assert homes <= {"ops", None}
    assert one(items, "ClusterRole", "gitops-action-namespace-ops")["rules"][0][
        "resourceNames"
    ] == ["ops"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"namespace": "Gitops"}, "--namespace 'Gitops': not a namespace name"),
        ({"target_namespaces": ("a", "a")}, "--target-namespace: a namespace is given twice"),
        ({"target_namespaces": ("a_b",)}, "--target-namespace 'a_b': not a namespace name"),
        (
            {"registry_secrets": ("regcred",)},
            "--registry-secret 'regcred': expected NAMESPACE/NAME",
        ),
        ({"schedule": "*/5 * * *"}, "--schedule '*/5 * * *': expected 5 cron fields"),
        ({"schedule": "@sometimes"}, "--schedule '@sometimes': expected 5 cron fields"),
        ({"prometheus_url": "prom:9090"}, "--prometheus-url 'prom:9090': expected an http(s) URL"),
        ({"repo": "a b"}, "--repo 'a b': expected a git URL or path"),
        ({"image": ""}, "--image '': expected an image reference"),
    ],
)
def test_bad_options_are_named(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInstallOption) as caught:
        InstallOptions(**{"repo": HTTPS, **options}).validate()
    assert str(caught.value).startswith(message)


def test_macro_schedules_are_accepted() -> None:
    assert one(objects(schedule="@hourly"), "CronJob")["spec"]["schedule"] == "@hourly"


def test_command_lists_only_what_differs_from_the_defaults() -> None:
    assert InstallOptions(repo=HTTPS).command() == f"gitops-action install --export --repo {HTTPS}"
    full = InstallOptions(
        repo="/srv/my repo",
        namespace="ops",
        schedule="0 * * * *",
        target_namespaces=("a", "b"),
        registry_secrets=("a/r",),
        cluster_scope=True,
        secrets=False,
    ).command()
    assert shlex.split(full) == [
        "gitops-action", "install", "--export", "--namespace", "ops", "--schedule", "0 * * * *",
        "--repo", "/srv/my repo", "--target-namespace", "a", "--target-namespace", "b",
        "--registry-secret", "a/r", "--cluster-scope", "--no-secrets",
    ]  # fmt: skip


def test_every_rule_explains_itself() -> None:
    for rule in (*MANAGE_RULES, *CLUSTER_RULES, *own_rules()):
        assert rule.why.strip(), rule


def test_docs_rbac_table_lists_every_granted_resource() -> None:
    docs = (REPO / "docs" / "install.md").read_text()
    for rule in (*MANAGE_RULES, *CLUSTER_RULES, *own_rules()):
        for resource in rule.resources:
            assert f"`{resource}`" in docs, resource
        for verb in rule.verbs:
            assert f"`{verb}`" in docs, verb


# ---------------------------------------------------------------- YAML layout


def test_stream_round_trips_without_anchors_and_is_stable() -> None:
    shared = {"app": "x"}
    documents = [
        {"kind": "A", "metadata": {"labels": shared}, "spec": {"labels": shared, "v": ["a", 1]}},
        {"kind": "B", "list": [{"name": "n"}], "empty": [], "text": "*/5 * * * *"},
    ]
    text = render_stream(documents, ["first", "", "second"])
    assert text == render_stream(documents, ["first", "", "second"])
    assert "&" not in text and "*id" not in text
    assert text.startswith("# first\n#\n# second\n---\nkind: A\n")
    assert "  v: [a, 1]\n" in text
    assert "list:\n  - name: n\n" in text
    assert list(yaml.safe_load_all(text)) == documents


def test_header_carries_the_command() -> None:
    options = InstallOptions(repo=HTTPS, target_namespaces=("team-a",))
    lines = header(options)
    assert lines[-1].strip() == options.command()


# ---------------------------------------------------------------- Dockerfile


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def test_dockerfile_base_images_are_pinned() -> None:
    instructions = dockerfile()
    args = dict(rest.split("=", 1) for word, rest in instructions if word == "ARG" and "=" in rest)
    bases = [rest.split()[0] for word, rest in instructions if word == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        image = args.get(base.strip("${}"), base) if base.startswith("$") else base
        name = image.split("@")[0]
        assert "@sha256:" in image or re.search(r":[\w.-]+$", name.split("/")[-1]), image
        assert not name.endswith(":latest"), image


def test_dockerfile_runs_as_numeric_non_root_with_entrypoint() -> None:
    instructions = dockerfile()
    users = [rest for word, rest in instructions if word == "USER"]
    assert users, "no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid == "65532" and gid in ("", "65532")
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    assert any(word == "USER" for word, _ in instructions[last_from:])
    entrypoints = [rest for word, rest in instructions if word == "ENTRYPOINT"]
    assert entrypoints == ['["gitops-action"]']


def test_dockerfile_writes_only_to_cache_and_tmp() -> None:
    instructions = dockerfile()
    env_text = " ".join(rest for word, rest in instructions if word == "ENV")
    variables = dict(re.findall(r"(\w+)=(\S+)", env_text))
    assert variables["HOME"] == "/tmp"
    assert variables["XDG_CACHE_HOME"] == "/cache"
    assert variables["GITOPS_CACHE_DIR"] == "/cache"
    assert variables["PYTHONDONTWRITEBYTECODE"] == "1"
    runs = " ".join(rest for word, rest in instructions if word == "RUN")
    assert "git" in runs.split() and "rm -rf /var/lib/apt/lists/*" in runs
    assert "--no-cache-dir" in runs or variables.get("PIP_NO_CACHE_DIR") == "1"


def test_dockerfile_adds_nothing_from_the_network() -> None:
    for word, rest in dockerfile():
        assert word != "ADD" or "://" not in rest, rest
        if word == "RUN":
            assert not re.search(r"\b(curl|wget)\b", rest), rest


def _manifest(file: str, labels: dict[str, str] | None = None) -> Manifest:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": file, "labels": labels}}
    return Manifest(Location(file, 1), body)


def test_the_install_render_directory_is_left_out_of_sync() -> None:
    render = {"app.kubernetes.io/name": "gitops-action"}
    manifests = [
        _manifest("gitops-system/gitops-action.yaml", render),
        _manifest("gitops-system/extra.yaml"),
        _manifest("deployment.yaml"),
        _manifest("root-render.yaml", render),
        _manifest("apps/web.yaml", {"app.kubernetes.io/name": "web"}),
    ]
    kept, render = split_install_render(manifests)
    assert [m.location.file for m in kept] == ["deployment.yaml", "apps/web.yaml"]
    assert [m.location.file for m in render] == [
        "gitops-system/gitops-action.yaml",
        "gitops-system/extra.yaml",
        "root-render.yaml",
    ]
