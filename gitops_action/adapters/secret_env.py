"""Keep our secrets out of the process environment the test command can read.

Why: the project's test command runs as a child of `ci run`, as the same
user. Removing the secrets from the child's environment is not enough: the
child can read `/proc/$PPID/environ`, which shows the environment `ci run`
was *started* with, whatever Python later does to `os.environ` (redaction is
then beaten by `rev`). So `ci run`, before it does anything else, moves its
secrets out of its environment: it writes them to an unlinked temporary file,
and re-executes itself (same PID, same arguments) with an environment that
no longer holds them, passing the file's descriptor. The new image reads the
secrets back and closes the descriptor at once; from then on
`/proc/<pid>/environ` holds none of them, and neither does any child.

The secrets are the registry password, our API tokens, the runner's OIDC
and runtime tokens and the build secrets (`GITOPS_SECRETS`); they are used
again only for the registry login, the build and the API, which all start
after the tests.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping

SECRET_VARIABLES = (
    "GITOPS_REGISTRY_PASSWORD",
    "GITOPS_GITHUB_TOKEN",
    "GITOPS_SECRETS",
    "GITHUB_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_RUNTIME_TOKEN",
)
"""Variables the test command must never see: ours, and the runner's tokens."""

FD_VARIABLE = "GITOPS_SECRETS_FD"
"""Set only in the re-executed `ci run`: the descriptor its secrets wait on."""


def held_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """The secret variables present (and not empty) in `environ`."""
    return {name: environ[name] for name in SECRET_VARIABLES if environ.get(name)}


def without_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with every secret variable (and our descriptor variable) removed."""
    hidden = {*SECRET_VARIABLES, FD_VARIABLE}
    return {key: value for key, value in environ.items() if key not in hidden}


def shed_and_reexec() -> None:
    """Re-execute this process without the secrets in its environment (never returns).

    Does nothing (returns) when there is nothing to shed. The secrets travel in
    an unlinked temporary file whose descriptor is inherited across `execve`:
    unlike a pipe, any size fits without a reader.
    """
    secrets = held_secrets(os.environ)
    if not secrets or FD_VARIABLE in os.environ:
        return
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - its descriptor outlives this frame
    handle.write(json.dumps(secrets).encode())
    handle.flush()
    handle.seek(0)
    descriptor = handle.fileno()
    os.set_inheritable(descriptor, True)
    environ = without_secrets(os.environ)
    environ[FD_VARIABLE] = str(descriptor)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], environ)  # noqa: S606


def take_secrets() -> dict[str, str]:
    """In the re-executed process: read the secrets and close their descriptor.

    Returns {} when the process was not re-executed (no secrets were given).
    The descriptor variable is removed from `os.environ` too, so no child is
    told about a descriptor that is already closed.
    """
    value = os.environ.pop(FD_VARIABLE, "")
    if not value.isdigit():
        return {}
    descriptor = int(value)
    try:
        with os.fdopen(descriptor, "rb") as handle:
            handle.seek(0)
            data = json.loads(handle.read().decode() or "{}")
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items() if k in SECRET_VARIABLES}
