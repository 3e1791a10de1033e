"""Waiting for a unit's objects to become healthy (kstatus rules, `domain.health`):
workloads for a plain path, every object (`wait: true`) or the `healthChecks` of a
Flux Kustomization, including objects it does not apply; polled with backoff until
all are healthy, one has failed for good, or the unit's timeout passes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gitops_action.app.sync_run import _FIRST_POLL, _MAX_POLL, UnitRun, _Planned
from gitops_action.domain import health as health_rules
from gitops_action.domain.health import Health, State
from gitops_action.domain.manifests import ObjectId
from gitops_action.domain.sync_plan import ResourceType


def wait_external(run: UnitRun, checks: Sequence[tuple[str, ObjectId]]) -> list[str]:
    """`healthChecks` naming objects this unit does not apply (another Kustomization's,
    or made by a controller): polled with the same rules and timeout; one line per
    object not healthy at the end."""
    mine = {p.desired.id for p in run.planned}
    pending: dict[ObjectId, ResourceType] = {}
    problems: list[str] = []
    for api_version, identity in checks:
        if identity in mine:
            continue
        resource = run.kube.resolve(api_version, identity.kind)
        if resource is None:
            problems.append(f"{identity}: the cluster does not serve {api_version}")
        else:
            pending[identity] = resource
    deadline = run.clock() + run.options.timeout
    delay = _FIRST_POLL
    while pending:
        states: dict[ObjectId, Health] = {}
        for identity, resource in pending.items():
            live = run.kube.get(resource, identity.namespace, identity.name)
            states[identity] = (
                Health(State.PROGRESSING, "not found")
                if live is None
                else health_rules.evaluate_any(identity.group, identity.kind, live)
            )
        pending = {i: r for i, r in pending.items() if states[i].state is not State.HEALTHY}
        failed = any(states[i].state is State.FAILED for i in pending)
        if pending and (failed or run.clock() >= deadline):
            problems += [f"{i}: {states[i].reason}" for i in pending]
            break
        if pending:
            run.sleep(delay)
            delay = min(delay * 1.6, _MAX_POLL)
    return problems


def wait(run: UnitRun, checks: Iterable[ObjectId] = ()) -> None:
    """Poll what the unit waits for until all is healthy, one has failed, or the timeout
    passes: workloads (a plain path), every object (`wait: true`), the named
    `healthChecks`, or nothing (a Flux Kustomization with neither, as in Flux)."""
    mode, wanted = run.options.wait, set(checks)
    watched = [
        p
        for p in run.planned
        if (mode == "all")
        or (mode == "checks" and p.desired.id in wanted)
        or (mode == "workloads" and health_rules.has_rollout(p.desired.id.group, p.desired.id.kind))
    ]
    if not watched:
        return
    run.result.waited = True
    for planned in watched:
        planned.result.health = _health(planned, planned.live)
    deadline = run.clock() + run.options.timeout
    delay = _FIRST_POLL
    while True:
        pending = [p for p in watched if not _done(p)]
        failed = any(p.result.health and p.result.health.state is State.FAILED for p in watched)
        if not pending or failed:
            return
        remaining = deadline - run.clock()
        if remaining <= 0:
            break
        run.sleep(min(delay, remaining))
        delay = min(delay * 1.6, _MAX_POLL)
        for planned in pending:
            desired = planned.desired
            planned.live = run.kube.get(desired.resource, desired.id.namespace, desired.id.name)
            planned.result.health = _health(planned, planned.live)
    for planned in watched:
        health = planned.result.health
        if health is not None and health.state is State.PROGRESSING:
            planned.result.health = Health(
                State.FAILED,
                f"not healthy after {run.options.timeout_text}: {health.reason}",
            )


def _health(planned: _Planned, live: Mapping[str, Any] | None) -> Health:
    if live is None:
        return Health(State.FAILED, "deleted while waiting for it")
    return health_rules.evaluate_any(planned.desired.id.group, planned.desired.id.kind, live)


def _done(planned: _Planned) -> bool:
    return planned.result.health is None or planned.result.health.done
