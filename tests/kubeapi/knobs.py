"""Test knobs: denied permissions and injected failures.

There is no RBAC evaluation: everything is allowed except what a test denies. A
denial answers exactly as an RBAC refusal does (403 Forbidden, with the user, verb,
resource, API group and namespace in the message), before the resource is even
looked up, as authorization precedes everything on a real server. Injected failures
(500, 503, 429 with Retry-After, 409...) let a test drive retry paths.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.kubeapi import errors

SERVICE_ACCOUNT_USER = "system:serviceaccount:gitops-system:gitops-action"
TOKEN = "gitops-standin-token"


@dataclass(frozen=True)
class RequestAttributes:
    verb: str
    group: str
    resource: str  # plural, without subresource
    subresource: str
    namespace: str
    name: str

    @property
    def full_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def _matches(want: str | None, actual: str) -> bool:
    return want is None or want == "*" or want == actual


@dataclass(frozen=True)
class Rule:
    """None or "*" match anything; `resource` may name a subresource (`deployments/status`)."""

    verb: str | None = None
    group: str | None = None
    resource: str | None = None
    namespace: str | None = None
    name: str | None = None

    def matches(self, a: RequestAttributes) -> bool:
        return (
            _matches(self.verb, a.verb)
            and _matches(self.group, a.group)
            and _matches(self.resource, a.full_resource)
            and _matches(self.namespace, a.namespace)
            and _matches(self.name, a.name)
        )


@dataclass
class Injection:
    rule: Rule
    code: int
    reason: str
    message: str
    times: int
    retry_after: int | None


class Knobs:
    def __init__(self) -> None:
        self.user = SERVICE_ACCOUNT_USER
        self.token = TOKEN
        self.denied: list[Rule] = []
        self.injections: list[Injection] = []

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def authorize(self, a: RequestAttributes) -> None:
        if not any(rule.matches(a) for rule in self.denied):
            return
        where = f'in the namespace "{a.namespace}"' if a.namespace else "at the cluster scope"
        message = (
            f'User "{self.user}" cannot {a.verb} resource "{a.full_resource}" '
            f'in API group "{a.group}" {where}'
        )
        raise errors.forbidden(a.group, a.resource, a.name, message)

    def inject(self, a: RequestAttributes) -> None:
        for injection in self.injections:
            if injection.times > 0 and injection.rule.matches(a):
                injection.times -= 1
                raise errors.injected(
                    injection.code, injection.reason, injection.message, injection.retry_after
                )
