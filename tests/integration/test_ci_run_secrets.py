"""The test command cannot read our secrets, not even from `ci run`'s own /proc entry.

The reproduction of issue 14 item 8: a test command that reads
`/proc/$PPID/environ` (the environment `ci run` was started with) used to
find the registry password and the tokens there. No docker is needed: the
test command fails, so the run stops before any engine is contacted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from testbed.actionrunner.scenario import SHA, make_project, push_event

SCRIPT = str(Path(sys.executable).with_name("gitops-action"))

SECRETS = {
    "GITOPS_REGISTRY_PASSWORD": "reg-pass-5d1c0e",
    "GITOPS_GITHUB_TOKEN": "ghs_ours_77a1f0",
    "GITHUB_TOKEN": "ghs_runner_9b2e44",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-req-3f8a21",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://oidc.example/req-6c0d",
    "ACTIONS_RUNTIME_TOKEN": "runtime-tok-1e4b",
    "GITOPS_SECRETS": "npm_token=build-secret-8e7f",
}

PROBE = r"""
parent_cmdline=$(tr '\0' ' ' < /proc/$PPID/cmdline)
echo "parent: ${parent_cmdline}"
{ tr '\0' '\n' < /proc/$PPID/environ; env; } > "$OUT"
exit 1
"""


def test_test_command_finds_no_secret_in_its_parents_environ(tmp_path: Path) -> None:
    workspace = make_project(tmp_path / "ws")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(push_event("refs/tags/v1.2.3")))
    seen = tmp_path / "seen.txt"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "GITOPS_", "RUNNER_", "DOCKER_", "ACTIONS_"))
    }
    env.update(
        {
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REF": "refs/tags/v1.2.3",
            "GITHUB_SHA": SHA,
            "GITHUB_WORKSPACE": str(workspace),
            "GITOPS_IMAGE": "127.0.0.1:9/acme/app",
            "GITOPS_REGISTRY_USERNAME": "ci",
            "GITOPS_TEST_COMMAND": PROBE,
            "DOCKER_HOST": "unix:///nonexistent/docker.sock",
            "OUT": str(seen),
            **SECRETS,
        }
    )
    result = subprocess.run(
        [SCRIPT, "ci", "run"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 1, result.stderr
    assert "tests failed" in result.stderr
    # The probe really read ci run's own entry (its parent is ci run, not a helper).
    assert "gitops-action ci run" in result.stderr
    text = seen.read_text()
    assert "GITHUB_REF=refs/tags/v1.2.3" in text  # what the tests may see is there
    for name, value in SECRETS.items():
        assert f"{name}=" not in text
        assert value not in text
        assert value not in result.stdout + result.stderr
