"""Scanning: for each ImagePolicy, the registry's tags, the selected tag, and why.

Shared by `gitops-action scan` (report only) and `automate` (which then
rewrites markers). One `Scanner` per run: it owns the registry client and
remembers each repository's tag list, so a run that re-plans after a
rejected push, or several policies on one image, cost one tags request per
image. Failures are per policy (`PolicyScan.error`): one bad registry or
secret never stops the other policies.

Registry credentials, in order (docs/registry.md): the ImageRepository's
`secretRef` Secret when it can be read through the Kubernetes API (in a
cluster, or with `GITOPS_KUBECONFIG`), else the docker config. Outside a
cluster a `secretRef` is noted and the docker config is used.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitops_action.adapters import files
from gitops_action.adapters.config_loader import load_config
from gitops_action.adapters.docker_config import Credentials, Keychain, load_docker_config
from gitops_action.adapters.kube_secrets import PullSecrets, pull_secrets
from gitops_action.adapters.registry import DEFAULT_RATE, RegistryClient, Timeouts
from gitops_action.adapters.yaml_scan import scan_scalars
from gitops_action.app.update import MARKED_NAMES
from gitops_action.domain.config import FluxConfig, ImagePolicy, ImageRepository
from gitops_action.domain.errors import GitopsError, InvalidManifest
from gitops_action.domain.marker_values import MarkerValue, by_policy, marker_values
from gitops_action.domain.markers import MARKER_BYTES, PolicyRef
from gitops_action.domain.policies import Selection
from gitops_action.domain.untrusted import is_oci_tag

log = logging.getLogger("gitops_action.scan")


@dataclass(frozen=True)
class TagListing:
    """A repository's tags (or why they could not be read) and the requests it cost."""

    tags: tuple[str, ...] | None
    error: str | None
    requests: int


@dataclass(frozen=True)
class PolicyScan:
    """One policy's outcome: what was listed, what was selected, or what failed."""

    policy: ImagePolicy
    repository: ImageRepository
    tags: tuple[str, ...] | None = None
    selection: Selection | None = None
    error: str | None = None
    requests: int = 0
    digest: str = ""
    """The selected tag's manifest digest when the policy reflects digests."""

    @property
    def ref(self) -> PolicyRef:
        return self.policy.ref

    @property
    def image(self) -> str:
        return self.repository.image

    @property
    def selected(self) -> str | None:
        return self.selection.selected if self.selection is not None else None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def suspended(self) -> bool:
        return self.policy.suspend or self.repository.suspend

    def reason(self) -> str:
        """Why this tag (or why none): one line."""
        if self.error is not None:
            return self.error
        if self.selection is None:
            what = self.policy if self.policy.suspend else self.repository
            return f"{what.description} is suspended: its markers are left as they are"
        assert self.selection is not None and self.tags is not None
        kept = sum(1 for decision in self.selection.decisions if decision.kept)
        excluded = sum(
            1 for decision in self.selection.decisions if decision.reason.startswith("excluded")
        )
        held = f", {excluded} excluded" if excluded else ""
        return (
            f"best of {kept} candidate(s) by {self.selection.policy.describe()} "
            f"({len(self.tags)} tags listed{held})"
        )


@dataclass
class Scanner:
    """Lists tags (cached per repository) and runs policies over them."""

    client: RegistryClient
    secrets: PullSecrets | None = None
    notices: list[str] = field(default_factory=list)
    _listings: dict[tuple[str, bool, str | None], TagListing] = field(default_factory=dict)

    def listing(self, repository: ImageRepository) -> TagListing:
        key = (repository.image, repository.insecure, _secret_key(repository))
        if key not in self._listings:
            self._listings[key] = self._list(repository)
        return self._listings[key]

    def scan(self, config: FluxConfig, policy: ImagePolicy) -> PolicyScan:
        repository = config.repository_of(policy)
        if policy.suspend or repository.suspend:
            return PolicyScan(policy, repository)  # not scanned, not selected, not failed
        listing = self.listing(repository)
        if listing.tags is None:
            return PolicyScan(policy, repository, None, None, listing.error, listing.requests)
        selection = policy.select(listing.tags, repository)
        return _scan_of(policy, repository, listing.tags, selection, listing.requests)

    def scan_all(self, config: FluxConfig, policies: Iterable[ImagePolicy]) -> list[PolicyScan]:
        return [self.scan(config, policy) for policy in policies]

    def _list(self, repository: ImageRepository) -> TagListing:
        before = self.client.request_count
        try:
            credentials = self.credentials(repository)
            listed = self.client.list_tags(
                repository.image, credentials=credentials, insecure=repository.insecure or None
            )
        except GitopsError as error:
            spent = self.client.request_count - before
            return TagListing(None, f"{repository.description}: {error}", spent)
        invalid = sum(not is_oci_tag(tag) for tag in listed.tags)
        if invalid:
            log.warning(
                "%s: the registry listed %d tag(s) that are not OCI tags; dropped before selection",
                repository.description,
                invalid,
            )
        return TagListing(listed.tags, None, listed.requests)

    def credentials(self, repository: ImageRepository) -> Credentials | None:
        if not repository.secret_ref:
            return None
        key = repository.key
        if self.secrets is None:
            note = (
                f"{repository.description}: secretRef {repository.secret_ref} is read only in a "
                "cluster (or with GITOPS_KUBECONFIG); using the docker config"
            )
            if note not in self.notices:
                self.notices.append(note)
                log.info("%s", note)
            return None
        keychain: Keychain = self.secrets.keychain(key.namespace, repository.secret_ref)
        registry = repository.image_name.registry if repository.image_name else ""
        return keychain.lookup(registry)


def _secret_key(repository: ImageRepository) -> str | None:
    if not repository.secret_ref:
        return None
    return f"{repository.key.namespace}/{repository.secret_ref}"


def _scan_of(
    policy: ImagePolicy,
    repository: ImageRepository,
    tags: tuple[str, ...],
    selection: Selection,
    requests: int,
) -> PolicyScan:
    error = None
    if selection.selected is None:
        error = f"{policy.description}: {selection.no_match_reason()} in {repository.image}"
    return PolicyScan(policy, repository, tags, selection, error, requests)


# --- what the manifests hold -----------------------------------------------------------


def read_markers(root: Path) -> list[MarkerValue]:
    """Every marker under `root` (files without `$imagepolicy` are not parsed).

    A marked file that is not UTF-8 or YAML is passed over, as `update` (and
    Flux) skip it; `update` names it.
    """
    found: list[MarkerValue] = []
    for candidate in files.find_candidates(root, MARKER_BYTES, names=MARKED_NAMES):
        try:
            text = files.decode(candidate.file, candidate.data)
            found += marker_values(candidate.file, text, scan_scalars(candidate.file, text))
        except InvalidManifest:
            continue
    return found


def markers_in_texts(texts: Mapping[str, str]) -> list[MarkerValue]:
    """Markers of files given as text (e.g. read from an older commit)."""
    found: list[MarkerValue] = []
    for file, text in sorted(texts.items()):
        if "$imagepolicy" in text:
            found += marker_values(file, text, scan_scalars(file, text))
    return found


def current_by_policy(values: Sequence[MarkerValue]) -> dict[PolicyRef, list[MarkerValue]]:
    return by_policy(values)


# --- `gitops-action scan` ----------------------------------------------------------------


@dataclass(frozen=True)
class ScanLine:
    """One policy in the `scan` report."""

    scan: PolicyScan
    current: tuple[MarkerValue, ...]

    @property
    def status(self) -> str:
        if self.scan.suspended:
            return "suspended"
        if self.scan.failed:
            return "failed"
        if not self.current:
            return "no markers"
        selected = self.scan.selected
        if all(value.tag in (None, selected) for value in self.current):
            return "up to date"
        return "would update"

    def as_record(self) -> dict[str, object]:
        scan = self.scan
        return {
            "policy": str(scan.ref),
            "imageRepository": str(scan.repository.key),
            "image": scan.image,
            "tags": None if scan.tags is None else len(scan.tags),
            "selected": scan.selected,
            "current": [value.as_record() for value in self.current],
            "status": self.status,
            "reason": scan.reason(),
            "error": scan.error,
            "requests": scan.requests,
        }


@dataclass(frozen=True)
class ScanReport:
    lines: tuple[ScanLine, ...]
    requests: int
    notices: tuple[str, ...] = ()

    @property
    def failed(self) -> list[ScanLine]:
        return [line for line in self.lines if line.scan.failed]


def scan_tree(
    root: Path,
    environ: Mapping[str, str],
    client: RegistryClient | None = None,
    insecure_registries: Sequence[str] = (),
    registry_rate: float | None = DEFAULT_RATE,
) -> ScanReport:
    """Scan every ImagePolicy of the config under `root` and read its markers there."""
    config = load_config(root)
    values = by_policy(read_markers(root))
    owned = client is None
    registry = client or RegistryClient(
        load_docker_config(environ),
        insecure_hosts=insecure_registries,
        rate=registry_rate,
        timeouts=Timeouts.from_environ(environ),
    )
    try:
        scanner = Scanner(registry, pull_secrets(environ))
        policies = sorted(config.policies.values(), key=lambda policy: policy.key)
        lines = tuple(
            ScanLine(scanner.scan(config, policy), tuple(values.get(policy.ref, [])))
            for policy in policies
        )
        return ScanReport(lines, registry.request_count, tuple(scanner.notices))
    finally:
        if owned:
            registry.close()
