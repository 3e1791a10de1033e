"""Run a workflow with `act` (nektos/act, tools/act) in self-hosted mode, offline.

`-P ubuntu-latest=-self-hosted` runs the job's steps on this machine (no
container image); `--action-offline-mode` and no cache server keep act off
the network. The repository is a real git repo; `actions/checkout` is not
fetched: act copies the local tree for it, as it does for every local run.

Why `--local-repository` for actions/setup-python and actions/cache: act
prepares every remote action a composite action names (its "pre" stage reads
the action's metadata) even when the step's `if:` is false, and this machine
cannot reach github.com. In the mode the tests run the action in
(`GITOPS_ACTION_PYTHON` set: the tool is preinstalled), both steps are
skipped by their `if:`. They are pointed at a directory holding only an
`action.yml` whose entry point does not exist, so a step that did run would
fail the job: the test proves they are skipped, not imitated.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from testbed.go_tools import program

NEVER_RUN = "name: never run here\nruns:\n  using: node20\n  main: absent-on-purpose.js\n"


def act_program() -> Path:
    return program("act", "act")


def remote_actions(action_yml: Path) -> list[str]:
    """`owner/repo@ref` of every remote action the composite action uses."""
    uses = re.findall(r"^\s*uses:\s*([\w.-]+/[\w.-]+@[0-9a-f]{40})", action_yml.read_text(), re.M)
    return list(dict.fromkeys(uses))


@dataclass
class ActRun:
    code: int
    log: str


def run_act(
    repo: Path,
    *,
    workflow: Path,
    event: Path,
    work: Path,
    env: dict[str, str],
    variables: dict[str, str],
    secrets: dict[str, str],
    job_env: dict[str, str],
    timeout: float = 300,
) -> ActRun:
    """`act push` on repo with the event file; secrets go through act's environment."""
    never_run = work / "never-run"
    args = [
        str(act_program()), "push",
        "-e", str(event),
        "-W", str(workflow),
        "-P", "ubuntu-latest=-self-hosted",
        "--action-offline-mode",
        "--no-cache-server",
    ]  # fmt: skip
    for uses in remote_actions(repo / "action.yml"):
        stand_in = never_run / uses.split("@")[0].replace("/", "-")
        stand_in.mkdir(parents=True, exist_ok=True)
        (stand_in / "action.yml").write_text(NEVER_RUN)
        args += ["--local-repository", f"{uses}={stand_in}"]
    for name, value in variables.items():
        args += ["--var", f"{name}={value}"]
    for name in secrets:
        args += ["-s", name]  # the value comes from act's environment, not argv
    for name, value in job_env.items():
        args += ["--env", f"{name}={value}"]
    result = subprocess.run(
        args,
        cwd=repo,
        env={**env, **secrets},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return ActRun(result.returncode, result.stdout + result.stderr)
