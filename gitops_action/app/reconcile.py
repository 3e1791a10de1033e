"""`gitops-action reconcile`: one CronJob run: automation, then sync, then canary.

Order and independence (docs/reconcile.md):

1. **Lease**: take the Lease `gitops-action` (domain/app `lease`), or stop at
   once, doing nothing, when another run holds it.
2. **automate**: the `automate` run over the config repo (bump commit pushed).
3. **sync**: the checkout (the head automation pushed, or the remote head if
   automation failed) applied to the cluster. The tool's own install render
   (`cluster/gitops-system/`) is left out: see `domain.install.split_install_render`.
4. **canary**: one pass of analysis for the Canaries in the synced tree.
5. **status**: the ConfigMap `gitops-action-status`, written only when the
   outcome differs from the stored one (timestamps aside), and Events for
   bumps, holds, promotions and rollbacks.

A failing phase is recorded and the next one still runs (a registry 401
still lets sync apply what git holds). The run's exit code is the worst
phase's. Each phase runs under its own error boundary: our errors are
failures (1) or config errors (2) of that phase; anything else is a bug (3).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from gitops_action.adapters import events as kube_events
from gitops_action.adapters import failpoints, files
from gitops_action.adapters import kube as kube_adapter
from gitops_action.adapters.canary_loader import load_canaries
from gitops_action.adapters.git import GitWorkspace
from gitops_action.adapters.json_logs import in_phase
from gitops_action.adapters.kube import Kube
from gitops_action.app import canary as canary_app
from gitops_action.app.automate import (
    DEFAULT_BRANCH,
    DEFAULT_CLONE_DEPTH,
    AutomateReport,
    AutomateRequest,
    Automation,
    normalise_path,
)
from gitops_action.app.git_session import DEFAULT_TRIES, open_workspace
from gitops_action.app.holds import RepoTarget
from gitops_action.app.lease import LeaseKeeper
from gitops_action.app.sync import SyncOptions, sync
from gitops_action.domain.canary_config import BUILTIN_DEFAULT, ProviderDefault
from gitops_action.domain.errors import ConfigError, GitopsError
from gitops_action.domain.install import LABELS as INSTALL_LABELS
from gitops_action.domain.inventory import InventoryRef
from gitops_action.domain.lease import DEFAULT_DURATION, Decision, Verdict, micro_time
from gitops_action.domain.sync_plan import ResourceType, SyncResult

log = logging.getLogger("gitops_action.reconcile")

STATUS_NAME: Final = "gitops-action-status"
INVENTORY_NAME: Final = "gitops-action-inventory"
STATUS_MANAGER: Final = "gitops-action-reconcile"
CONFIG_MAPS: Final = ResourceType("", "v1", "ConfigMap", "configmaps", True)
OK, FAILED, CONFIG, BUG = 0, 1, 2, 3
_RESULT_WORDS: Final = {OK: "ok", FAILED: "failed", CONFIG: "config-error", BUG: "bug"}

Connect = Callable[[str | None, str | None], AbstractContextManager[Kube]]


@dataclass(frozen=True)
class ReconcileRequest:
    repo: str
    identity: str
    namespace: str = "gitops-system"
    branch: str | None = None
    path: str | None = None
    cache_dir: Path | None = None
    kubeconfig: str | None = None
    context: str | None = None
    prometheus_url: str | None = None
    allow_insecure_metrics: bool = False
    default_provider: ProviderDefault = BUILTIN_DEFAULT
    allow_cluster_admin_changes: bool = False
    target_namespace: str = "default"
    sync_timeout: float = 120.0
    lease_duration: int = DEFAULT_DURATION
    deadline: float | None = None
    """Seconds after its start past which the run holds no Lease and starts no phase."""
    depth: int = DEFAULT_CLONE_DEPTH
    tries: int = DEFAULT_TRIES
    insecure_registries: tuple[str, ...] = ()
    registry_rate: float | None = None
    exclude_install: bool = True
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass
class PhaseResult:
    """One phase's line in the report and in the status ConfigMap."""

    phase: str
    code: int = OK
    counts: dict[str, int] = field(default_factory=dict)  # what this run did
    totals: dict[str, int] = field(default_factory=dict)  # what there is (steady state)
    commit: str | None = None
    error: str | None = None
    started: str = ""
    finished: str = ""
    skipped: bool = False
    exception: BaseException | None = field(default=None, repr=False)

    @property
    def result(self) -> str:
        return "skipped" if self.skipped else _RESULT_WORDS[self.code]

    def fingerprint(self) -> dict[str, Any]:
        """What makes an outcome differ from the last one: not times, not action counts."""
        return {
            "phase": self.phase,
            "result": self.result,
            "totals": self.totals,
            "commit": self.commit,
            "error": self.error,
        }

    def as_record(self) -> dict[str, Any]:
        return {
            **self.fingerprint(),
            "counts": self.counts,
            "started": self.started,
            "finished": self.finished,
        }


@dataclass
class ReconcileReport:
    identity: str
    lease: Decision | None = None
    phases: list[PhaseResult] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    status_written: bool = False
    started: str = ""
    finished: str = ""
    # sync's one entry per Flux Kustomization (`flux get kustomizations`); `status` prints it.
    kustomizations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return self.lease is not None and self.lease.verdict is Verdict.HELD

    @property
    def code(self) -> int:
        return max((phase.code for phase in self.phases), default=OK)

    @property
    def changed(self) -> bool:
        return any(value for phase in self.phases for value in phase.counts.values())

    def fingerprint(self) -> str:
        data = json.dumps(
            [[p.fingerprint() for p in self.phases], self.kustomizations], sort_keys=True
        )
        return "sha256:" + hashlib.sha256(data.encode()).hexdigest()

    def as_record(self) -> dict[str, Any]:
        lease = self.lease
        return {
            "identity": self.identity,
            "lease": None
            if lease is None
            else {
                "verdict": lease.verdict.value,
                "holder": lease.holder or None,
                "until": micro_time(lease.until) if lease.until else None,
            },
            "exitCode": self.code,
            "phases": [phase.as_record() for phase in self.phases],
            "events": self.events,
            "statusWritten": self.status_written,
            "kustomizations": self.kustomizations,
            "started": self.started,
            "finished": self.finished,
        }


def _now() -> str:
    return micro_time(datetime.now(UTC))


class Reconcile:
    """One run (see the module docstring)."""

    def __init__(self, request: ReconcileRequest, *, connect: Connect | None = None) -> None:
        self.request = request
        self.connect: Connect = connect or kube_adapter.connect
        self.report = ReconcileReport(request.identity)
        self.workspace: GitWorkspace | None = None
        self.automation: AutomateReport | None = None
        self.sync_root: Path | None = None
        self.sync_rel = "."
        self._canary_outcomes: tuple[
            list[canary_app.CanaryOutcome], list[canary_app.CanaryOutcome], dict[str, str]
        ] = ([], [], {})

    def run(self) -> ReconcileReport:
        request = self.request
        report = self.report
        report.started = _now()
        with self.connect(request.kubeconfig, request.context) as lease_kube:
            keeper = LeaseKeeper(
                lease_kube,
                request.namespace,
                request.identity,
                duration=request.lease_duration,
                labels=INSTALL_LABELS,
                deadline=None if request.deadline is None else time.monotonic() + request.deadline,
            )
            with in_phase("lease"):
                report.lease = keeper.acquire()
            if report.held:
                report.finished = _now()
                return report
            keeper.start_renewing()
            try:
                failpoints.hit("in-lease")
                self._phases(keeper)
            finally:
                with in_phase("lease"):
                    keeper.release()
        report.finished = _now()
        return report

    def _phases(self, keeper: LeaseKeeper) -> None:
        for name, body in (
            ("automate", self._automate),
            ("sync", self._sync),
            ("canary", self._canary),
        ):
            result = PhaseResult(name)
            self.report.phases.append(result)
            if keeper.lost:
                result.skipped = True
                result.code = FAILED
                result.error = "the lease was taken over by another run"
                continue
            if keeper.past_deadline() or keeper.expired:
                result.skipped = True
                result.code = FAILED
                result.error = f"the run's deadline ({self.request.deadline:g}s) passed"
                continue
            with in_phase(name), self._boundary(result):
                body(result)
        with in_phase("status"):
            self._record()

    @contextmanager
    def _boundary(self, result: PhaseResult) -> Iterator[None]:
        result.started = _now()
        try:
            yield
        except ConfigError as error:
            self._fail(result, CONFIG, error)
        except GitopsError as error:
            self._fail(result, FAILED, error)
        except Exception as error:  # a bug in one phase must not hide the others
            self._fail(result, BUG, error)
            log.exception("bug in phase %s", result.phase)
        result.finished = _now()

    def _fail(self, result: PhaseResult, code: int, error: BaseException) -> None:
        result.code = max(result.code, code)
        result.error = " ".join(str(error).split()) or type(error).__name__
        result.exception = error
        log.error("%s failed: %s", result.phase, result.error)

    # ------------------------------------------------------------------- phases
    def _workspace(self) -> GitWorkspace:
        if self.workspace is None:
            request = self.request
            self.workspace = open_workspace(request.repo, request.cache_dir, request.environ)
        return self.workspace

    def _automate(self, result: PhaseResult) -> None:
        request = self.request
        automate_request = AutomateRequest(
            repo=request.repo,
            branch=request.branch,
            path=request.path,
            cache_dir=request.cache_dir,
            depth=request.depth,
            tries=request.tries,
            insecure_registries=request.insecure_registries,
            registry_rate=request.registry_rate,
            environ=request.environ,
        )
        report = Automation(automate_request, workspace=self._workspace()).run()
        self.automation = report
        changed = {str(change.policy) for change in report.changes.changes}
        result.counts = {
            "bumped": len(changed),
            "held": len(report.holds),
            "commits": len(report.commits),
        }
        result.totals = {
            "policies": len(report.policies),
            "failed": len(report.failed),
        }
        result.commit = report.commits[-1] if report.commits else report.head or None
        for notice in report.notices:
            log.info("note: %s", notice)
        log.info(
            "%d policies, %d bumped, %d held, %d commit(s)%s; %d registry request(s)",
            len(report.policies),
            len(changed),
            len(report.holds),
            len(report.commits),
            " pushed" if report.pushed else "",
            report.registry_requests,
            extra={"fields": {**result.counts, "registryRequests": report.registry_requests}},
        )
        if report.failed:
            first = report.failed[0]
            result.code = FAILED
            result.error = (
                f"{len(report.failed)} of {len(report.policies)} policies failed: "
                f"{first.policy}: {first.error}"
            )
            log.error("%s", result.error)

    def _tree(self) -> Path:
        """The checkout sync applies: where automation left it, else freshly fetched."""
        workspace = self._workspace()
        automation = self.automation
        if automation is None or (automation.commits and not automation.pushed):
            # Automation stopped early, or left commits it did not push: apply what the
            # remote has, never a local commit git does not hold.
            branch = self.request.branch or (automation.branch if automation else DEFAULT_BRANCH)
            with workspace.locked():
                workspace.sync(branch, depth=self.request.depth)
        rel = self.request.path
        if rel is None and self.automation is not None:
            rel = self.automation.path
        self.sync_rel = normalise_path(rel or ".")
        root = workspace.path / self.sync_rel
        if not files.inside(workspace.path, self.sync_rel, "--path").is_dir():
            raise ConfigError(f"--path {self.sync_rel}: no such directory in {workspace.url}")
        self.sync_root = root
        return root

    def _sync(self, result: PhaseResult) -> None:
        request = self.request
        root = self._tree()
        result.commit = self._workspace().rev_parse("HEAD")
        options = SyncOptions(
            path=root,
            timeout=request.sync_timeout,
            timeout_text=f"{request.sync_timeout:g}s",
            kubeconfig=request.kubeconfig,
            context=request.context,
            namespace=request.target_namespace,
            inventory=InventoryRef(request.namespace, INVENTORY_NAME),
            exclude_install=request.exclude_install,
            allow_cluster_admin_changes=request.allow_cluster_admin_changes,
            source_root=self._workspace().path,
            revision=result.commit or "",
        )
        synced = sync(options)
        self.report.kustomizations = [unit.as_record() for unit in synced.units]
        if synced.flux_components:
            log.info(
                "left out Flux's own controllers (%s)",
                ", ".join(synced.flux_components),
                extra={"fields": {"excluded_files": len(synced.flux_components)}},
            )
        if synced.install_render:
            log.info(
                "left out the install render (%s)",
                ", ".join(synced.install_render),
                extra={"fields": {"excluded_files": len(synced.install_render)}},
            )
        counts = synced.counts()
        result.counts = {key: counts.get(key, 0) for key in ("created", "configured", "pruned")}
        result.totals = {"objects": len(synced.objects), "unhealthy": len(synced.unhealthy)}
        log.info("%s", synced.summary(), extra={"fields": dict(counts)})
        if not synced.healthy:
            result.code = FAILED
            result.error = _unhealthy(synced)

    def _canary(self, result: PhaseResult) -> None:
        request = self.request
        root = self.sync_root or self._tree()
        config = load_canaries(root, default_provider=request.default_provider)
        if not config.canaries:
            result.totals = {"canaries": 0}
            return
        canary_request = canary_app.CanaryRequest(
            path=root,
            kubeconfig=request.kubeconfig,
            context=request.context,
            prometheus_url=request.prometheus_url,
            allow_insecure_metrics=request.allow_insecure_metrics,
            default_provider=request.default_provider,
            repo=RepoTarget(
                url=request.repo,
                branch=request.branch,
                cache_dir=request.cache_dir,
                environ=request.environ,
                path=self.sync_rel,
                tries=request.tries,
            ),
            environ=request.environ,
        )
        outcomes = canary_app.run(canary_request)
        targets = {str(spec.key): spec.target for spec in config.canaries}
        promoted = [o for o in outcomes if o.promoted]
        rolled = [o for o in outcomes if o.rolled_back]
        result.counts = {"promoted": len(promoted), "rolledBack": len(rolled)}
        result.totals = {"canaries": len(outcomes)}
        for outcome in outcomes:
            key = f"phase.{outcome.phase}"
            result.totals[key] = result.totals.get(key, 0) + 1
        self._canary_outcomes = (promoted, rolled, targets)
        for outcome in outcomes:
            log.info(
                "%s: %s weight %d",
                outcome.canary,
                outcome.phase,
                outcome.weight,
                extra={"fields": {"canary": outcome.canary, "phase": outcome.phase}},
            )
        if rolled:
            result.code = FAILED
            result.error = "rolled back: " + ", ".join(o.canary for o in rolled)

    # ------------------------------------------------------- status and events
    def _record(self) -> None:
        request = self.request
        report = self.report
        report.finished = _now()
        with self.connect(request.kubeconfig, request.context) as kube:
            try:
                self._write_status(kube)
            except GitopsError as error:
                log.error("could not write the status ConfigMap: %s", error)
                status = PhaseResult("status", code=FAILED, error=str(error))
                report.phases.append(status)
                return
            for event in self._events():
                if kube_events.record(kube, event):
                    report.events.append(f"{event.reason}: {event.message}")

    def _write_status(self, kube: Kube) -> None:
        """Apply the status ConfigMap unless the stored outcome is the same (times aside)."""
        request = self.request
        report = self.report
        fingerprint = report.fingerprint()
        live = kube.get(CONFIG_MAPS, request.namespace, STATUS_NAME)
        stored = ((live or {}).get("data") or {}).get("fingerprint")
        if stored == fingerprint and not report.changed:
            log.info("status unchanged since the last run that changed it; not written")
            return
        record = report.as_record()
        data = {
            "fingerprint": fingerprint,
            "lastChanged": report.finished,
            "exitCode": str(report.code),
            "identity": report.identity,
            "status.json": json.dumps(record, indent=2, sort_keys=True),
            "kustomizations.json": json.dumps(report.kustomizations, indent=2, sort_keys=True),
        }
        for phase in report.phases:
            data[f"{phase.phase}.result"] = phase.result
            data[f"{phase.phase}.commit"] = phase.commit or ""
            data[f"{phase.phase}.error"] = phase.error or ""
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": STATUS_NAME,
                "namespace": request.namespace,
                "labels": dict(INSTALL_LABELS),
            },
            "data": data,
        }
        kube.apply(CONFIG_MAPS, body, field_manager=STATUS_MANAGER)
        report.status_written = True

    def _events(self) -> list[kube_events.Event]:
        namespace = self.request.namespace
        status = kube_events.Involved("v1", "ConfigMap", namespace, STATUS_NAME)
        found: list[kube_events.Event] = []
        automation = self.automation
        if automation is not None and automation.pushed:
            commit = (automation.commits[-1] if automation.commits else "")[:12]
            by_policy: dict[str, list[str]] = {}
            for change in automation.changes.changes:
                by_policy.setdefault(str(change.policy), []).append(
                    f"{change.old} -> {change.new} ({change.file}:{change.line})"
                )
            for policy, lines in sorted(by_policy.items()):
                message = f"{policy}: {'; '.join(dict.fromkeys(lines))} in commit {commit}"
                found.append(kube_events.Event(status, "Normal", "ImageBumped", message))
            for revert in automation.holds:
                message = f"{revert.policy}: held off {revert.from_tag} ({revert.comment()})"
                found.append(kube_events.Event(status, "Normal", "HoldAdded", message))
        promoted, rolled, targets = self._canary_outcomes
        for outcome in promoted:
            ns = outcome.canary.partition("/")[0]
            target = kube_events.Involved("apps/v1", "Deployment", ns, targets[outcome.canary])
            message = f"canary {outcome.canary} promoted: {outcome.message}"
            found.append(kube_events.Event(target, "Normal", "CanaryPromoted", message))
        for outcome in rolled:
            ns = outcome.canary.partition("/")[0]
            target = kube_events.Involved("apps/v1", "Deployment", ns, targets[outcome.canary])
            message = f"canary {outcome.canary} rolled back: {outcome.message}"
            found.append(kube_events.Event(target, "Warning", "CanaryRolledBack", message))
        return found


def _unhealthy(result: SyncResult) -> str:
    parts = [f"{item.id}: {item.health.reason}" for item in result.unhealthy if item.health]
    parts += [
        f"Kustomization {unit.name} {unit.state.value}: {unit.message}"
        for unit in result.units
        if unit.state.value in ("held", "failed")
    ]
    return "not healthy: " + "; ".join(parts)


def run_once(request: ReconcileRequest) -> ReconcileReport:
    return Reconcile(request).run()


def loop(
    request: ReconcileRequest,
    interval: float,
    stopping: Callable[[], bool],
    wait: Callable[[float], None],
    on_report: Callable[[ReconcileReport], None],
) -> int:
    """Run, wait `interval`, run again, until `stopping()`; a stop never interrupts a run."""
    runs = 0
    while not stopping():
        started = time.monotonic()
        on_report(run_once(request))
        runs += 1
        if stopping():
            break
        wait(max(0.0, interval - (time.monotonic() - started)))
    return runs
