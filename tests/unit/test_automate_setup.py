"""Which automation a run follows, and how `--path` is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_action.app.automate import (
    Plan,
    Setup,
    normalise_path,
    per_policy_units,
    pick_automation,
)
from gitops_action.app.update import UpdatePlan
from gitops_action.domain.config import Document, FluxConfig, Source
from gitops_action.domain.errors import ConfigError
from gitops_action.domain.holds import Revert
from gitops_action.domain.markers import Change, FilePlan, ImageSetting, MarkerField, PolicyRef


def _automation(name: str, branch: str | None) -> Document:
    git: dict[str, object] = {"commit": {"author": {"email": "bot@example.test"}}}
    if branch:
        git["checkout"] = {"ref": {"branch": branch}}
    data = {
        "apiVersion": "image.toolkit.fluxcd.io/v1beta2",
        "kind": "ImageUpdateAutomation",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {
            "interval": "1m",
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
            "git": git,
        },
    }
    return Document(Source(f"{name}.yaml", 1, 1), data)


def test_one_automation_is_followed_and_none_is_fine() -> None:
    one = FluxConfig.from_documents([_automation("auto", "main")])
    assert pick_automation(one, None, "other").key.name == "auto"  # type: ignore[union-attr]
    assert pick_automation(FluxConfig(), None, "main") is None


def test_several_automations_need_the_branch_or_a_name() -> None:
    config = FluxConfig.from_documents(
        [_automation("prod", "main"), _automation("staging", "staging")]
    )
    assert pick_automation(config, None, "staging").key.name == "staging"  # type: ignore[union-attr]
    assert pick_automation(config, "flux-system/prod", "x").key.name == "prod"  # type: ignore[union-attr]
    assert pick_automation(config, "prod", "x").key.name == "prod"  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="choose one with --automation"):
        pick_automation(config, None, "feature")
    with pytest.raises(ConfigError, match="no such ImageUpdateAutomation"):
        pick_automation(config, "flux-system/nope", "main")


@pytest.mark.parametrize(
    ("given", "path"),
    [(".", "."), ("./cluster", "cluster"), ("/cluster/", "cluster"), ("a/../b", "b"), ("", ".")],
)
def test_paths_are_relative_to_the_repo_root(given: str, path: str) -> None:
    assert normalise_path(given) == path


@pytest.mark.parametrize("given", ["..", "../x", "a/../../x", "a\\b"])
def test_paths_may_not_leave_the_repo(given: str) -> None:
    with pytest.raises(ConfigError):
        normalise_path(given)


def test_pull_request_branches_are_valid_git_refs() -> None:
    app = PolicyRef("flux-system", "app")
    web = PolicyRef("apps", "web")
    change = Change("d.yaml", 3, app, MarkerField.FULL, "x/app:v1", "x/app:v2", "x/app:v2")
    update = UpdatePlan(Path("."), (FilePlan("d.yaml", "a", "b", (change,)),))
    plan = Plan(
        Setup(FluxConfig(), None, ".", "main", "bot", "bot@x"),
        [],
        [],
        [Revert("apps:web", "3.1.0", "3.0.0")],
        [],
        update,
        {app: ImageSetting(app, "x/app", "v2")},
    )
    assert per_policy_units(plan) == [
        ("gitops/apps/web-hold-3.1.0", {web}),
        ("gitops/flux-system/app-v2", {app}),
    ]
