"""API errors as the real API server reports them: a `Status` object with a code.

Clients (the `kubernetes` Python client, kubectl) branch on `code` and `reason`, and
people read `message`; so the shapes and wordings here follow what a real API server
sends, e.g. `deployments.apps "web" not found` with details naming group and plural.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Cause:
    """One entry of `details.causes` (a field that failed validation, a conflict)."""

    reason: str
    message: str
    field: str

    def as_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}


@dataclass
class ApiError(Exception):
    """An error the stand-in answers with; `status()` is the response body."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(group: str, plural: str, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": plural}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def qualified(group: str, plural: str) -> str:
    """`deployments.apps`, or `configmaps` for the core group (a GroupResource string)."""
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{qualified(group, plural)} "{name}" not found',
        _details(group, plural, name),
    )


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified(group, plural)} "{name}" already exists',
        _details(group, plural, name),
    )


def conflict(group: str, plural: str, name: str, why: str) -> ApiError:
    message = f'Operation cannot be fulfilled on {qualified(group, plural)} "{name}": {why}'
    return ApiError(409, "Conflict", message, _details(group, plural, name))


STALE_OBJECT = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def invalid(group: str, kind: str, name: str, causes: list[Cause]) -> ApiError:
    """422 with the aggregated field errors, worded as `field: Reason text`."""
    group_kind = f"{kind}.{group}" if group else kind
    parts = [f"{c.field}: {c.message}" for c in causes]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": [c.as_dict() for c in causes]}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f'{group_kind} "{name}" is invalid: {summary}', details)


def required(field_path: str, detail: str = "") -> Cause:
    message = "Required value" + (f": {detail}" if detail else "")
    return Cause("FieldValueRequired", message, field_path)


def invalid_value(field_path: str, value: str, detail: str) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {value}: {detail}", field_path)


def forbidden_field(field_path: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", f"Forbidden: {detail}", field_path)


def unsupported_value(field_path: str, value: str, supported: list[str]) -> Cause:
    listed = ", ".join(f'"{s}"' for s in supported)
    message = f'Unsupported value: "{value}": supported values: {listed}'
    return Cause("FieldValueNotSupported", message, field_path)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def name_mismatch(in_body: str, in_url: str) -> ApiError:
    return bad_request(
        f"the name of the object ({in_body}) does not match the name on the URL ({in_url})"
    )


def namespace_mismatch() -> ApiError:
    return bad_request(
        "the namespace of the provided object does not match the namespace sent on the request"
    )


def patch_options(field_path: str, detail: str) -> ApiError:
    """A bad PatchOptions (fieldManager missing for apply, force without apply)."""
    return ApiError(
        422, "Invalid", f'PatchOptions.meta.k8s.io "" is invalid: {field_path}: {detail}'
    )


def forbidden(group: str, plural: str, name: str, message: str) -> ApiError:
    subject = qualified(group, plural) + (f' "{name}"' if name else "")
    return ApiError(
        403, "Forbidden", f"{subject} is forbidden: {message}", _details(group, plural, name)
    )


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def path_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    message = (
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{', '.join(accepted)}"
    )
    del content_type
    return ApiError(415, "UnsupportedMediaType", message)


def patch_rejected(why: str) -> ApiError:
    """A patch that cannot be applied to the object (a failed JSON-patch `test`, a bad path)."""
    return ApiError(422, "Invalid", f"the server rejected our request due to an error: {why}")


def apply_conflict(message: str, causes: list[Cause]) -> ApiError:
    return ApiError(409, "Conflict", message, {"causes": [c.as_dict() for c in causes]})


def injected(code: int, reason: str, message: str, retry_after: int | None) -> ApiError:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    details: dict[str, Any] = {"retryAfterSeconds": retry_after} if retry_after is not None else {}
    return ApiError(code, reason, message, details, headers)
