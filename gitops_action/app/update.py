"""The `update` use case: set Flux image markers across a manifest tree.

Planning and writing are separate steps on purpose. Every marked file is read,
parsed and planned first, then the planned files are written. As in Flux, a
marked file that cannot be read as YAML is skipped and named (`skipped`),
and a comment that mentions `$imagepolicy` without being a marker is skipped
with a warning, while every other file is updated. With `strict` (lint mode)
any such problem raises `InvalidManifest` and nothing is written, so a
broken manifest or marker anywhere leaves the tree exactly as it was.
`--dry-run` is the same plan rendered instead of written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gitops_action.adapters import files
from gitops_action.adapters.yaml_events import yaml_events
from gitops_action.adapters.yaml_scan import scan_scalars
from gitops_action.domain.errors import InvalidManifest
from gitops_action.domain.markers import (
    MARKER_BYTES,
    FilePlan,
    ImageSetting,
    UpdateResult,
    index_settings,
    plan_file,
    unified_diff,
)
from gitops_action.domain.rewrite_check import rewrite_problem

MARKED_NAMES = frozenset({"Kustomization"})
"""Files read for markers besides `*.yaml`/`*.yml`, as Flux's reader does."""


@dataclass(frozen=True)
class UpdatePlan:
    """What an update would write: one plan per marked file, in path order."""

    root: Path
    files: tuple[FilePlan, ...]
    skipped: tuple[str, ...] = ()
    """Marked files left out because they are not valid YAML or UTF-8 (file:line: why)."""

    @property
    def warnings(self) -> tuple[str, ...]:
        """Comments that are not markers, and digest markers without a digest."""
        return tuple(warning for plan in self.files for warning in plan.warnings)

    @property
    def changed(self) -> tuple[FilePlan, ...]:
        return tuple(plan for plan in self.files if plan.changed)

    @property
    def result(self) -> UpdateResult:
        return UpdateResult.of(self.files)

    def diff(self) -> str:
        """The unified diff `--dry-run` prints (paths relative to the root)."""
        return unified_diff(self.files)


def plan_update(
    root: Path, settings: Iterable[ImageSetting], *, strict: bool = False
) -> UpdatePlan:
    """Read and plan every marked manifest under `root`; write nothing.

    Marked files are `*.yaml`, `*.yml` and files named `Kustomization`, as in
    Flux. A file that is not UTF-8 or not YAML is skipped and named; with
    `strict`, it and any comment that is not a marker raise `InvalidManifest`
    instead (the first in path order).
    """
    index = index_settings(settings)
    plans: list[FilePlan] = []
    skipped: list[str] = []
    for candidate in files.find_candidates(root, MARKER_BYTES, names=MARKED_NAMES):
        try:
            text = files.decode(candidate.file, candidate.data)
            spans = scan_scalars(candidate.file, text)
            plans.append(verified(plan_file(candidate.file, text, spans, index, strict=strict)))
        except InvalidManifest as err:
            if strict:
                raise
            skipped.append(str(err))
    return UpdatePlan(root, tuple(plans), tuple(skipped))


def verified(plan: FilePlan) -> FilePlan:
    """`plan` when its text, read again, differs from the original only in the marked scalars.

    Otherwise the file is refused (`InvalidManifest`): a rewrite must never
    push YAML that no longer parses or says something else (`rewrite_check`).
    """
    if not plan.changed:
        return plan
    before = yaml_events(plan.file, plan.before)
    after = yaml_events(plan.file, plan.after, "the rewritten file")
    problem = rewrite_problem(before, after, plan.changes)
    if problem is not None:
        raise InvalidManifest(f"{plan.file}: {problem}; the file is refused, nothing written")
    return plan


def apply_update(plan: UpdatePlan) -> UpdateResult:
    """Write the files the plan changes (only those: untouched files keep their mtime)."""
    files.write_all([(plan.root / item.file, item.after.encode("utf-8")) for item in plan.changed])
    return plan.result


def update(
    root: Path, settings: Iterable[ImageSetting], *, dry_run: bool = False, strict: bool = False
) -> UpdateResult:
    """Plan the whole tree, then write it unless `dry_run`; the changes either way."""
    plan = plan_update(root, settings, strict=strict)
    return plan.result if dry_run else apply_update(plan)
