"""What `gitops-action install --export` renders, as plain data (no YAML here).

The in-cluster half of the tool is one CronJob that runs `gitops-action
reconcile` under a dedicated ServiceAccount. Everything it may touch is
granted explicitly and no more (DESIGN §1, docs/install.md):

- in each *target* namespace, a RoleBinding to the shared ClusterRole
  ``gitops-action-manage`` (what sync applies, what the canary manager
  writes): a ClusterRole bound by RoleBindings grants nothing outside the
  namespaces it is bound in;
- in its own namespace, a Role for the reconcile Lease, the status and
  inventory ConfigMaps (by name where RBAC allows it) and Events;
- ``get`` on its own Namespace object only (sync looks it up before it
  writes the first inventory);
- ``get`` on exactly the registry Secrets named with ``--registry-secret``
  (ImageRepository ``secretRef``);
- Namespaces and CRDs (cluster-scoped kinds) only with ``--cluster-scope``.

The objects are returned in apply order (Namespace first, CronJob last) so
`kubectl apply -f -` of the stream works in one pass. Key order inside each
object is the order a reader expects (apiVersion, kind, metadata, spec).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gitops_action import __version__
from gitops_action.domain.errors import InvalidInstallOption
from gitops_action.domain.manifests import Manifest as SourceManifest

Manifest = dict[str, Any]

DEFAULT_NAMESPACE: Final = "gitops-system"
DEFAULT_SCHEDULE: Final = "*/5 * * * *"
DEFAULT_TARGETS: Final = ("default",)
# The release workflow pushes ghcr.io/<owner>/<repo>:v<version>; `acme` is the
# placeholder owner the README uses for the action too.
DEFAULT_IMAGE: Final = f"ghcr.io/acme/gitops-action:v{__version__}"

NAME: Final = "gitops-action"
GIT_SECRET: Final = "gitops-action-git"  # noqa: S105 - a Secret's name, not a value
MANAGE_ROLE: Final = "gitops-action-manage"
CLUSTER_ROLE: Final = "gitops-action-cluster"
LEASE: Final = "gitops-action"
INVENTORY: Final = "gitops-action-inventory"
STATUS: Final = "gitops-action-status"
UID: Final = 65532
CACHE_DIR: Final = "/cache"
TMP_DIR: Final = "/tmp"  # noqa: S108 - an emptyDir of the pod's own, not a shared /tmp
SSH_DIR: Final = "/etc/gitops-action/git"
SSH_KEY: Final = "ssh-privatekey"  # the key kubernetes.io/ssh-auth Secrets require

PLACEHOLDER: Final = "REPLACE-ME"
LABELS: Final = {"app.kubernetes.io/name": NAME}


def is_install_object(body: Mapping[str, Any]) -> bool:
    """The object carries the install render's labels (the Lease does too)."""
    labels = (body.get("metadata") or {}).get("labels") or {}
    return all(labels.get(key) == value for key, value in LABELS.items())


def split_install_render(
    manifests: Iterable[SourceManifest],
) -> tuple[list[SourceManifest], list[SourceManifest]]:
    """(the rest, the install render): what `install --export` printed, left out of sync.

    Rule: a file holding any object labelled `app.kubernetes.io/name: gitops-action`
    is an install render, and so is every file in its directory (unless that
    directory is the synced root itself). Sync must not apply it: its RBAC
    objects would be refused (the CronJob may not write RBAC) and its Secret
    templates would reset the real Secrets to placeholders.
    """
    manifests = list(manifests)
    files = {m.location.file for m in manifests if is_install_object(m.body)}
    dirs = {f.rpartition("/")[0] for f in files} - {""}

    def excluded(manifest: SourceManifest) -> bool:
        file = manifest.location.file
        return file in files or any(file.startswith(d + "/") for d in dirs)

    kept = [m for m in manifests if not excluded(m)]
    return kept, [m for m in manifests if excluded(m)]


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[^:/]+:")
_CRON_MACROS: Final = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?-]+$")


@dataclass(frozen=True)
class Rule:
    """One RBAC rule plus the reason it exists (docs/install.md shows the reasons)."""

    groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str
    names: tuple[str, ...] = ()

    def as_dict(self) -> Manifest:
        rule: Manifest = {"apiGroups": list(self.groups), "resources": list(self.resources)}
        if self.names:
            rule["resourceNames"] = list(self.names)
        rule["verbs"] = list(self.verbs)
        return rule


_APPLY: Final = ("get", "list", "create", "patch", "delete")
_APPLY_UPDATE: Final = ("get", "list", "create", "update", "patch", "delete")

# What sync applies in a target namespace and what canary/automation write there.
MANAGE_RULES: Final = (
    Rule(
        ("",),
        ("configmaps",),
        _APPLY_UPDATE,
        "sync applies ConfigMaps; canary keeps its state in <canary>-canary-status",
    ),
    Rule(("",), ("services", "serviceaccounts"), _APPLY, "sync applies them; canary services"),
    Rule(("",), ("events",), ("create",), "canary records promotions and rollbacks as Events"),
    Rule(
        ("apps",),
        ("deployments",),
        _APPLY_UPDATE,
        "sync applies them; canary creates the primary and scales the target",
    ),
    Rule(("apps",), ("deployments/scale",), ("get", "patch", "update"), "canary scales"),
    Rule(("apps",), ("statefulsets", "daemonsets"), _APPLY, "sync applies them"),
    Rule(("batch",), ("jobs", "cronjobs"), _APPLY, "sync applies them"),
    Rule(("autoscaling",), ("horizontalpodautoscalers",), _APPLY, "sync applies them"),
    Rule(("policy",), ("poddisruptionbudgets",), _APPLY, "sync applies them"),
    Rule(("networking.k8s.io",), ("ingresses",), _APPLY, "sync applies them"),
    Rule(
        ("gateway.networking.k8s.io",),
        ("httproutes",),
        _APPLY,
        "sync applies them; canary shifts traffic by patching weights",
    ),
)

# Cluster-scoped kinds: only with --cluster-scope.
CLUSTER_RULES: Final = (
    Rule(("",), ("namespaces",), _APPLY, "sync applies (and prunes) Namespaces"),
    Rule(
        ("apiextensions.k8s.io",),
        ("customresourcedefinitions",),
        _APPLY,
        "sync applies (and prunes) CRDs",
    ),
)


def own_rules() -> tuple[Rule, ...]:
    """The Role in the tool's own namespace: create is unrestricted (RBAC cannot limit it
    by name), everything else only on the objects the tool owns."""
    return (
        Rule(
            ("coordination.k8s.io",),
            ("leases",),
            ("create",),
            "the first run creates the Lease that keeps runs apart",
        ),
        Rule(
            ("coordination.k8s.io",),
            ("leases",),
            ("get", "update", "patch"),
            "take and renew the reconcile Lease",
            (LEASE,),
        ),
        Rule(
            ("",),
            ("configmaps",),
            ("create",),
            "the first run creates the inventory and status ConfigMaps",
        ),
        Rule(
            ("",),
            ("configmaps",),
            ("get", "list", "update", "patch"),
            "sync's inventories (one per Flux Kustomization, named at run time; listed to find "
            "those of Kustomizations gone from git) and the run status; only this namespace",
        ),
        Rule(("",), ("events",), ("create",), "report runs as Events"),
    )


def namespace_rule(namespace: str) -> Rule:
    """Sync looks its inventory's Namespace up once, before the first inventory write."""
    return Rule(
        ("",),
        ("namespaces",),
        ("get",),
        "sync checks the inventory namespace exists before its first write",
        (namespace,),
    )


def secret_rule(names: tuple[str, ...]) -> Rule:
    return Rule(("",), ("secrets",), ("get",), "automation reads ImageRepository secretRef", names)


DEFAULT_POD_SECURITY: Final = "restricted"
POD_SECURITY_LEVELS: Final = ("restricted", "baseline", "privileged", "none")


@dataclass(frozen=True)
class InstallOptions:
    """The flags of `install`, validated by `validate()`."""

    repo: str
    namespace: str = DEFAULT_NAMESPACE
    image: str = DEFAULT_IMAGE
    schedule: str = DEFAULT_SCHEDULE
    branch: str | None = None
    path: str | None = None
    target_namespaces: tuple[str, ...] = DEFAULT_TARGETS
    cluster_scope: bool = False
    prometheus_url: str | None = None
    registry_secrets: tuple[str, ...] = ()
    secrets: bool = True
    pod_security: str = DEFAULT_POD_SECURITY
    """Pod Security level the target namespaces are labelled with (`none`: not labelled)."""

    def validate(self) -> InstallOptions:
        """Refuse what would render manifests a cluster rejects; return self."""
        _dns_label("--namespace", self.namespace)
        for target in self.target_namespaces:
            _dns_label("--target-namespace", target)
        if len(set(self.target_namespaces)) != len(self.target_namespaces):
            raise InvalidInstallOption("--target-namespace: a namespace is given twice")
        for ref in self.registry_secrets:
            _registry_secret(ref)
        if not self.repo.strip() or any(ch.isspace() for ch in self.repo):
            raise InvalidInstallOption(f"--repo {self.repo!r}: expected a git URL or path")
        if not self.image or any(ch.isspace() for ch in self.image):
            raise InvalidInstallOption(f"--image {self.image!r}: expected an image reference")
        _schedule(self.schedule)
        url = self.prometheus_url
        if url is not None and (
            not url.startswith(("http://", "https://"))
            or any(ch.isspace() or not ch.isprintable() for ch in url)
        ):
            raise InvalidInstallOption(
                f"--prometheus-url {url!r}: expected an http(s) URL (no spaces or line breaks)"
            )
        if self.pod_security not in POD_SECURITY_LEVELS:
            raise InvalidInstallOption(
                f"--pod-security {self.pod_security!r}: expected one of "
                f"{', '.join(POD_SECURITY_LEVELS)}"
            )
        return self

    @property
    def git_auth(self) -> str:
        """`https`, `ssh` or `none`, from the URL's scheme (what the Secret holds)."""
        repo = self.repo
        if repo.startswith(("https://", "http://")):
            return "https"
        if repo.startswith("ssh://") or _SCP_LIKE.match(repo):
            return "ssh"
        return "none"

    def command(self) -> str:
        """The canonical command line that renders exactly this (kept in the YAML header)."""
        args = ["gitops-action", "install", "--export"]
        pairs: list[tuple[str, str | None, object]] = [
            ("--namespace", self.namespace, DEFAULT_NAMESPACE),
            ("--image", self.image, DEFAULT_IMAGE),
            ("--schedule", self.schedule, DEFAULT_SCHEDULE),
            ("--repo", self.repo, None),
            ("--branch", self.branch, None),
            ("--path", self.path, None),
            ("--prometheus-url", self.prometheus_url, None),
        ]
        for flag, value, default in pairs:
            if value is not None and value != default:
                args += [flag, value]
        if self.target_namespaces != DEFAULT_TARGETS:
            for target in self.target_namespaces:
                args += ["--target-namespace", target]
        for ref in self.registry_secrets:
            args += ["--registry-secret", ref]
        if self.cluster_scope:
            args.append("--cluster-scope")
        if not self.secrets:
            args.append("--no-secrets")
        if self.pod_security != DEFAULT_POD_SECURITY:
            args += ["--pod-security", self.pod_security]
        return " ".join(shlex.quote(arg) for arg in args)


def _dns_label(flag: str, value: str) -> None:
    if not _DNS_LABEL.match(value):
        raise InvalidInstallOption(
            f"{flag} {value!r}: not a namespace name (lower-case letters, digits and '-', "
            "at most 63)"
        )


def _registry_secret(ref: str) -> tuple[str, str]:
    namespace, _, name = ref.partition("/")
    if not name or not _DNS_LABEL.match(namespace) or not _DNS_SUBDOMAIN.match(name):
        raise InvalidInstallOption(
            f"--registry-secret {ref!r}: expected NAMESPACE/NAME (the ImageRepository's "
            "namespace and its spec.secretRef.name)"
        )
    return namespace, name


def _schedule(schedule: str) -> None:
    text = schedule.strip()
    if text in _CRON_MACROS:
        return
    fields = text.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(part) for part in fields):
        raise InvalidInstallOption(
            f"--schedule {schedule!r}: expected 5 cron fields (such as '*/5 * * * *') or a "
            "macro such as @hourly"
        )


def header(options: InstallOptions) -> tuple[str, ...]:
    """Comment lines for the top of the YAML stream: what it is and how to re-render it."""
    return (
        "gitops-action in-cluster install: Namespace, ServiceAccount, RBAC, Secret",
        "templates and the reconcile CronJob. Generated; do not edit by hand.",
        "Secrets hold placeholders: fill them in before the first run (docs/install.md).",
        "Re-render with:",
        f"  {options.command()}",
    )


def render(options: InstallOptions) -> list[Manifest]:
    """Every object of the install, in apply order."""
    objects: list[Manifest] = [_namespace(options), *_target_namespaces(options)]
    objects.append(_service_account(options))
    if options.secrets:
        objects += _git_secret(options)
        objects += [_registry_secret_object(options, ref) for ref in options.registry_secrets]
    objects += _cluster_rbac(options)
    objects += _own_rbac(options)
    objects += _target_bindings(options)
    objects += _registry_rbac(options)
    objects.append(_cronjob(options))
    return objects


# --------------------------------------------------------------------------- objects


def _meta(options: InstallOptions, name: str, namespace: str | None = None) -> Manifest:
    meta: Manifest = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(LABELS)
    return meta


def _subject(options: InstallOptions) -> list[Manifest]:
    return [{"kind": "ServiceAccount", "name": NAME, "namespace": options.namespace}]


def _namespace(options: InstallOptions) -> Manifest:
    meta = _meta(options, options.namespace)
    # The pod below meets the "restricted" Pod Security Standard; enforce it.
    meta["labels"] = {
        **meta["labels"],
        "pod-security.kubernetes.io/enforce": "restricted",
    }
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def _target_namespaces(options: InstallOptions) -> list[Manifest]:
    """Each target namespace with Pod Security labels (defence in depth, docs/install.md).

    Whoever writes the config repo decides what `sync` applies there; with
    `restricted` enforced, the API server itself refuses a privileged,
    hostPath or host-network pod however it got into git. Applying this
    Namespace only adds labels to one that exists.
    """
    level = options.pod_security
    if level == "none":
        return []
    labels = {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")}
    labels["pod-security.kubernetes.io/enforce-version"] = "latest"
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": target, "labels": labels},  # not the install labels: not ours
        }
        for target in options.target_namespaces
        if target != options.namespace
    ]


def _service_account(options: InstallOptions) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(options, NAME, options.namespace),
        # Only the CronJob's pod gets a token, and it asks for one itself.
        "automountServiceAccountToken": False,
    }


def _git_secret(options: InstallOptions) -> list[Manifest]:
    auth = options.git_auth
    if auth == "none":
        return []
    meta = _meta(options, GIT_SECRET, options.namespace)
    if auth == "ssh":
        return [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": meta,
                "type": "kubernetes.io/ssh-auth",
                "stringData": {SSH_KEY: f"{PLACEHOLDER}: the deploy key's private key file"},
            }
        ]
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta,
            "type": "Opaque",
            "stringData": {
                "GITOPS_GIT_USERNAME": "git",
                "GITOPS_GIT_PASSWORD": f"{PLACEHOLDER}: a token that may push to the repo",
            },
        }
    ]


def _registry_secret_object(options: InstallOptions, ref: str) -> Manifest:
    namespace, name = _registry_secret(ref)
    config = (
        '{"auths": {"REGISTRY-HOST": {"username": "'
        + PLACEHOLDER
        + '", "password": "'
        + PLACEHOLDER
        + '"}}}'
    )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(options, name, namespace),
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": config},
    }


def _cluster_role(options: InstallOptions, name: str, rules: tuple[Rule, ...]) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": _meta(options, name),
        "rules": [rule.as_dict() for rule in rules],
    }


def _binding(
    options: InstallOptions, name: str, role: tuple[str, str], namespace: str | None = None
) -> Manifest:
    """A RoleBinding in `namespace` (a ClusterRoleBinding without one) of `role` (kind, name)."""
    role_kind, role_name = role
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding" if namespace is None else "RoleBinding",
        "metadata": _meta(options, name, namespace),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
        "subjects": _subject(options),
    }


def namespace_role_name(options: InstallOptions) -> str:
    return f"gitops-action-namespace-{options.namespace}"


def _cluster_rbac(options: InstallOptions) -> list[Manifest]:
    own = namespace_role_name(options)
    objects = [
        _cluster_role(options, MANAGE_ROLE, MANAGE_RULES),
        _cluster_role(options, own, (namespace_rule(options.namespace),)),
    ]
    if options.cluster_scope:
        objects.append(_cluster_role(options, CLUSTER_ROLE, CLUSTER_RULES))
    objects.append(_binding(options, own, ("ClusterRole", own)))
    if options.cluster_scope:
        binding = f"{CLUSTER_ROLE}-{options.namespace}"
        objects.append(_binding(options, binding, ("ClusterRole", CLUSTER_ROLE)))
    return objects


def _own_rbac(options: InstallOptions) -> list[Manifest]:
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(options, NAME, options.namespace),
            "rules": [rule.as_dict() for rule in own_rules()],
        },
        _binding(options, NAME, ("Role", NAME), options.namespace),
    ]


def _target_bindings(options: InstallOptions) -> list[Manifest]:
    return [
        _binding(options, MANAGE_ROLE, ("ClusterRole", MANAGE_ROLE), target)
        for target in options.target_namespaces
    ]


def registry_secret_names(options: InstallOptions) -> dict[str, tuple[str, ...]]:
    """Registry Secret names per namespace, in the order given."""
    by_namespace: dict[str, tuple[str, ...]] = {}
    for ref in options.registry_secrets:
        namespace, name = _registry_secret(ref)
        if name not in by_namespace.get(namespace, ()):
            by_namespace[namespace] = (*by_namespace.get(namespace, ()), name)
    return by_namespace


def _registry_rbac(options: InstallOptions) -> list[Manifest]:
    objects: list[Manifest] = []
    role = "gitops-action-registry-secrets"
    for namespace, names in registry_secret_names(options).items():
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": _meta(options, role, namespace),
                "rules": [secret_rule(names).as_dict()],
            }
        )
        objects.append(_binding(options, role, ("Role", role), namespace))
    return objects


def _env(options: InstallOptions) -> list[Manifest]:
    env: list[Manifest] = [{"name": "GITOPS_REPO", "value": options.repo}]
    if options.branch:
        env.append({"name": "GITOPS_BRANCH", "value": options.branch})
    if options.path:
        env.append({"name": "GITOPS_PATH", "value": options.path})
    env += [
        # Where the Lease, the status and the inventory live.
        {
            "name": "GITOPS_NAMESPACE",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        },
        {"name": "GITOPS_CACHE_DIR", "value": CACHE_DIR},
        {"name": "HOME", "value": TMP_DIR},
        {"name": "XDG_CACHE_HOME", "value": CACHE_DIR},
    ]
    if options.prometheus_url:
        env.append({"name": "GITOPS_PROMETHEUS_URL", "value": options.prometheus_url})
    if options.git_auth == "https":
        for key in ("GITOPS_GIT_USERNAME", "GITOPS_GIT_PASSWORD"):
            env.append(
                {"name": key, "valueFrom": {"secretKeyRef": {"name": GIT_SECRET, "key": key}}}
            )
    elif options.git_auth == "ssh":
        env.append({"name": "GITOPS_GIT_SSH_KEY", "value": f"{SSH_DIR}/{SSH_KEY}"})
    return env


def _volumes(options: InstallOptions) -> list[Manifest]:
    """The caches and /tmp are emptyDirs: the root filesystem is read-only."""
    volumes: list[Manifest] = [
        {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
    ]
    if options.git_auth == "ssh":
        # 0440 with fsGroup: readable by the tool's group; ssh accepts a group-readable
        # key file that the user does not own (the kubelet makes root its owner).
        volumes.append(
            {"name": "git-ssh", "secret": {"secretName": GIT_SECRET, "defaultMode": 0o440}}
        )
    return volumes


def _mounts(options: InstallOptions) -> list[Manifest]:
    mounts: list[Manifest] = [
        {"name": "cache", "mountPath": CACHE_DIR},
        {"name": "tmp", "mountPath": TMP_DIR},
    ]
    if options.git_auth == "ssh":
        mounts.append({"name": "git-ssh", "mountPath": SSH_DIR, "readOnly": True})
    return mounts


def _container(options: InstallOptions) -> Manifest:
    return {
        "name": "reconcile",
        "image": options.image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["reconcile"],
        "env": _env(options),
        "resources": {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": _mounts(options),
    }


def _cronjob(options: InstallOptions) -> Manifest:
    labels = dict(LABELS)
    pod_spec: Manifest = {
        "serviceAccountName": NAME,
        # The reconcile run talks to the API server, so this pod (only) gets a token.
        "automountServiceAccountToken": True,
        "restartPolicy": "Never",
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(options)],
        "volumes": _volumes(options),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(options, NAME, options.namespace),
        "spec": {
            "schedule": options.schedule,
            # Runs never overlap (the Lease guards the rest, e.g. a manual Job).
            "concurrencyPolicy": "Forbid",
            # A run that could not start within 2 minutes is skipped: the next one comes.
            "startingDeadlineSeconds": 120,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    # A failed run is retried by the next schedule, not at once.
                    "backoffLimit": 0,
                    # A hung run must not block every later one (Forbid).
                    "activeDeadlineSeconds": 1200,
                    "template": {"metadata": {"labels": labels}, "spec": pod_spec},
                },
            },
        },
    }
