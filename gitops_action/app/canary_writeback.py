"""GitOps rollback: after a failed canary, make git say what the cluster runs.

Flagger rolls the cluster back and leaves git claiming the rejected version,
so the next sync (or the next automation run) brings it straight back. Here a
failed analysis ends with ONE bot commit that

1. puts the primary's image back in every marker that holds the failed one
   (the same byte-exact rewrite as `update`), and
2. holds the failed tag off the marker's ImagePolicy: an anchored entry in the
   ImageRepository ``exclusionList`` with a comment saying why (the very
   mechanism of `gitops-action hold`, `app.holds.write_hold`), so automation
   does not select it again.

The commit is made on the freshly fetched branch head and pushed as a
fast-forward, re-planned from scratch when the branch moved (the shared
`retry_on_rejection` loop). It is idempotent: when git already says so
(a run killed after pushing), nothing is committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gitops_action.adapters.config_loader import load_config
from gitops_action.app.git_session import (
    DEFAULT_DEPTH,
    Jitter,
    automation_author,
    open_workspace,
    retry_on_rejection,
    with_trailer,
)
from gitops_action.app.holds import RepoTarget, write_hold
from gitops_action.app.scan import read_markers
from gitops_action.app.update import apply_update, plan_update
from gitops_action.domain.holds import manual_comment
from gitops_action.domain.marker_values import MarkerValue
from gitops_action.domain.markers import ImageSetting, MarkerField, PolicyRef

DEFAULT_BRANCH = "main"


@dataclass(frozen=True)
class ImageChange:
    """A container whose canary image failed while the primary runs `good`."""

    container: str
    failed: str
    good: str

    @property
    def failed_tag(self) -> str:
        return split_image(self.failed)[1]


@dataclass(frozen=True)
class WriteBack:
    """What the rollback commit did."""

    commit: str | None
    files: tuple[str, ...] = ()
    held: tuple[str, ...] = ()
    """``policy=tag`` holds added."""
    note: str = ""

    def as_record(self) -> dict[str, object]:
        return {
            "commit": self.commit,
            "files": list(self.files),
            "held": list(self.held),
            "note": self.note,
        }


@dataclass
class _Plan:
    settings: list[ImageSetting] = field(default_factory=list)
    holds: list[tuple[PolicyRef, str]] = field(default_factory=list)


def split_image(image: str) -> tuple[str, str]:
    """``registry:5000/app:v1`` -> (``registry:5000/app``, ``v1``); a digest is dropped."""
    name = image.partition("@")[0]
    base, colon, tag = name.rpartition(":")
    if not colon or "/" in tag:
        return name, ""
    return base, tag


def changes_between(failed: Mapping[str, str], good: Mapping[str, str]) -> list[ImageChange]:
    """Containers whose image the canary changed (by container name)."""
    return [
        ImageChange(name, image, good[name])
        for name, image in sorted(failed.items())
        if name in good and good[name] != image and split_image(image)[1]
    ]


def _matches(marker: MarkerValue, change: ImageChange) -> bool:
    failed_image, failed_tag = split_image(change.failed)
    if marker.field is MarkerField.TAG:
        return marker.value == failed_tag
    if marker.field is MarkerField.NAME:
        return False
    return split_image(marker.value) == (failed_image, failed_tag)


def plan_rollback(markers: Sequence[MarkerValue], changes: Sequence[ImageChange]) -> _Plan:
    plan = _Plan()
    for change in changes:
        image, tag = split_image(change.good)
        policies = sorted({m.policy for m in markers if _matches(m, change)}, key=str)
        for policy in policies:
            plan.settings.append(ImageSetting(policy, image, tag))
            plan.holds.append((policy, change.failed_tag))
    return plan


def write_back(
    target: RepoTarget,
    canary: str,
    reason: str,
    changes: Sequence[ImageChange],
    jitter: Jitter | None = None,
) -> WriteBack:
    """The one rollback commit, pushed (or nothing when git already agrees)."""
    if not changes:
        return WriteBack(None, note="the canary changed no image tag: nothing to write back")
    workspace = open_workspace(target.url, target.cache_dir, target.environ)
    prefix = "" if target.path in ("", ".") else target.path.rstrip("/") + "/"
    branch = target.branch or DEFAULT_BRANCH

    def attempt(_number: int) -> WriteBack:
        workspace.sync(branch, depth=DEFAULT_DEPTH)
        root = workspace.path / target.path
        plan = plan_rollback(read_markers(root), changes)
        if not plan.settings:
            return WriteBack(None, note="no marker holds the failed image")
        changed = _edit(root, plan, canary, reason)
        if not changed:
            return WriteBack(None, note="git already has the rollback")
        name, email = automation_author(root)
        message = with_trailer(_message(canary, reason, changes), "rollback")
        paths = [prefix + file for file in changed]
        sha = workspace.commit(message, author_name=name, author_email=email, paths=paths)
        if sha is None:
            return WriteBack(None, note="git already has the rollback")
        workspace.push(sha, branch)
        held = tuple(f"{policy}={tag}" for policy, tag in plan.holds)
        return WriteBack(sha, tuple(paths), held)

    with workspace.locked():
        return retry_on_rejection(
            attempt, tries=target.tries, jitter=jitter or Jitter(), what=f"rollback of {canary}"
        )


def _edit(root: Path, plan: _Plan, canary: str, reason: str) -> list[str]:
    result = apply_update(plan_update(root, plan.settings))
    changed = set(result.files)
    config = load_config(root)
    date = datetime.now(UTC).replace(microsecond=0).isoformat()
    for policy_ref, tag in plan.holds:
        policy = config.policy(policy_ref)
        comment = manual_comment(tag, f"canary {canary}", date, reason)
        file = write_hold(root, config, policy, tag, comment)
        if file is not None:
            changed.add(file)
            config = load_config(root)
    return sorted(changed)


def _message(canary: str, reason: str, changes: Sequence[ImageChange]) -> str:
    lines = [f"Roll back canary {canary}", "", f"Canary analysis failed: {reason}."]
    lines += [
        f"- {change.container}: {change.failed} -> {change.good} (tag {change.failed_tag} held)"
        for change in changes
    ]
    return "\n".join(lines)
