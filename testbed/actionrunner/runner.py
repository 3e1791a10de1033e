"""Run a composite action.yml the way the GitHub Actions runner does.

Tests must exercise the real action.yml, not a paraphrase of it, so this
harness reads the file and executes its `runs.steps` in order, as
actions/runner does for a composite action:

- the job's environment: `GITHUB_*` / `RUNNER_*` variables, the event payload
  in `GITHUB_EVENT_PATH`, `GITHUB_ACTION_PATH` = the action's directory, and a
  fresh `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, `GITHUB_ENV`, `GITHUB_PATH`
  file per step (outputs become `steps.<id>.outputs`, summaries are joined);
- `${{ inputs.* }}`, `${{ github.* }}`, `${{ runner.* }}`, `${{ env.* }}`,
  `${{ steps.<id>.outputs.* }}` substituted in `env:` (and `with:`); input
  defaults may be expressions themselves (`${{ github.token }}`);
- `if:` evaluated with `success() &&` implied, so after a failed step the
  rest is skipped; the action's `outputs` evaluated at the end;
- `shell: bash` runs `bash --noprofile --norc -eo pipefail {0}` on a script
  file written to `RUNNER_TEMP`;
- workflow commands on stdout and stderr (`::add-mask::`, `::error::`,
  `::group::` ...) are parsed with testbed/githubapi/runner.py; every registered
  mask is applied to the log lines printed after it (the add-mask line itself
  shows `***`), as the runner's secret masker does.

Steps that call other actions (`uses:`, e.g. actions/setup-python and
actions/cache) are NOT run: there is no network and no toolcache here. They
are recorded with outcome `skipped` and `not_run="uses ..."`, their outputs
empty, exactly as if they had been skipped; tests say so where it matters.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from testbed.actionrunner import expressions
from testbed.githubapi.runner import WorkflowCommand, parse_file_command, parse_workflow_command

BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]


@dataclass
class LogLine:
    """One line as the runner would show it (masked), with where it came from."""

    step: str
    stream: str
    text: str


@dataclass
class StepRun:
    id: str
    name: str
    outcome: str  # success | failure | skipped
    not_run: str = ""
    """Why a step that passed its `if:` was not executed (a `uses:` step)."""
    exit_code: int | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    """The step's own `env:` after substitution (what the step saw, on top of the job's)."""
    seconds: float = 0.0


@dataclass
class ActionRun:
    """Everything a run produced, for assertions."""

    steps: list[StepRun]
    outputs: dict[str, str]
    log: list[LogLine]
    raw_stdout: str
    raw_stderr: str
    commands: list[WorkflowCommand]
    summary: str
    masks: list[str]
    files: dict[str, str]
    """Every file command file the steps wrote (path -> content), for leak checks."""

    @property
    def succeeded(self) -> bool:
        return all(step.outcome != "failure" for step in self.steps)

    def step(self, step_id: str) -> StepRun:
        return next(step for step in self.steps if step.id == step_id)

    @property
    def log_text(self) -> str:
        return "\n".join(line.text for line in self.log)

    def annotations(self, level: str) -> list[WorkflowCommand]:
        return [command for command in self.commands if command.name == level]


class ActionRunner:
    """One job's worth of runner state around one `uses: <action>` step."""

    def __init__(
        self,
        action_dir: Path,
        workdir: Path,
        *,
        event_name: str,
        event: dict[str, Any],
        ref: str,
        sha: str,
        repository: str = "acme/app",
        actor: str = "ada",
        token: str = "ghs_harnesstoken000000000000000000000000",
        api_url: str = "https://api.github.com",
        job_env: dict[str, str] | None = None,
        process_env: dict[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        step_timeout: float = 240,
    ) -> None:
        self.action_dir = action_dir.resolve()
        self.spec: dict[str, Any] = yaml.safe_load((self.action_dir / "action.yml").read_text())
        self.workdir = workdir
        self.workspace = workdir / "workspace"
        self.temp = workdir / "runner-temp"
        self.files = workdir / "file-commands"
        for directory in (self.workspace, self.temp, self.files):
            directory.mkdir(parents=True, exist_ok=True)
        self.event_path = workdir / "event.json"
        self.event_path.write_text(json.dumps(event))
        self.job_env = dict(job_env or {})
        """What `env:` at workflow/job level holds: visible as `${{ env.X }}` too."""
        self.step_timeout = step_timeout
        self.masks: list[str] = [s for s in secrets if s]
        self.github = {
            "action_path": str(self.action_dir),
            "workspace": str(self.workspace),
            "event_name": event_name,
            "event_path": str(self.event_path),
            "event": event,
            "ref": ref,
            "ref_name": ref.rsplit("/", 1)[-1],
            "sha": sha,
            "repository": repository,
            "repository_owner": repository.split("/", maxsplit=1)[0],
            "actor": actor,
            "token": token,
            "server_url": "https://github.com",
            "api_url": api_url,
            "run_id": "4242",
            "run_number": "7",
            "job": "build",
            "workflow": "release",
        }
        self.runner = {
            "os": "Linux",
            "arch": "X64",
            "temp": str(self.temp),
            "tool_cache": str(self.temp / "toolcache"),
            "name": "harness",
        }
        base = dict(process_env if process_env is not None else os.environ)
        self.base_env = {
            k: v for k, v in base.items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_"))
        }
        self.base_env.update(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_EVENT_NAME": event_name,
                "GITHUB_EVENT_PATH": str(self.event_path),
                "GITHUB_REF": ref,
                "GITHUB_REF_NAME": self.github["ref_name"],
                "GITHUB_REF_TYPE": "tag" if ref.startswith("refs/tags/") else "branch",
                "GITHUB_SHA": sha,
                "GITHUB_REPOSITORY": repository,
                "GITHUB_REPOSITORY_OWNER": self.github["repository_owner"],
                "GITHUB_ACTOR": actor,
                "GITHUB_WORKSPACE": str(self.workspace),
                "GITHUB_SERVER_URL": self.github["server_url"],
                "GITHUB_API_URL": api_url,
                "GITHUB_RUN_ID": self.github["run_id"],
                "GITHUB_RUN_NUMBER": self.github["run_number"],
                "GITHUB_JOB": "build",
                "GITHUB_WORKFLOW": "release",
                "GITHUB_ACTION_PATH": str(self.action_dir),
                "RUNNER_OS": self.runner["os"],
                "RUNNER_ARCH": self.runner["arch"],
                "RUNNER_TEMP": str(self.temp),
                "RUNNER_TOOL_CACHE": self.runner["tool_cache"],
            }
        )
        self.base_env.update(self.job_env)

    # -- the run ---------------------------------------------------------
    def run(self, inputs: dict[str, str]) -> ActionRun:
        contexts: dict[str, Any] = {
            "github": self.github,
            "runner": self.runner,
            "env": dict(self.job_env),
            "steps": {},
        }
        contexts["inputs"] = self._inputs(inputs, contexts)
        state = _State()
        added_env: dict[str, str] = {}
        added_path: list[str] = []
        steps: list[StepRun] = []
        for index, step in enumerate(self.spec["runs"]["steps"]):
            step_id = str(step.get("id") or f"__step{index}")
            status = {
                "success": not state.failed,
                "failure": state.failed,
                "always": True,
                "cancelled": False,
            }
            contexts["env"] = {**self.job_env, **added_env}
            name = str(step.get("name") or step.get("uses") or step_id)
            if not expressions.condition(step.get("if"), contexts, status):
                result = StepRun(step_id, name, "skipped")
            elif "uses" in step:
                result = StepRun(step_id, name, "skipped", not_run=f"uses {step['uses']}")
            else:
                result = self._run_step(step, step_id, name, contexts, added_env, added_path, state)
            steps.append(result)
            contexts["steps"][step_id] = {
                "outputs": result.outputs,
                "outcome": result.outcome,
                "conclusion": result.outcome,
            }
            if result.outcome == "failure":
                state.failed = True
        outputs = {
            name: expressions.substitute(str(spec.get("value", "")), contexts)
            for name, spec in (self.spec.get("outputs") or {}).items()
        }
        return ActionRun(
            steps=steps,
            outputs=outputs,
            log=state.log,
            raw_stdout="".join(state.raw["stdout"]),
            raw_stderr="".join(state.raw["stderr"]),
            commands=state.commands,
            summary="".join(state.summaries),
            masks=list(self.masks),
            files=state.files,
        )

    def _inputs(self, given: dict[str, str], contexts: dict[str, Any]) -> dict[str, str]:
        declared: dict[str, Any] = self.spec.get("inputs") or {}
        unknown = set(given) - set(declared)
        if unknown:
            raise KeyError(f"inputs not declared in action.yml: {sorted(unknown)}")
        values: dict[str, str] = {}
        for name, spec in declared.items():
            if name in given:
                values[name] = given[name]
            elif spec.get("required"):
                raise KeyError(f"required input {name!r} not given")
            else:
                values[name] = expressions.substitute(str(spec.get("default", "")), contexts)
        return values

    def _run_step(
        self,
        step: dict[str, Any],
        step_id: str,
        name: str,
        contexts: dict[str, Any],
        added_env: dict[str, str],
        added_path: list[str],
        state: _State,
    ) -> StepRun:
        shell = step.get("shell")
        if shell != "bash":
            raise NotImplementedError(f"step {step_id}: shell {shell!r} (the harness runs bash)")
        step_env = {
            str(k): expressions.substitute(str(v), contexts)
            for k, v in (step.get("env") or {}).items()
        }
        files = {
            kind: self.files / f"{kind}_{uuid.uuid4().hex}"
            for kind in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH")
        }
        for path in files.values():
            path.touch()
        env = {**self.base_env, **added_env, **{k: str(v) for k, v in files.items()}, **step_env}
        if added_path:
            env["PATH"] = os.pathsep.join([*reversed(added_path), env.get("PATH", "")])
        script = self.temp / f"{uuid.uuid4()}.sh"
        script.write_text(str(step["run"]))
        cwd = self.workspace / str(step.get("working-directory") or ".")
        started = time.monotonic()
        process = subprocess.Popen(
            [*BASH, str(script)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        readers = [
            threading.Thread(target=state.read, args=(process.stdout, "stdout", step_id, self)),
            threading.Thread(target=state.read, args=(process.stderr, "stderr", step_id, self)),
        ]
        for reader in readers:
            reader.start()
        try:
            code = process.wait(timeout=self.step_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
            state.add_line(
                step_id, "stderr", f"##[error]step timed out after {self.step_timeout}s", self
            )
        for reader in readers:
            reader.join()
        seconds = time.monotonic() - started
        outputs = parse_file_command(files["GITHUB_OUTPUT"].read_text())
        added_env.update(parse_file_command(files["GITHUB_ENV"].read_text()))
        added_path.extend(
            line for line in files["GITHUB_PATH"].read_text().splitlines() if line.strip()
        )
        state.summaries.append(files["GITHUB_STEP_SUMMARY"].read_text())
        for path in files.values():
            state.files[str(path)] = path.read_text()
        if code != 0:
            state.add_line(
                step_id, "stderr", f"##[error]Process completed with exit code {code}.", self
            )
        outcome = "success" if code == 0 else "failure"
        return StepRun(step_id, name, outcome, "", code, outputs, step_env, seconds)

    # -- masking ---------------------------------------------------------
    def mask(self, text: str) -> str:
        for secret in sorted(self.masks, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


class _State:
    """What the steps produced so far (threads append under a lock)."""

    def __init__(self) -> None:
        self.failed = False
        self.log: list[LogLine] = []
        self.raw: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.commands: list[WorkflowCommand] = []
        self.summaries: list[str] = []
        self.files: dict[str, str] = {}
        self._lock = threading.Lock()

    def read(self, pipe: Any, stream: str, step_id: str, runner: ActionRunner) -> None:
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            with self._lock:
                self.raw[stream].append(line)
            self.add_line(step_id, stream, line.rstrip("\r\n"), runner)
        pipe.close()

    def add_line(self, step_id: str, stream: str, text: str, runner: ActionRunner) -> None:
        with self._lock:
            command = parse_workflow_command(text)
            if command is not None:
                self.commands.append(command)
                if command.name == "add-mask" and command.data:
                    runner.masks.append(command.data)
            self.log.append(LogLine(step_id, stream, runner.mask(text)))
