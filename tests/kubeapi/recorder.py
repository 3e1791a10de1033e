"""The request log and the counters tests read ("how many writes did that sync make?").

A write is a create, update, patch, delete or deletecollection request that is not a
dry run, whatever its outcome: the performance targets count write *calls*. Reads
are get and list. Discovery and health requests are logged but are neither.
`resource` is the plural, with `/status` or `/scale` for subresources.
"""

from __future__ import annotations

from dataclasses import dataclass

READ_VERBS = frozenset({"get", "list", "watch"})
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    verb: str  # "" for non-resource requests (discovery, /version)
    group: str
    version: str
    resource: str
    namespace: str
    name: str
    code: int
    dry_run: bool
    field_manager: str | None
    content_type: str
    user_agent: str

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


class Recorder:
    def __init__(self) -> None:
        self.requests: list[Request] = []

    def record(self, request: Request) -> None:
        self.requests.append(request)

    def reset(self) -> None:
        self.requests = []

    def writes(self, **filters: str | None) -> list[Request]:
        return [r for r in self.requests if r.is_write and r.matches(**filters)]

    def reads(self, **filters: str | None) -> list[Request]:
        return [r for r in self.requests if r.is_read and r.matches(**filters)]

    def counts(self) -> dict[tuple[str, str, str], int]:
        """(verb, group, resource) -> number of requests, dry runs excluded."""
        out: dict[tuple[str, str, str], int] = {}
        for r in self.requests:
            if r.verb and not r.dry_run:
                key = (r.verb, r.group, r.resource)
                out[key] = out.get(key, 0) + 1
        return out
