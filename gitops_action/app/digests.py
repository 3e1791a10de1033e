"""ImagePolicy ``digestReflectionPolicy``: the selected tag's digest, taken by ``HEAD``.

As in Flux, a policy may reflect the digest of the tag it selected, so
markers can pin ``IMAGE:TAG@DIGEST`` (full markers) and ``:digest`` markers
get the digest:

- ``Never`` (the default): tags only;
- ``Always``: the digest is looked up (``HEAD /v2/<name>/manifests/<tag>``,
  `RegistryClient.digest`) at every run, so a re-pushed tag is noticed;
- ``IfNotPresent``: the digest git already records next to the selected tag
  is kept; only a tag git does not record yet costs a ``HEAD``.

A failed lookup fails that policy (its markers are left as they are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from gitops_action.app.scan import PolicyScan, Scanner
from gitops_action.domain.errors import GitopsError
from gitops_action.domain.marker_values import MarkerValue, recorded_digest
from gitops_action.domain.markers import PolicyRef


def reflect_digests(
    scanner: Scanner, scans: Sequence[PolicyScan], current: Mapping[PolicyRef, list[MarkerValue]]
) -> list[PolicyScan]:
    """Each scan with its digest where its policy reflects digests."""
    return [with_digest(scanner, scan, current.get(scan.ref, [])) for scan in scans]


def with_digest(scanner: Scanner, scan: PolicyScan, current: Sequence[MarkerValue]) -> PolicyScan:
    mode, selected = scan.policy.digest_reflection, scan.selected
    if mode == "Never" or selected is None or scan.failed:
        return scan
    known = recorded_digest(current, selected) if mode == "IfNotPresent" else ""
    if known:
        return replace(scan, digest=known)
    client, repository = scanner.client, scan.repository
    before = client.request_count
    try:
        digest = client.digest(
            repository.image,
            selected,
            credentials=scanner.credentials(repository),
            insecure=repository.insecure or None,
        )
    except GitopsError as error:
        spent = scan.requests + client.request_count - before
        return replace(scan, error=f"{repository.description}: {error}", requests=spent)
    return replace(scan, digest=digest, requests=scan.requests + client.request_count - before)
