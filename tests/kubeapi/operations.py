"""The API verbs with the real server's semantics, independent of HTTP.

Each verb takes a `Target` (type, namespace, name, subresource) and `Options` (query
parameters) and returns `(http status, body)` or raises `ApiError`. The write path is
the same for every verb: build the new object, default it, bump `generation` if its
spec changed, validate, record managedFields, and commit only if something changed -
so a no-op write keeps resourceVersion and generation, as on a real server.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
from dataclasses import dataclass, replace
from typing import Any

import yaml

from tests.kubeapi import errors
from tests.kubeapi.apply import Write, apply, track_update
from tests.kubeapi.defaults import apply_defaults
from tests.kubeapi.fieldsets import canon
from tests.kubeapi.patches import json_patch, merge_patch, strategic_merge_patch
from tests.kubeapi.resources import ResourceType
from tests.kubeapi.selectors import field_matcher, label_matcher, selector_text
from tests.kubeapi.shapes import Shape
from tests.kubeapi.store import Store
from tests.kubeapi.validation import validate

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH]
CONTROLLER_MANAGER = "kube-controller-manager"
FAKE_CA = "-----BEGIN CERTIFICATE-----\nc3RhbmQtaW4=\n-----END CERTIFICATE-----\n"
Result = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Target:
    rt: ResourceType
    namespace: str  # "" for cluster-scoped types and for lists across namespaces
    name: str  # "" for collections
    subresource: str = ""

    @property
    def shape(self) -> Shape:
        return Shape(self.rt.kind, self.rt.custom, self.rt.schema)


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    field_manager: str | None = None
    force: bool | None = None
    user_agent: str = ""
    propagation: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    limit: int | None = None
    continue_token: str | None = None

    @property
    def manager(self) -> str:
        """The explicit fieldManager, else the User-Agent up to its first `/`."""
        if self.field_manager:
            return self.field_manager
        return self.user_agent.split("/", 1)[0] or "unknown"


def _spec_content(rt: ResourceType, obj: dict[str, Any]) -> str:
    """What a generation bump is about: all but metadata (and status if it has its own door)."""
    skip = {"apiVersion", "kind", "metadata"} | ({"status"} if rt.status else set())
    return canon({k: v for k, v in obj.items() if k not in skip})


def _check_type(rt: ResourceType, body: dict[str, Any]) -> None:
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if api_version and api_version != rt.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({rt.api_version})"
        )
    if kind and kind != rt.kind:
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
        )


class Api:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ----------------------------------------------------------------- reads
    def get(self, t: Target) -> Result:
        live = self._live(t)
        if t.subresource == "scale":
            return 200, self._scale_of(t, live)
        return 200, live

    def list(self, t: Target, o: Options) -> Result:
        labels = label_matcher(o.label_selector)
        fields = field_matcher(o.field_selector, t.rt.kind, t.rt.custom)
        items = [
            obj
            for obj in self.store.list(
                t.rt, t.namespace if t.rt.namespaced and t.namespace else None
            )
            if labels(obj) and fields(obj)
        ]
        meta: dict[str, Any] = {"resourceVersion": self.store.resource_version}
        if o.continue_token:
            after = _decode_continue(o.continue_token)
            items = [i for i in items if _sort_key(i) > after]
        if o.limit and len(items) > o.limit:
            rest = len(items) - o.limit
            items = items[: o.limit]
            meta["continue"] = _encode_continue(_sort_key(items[-1]))
            meta["remainingItemCount"] = rest
        if not t.rt.custom:
            for item in items:  # typed lists carry no per-item type, custom ones do
                item.pop("apiVersion", None)
                item.pop("kind", None)
        return 200, {
            "kind": t.rt.list_kind,
            "apiVersion": t.rt.api_version,
            "metadata": meta,
            "items": items,
        }

    def _live(self, t: Target) -> dict[str, Any]:
        live = self.store.get(t.rt, t.namespace, t.name)
        if live is None:
            raise errors.not_found(t.rt.group, t.rt.plural, t.name)
        return live

    def _scale_of(self, t: Target, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        status: dict[str, Any] = {"replicas": (obj.get("status") or {}).get("replicas", 0)}
        selector = selector_text((obj.get("spec") or {}).get("selector"))
        if selector:
            status["selector"] = selector
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
            "status": status,
        }

    # ---------------------------------------------------------------- writes
    def _write(self, t: Target, o: Options) -> Write:
        scope = t.subresource or ("main-status" if t.rt.status else "main")
        return Write(o.manager, t.rt.api_version, t.subresource, scope, self.store.clock.stamp())

    def create(self, t: Target, body: Any, o: Options) -> Result:
        if t.subresource:
            raise errors.method_not_allowed()
        obj = self._new_object(t, body)
        apply_defaults(obj, t.rt.kind, t.rt.custom)
        self._server_status(t.rt, obj)
        validate(obj, t.rt.group, t.rt.kind, None, t.rt.custom)
        track_update(None, obj, self._write(t, o), t.shape)
        return self._commit(t, None, obj, o, 201)

    def _new_object(self, t: Target, body: Any) -> dict[str, Any]:
        """A body for create (or create-by-apply): type checked, scoped, server metadata set."""
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        _check_type(t.rt, body)
        obj = copy.deepcopy(body)
        obj["apiVersion"], obj["kind"] = t.rt.api_version, t.rt.kind
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if meta.get("resourceVersion"):
            raise errors.bad_request("resourceVersion should not be set on objects to be created")
        if t.rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != t.namespace:
                raise errors.namespace_mismatch()
            meta["namespace"] = t.namespace
        else:
            meta.pop("namespace", None)
        if t.name and meta.get("name") and meta["name"] != t.name:
            raise errors.name_mismatch(meta["name"], t.name)
        if not meta.get("name") and meta.get("generateName"):
            alphabet = "bcdfghjklmnpqrstvwxz2456789"
            meta["name"] = meta["generateName"] + "".join(
                secrets.choice(alphabet) for _ in range(5)
            )
        for key in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields",
            "generation",
            "selfLink",
        ):
            meta.pop(key, None)
        if t.rt.status:
            obj.pop("status", None)
        if not meta.get("name"):
            validate(obj, t.rt.group, t.rt.kind, None, t.rt.custom)
        self._check_room(t, meta["name"])
        meta["uid"] = self.store.new_uid()
        meta["creationTimestamp"] = self.store.clock.stamp()
        if t.rt.generation:
            meta["generation"] = 1
        return obj

    def _check_room(self, t: Target, name: str) -> None:
        if t.rt.namespaced and not self.store.namespace_exists(t.namespace):
            raise errors.not_found("", "namespaces", t.namespace)
        if self.store.get(t.rt, t.namespace, name) is not None:
            raise errors.already_exists(t.rt.group, t.rt.plural, name)

    def update(self, t: Target, body: Any, o: Options) -> Result:
        live = self._live(t)
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        if t.subresource == "scale":
            return self._scale_write(t, live, body, o)
        _check_type(t.rt, body)
        return self._replace(t, live, body, o)

    def _replace(self, t: Target, live: dict[str, Any], body: dict[str, Any], o: Options) -> Result:
        """PUT semantics, shared by update and the non-apply patches."""
        meta = body.get("metadata") or {}
        if meta.get("name") and meta["name"] != t.name:
            raise errors.name_mismatch(meta["name"], t.name)
        if t.rt.namespaced and meta.get("namespace") and meta["namespace"] != t.namespace:
            raise errors.namespace_mismatch()
        rv = meta.get("resourceVersion")
        if rv and rv != live["metadata"]["resourceVersion"]:
            raise errors.conflict(t.rt.group, t.rt.plural, t.name, errors.STALE_OBJECT)
        if t.subresource == "status":
            new = copy.deepcopy(live)
            if body.get("status") is None:
                new.pop("status", None)
            else:
                new["status"] = copy.deepcopy(body["status"])
        else:
            new = copy.deepcopy(body)
            new["apiVersion"], new["kind"] = t.rt.api_version, t.rt.kind
            new_meta = new.setdefault("metadata", {})
            for key in (
                "name",
                "namespace",
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "resourceVersion",
                "managedFields",
            ):
                if key in live["metadata"]:
                    new_meta[key] = live["metadata"][key]
                else:
                    new_meta.pop(key, None)
            if t.rt.status:
                new.pop("status", None)
                if "status" in live:
                    new["status"] = copy.deepcopy(live["status"])
            self._keep_allocated(t.rt, live, new)
        return self._finish(t, live, new, o, track=True)

    def _keep_allocated(self, rt: ResourceType, live: dict[str, Any], new: dict[str, Any]) -> None:
        """Fields the server allocated survive an update that leaves them out."""
        if rt.kind == "Service" and not rt.custom:
            spec, old = new.setdefault("spec", {}), live.get("spec") or {}
            for key in ("clusterIP", "clusterIPs"):
                if key in old and not spec.get(key):
                    spec[key] = copy.deepcopy(old[key])

    def _finish(
        self, t: Target, live: dict[str, Any], new: dict[str, Any], o: Options, *, track: bool
    ) -> Result:
        apply_defaults(new, t.rt.kind, t.rt.custom)
        self._server_status(t.rt, new)
        if t.rt.generation:
            generation = int(live["metadata"].get("generation") or 1)
            if _spec_content(t.rt, live) != _spec_content(t.rt, new):
                generation += 1
            new["metadata"]["generation"] = generation
        validate(new, t.rt.group, t.rt.kind, live, t.rt.custom)
        if track:
            track_update(live, new, self._write(t, o), t.shape)
        result = self._commit(t, live, new, o, 200)
        return self._maybe_finalize(t, result, o)

    def _server_status(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        """Status the apiextensions controller would set at once: a CRD is established."""
        if rt.kind != "CustomResourceDefinition" or rt.custom:
            return
        spec = obj.get("spec") or {}
        storage = [v.get("name") for v in spec.get("versions") or [] if v.get("storage")]
        status = obj.setdefault("status", {})
        status["acceptedNames"] = copy.deepcopy(spec.get("names") or {})
        stored = status.setdefault("storedVersions", [])
        for version in storage:
            if version not in stored:
                stored.append(version)
        if not any(c.get("type") == "Established" for c in status.get("conditions") or []):
            now = self.store.clock.stamp()
            status["conditions"] = [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                    "lastTransitionTime": now,
                },
                {
                    "type": "Established",
                    "status": "True",
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                    "lastTransitionTime": now,
                },
            ]

    def _commit(
        self, t: Target, live: dict[str, Any] | None, new: dict[str, Any], o: Options, code: int
    ) -> Result:
        if live is not None and canon(new) == canon(live):
            return 200, live  # nothing changed: no write, resourceVersion stays
        if o.dry_run:
            return code, new
        stored = self.store.commit(t.rt, new)
        changed = live is None or (
            t.rt.generation
            and live["metadata"].get("generation") != new["metadata"].get("generation")
        )
        if changed:
            self.store.mark_spec_change(
                t.rt, stored["metadata"].get("namespace", ""), stored["metadata"]["name"]
            )
        if live is None and t.rt.kind == "Namespace" and not t.rt.custom:
            self.namespace_children(stored["metadata"]["name"])
        return code, stored

    def _maybe_finalize(self, t: Target, result: Result, o: Options) -> Result:
        """An object being deleted goes away once its last finalizer is removed."""
        code, obj = result
        meta = obj.get("metadata") or {}
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not o.dry_run:
            self._remove(t.rt, meta.get("namespace", ""), meta["name"], "Background")
        return code, obj

    # ----------------------------------------------------------------- patch
    def patch(self, t: Target, raw: bytes, content_type: str, o: Options) -> Result:
        media = content_type.split(";", 1)[0].strip().lower()
        if media not in PATCH_TYPES:
            raise errors.unsupported_media_type(content_type, PATCH_TYPES)
        if media == STRATEGIC_PATCH and t.rt.custom:
            raise errors.unsupported_media_type(
                content_type, [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
            )
        if media == APPLY_PATCH:
            return self.apply(t, _load_yaml(raw), o)
        if o.force is not None:
            raise errors.patch_options(
                "force", "Forbidden: may not be specified for non-apply patch"
            )
        body = _load_json(raw)
        live = self._live(t)
        base = self._scale_of(t, live) if t.subresource == "scale" else live
        if media == JSON_PATCH:
            patched = json_patch(base, body)
        elif media == MERGE_PATCH:
            patched = merge_patch(base, body)
        else:
            patched = strategic_merge_patch(base, body, t.shape)
        if not isinstance(patched, dict):
            raise errors.patch_rejected("the patch did not result in an object")
        if t.subresource == "scale":
            return self._scale_write(t, live, patched, o)
        return self._replace(t, live, patched, o)

    def _scale_write(
        self, t: Target, live: dict[str, Any], scale: dict[str, Any], o: Options
    ) -> Result:
        rv = (scale.get("metadata") or {}).get("resourceVersion")
        if rv and rv != live["metadata"]["resourceVersion"]:
            raise errors.conflict(t.rt.group, t.rt.plural, t.name, errors.STALE_OBJECT)
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(
                "autoscaling",
                "Scale",
                t.name,
                [
                    errors.invalid_value(
                        "spec.replicas", str(replicas), "must be greater than or equal to 0"
                    )
                ],
            )
        new = copy.deepcopy(live)
        new.setdefault("spec", {})["replicas"] = replicas
        code, obj = self._finish(t, live, new, o, track=True)
        return code, self._scale_of(t, obj)

    def apply(self, t: Target, config: Any, o: Options) -> Result:
        """Server-side apply: create when missing, merge and prune when present."""
        if not o.field_manager:
            raise errors.patch_options(
                "fieldManager", "Required value: is required for apply patch"
            )
        if t.subresource == "scale":
            raise errors.unsupported_media_type(
                APPLY_PATCH, [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH]
            )
        if not isinstance(config, dict):
            raise errors.bad_request(
                "error decoding patch: the apply configuration must be an object"
            )
        if not config.get("apiVersion") or not config.get("kind"):
            raise errors.bad_request(
                "error decoding patch: Object 'Kind' is missing in the apply configuration"
            )
        _check_type(t.rt, config)
        config = copy.deepcopy(config)
        meta = config.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != t.name:
            raise errors.name_mismatch(meta["name"], t.name)
        if t.rt.namespaced and meta.get("namespace") and meta["namespace"] != t.namespace:
            raise errors.namespace_mismatch()
        meta["name"] = t.name
        rv = meta.pop("resourceVersion", None)
        for key in (
            "uid",
            "creationTimestamp",
            "managedFields",
            "generation",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ):
            meta.pop(key, None)
        write = replace(self._write(t, o), manager=o.field_manager)
        live = self.store.get(t.rt, t.namespace, t.name)
        if live is None:
            if t.subresource:
                raise errors.not_found(t.rt.group, t.rt.plural, t.name)
            obj = self._new_object(t, config)
            created = apply(None, obj, write, t.shape, force=bool(o.force))
            for key in ("uid", "creationTimestamp", "generation", "namespace"):
                if key in obj["metadata"]:
                    created["metadata"][key] = obj["metadata"][key]
            apply_defaults(created, t.rt.kind, t.rt.custom)
            self._server_status(t.rt, created)
            validate(created, t.rt.group, t.rt.kind, None, t.rt.custom)
            return self._commit(t, None, created, o, 201)
        if rv and rv != live["metadata"]["resourceVersion"]:
            raise errors.conflict(t.rt.group, t.rt.plural, t.name, errors.STALE_OBJECT)
        if t.subresource == "status":
            config = {"metadata": {"name": t.name}, "status": config.get("status") or {}}
        elif t.rt.status:
            config.pop("status", None)
        config.pop("apiVersion", None)
        config.pop("kind", None)
        merged = apply(live, config, write, t.shape, force=bool(o.force))
        return self._finish(t, live, merged, o, track=False)

    # ---------------------------------------------------------------- delete
    def delete(self, t: Target, body: Any, o: Options) -> Result:
        if t.subresource:
            raise errors.method_not_allowed()
        live = self._live(t)
        options = body if isinstance(body, dict) else {}
        pre = options.get("preconditions") or {}
        meta = live["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise errors.conflict(
                t.rt.group,
                t.rt.plural,
                t.name,
                f"Precondition failed: UID in precondition: {pre['uid']}, "
                f"UID in object meta: {meta['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise errors.conflict(
                t.rt.group,
                t.rt.plural,
                t.name,
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
            )
        propagation = o.propagation or options.get("propagationPolicy") or "Background"
        if options.get("orphanDependents") is True:
            propagation = "Orphan"
        dry_run = o.dry_run or bool(options.get("dryRun"))
        if t.rt.kind == "Namespace" and not t.rt.custom:
            gone = copy.deepcopy(live)
            gone["metadata"]["deletionTimestamp"] = self.store.clock.stamp()
            gone.setdefault("status", {})["phase"] = "Terminating"
            if not dry_run:
                self._remove(t.rt, "", t.name, propagation)
            return 200, gone
        if meta.get("finalizers") or meta.get("deletionTimestamp"):
            if meta.get("deletionTimestamp") or dry_run:
                return 200, live
            marked = copy.deepcopy(live)
            marked["metadata"]["deletionTimestamp"] = self.store.clock.stamp()
            marked["metadata"]["deletionGracePeriodSeconds"] = 0
            return 200, self.store.commit(t.rt, marked)
        if not dry_run:
            self._remove(t.rt, t.namespace, t.name, propagation)
        details: dict[str, Any] = {"name": t.name, "kind": t.rt.plural, "uid": meta["uid"]}
        if t.rt.group:
            details["group"] = t.rt.group
        return 200, {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }

    def delete_collection(self, t: Target, body: Any, o: Options) -> Result:
        _, listed = self.list(t, replace(o, limit=None, continue_token=None))
        for item in listed["items"]:
            meta = item["metadata"]
            self.delete(replace(t, namespace=meta.get("namespace", ""), name=meta["name"]), body, o)
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}

    def _remove(self, rt: ResourceType, namespace: str, name: str, propagation: str) -> None:
        """Delete now, then the dependents (ownerReferences) or orphan them."""
        live = self.store.get(rt, namespace, name)
        if live is None:
            return
        self.store.discard(rt, namespace, name)
        if rt.kind == "Namespace" and not rt.custom:
            for other_rt, obj in list(self.store.all_objects()):
                if other_rt.namespaced and obj["metadata"].get("namespace") == name:
                    self.store.discard(other_rt, name, obj["metadata"]["name"], by_request=False)
        uid = live["metadata"]["uid"]
        for other_rt, obj in list(self.store.all_objects()):
            refs = obj["metadata"].get("ownerReferences") or []
            if not any(r.get("uid") == uid for r in refs):
                continue
            ns, dep = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
            if propagation == "Orphan":
                kept = [r for r in refs if r.get("uid") != uid]
                if kept:
                    obj["metadata"]["ownerReferences"] = kept
                else:
                    del obj["metadata"]["ownerReferences"]
                self.store.commit(other_rt, obj, by_request=False)
            elif obj["metadata"].get("finalizers"):
                obj["metadata"].setdefault("deletionTimestamp", self.store.clock.stamp())
                self.store.commit(other_rt, obj, by_request=False)
            else:
                self._remove(other_rt, ns, dep, propagation)

    # ------------------------------------------------------------- bootstrap
    def namespace_children(self, namespace: str) -> None:
        """What controllers put in every namespace: the `default` ServiceAccount and the
        `kube-root-ca.crt` ConfigMap (prune logic must leave these alone)."""
        now = self.store.clock.stamp()
        sa = self.store.registry.lookup("", "v1", "serviceaccounts")
        cm = self.store.registry.lookup("", "v1", "configmaps")
        assert sa is not None and cm is not None
        children: list[tuple[ResourceType, dict[str, Any]]] = [
            (sa, {"metadata": {"name": "default", "namespace": namespace}}),
            (
                cm,
                {
                    "metadata": {
                        "name": "kube-root-ca.crt",
                        "namespace": namespace,
                        "annotations": {
                            "kubernetes.io/description": "Contains a CA bundle "
                            "that can be used to verify the kube-apiserver when "
                            "using internal endpoints such as the internal "
                            "service IP or kubernetes.default.svc. No other "
                            "usage is guaranteed across distributions of "
                            "Kubernetes clusters."
                        },
                    },
                    "data": {"ca.crt": FAKE_CA},
                },
            ),
        ]
        for rt, obj in children:
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            obj["metadata"].update(uid=self.store.new_uid(), creationTimestamp=now)
            write = Write(CONTROLLER_MANAGER, rt.api_version, "", "main", now)
            track_update(None, obj, write, Shape(rt.kind, False, None))
            self.store.commit(rt, obj, by_request=False)


def _sort_key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace", ""), meta.get("name", ""))


def _encode_continue(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        ns, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (str(ns), str(name))
    except (ValueError, TypeError) as err:
        raise errors.bad_request(f"continue key is not valid: {err}") from err


def _load_json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError as err:
        raise errors.bad_request(f"error decoding patch: {err}") from err


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML without timestamp resolution: the API server turns YAML into JSON, so an
    unquoted date stays a string rather than becoming a datetime."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(raw: bytes) -> Any:
    try:
        return yaml.load(raw or b"", Loader=_YamlLoader)
    except yaml.YAMLError as err:
        raise errors.bad_request(f"error decoding YAML: {err}") from err


def _load_yaml(raw: bytes) -> Any:
    return load_yaml(raw) or {}
