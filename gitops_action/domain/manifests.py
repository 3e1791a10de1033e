"""Kubernetes manifests as `sync` sees them: identity, validation, config kinds, order.

Everything here is pure: the loader hands over plain dicts with their place in
the tree (`Location`), and this module decides what each one is, whether it
can be applied at all, and in which order. All of it runs before the first
request to the cluster, so a bad document anywhere stops the run with nothing
applied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gitops_action.domain.errors import InvalidManifest

FIELD_MANAGER: Final = "gitops-action"

# The tool's own configuration (DESIGN.md §1): read from git, never applied.
CONFIG_GROUPS: Final = ("image.toolkit.fluxcd.io", "flagger.app")
CONFIG_KINDS: Final = (
    ("source.toolkit.fluxcd.io", "GitRepository"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
)

# Server-owned fields: sending them is at best ignored and at worst a conflict,
# and `status` in git would make every object look changed forever.
_SERVER_METADATA: Final = (
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "managedFields",
    "resourceVersion",
    "selfLink",
    "uid",
)

# Apply order, in the spirit of Helm's install order and Flux's: what others
# live in or refer to goes first (Namespaces, CRDs, then identities, config,
# storage, RBAC, Services, workloads, then what routes to workloads). Kinds
# not listed (custom resources) come last, after their CRDs are established.
KIND_ORDER: Final = (
    "Namespace",
    "CustomResourceDefinition",
    "PriorityClass",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
)
_PRIORITY: Final = {kind: index for index, kind in enumerate(KIND_ORDER)}


def split_api_version(api_version: str) -> tuple[str, str]:
    """("apps", "v1") for "apps/v1"; ("", "v1") for the core group."""
    group, _, version = api_version.rpartition("/")
    return group, version


@dataclass(frozen=True, order=True)
class ObjectId:
    """What makes an object the same object across API versions: group, kind, namespace, name."""

    group: str
    kind: str
    namespace: str
    name: str

    @property
    def ref(self) -> str:
        """`group/kind/namespace/name` (empty group or namespace left empty)."""
        return f"{self.group}/{self.kind}/{self.namespace}/{self.name}"

    @property
    def display(self) -> str:
        """`Kind/namespace/name`, or `Kind/name` for a cluster-scoped object."""
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    def __str__(self) -> str:
        if self.namespace:
            return f"{self.kind} {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Location:
    """Where a document was written: file (relative, `/`-separated), 1-based document
    number in the file, and for an item of a `List` its 1-based position."""

    file: str
    document: int
    item: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}: document {self.document}"
        return where if self.item is None else f"{where}, item {self.item}"


@dataclass(frozen=True)
class Manifest:
    """One object as written in git, checked to have what every object needs."""

    location: Location
    body: Mapping[str, Any]

    @property
    def api_version(self) -> str:
        return str(self.body["apiVersion"])

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def group(self) -> str:
        return split_api_version(self.api_version)[0]

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str:
        """As written (may be empty: the default namespace or cluster scope decide later)."""
        return str(self.body["metadata"].get("namespace") or "")

    @property
    def is_config(self) -> bool:
        return is_config_kind(self.api_version, self.kind)


def is_config_kind(api_version: str, kind: str) -> bool:
    """True for the Flux/Flagger kinds the tool reads as configuration and never applies."""
    group = split_api_version(api_version)[0]
    return group in CONFIG_GROUPS or (group, kind) in CONFIG_KINDS


def expand(location: Location, data: Any) -> list[tuple[Location, Any]]:
    """A document, or the items of a `List` (`kind: List` or `*List` with `items`), as kubectl
    reads them. Empty documents are dropped."""
    if data is None:
        return []
    if isinstance(data, Mapping):
        kind, items = data.get("kind"), data.get("items")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            return [
                (Location(location.file, location.document, index), item)
                for index, item in enumerate(items, start=1)
                if item is not None
            ]
    return [(location, data)]


def read_manifest(location: Location, data: Any) -> Manifest:
    """Check one document has what the API needs to place it: a mapping with string
    `apiVersion` and `kind` and a `metadata.name`. Names the file and document."""
    if not isinstance(data, Mapping):
        raise InvalidManifest(f"{location}: not a mapping (a Kubernetes object is a YAML map)")
    for key in ("apiVersion", "kind"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise InvalidManifest(f"{location}: missing {key}")
    metadata = data.get("metadata")
    if not isinstance(metadata, Mapping):
        raise InvalidManifest(f"{location}: {data['kind']} has no metadata.name")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        if metadata.get("generateName"):
            raise InvalidManifest(
                f"{location}: {data['kind']} uses metadata.generateName; sync needs a fixed "
                "metadata.name to find the object again"
            )
        raise InvalidManifest(f"{location}: {data['kind']} has no metadata.name")
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise InvalidManifest(f"{location}: metadata.namespace is not a string")
    return Manifest(location, data)


def split_config(manifests: Iterable[Manifest]) -> tuple[list[Manifest], list[Manifest]]:
    """(to apply, config objects to skip), each in the order given."""
    apply: list[Manifest] = []
    config: list[Manifest] = []
    for manifest in manifests:
        (config if manifest.is_config else apply).append(manifest)
    return apply, config


def skipped_summary(config: Sequence[Manifest]) -> str:
    """The one line saying which config objects were skipped: `3 (ImagePolicy 1, ...)`."""
    counts = Counter(manifest.kind for manifest in config)
    listed = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))
    noun = "object" if len(config) == 1 else "objects"
    return f"skipped {len(config)} gitops-action config {noun}, never applied ({listed})"


def apply_priority(kind: str) -> int:
    """Position of a kind in the apply order (unknown kinds last)."""
    return _PRIORITY.get(kind, len(KIND_ORDER))


def canary_targets(config: Iterable[Manifest], default_namespace: str) -> frozenset[ObjectId]:
    """Deployments named by a Flagger `Canary`'s `spec.targetRef` (same namespace)."""
    targets: set[ObjectId] = set()
    for manifest in config:
        if manifest.group != "flagger.app" or manifest.kind != "Canary":
            continue
        spec = manifest.body.get("spec")
        ref = spec.get("targetRef") if isinstance(spec, Mapping) else None
        if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str):
            continue
        kind = ref.get("kind") or "Deployment"
        group = split_api_version(str(ref.get("apiVersion") or "apps/v1"))[0]
        namespace = manifest.namespace or default_namespace
        targets.add(ObjectId(group, str(kind), namespace, ref["name"]))
    return frozenset(targets)


def canary_services(config: Iterable[Manifest], default_namespace: str) -> frozenset[ObjectId]:
    """Services the canary manager creates and owns for each `Canary`, as Flagger does.

    The apex (`spec.service.name`, else the target's name) and its `-primary`
    and `-canary` twins. A Service of the same name in git would be applied by
    sync and rewritten by the canary manager on every run, so sync leaves them
    to it, as it leaves `spec.replicas` of the target.
    """
    services: set[ObjectId] = set()
    for manifest in config:
        if manifest.group != "flagger.app" or manifest.kind != "Canary":
            continue
        spec = manifest.body.get("spec")
        if not isinstance(spec, Mapping):
            continue
        ref, service = spec.get("targetRef"), spec.get("service")
        apex = service.get("name") if isinstance(service, Mapping) else None
        if not isinstance(apex, str) and isinstance(ref, Mapping):
            apex = ref.get("name")
        if not isinstance(apex, str):
            continue
        namespace = manifest.namespace or default_namespace
        for name in (apex, f"{apex}-primary", f"{apex}-canary"):
            services.add(ObjectId("", "Service", namespace, name))
    return frozenset(services)


def clean_body(body: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """The object to send: server-owned fields and `status` removed, `metadata.namespace`
    set for a namespaced object and absent for a cluster-scoped one (`namespace` "")."""
    out = {key: value for key, value in body.items() if key != "status"}
    metadata = {
        key: value
        for key, value in body["metadata"].items()
        if key not in _SERVER_METADATA and key != "namespace"
    }
    if namespace:
        metadata["namespace"] = namespace
    out["metadata"] = metadata
    return out


def without_replicas(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body with `spec.replicas` left out: the canary manager owns scaling."""
    out = dict(body)
    spec = out.get("spec")
    if isinstance(spec, Mapping) and "replicas" in spec:
        out["spec"] = {key: value for key, value in spec.items() if key != "replicas"}
    return out
