"""A private `DOCKER_CONFIG` for one `ci run`: the user's settings, our logins.

Why: `docker login` writes the password into the docker config (or the
user's credential store), where it would outlive the run and be read by
whatever runs next. `ci run` gives every docker command it runs a directory
of its own instead (mode 0700, removed at the end): `config.json` is a copy
of the user's (`$DOCKER_CONFIG`, else `~/.docker`), and the user's
`cli-plugins`, `buildx` (builder instances, so the builder chosen with
`docker buildx use` or docker/setup-buildx-action is the one used) and
`contexts` directories are linked in. Logins and build-secret files land in
the private directory only.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LINKED = ("cli-plugins", "buildx", "contexts")


def user_config_dir(environ: Mapping[str, str]) -> Path:
    """Where the docker CLI would read its config: `$DOCKER_CONFIG`, else `~/.docker`."""
    given = environ.get("DOCKER_CONFIG", "").strip()
    if given:
        return Path(given)
    return Path(environ.get("HOME") or os.path.expanduser("~")) / ".docker"


@contextmanager
def private_config(environ: Mapping[str, str]) -> Iterator[Path]:
    """A temporary config dir mirroring the user's; deleted (with any login) afterwards."""
    source = user_config_dir(environ)
    directory = Path(tempfile.mkdtemp(prefix="gitops-docker-"))
    try:
        os.chmod(directory, 0o700)
        for name in LINKED:
            if (source / name).is_dir():
                (directory / name).symlink_to((source / name).resolve(), target_is_directory=True)
        config = _read_config(source / "config.json")
        _write_config(directory, config)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def forget_credential_store(directory: Path, host: str) -> None:
    """Make `docker login HOST` store in the private file, not in a credential helper.

    A `credsStore` would take every login (ours included) into the user's
    keychain, beyond this run; it is dropped from the private copy, and so is
    a `credHelpers` entry for HOST. Other hosts keep their helpers.
    """
    config = _read_config(directory / "config.json")
    config.pop("credsStore", None)
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        helpers.pop(host, None)
    _write_config(directory, config)


def secret_file(directory: Path, number: int, value: str) -> Path:
    """A build secret's value in a 0600 file of the private dir (buildx `src=`)."""
    secrets = directory / "secrets"
    secrets.mkdir(mode=0o700, exist_ok=True)
    path = secrets / f"s{number}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value)
    return path


def read_config(directory: Path) -> dict[str, Any]:
    """The private config.json, as data."""
    return _read_config(directory / "config.json")


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_config(directory: Path, config: Mapping[str, Any]) -> None:
    path = directory / "config.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(config, handle)
