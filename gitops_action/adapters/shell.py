"""Run the project's test command the way a workflow `run:` step would.

`shell: bash` on GitHub runs `bash --noprofile --norc -eo pipefail {0}`; the
test command gets the same shell, so a command that passes in a workflow step
passes here, and a failing line in a multi-line command fails the tests.
Where bash is missing, `sh -e` is used.

The output is read line by line and handed to `on_line` (which redacts and
prints it) instead of being inherited, so no byte of it reaches the log
without passing the redactor. stdout and stderr are merged, in order.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping

from gitops_action.adapters import secret_env
from gitops_action.domain.errors import OperationFailed


def shell_argv(command: str) -> list[str]:
    bash = shutil.which("bash")
    if bash:
        return [bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", command]
    return ["/bin/sh", "-e", "-c", command]


def environment_for_tests(environ: Mapping[str, str]) -> dict[str, str]:
    """The tool's environment without the secrets (ours and the runner's tokens).

    `ci run` has already re-executed itself without them (`secret_env`), so
    `/proc/$PPID/environ` holds none either.
    """
    return secret_env.without_secrets(environ)


def run_command(
    command: str,
    *,
    cwd: str,
    environ: Mapping[str, str],
    on_line: Callable[[str], None],
) -> int:
    """Run `command` in `cwd`; stream its output lines; return its exit code."""
    if not os.path.isdir(cwd):
        raise OperationFailed(f"test command: working directory {cwd} does not exist")
    try:
        process = subprocess.Popen(
            shell_argv(command),
            cwd=cwd,
            env=environment_for_tests(environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
    except OSError as error:
        raise OperationFailed(f"test command could not start: {error.strerror or error}") from error
    assert process.stdout is not None  # stdout=PIPE
    with process:
        for line in process.stdout:
            on_line(line.rstrip("\r\n"))
    return process.returncode
