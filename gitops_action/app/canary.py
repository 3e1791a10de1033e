"""`gitops-action canary run` and `canary status`: Flagger-style analysis, one pass per run.

Each CronJob run, for every Canary under PATH:

1. read the status ConfigMap ``<name>-canary-status`` (absent: first sight);
2. observe the target and primary Deployments (revision = pod template
   checksum, readiness as `kubectl rollout status` reads it);
3. ask the pure state machine (`domain.canary.advance`) what is due, fetching
   only the inputs it asks for (webhook gates, metric checks);
4. write the new status FIRST, then make the cluster match it (primary,
   Services, routing, target replicas: all idempotent, skipped when already
   so), record Events, call notification hooks;
5. a Failed analysis is written back to git once (`canary_writeback`), and
   the status says so.

Within a run the machine is advanced until nothing more is due, waiting (up
to `ready_wait`) for pods it just scaled or promoted: so the run whose check
completes the analysis also promotes (copy, wait healthy, scale the target to
zero) or rolls back. A run killed anywhere resumes from the status: the
cluster is reconciled to it before anything else happens.

Everything that is bad input (Canary config, a missing target, a template
with an unknown variable) is found before the first write, for every canary.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from gitops_action.adapters import failpoints, webhooks
from gitops_action.adapters.canary_loader import load_canaries
from gitops_action.adapters.kube import connect
from gitops_action.adapters.kube_canary import (
    CONFIG_MAPS,
    DEPLOYMENTS,
    HPAS,
    HTTP_ROUTES,
    CanaryCluster,
)
from gitops_action.adapters.prometheus import Prometheus
from gitops_action.app.canary_writeback import WriteBack, changes_between, write_back
from gitops_action.app.holds import RepoTarget
from gitops_action.domain.canary import (
    ANALYSING,
    Ask,
    CanaryStatus,
    CheckResult,
    Observation,
    Phase,
    Step,
    advance,
    desired_cluster,
)
from gitops_action.domain.canary_config import (
    BUILTIN_DEFAULT,
    CanaryConfig,
    CanarySpec,
    ProviderDefault,
)
from gitops_action.domain.canary_objects import (
    MANAGED_BY,
    REVISION_ANNOTATION,
    STATUS_KEY,
    canary_replicas,
    http_route,
    images_of,
    primary_deployment,
    primary_hpa,
    revision_of,
    route_current,
    services,
    status_config_map,
    status_name,
)
from gitops_action.domain.errors import CanaryTargetMissing, MetricQueryFailed, OperationFailed
from gitops_action.domain.health import State, evaluate
from gitops_action.domain.metrics import BuiltinMetrics, PlannedQuery, judge, plan_query

log = logging.getLogger("gitops_action.canary")

MAX_PASSES: Final = 16
STATUS_SUFFIX: Final = "-canary-status"
MANAGED_LABEL: Final = next(iter(MANAGED_BY))
_POLL: Final = 0.25


@dataclass(frozen=True)
class Clock:
    """Time and waiting, injectable so tests control both."""

    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class CanaryRequest:
    path: Path
    kubeconfig: str | None = None
    context: str | None = None
    prometheus_url: str | None = None
    allow_insecure_metrics: bool = False
    """Send the Prometheus credentials to a plain-HTTP --prometheus-url."""
    default_provider: ProviderDefault = BUILTIN_DEFAULT
    """The provider of a Canary without spec.provider, and where it was set."""
    repo: RepoTarget | None = None
    builtins: BuiltinMetrics = field(default_factory=BuiltinMetrics)
    names: tuple[str, ...] = ()
    ready_wait: float = 30.0
    environ: Mapping[str, str] = field(default_factory=dict)


@dataclass
class CanaryOutcome:
    """What one run did for one canary (text and JSON output are rendered from it)."""

    canary: str
    phase: str = ""
    weight: int = 0
    failed_checks: int = 0
    checks: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    events: list[str] = field(default_factory=list)
    rolled_back: bool = False
    promoted: bool = False  # this run finished a promotion (the phase became Succeeded)
    writeback: WriteBack | None = None

    def as_record(self) -> dict[str, Any]:
        return {
            "canary": self.canary,
            "phase": self.phase,
            "canaryWeight": self.weight,
            "failedChecks": self.failed_checks,
            "checks": self.checks,
            "message": self.message,
            "events": self.events,
            "rolledBack": self.rolled_back,
            "promoted": self.promoted,
            "writeBack": self.writeback.as_record() if self.writeback else None,
        }


def select(config: CanaryConfig, names: tuple[str, ...]) -> list[CanarySpec]:
    """The canaries named (``name`` or ``namespace/name``), all when none are."""
    if not names:
        return list(config.canaries)
    chosen = [spec for spec in config.canaries if spec.key.name in names or str(spec.key) in names]
    missing = set(names) - {spec.key.name for spec in chosen} - {str(spec.key) for spec in chosen}
    if missing:
        raise CanaryTargetMissing(f"no Canary named {', '.join(sorted(missing))} under the path")
    return chosen


def run(request: CanaryRequest, clock: Clock | None = None) -> list[CanaryOutcome]:
    """One pass of analysis for every selected Canary under `request.path`."""
    config = load_canaries(request.path, default_provider=request.default_provider)
    canaries = select(config, request.names)
    for spec in canaries:  # bad templates fail before any cluster work
        for metric in spec.analysis.metrics:
            plan_query(spec, metric, config.templates, request.builtins)
    with connect(request.kubeconfig, request.context) as kube:
        cluster = CanaryCluster(kube)
        for spec in canaries:
            if cluster.get(DEPLOYMENTS, spec.key.namespace, spec.target) is None:
                raise CanaryTargetMissing(
                    f"{spec.where}: spec.targetRef.name: Deployment "
                    f"{spec.key.namespace}/{spec.target} does not exist in the cluster"
                )
        probes = _Probes(config, request)
        try:
            return [
                _Runner(spec, cluster, probes, request, clock or Clock()).run() for spec in canaries
            ]
        finally:
            probes.close()


def status(
    request: CanaryRequest, *, from_config: bool, namespace: str = ""
) -> list[dict[str, Any]]:
    """The stored status of canaries: with `from_config`, those under `request.path`
    (``NotStarted`` when none is stored yet); else every status ConfigMap the tool wrote in
    `namespace` (all namespaces when empty)."""
    with connect(request.kubeconfig, request.context) as kube:
        cluster = CanaryCluster(kube)
        if from_config:
            return _status_of_config(cluster, request)
        found = []
        for config_map in kube.list(CONFIG_MAPS, namespace):
            metadata = config_map.get("metadata") or {}
            name = str(metadata.get("name", ""))
            labels = metadata.get("labels") or {}
            if not name.endswith(STATUS_SUFFIX) or labels.get(MANAGED_LABEL) != "gitops-action":
                continue
            key = f"{metadata.get('namespace')}/{name.removesuffix(STATUS_SUFFIX)}"
            if request.names and not {key, key.partition("/")[2]} & set(request.names):
                continue
            record = _parse_status(config_map, key)
            found.append({"canary": key, **record.as_record()})
        return sorted(found, key=lambda item: str(item["canary"]))


def _status_of_config(cluster: CanaryCluster, request: CanaryRequest) -> list[dict[str, Any]]:
    config = load_canaries(request.path)
    found = []
    for spec in select(config, request.names):
        stored = read_status(cluster, spec)
        record = stored.as_record() if stored else {"phase": "NotStarted"}
        found.append({"canary": str(spec.key), "provider": spec.provider, **record})
    return found


def read_status(cluster: CanaryCluster, spec: CanarySpec) -> CanaryStatus | None:
    config_map = cluster.get(CONFIG_MAPS, spec.key.namespace, status_name(spec))
    if config_map is None:
        return None
    return _parse_status(config_map, f"{spec.key.namespace}/{status_name(spec)}")


def _parse_status(config_map: Mapping[str, Any], where: str) -> CanaryStatus:
    text = (config_map.get("data") or {}).get(STATUS_KEY)
    try:
        return CanaryStatus.from_record(json.loads(text or ""))
    except ValueError as err:
        raise OperationFailed(
            f"ConfigMap {where}: {STATUS_KEY} is not a canary status ({err}); "
            "delete it to start over"
        ) from err


class _Probes:
    """Metric queries and webhook calls, with one Prometheus client per address."""

    def __init__(self, config: CanaryConfig, request: CanaryRequest) -> None:
        self.config = config
        self.request = request
        self._clients: dict[str, Prometheus] = {}

    def checks(self, spec: CanarySpec, payload: webhooks.Payload) -> tuple[CheckResult, ...]:
        results = [self._metric(plan_query(spec, m, self.config.templates, self.request.builtins))
                   for m in spec.analysis.metrics]  # fmt: skip
        for answer in webhooks.call_all(spec.analysis.hooks("rollout"), payload):
            results.append(CheckResult(f"webhook {answer.name}", answer.ok, None, answer.detail))
        return tuple(results)

    def _metric(self, planned: PlannedQuery) -> CheckResult:
        address = planned.address or self.request.prometheus_url
        if not address:
            return judge(planned.metric, None, "no Prometheus URL (--prometheus-url)")
        client = self._clients.get(address)
        if client is None:
            client = self._clients[address] = Prometheus(
                address,
                environ=self.request.environ,
                credentials_for=self.request.prometheus_url or "",
                allow_insecure=self.request.allow_insecure_metrics,
            )
        try:
            return judge(planned.metric, client.query(planned.query))
        except MetricQueryFailed as err:
            return judge(planned.metric, None, str(err))

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


class _Runner:
    """One canary, one run."""

    def __init__(
        self,
        spec: CanarySpec,
        cluster: CanaryCluster,
        probes: _Probes,
        request: CanaryRequest,
        clock: Clock,
    ) -> None:
        self.spec = spec
        self.cluster = cluster
        self.probes = probes
        self.request = request
        self.clock = clock
        self.outcome = CanaryOutcome(str(spec.key))

    # ---------------------------------------------------------------- loop
    def run(self) -> CanaryOutcome:
        status = read_status(self.cluster, self.spec)
        for _pass in range(MAX_PASSES):
            target, primary = self._workloads()
            step = self._decide(status, self._observe(status, target, primary))
            changed = step.status != status
            if changed:
                self._save(step.status)
                became = status is None or status.phase is not step.status.phase
                if became and step.status.phase is Phase.FAILED:
                    self.outcome.rolled_back = True
                if became and step.status.phase is Phase.SUCCEEDED:
                    self.outcome.promoted = True
            status = step.status
            self._reconcile(status, target, primary)
            self._announce(status, step)
            if status.phase is Phase.FAILED and not status.written_back:
                status = self._write_back(status, target, primary)
            if not changed or not self._wait_for_progress(status):
                break
        assert status is not None
        self._report(status)
        return self.outcome

    def _workloads(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        namespace = self.spec.key.namespace
        target = self.cluster.get(DEPLOYMENTS, namespace, self.spec.target)
        if target is None:
            raise CanaryTargetMissing(
                f"{self.spec.where}: spec.targetRef.name: Deployment "
                f"{namespace}/{self.spec.target} disappeared during the run"
            )
        return target, self.cluster.get(DEPLOYMENTS, namespace, self.spec.primary)

    def _observe(
        self,
        status: CanaryStatus | None,
        target: Mapping[str, Any],
        primary: Mapping[str, Any] | None,
    ) -> Observation:
        target_health = evaluate("apps", "Deployment", target)
        scaled = int((target.get("spec") or {}).get("replicas", 1) or 0) > 0
        primary_ready = False
        if primary is not None and status is not None:
            annotations = (primary.get("metadata") or {}).get("annotations") or {}
            primary_ready = (
                evaluate("apps", "Deployment", primary).state is State.HEALTHY
                and annotations.get(REVISION_ANNOTATION) == status.revision
            )
        return Observation(
            now=self.clock.now(),
            revision=revision_of(target),
            canary_ready=scaled and target_health.state is State.HEALTHY,
            canary_stalled=scaled and target_health.state is State.FAILED,
            primary_ready=primary_ready,
        )

    def _decide(self, status: CanaryStatus | None, seen: Observation) -> Step:
        payload = webhooks.Payload(
            self.spec.key.name,
            self.spec.key.namespace,
            str(status.phase) if status else "Initializing",
            seen.revision,
        )
        for _ask in range(8):
            decision = advance(self.spec, status, seen)
            if isinstance(decision, Step):
                return decision
            seen = self._answer(decision, seen, payload)
        raise AssertionError("the canary state machine kept asking")  # pragma: no cover

    def _answer(self, ask: Ask, seen: Observation, payload: webhooks.Payload) -> Observation:
        analysis = self.spec.analysis
        if ask.checks:
            return replace(seen, checks=self.probes.checks(self.spec, payload))
        if ask.rollback:
            answers = webhooks.call_all(analysis.hooks("rollback"), payload)
            return replace(seen, rollback=any(answer.ok for answer in answers))
        answers = webhooks.call_all(analysis.hooks(ask.gate), payload)
        for answer in answers:
            if not answer.ok:
                log.warning(
                    "%s: %s hook %s said no: %s",
                    self.spec.key,
                    ask.gate,
                    answer.name,
                    answer.detail,
                )
        return replace(seen, gates={**seen.gates, ask.gate: all(a.ok for a in answers)})

    # ------------------------------------------------------------- cluster
    def _save(self, status: CanaryStatus) -> None:
        self.cluster.apply(status_config_map(self.spec, status.as_record()))
        failpoints.hit("after-canary-status")

    def _reconcile(
        self, status: CanaryStatus, target: Mapping[str, Any], primary: Mapping[str, Any] | None
    ) -> None:
        """Make the cluster look as the status says (idempotent, no write when already so)."""
        spec, namespace = self.spec, self.spec.key.namespace
        shape = desired_cluster(status)
        base = _replicas(primary) if primary is not None else max(_replicas(target), 1)
        primary_revision = _annotation(primary, REVISION_ANNOTATION)
        wanted = status.promoted if status.phase is Phase.INITIALIZED else None
        if status.phase is Phase.PROMOTING:
            wanted = status.revision
        copy = primary is None or (
            wanted is not None and primary_revision != wanted and revision_of(target) == wanted
        )
        if copy:
            self.cluster.apply(primary_deployment(spec, target, base, revision_of(target)))
        for service in services(spec, target):
            self.cluster.apply_if_changed(service)
        if spec.autoscaler is not None:
            self._autoscaler()
        if spec.provider == "gatewayapi:v1":
            self._route(shape.weight, ab=shape.target_scaled_up and status.phase in ANALYSING)
        replicas = canary_replicas(spec, shape.weight, base) if shape.target_scaled_up else 0
        self.cluster.scale(namespace, spec.target, replicas)

    def _autoscaler(self) -> None:
        """The primary's HPA, copied from the target's (`spec.autoscalerRef`)."""
        spec = self.spec
        assert spec.autoscaler is not None
        live = self.cluster.get(HPAS, spec.key.namespace, spec.autoscaler)
        if live is None:
            raise CanaryTargetMissing(
                f"{spec.where}: spec.autoscalerRef: HorizontalPodAutoscaler "
                f"{spec.key.namespace}/{spec.autoscaler} does not exist"
            )
        self.cluster.apply_if_changed(primary_hpa(spec, live))

    def _route(self, weight: int, *, ab: bool) -> None:
        spec = self.spec
        live = self.cluster.get(HTTP_ROUTES, spec.key.namespace, spec.apex)
        wanted = http_route(spec, weight, ab=ab)
        if route_current(live, wanted):
            return
        self.cluster.apply(wanted)

    def _wait_for_progress(self, status: CanaryStatus) -> bool:
        """After scaling or promoting, wait (bounded) for the pods; True to advance again."""
        if status.phase is Phase.PROMOTING:
            return self._wait(lambda: self._primary_ready(status))
        if status.phase in ANALYSING and not status.analysing:
            return self._wait(self._canary_ready)
        return True

    def _wait(self, probe: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + self.request.ready_wait
        while True:
            if probe():
                return True
            if time.monotonic() >= deadline:
                return True  # advance once more: the machine applies the deadlines
            self.clock.sleep(_POLL)

    def _primary_ready(self, status: CanaryStatus) -> bool:
        _target, primary = self._workloads()
        return primary is not None and self._observe(status, _target, primary).primary_ready

    def _canary_ready(self) -> bool:
        target, _primary = self._workloads()
        health = evaluate("apps", "Deployment", target).state
        return health is not State.PROGRESSING

    # --------------------------------------------------------- side effects
    def _announce(self, status: CanaryStatus, step: Step) -> None:
        spec = self.spec
        payload = webhooks.Payload(
            spec.key.name, spec.key.namespace, str(status.phase), status.revision
        )
        for event in step.events:
            self.outcome.events.append(f"{event.type} {event.reason}: {event.message}")
            log.info("%s: %s", spec.key, event.message)
            self.cluster.record_event(
                spec.key.namespace, spec.target, event.type, event.reason, event.message
            )
            webhooks.send_event(spec.analysis.hooks("event"), payload, event.type, event.message)
        for hook_type in step.notify:
            for answer in webhooks.call_all(spec.analysis.hooks(hook_type), payload):
                if not answer.ok:
                    log.warning(
                        "%s: %s hook %s: %s", spec.key, hook_type, answer.name, answer.detail
                    )

    def _write_back(
        self, status: CanaryStatus, target: Mapping[str, Any], primary: Mapping[str, Any] | None
    ) -> CanaryStatus:
        repo = self.request.repo
        if repo is None:
            log.warning("%s: rolled back in the cluster; no --repo, so git still names the "
                        "failed image", self.spec.key)  # fmt: skip
        else:
            changes = changes_between(images_of(target), images_of(primary or {}))
            self.outcome.writeback = write_back(repo, str(self.spec.key), status.message, changes)
        done = replace(status, written_back=True)
        self._save(done)
        return done

    def _report(self, status: CanaryStatus) -> None:
        self.outcome.phase = str(status.phase)
        self.outcome.weight = status.weight
        self.outcome.failed_checks = status.failed_checks
        self.outcome.checks = [check.as_record() for check in status.checks]
        self.outcome.message = status.message


def _replicas(deployment: Mapping[str, Any]) -> int:
    return int((deployment.get("spec") or {}).get("replicas", 1) or 0)


def _annotation(obj: Mapping[str, Any] | None, key: str) -> str | None:
    if obj is None:
        return None
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(key)
    return str(value) if value is not None else None
