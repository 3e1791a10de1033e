"""Requests counted by the API server itself: its audit log (JSON lines).

Why the server's log and not our client's: a count taken inside the code under
test can only confirm what that code believes it sent. The apiserver logs every
request at `RequestReceived` before it handles it (blocking log backend), so
once a client has its answers, every request it made is in the file.

A write is a create, update, patch, delete or deletecollection that is not a
dry run, whatever its outcome (the performance targets count write calls).
Reads are get, list and watch. `resource` is the plural, with `/status` or
`/scale` for subresources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

READ_VERBS = frozenset({"get", "list", "watch"})
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


@dataclass(frozen=True)
class Request:
    audit_id: str
    user: str
    verb: str
    group: str
    resource: str
    namespace: str
    name: str
    uri: str
    dry_run: bool
    user_agent: str
    code: int  # 0 until the ResponseComplete event is read

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS and not self.dry_run

    @property
    def is_read(self) -> bool:
        return self.verb in READ_VERBS

    def matches(
        self,
        verb: str | None = None,
        resource: str | None = None,
        group: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
    ) -> bool:
        return (
            (verb is None or self.verb == verb)
            and (resource is None or self.resource == resource)
            and (group is None or self.group == group)
            and (namespace is None or self.namespace == namespace)
            and (name is None or self.name == name)
        )


def _request(event: dict[str, Any]) -> Request:
    ref = event.get("objectRef") or {}
    resource = ref.get("resource", "")
    if ref.get("subresource"):
        resource = f"{resource}/{ref['subresource']}"
    uri = event.get("requestURI", "")
    query = parse_qs(urlsplit(uri).query)
    return Request(
        audit_id=event["auditID"],
        user=event.get("user", {}).get("username", ""),
        verb=event.get("verb", ""),
        group=ref.get("apiGroup", ""),
        resource=resource,
        namespace=ref.get("namespace", ""),
        name=ref.get("name", ""),
        uri=uri,
        dry_run="dryRun" in query,
        user_agent=event.get("userAgent", ""),
        code=int((event.get("responseStatus") or {}).get("code", 0)),
    )


class AuditLog:
    """The requests in the log since `mark()`, optionally of one user."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0

    def mark(self) -> None:
        """Count from here on (what a test calls `reset_counters`)."""
        self._offset = self.path.stat().st_size if self.path.exists() else 0

    def requests(self, user: str | None = None) -> list[Request]:
        """Requests received since the mark, in order, with their codes where known."""
        received: dict[str, Request] = {}
        codes: dict[str, int] = {}
        if not self.path.exists():
            return []
        with self.path.open("rb") as log:
            log.seek(self._offset)
            for line in log:
                if not line.endswith(b"\n"):
                    break  # a line being written; the next read sees it whole
                event = json.loads(line)
                if user is not None and event.get("user", {}).get("username") != user:
                    continue
                if event.get("stage") == "RequestReceived":
                    received[event["auditID"]] = _request(event)
                elif event.get("stage") == "ResponseComplete":
                    codes[event["auditID"]] = _request(event).code
        return [
            Request(**{**r.__dict__, "code": codes.get(r.audit_id, 0)}) for r in received.values()
        ]
