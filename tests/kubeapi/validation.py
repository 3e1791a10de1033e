"""Validation: the checks a sync tool trips over on a real cluster.

Not a schema validator. It checks names and labels, the selector/template rules of
workloads (and that selectors and Job templates are immutable), containers having
names and images, Service ports, immutable ConfigMaps/Secrets and CRD naming. Each
failure is a 422 `Invalid` with the real server's field paths and wording.
"""

from __future__ import annotations

import re
from typing import Any

from tests.kubeapi import errors
from tests.kubeapi.errors import Cause
from tests.kubeapi.fieldsets import canon
from tests.kubeapi.selectors import selector_matches

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_1123_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}


def _name_causes(kind: str, name: str) -> list[Cause]:
    if not name:
        return [errors.required("metadata.name", "name or generateName is required")]
    if kind == "Namespace":
        ok, msg, limit = bool(_LABEL_1123.match(name)), LABEL_1123_MSG, 63
    elif kind == "Service":
        ok, msg, limit = bool(_LABEL_1035.match(name)), LABEL_1035_MSG, 63
    else:
        ok, msg, limit = bool(_SUBDOMAIN.match(name)), SUBDOMAIN_MSG, 253
    if len(name) > limit:
        return [
            errors.invalid_value(
                "metadata.name", f'"{name}"', f"must be no more than {limit} characters"
            )
        ]
    if not ok:
        return [errors.invalid_value("metadata.name", f'"{name}"', msg)]
    return []


def _label_causes(labels: Any, where: str) -> list[Cause]:
    if not isinstance(labels, dict):
        return []
    out = []
    for key, value in labels.items():
        prefix, _, name = str(key).rpartition("/")
        if (
            (prefix and not _SUBDOMAIN.match(prefix))
            or not _QUALIFIED.match(name)
            or len(name) > 63
        ):
            out.append(
                errors.invalid_value(
                    where,
                    f'"{key}"',
                    "name part must consist of alphanumeric "
                    "characters, '-', '_' or '.', and must start and end with "
                    "an alphanumeric character",
                )
            )
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            out.append(
                errors.invalid_value(
                    where,
                    f'"{value}"',
                    "a valid label must be an empty string "
                    "or consist of alphanumeric characters, '-', '_' or '.', "
                    "and must start and end with an alphanumeric character",
                )
            )
    return out


def _go_map(labels: dict[str, Any]) -> str:
    inner = ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items()))
    return "map[string]string{" + inner + "}"


def _pod_spec_causes(spec: Any, where: str) -> list[Cause]:
    if not isinstance(spec, dict):
        return [errors.required(f"{where}.containers")]
    containers = spec.get("containers") or []
    out: list[Cause] = []
    if not containers:
        out.append(errors.required(f"{where}.containers"))
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(field) or []):
            at = f"{where}.{field}[{index}]"
            name = container.get("name") if isinstance(container, dict) else None
            if not name:
                out.append(errors.required(f"{at}.name"))
            elif name in seen:
                out.append(Cause("FieldValueDuplicate", f'Duplicate value: "{name}"', f"{at}.name"))
            else:
                seen.add(name)
            if isinstance(container, dict) and not container.get("image"):
                out.append(errors.required(f"{at}.image"))
    return out


def _workload_causes(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    out: list[Cause] = []
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        out.append(errors.required("spec.selector"))
    elif not selector_matches(selector, labels):
        out.append(
            errors.invalid_value(
                "spec.template.metadata.labels",
                _go_map(labels),
                "`selector` does not match template `labels`",
            )
        )
    out.extend(_label_causes(labels, "spec.template.metadata.labels"))
    out.extend(_pod_spec_causes(template.get("spec"), "spec.template.spec"))
    if obj.get("kind") != "StatefulSet" and int(spec.get("replicas") or 0) < 0:
        out.append(
            errors.invalid_value(
                "spec.replicas", str(spec["replicas"]), "must be greater than or equal to 0"
            )
        )
    return out


def _job_causes(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    out = _pod_spec_causes(template.get("spec"), "spec.template.spec")
    restart = (template.get("spec") or {}).get("restartPolicy")
    if restart not in ("OnFailure", "Never"):
        if restart:
            out.append(
                errors.unsupported_value(
                    "spec.template.spec.restartPolicy", restart, ["OnFailure", "Never"]
                )
            )
        else:
            out.append(
                errors.required(
                    "spec.template.spec.restartPolicy", 'valid values: "OnFailure", "Never"'
                )
            )
    return out


def _service_causes(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    if kind not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        return [
            errors.unsupported_value(
                "spec.type", str(kind), ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
            )
        ]
    if kind != "ExternalName" and spec.get("clusterIP") != "None" and not spec.get("ports"):
        return [errors.required("spec.ports")]
    return []


def _crd_causes(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    out: list[Cause] = []
    for field in ("plural", "kind"):
        if not names.get(field):
            out.append(errors.required(f"spec.names.{field}"))
    if not spec.get("group"):
        out.append(errors.required("spec.group"))
    if not spec.get("versions"):
        out.append(errors.required("spec.versions"))
    expected = f"{names.get('plural')}.{spec.get('group')}"
    if not out and obj["metadata"].get("name") != expected:
        out.append(
            errors.invalid_value(
                "metadata.name",
                f'"{obj["metadata"].get("name")}"',
                'must be spec.names.plural+"."+spec.group',
            )
        )
    return out


def _immutable_causes(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[Cause]:
    out: list[Cause] = []
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    selector_moved = canon(old_spec.get("selector")) != canon(new_spec.get("selector"))
    if (kind in WORKLOADS or kind == "Job") and selector_moved:
        out.append(
            errors.invalid_value("spec.selector", "v1.LabelSelector{...}", "field is immutable")
        )
    if kind == "Job" and canon(old_spec.get("template")) != canon(new_spec.get("template")):
        out.append(
            errors.invalid_value("spec.template", "core.PodTemplateSpec{...}", "field is immutable")
        )
    if kind in ("ConfigMap", "Secret") and old.get("immutable"):
        for field in ("data", "binaryData", "stringData"):
            if canon(old.get(field)) != canon(new.get(field)):
                out.append(
                    errors.forbidden_field(field, "field is immutable when `immutable` is set")
                )
        if not new.get("immutable"):
            out.append(
                errors.forbidden_field("immutable", "field is immutable when `immutable` is set")
            )
    if (
        kind == "Service"
        and old_spec.get("clusterIP")
        and new_spec.get("clusterIP") != old_spec.get("clusterIP")
    ):
        out.append(
            errors.invalid_value(
                "spec.clusterIP", f'"{new_spec.get("clusterIP")}"', "field is immutable"
            )
        )
    return out


def validate(
    obj: dict[str, Any], group: str, kind: str, old: dict[str, Any] | None, custom: bool
) -> None:
    """Raise a 422 listing every problem with `obj` (an update when `old` is given)."""
    meta = obj.get("metadata") or {}
    causes = _name_causes(kind, str(meta.get("name") or ""))
    causes += _label_causes(meta.get("labels"), "metadata.labels")
    if not custom:
        if kind in WORKLOADS:
            causes += _workload_causes(obj)
        elif kind == "Job":
            causes += _job_causes(obj)
        elif kind == "Service":
            causes += _service_causes(obj)
        elif kind == "CustomResourceDefinition":
            causes += _crd_causes(obj)
        if old is not None:
            causes += _immutable_causes(kind, old, obj)
    if causes:
        raise errors.invalid(group, kind, str(meta.get("name") or ""), causes)
