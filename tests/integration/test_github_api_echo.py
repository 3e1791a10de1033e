"""A GitHub API (or proxy) that echoes our token in its error body (issue 14, item 9).

`ci should-skip` looks the pull request's head commit up; the hostile API
answers 401 with the request's Authorization header in `message`. The token
must reach neither stdout, stderr nor `reason=` in `$GITHUB_OUTPUT`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from testbed.hostile import hostile_server

CLI = Path(sys.executable).with_name("gitops-action")
TOKEN = "ghs_Secr3tTokenValue0123456789"


def _echo(handler: BaseHTTPRequestHandler) -> None:
    header = handler.headers.get("Authorization", "")
    body = json.dumps({"message": f"Bad credentials for {header} ({TOKEN[:4]}...)"}).encode()
    handler.send_response(401)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_an_echoed_token_is_masked_in_output_log_and_github_output(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({
        "action": "synchronize", "number": 8, "repository": {"full_name": "acme/app"},
        "pull_request": {"number": 8, "head": {"sha": "1" * 40, "ref": "bump"}},
    }))  # fmt: skip
    output = tmp_path / "github_output"
    output.write_text("")
    with hostile_server(_echo, "echoing-api") as (port, seen):
        env = {
            "PATH": "/usr/bin:/bin",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REF": "refs/pull/8/merge",
            "GITHUB_REPOSITORY": "acme/app",
            "GITHUB_API_URL": f"http://127.0.0.1:{port}",
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_OUTPUT": str(output),
        }
        done = subprocess.run([str(CLI), "ci", "should-skip"], env=env, capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
    assert seen.authorizations(), "the token went to the API it was meant for"
    assert done.returncode == 0, done.stderr
    assert "skip=false" in done.stdout and "401" in done.stdout
    for text in (done.stdout, done.stderr, output.read_text()):
        assert TOKEN not in text
