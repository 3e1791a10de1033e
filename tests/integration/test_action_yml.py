"""The real action.yml, run step by step by the runner-like harness (testbed/actionrunner).

What the harness does NOT run: the two steps that call other actions,
actions/setup-python and actions/cache (no network, no toolcache here). They
show up as skipped with `not_run="uses ..."`. The install step does run, in
its documented pre-installed mode: the job sets GITOPS_ACTION_PYTHON to this
checkout's virtualenv interpreter, which already has gitops-action[ci], so
the step checks the imports instead of creating a venv and calling pip.
`test_install_step_creates_a_venv_with_pip` runs the pip path for real when
GITOPS_TEST_PIP_INSTALL=1 (it needs PyPI; 10-60 s).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import pytest

from testbed.actionrunner.runner import ActionRun, ActionRunner
from testbed.actionrunner.scenario import (
    BOT,
    SHA,
    CountingListener,
    make_project,
    pull_request_event,
    push_event,
)
from testbed.dockerd import DockerEngine
from testbed.githubapi.runner import parse_workflow_command
from testbed.registry import RegistryService

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = str(Path(sys.executable).absolute())

pytestmark = pytest.mark.services


def runner(
    tmp_path: Path,
    *,
    ref: str,
    event_name: str = "push",
    event: dict[str, object] | None = None,
    actor: str = "ada",
    docker_host: str,
    pip_install: bool = False,
) -> ActionRunner:
    job_env = {"DOCKER_HOST": docker_host}
    if not pip_install:
        job_env["GITOPS_ACTION_PYTHON"] = VENV_PYTHON
    process_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITOPS_", "DOCKER_", "VIRTUAL_ENV"))
    }
    action = ActionRunner(
        ROOT,
        tmp_path / "job",
        event_name=event_name,
        event=event if event is not None else push_event(ref),
        ref=ref,
        sha=SHA,
        actor=actor,
        job_env=job_env,
        process_env=process_env,
    )
    make_project(action.workspace)
    return action


def step_outcomes(run: ActionRun) -> dict[str, tuple[str, str]]:
    return {step.id: (step.outcome, step.not_run) for step in run.steps}


def test_tag_release_through_the_action(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = f"action/release-{uuid.uuid4().hex[:8]}"
    image = f"{registry.host}/{repo}"
    action = runner(
        tmp_path,
        ref="refs/tags/v1.2.3",
        event=push_event("refs/tags/v1.2.3", by=BOT),  # the bot's tag: still built
        actor="gitops-bot",
        docker_host=dockerd.docker_host,
    )
    run = action.run(
        {
            "images": f"{image}\n",
            "test-command": "test -f app.txt && echo 'tests: 3 passed'",
            "bot": "gitops-bot",
            "username": registry.username,
            "password": registry.password,
        }
    )
    assert run.succeeded, run.log_text
    assert step_outcomes(run) == {
        "skip": ("success", ""),
        "python": ("skipped", ""),  # `if:` false: GITOPS_ACTION_PYTHON is set
        "prepare": ("success", ""),
        "cache": ("skipped", ""),  # `if:` false: nothing to install
        "install": ("success", ""),
        "run": ("success", ""),
    }
    assert registry.list_tags(repo) == ["latest", "sha-89abcde", "v1.2.3"]
    digest = registry.manifest_digest(repo, "v1.2.3")
    assert digest == registry.manifest_digest(repo, "latest")
    assert digest == registry.manifest_digest(repo, "sha-89abcde")
    assert run.outputs == {
        "skipped": "false",
        "skip-reason": "refs/tags/v1.2.3 is a tag: tag builds are never skipped",
        "image": f"{image}:v1.2.3",
        "tags": f"{image}:v1.2.3\n{image}:latest\n{image}:sha-89abcde",
        "digest": digest,
        "imageid": run.outputs["imageid"],
        "metadata": run.outputs["metadata"],
        "test-outcome": "success",
    }
    assert json.loads(run.outputs["metadata"])["containerimage.digest"] == digest
    assert run.outputs["imageid"].startswith("sha256:")
    assert "tests: 3 passed" in run.log_text
    assert f"`{digest}`" in run.summary
    groups = [c.data for c in run.commands if c.name == "group"]
    assert groups == ["Tests", "Build"]  # buildx pushes every tag as the build ends


def test_bot_push_is_skipped_before_install_and_any_docker_call(tmp_path: Path) -> None:
    with CountingListener() as engine:
        action = runner(
            tmp_path,
            ref="refs/heads/main",
            event=push_event("refs/heads/main", by=BOT),
            actor="gitops-bot",
            docker_host=engine.docker_host,
        )
        run = action.run({"images": "127.0.0.1:5000/acme/app", "bot": "gitops-bot"})
    assert run.succeeded
    assert engine.connections == 0
    assert step_outcomes(run) == {
        "skip": ("success", ""),
        "python": ("skipped", ""),
        "prepare": ("skipped", ""),
        "cache": ("skipped", ""),
        "install": ("skipped", ""),
        "run": ("skipped", ""),
    }
    assert run.outputs["skipped"] == "true"
    assert run.outputs["test-outcome"] == "skipped"
    assert "made by bots: gitops-bot" in run.outputs["skip-reason"]


def test_skip_step_uses_only_the_stdlib_python(tmp_path: Path) -> None:
    """The skip step runs `python3` from PATH with no site-packages at all."""
    with CountingListener() as engine:
        action = runner(
            tmp_path,
            ref="refs/heads/main",
            event=push_event("refs/heads/main", by=BOT),
            docker_host=engine.docker_host,
        )
        shim = tmp_path / "bin"
        shim.mkdir()
        (shim / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" -I -S "$@"\n')
        (shim / "python3").chmod(0o755)
        action.base_env["PATH"] = f"{shim}{os.pathsep}{action.base_env['PATH']}"
        run = action.run({"images": "127.0.0.1:5000/acme/app", "bot": "gitops-bot"})
    assert run.step("skip").outcome == "success", run.log_text
    assert run.outputs["skipped"] == "true"


def test_failing_tests_fail_the_action_and_push_nothing(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = f"action/red-{uuid.uuid4().hex[:8]}"
    action = runner(tmp_path, ref="refs/tags/v1.2.3", docker_host=dockerd.docker_host)
    run = action.run(
        {
            "images": f"{registry.host}/{repo}",
            "test-command": "echo 'FAILED tests/test_app.py::test_x'\nfalse\necho unreachable",
            "username": registry.username,
            "password": registry.password,
        }
    )
    assert not run.succeeded
    assert run.step("run").outcome == "failure"
    assert run.step("run").exit_code == 1
    assert registry.list_tags(repo) == []
    errors = run.annotations("error")
    assert len(errors) == 1
    assert errors[0].properties["title"] == "gitops-action: tests failed"
    assert "FAILED tests/test_app.py::test_x" in run.log_text
    assert "unreachable" not in run.log_text  # bash -e stopped at `false`
    assert run.outputs["test-outcome"] == "failure"
    assert run.outputs["digest"] == ""
    assert run.outputs["skipped"] == "false"


def test_pull_request_builds_without_pushing(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    repo = f"action/pr-{uuid.uuid4().hex[:8]}"
    action = runner(
        tmp_path,
        ref="refs/pull/9/merge",
        event_name="pull_request",
        event=pull_request_event(9, "4" * 40),
        docker_host=dockerd.docker_host,
    )
    run = action.run({"images": f"{registry.host}/{repo}", "github-token": ""})
    assert run.succeeded, run.log_text
    assert registry.list_tags(repo) == []
    assert run.outputs["image"] == f"{registry.host}/{repo}:pr-9"
    assert run.outputs["digest"] == ""


def test_password_appears_nowhere(
    tmp_path: Path, registry: RegistryService, dockerd: DockerEngine
) -> None:
    """Good password (a push happens) and a wrong one (the engine answers an error)."""
    wrong = f"Wr0ng%0A-{uuid.uuid4().hex}"
    leaks: list[tuple[str, str]] = []
    for password, name in ((registry.password, "good"), (wrong, "wrong")):
        repo = f"action/secret-{name}-{uuid.uuid4().hex[:6]}"
        action = runner(tmp_path / name, ref="refs/tags/v1.2.3", docker_host=dockerd.docker_host)
        run = action.run(
            {
                "images": f"{registry.host}/{repo}",
                "test-command": 'echo "seen=${GITOPS_REGISTRY_PASSWORD:-none}"',
                "username": registry.username,
                "password": password,
            }
        )
        assert run.succeeded is (name == "good"), run.log_text
        assert "seen=none" in run.log_text
        assert password in run.masks  # registered by the first step
        raw_lines = (run.raw_stdout + run.raw_stderr).splitlines()
        not_mask = "\n".join(line for line in raw_lines if not line.startswith("::add-mask::"))
        files = "\n".join(run.files.values())
        for where, text in (
            ("log", run.log_text),
            ("stdout/stderr", not_mask),
            ("GITHUB_OUTPUT/ENV/summary files", files),
            ("summary", run.summary),
            ("outputs", "\n".join(run.outputs.values())),
            ("dockerd log", dockerd.process.log_path.read_text(errors="replace")),
        ):
            if password in text:
                leaks.append((name, where))
        first = parse_workflow_command(raw_lines[0])
        assert first is not None and first.name == "add-mask"
    assert leaks == []


@pytest.mark.skipif(
    os.environ.get("GITOPS_TEST_PIP_INSTALL") != "1",
    reason="needs PyPI (10-60 s): set GITOPS_TEST_PIP_INSTALL=1 to run the venv + pip path",
)
def test_install_step_creates_a_venv_with_pip(tmp_path: Path) -> None:
    with CountingListener() as engine:
        action = runner(
            tmp_path,
            ref="refs/tags/v1.0.0",
            docker_host=engine.docker_host,
            pip_install=True,
        )
        run = action.run({"images": "127.0.0.1:5000/acme/app", "file": "missing/Dockerfile"})
    assert run.step("install").outcome == "success", run.log_text
    python = run.step("install").outputs["python"]
    assert python == str(action.temp / "gitops-action-venv" / "bin" / "python")
    assert run.step("run").exit_code == 2  # the installed tool ran and named the input
    assert "missing/Dockerfile" in run.log_text
    assert engine.connections == 0
