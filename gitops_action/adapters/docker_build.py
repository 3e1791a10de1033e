"""Build and push with BuildKit through the docker CLI, as docker/build-push-action does.

Two ways, chosen per run and named in the log and the summary:

- **buildx** (`docker buildx build`) when the buildx plugin is there, which is
  the case on every GitHub-hosted runner: the builder is the current one
  (`docker buildx use`, docker/setup-buildx-action, `BUILDX_BUILDER`), any
  driver (`docker`, `docker-container`, `remote`, `kubernetes`). One build
  names every tag and pushes them together (`--push`), so all tags get one
  digest; multi-platform, cache import/export, attestations all work.
- **the engine's BuildKit** (`DOCKER_BUILDKIT=1 docker build`) otherwise:
  one platform, then `docker push` per tag. The inputs it cannot honour
  (several platforms, `cache-to` other than inline, attestations,
  annotations, build-contexts) are refused by name before the build.

There is no classic-builder path: the Dockerfiles users bring from
build-push-action (`RUN --mount`, `COPY --chmod`/`--link`, heredocs) need
BuildKit. Every docker command runs with a private `DOCKER_CONFIG`
(`docker_cli_config`), and every line it prints passes the `Redactor`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_action.adapters import docker_cli_config, secret_env
from gitops_action.domain.build_inputs import parse_platform
from gitops_action.domain.build_options import (
    BuildResult,
    BuildSpec,
    count_steps,
    runs_on_target_platform,
)
from gitops_action.domain.build_progress import ProgressLog
from gitops_action.domain.errors import (
    BuildFailed,
    DockerEngineError,
    InvalidBuildInput,
    PushFailed,
    RegistryLoginFailed,
)
from gitops_action.domain.redact import Redactor

Line = Callable[[str], None]
PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)
"""Where the docker CLI finds plugins besides `$DOCKER_CONFIG/cli-plugins` (Linux)."""
_PUSH_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


def locate_build_files(context: str, dockerfile: str, workspace: str) -> tuple[str, str]:
    """Absolute (context dir, Dockerfile path), or an input error naming what is missing.

    Relative paths are read from the workspace, as `docker build -f` reads
    them from the current directory; the Dockerfile defaults to
    `CONTEXT/Dockerfile`, as docker's does.
    """
    context_dir = os.path.abspath(os.path.join(workspace, context or "."))
    if not os.path.isdir(context_dir):
        raise InvalidBuildInput(f"build context {context!r} is not a directory ({context_dir})")
    if dockerfile:
        path = os.path.abspath(os.path.join(workspace, dockerfile))
        named = f"Dockerfile {dockerfile!r}"
    else:
        path = os.path.join(context_dir, "Dockerfile")
        named = f"Dockerfile (default: {context or '.'}/Dockerfile)"
    if not os.path.isfile(path):
        raise InvalidBuildInput(f"{named} does not exist ({path})")
    return context_dir, path


def locate_secret_files(files: Mapping[str, str], workspace: str) -> dict[str, str]:
    """Build secret id -> absolute path; a missing file is an input error (named by id)."""
    located: dict[str, str] = {}
    for secret_id, path in files.items():
        absolute = os.path.abspath(os.path.join(workspace, path))
        if not os.path.isfile(absolute):
            raise InvalidBuildInput(f"secret-files: {secret_id}: {path!r} is not a file")
        located[secret_id] = absolute
    return located


@dataclass(frozen=True)
class Builder:
    """The builder a run uses: buildx's current one, or the engine's BuildKit."""

    buildx: bool
    name: str = ""
    driver: str = ""
    platforms: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.buildx:
            return f"docker buildx build (builder {self.name}, driver {self.driver})"
        return "DOCKER_BUILDKIT=1 docker build (the engine's BuildKit)"


class DockerCli:
    """The docker CLI for one run, with the run's private config directory."""

    def __init__(self, environ: Mapping[str, str], redact: Redactor, config_dir: Path) -> None:
        self._redact = redact
        self._config_dir = config_dir
        self._env = secret_env.without_secrets(environ)
        self._env["DOCKER_CONFIG"] = str(config_dir)
        self._docker = shutil.which("docker", path=self._env.get("PATH")) or "docker"
        self.where = environ.get("DOCKER_HOST") or "the default docker socket"

    def detect_builder(self, *, platforms: bool = False) -> Builder:
        """buildx's current builder when the plugin is there; else the engine's BuildKit.

        The builder's name and driver are read from buildx's own state files
        when they say it plainly (no process: `buildx inspect --bootstrap`
        costs a few hundred ms); its platforms, which only the running
        builder knows, are asked only when `platforms` are requested.
        """
        if not self._has_buildx():
            return Builder(False)
        known = None if platforms else self._builder_from_state()
        if known is not None:
            return known
        code, lines = self._run(["buildx", "inspect", "--bootstrap"])
        fields = _inspect_fields(lines)
        if code != 0 or fields.get("Error") or not fields.get("Driver"):
            if fields.get("Error"):
                lines = [f"error: {fields['Error']}"]
            raise DockerEngineError(
                f"the buildx builder is not usable (docker engine: {self.where}, set "
                f"DOCKER_HOST; builder: BUILDX_BUILDER or `docker buildx use`): {self._tail(lines)}"
            )
        listed = tuple(p.strip() for p in fields.get("Platforms", "").split(",") if p)
        name, driver = fields.get("Name", "default"), fields.get("Driver", "?")
        return Builder(True, name, driver, listed)

    def login(self, host: str, username: str, password: str) -> None:
        """`docker login --password-stdin` into the private config (checked by the registry)."""
        self._redact.add(password, username)
        docker_cli_config.forget_credential_store(self._config_dir, host)
        code, lines = self._run(
            ["login", "--username", username, "--password-stdin", host], stdin=password
        )
        if code != 0:
            why = self._tail(lines)
            if "401" in why or "unauthorized" in why.lower():
                why += " (wrong username or password?)"
            raise RegistryLoginFailed(f"registry login to {host} as {username!r} failed: {why}")

    def build(self, spec: BuildSpec, builder: Builder, on_line: Line) -> BuildResult:
        """Build (and with buildx push) every reference; stream the log; report."""
        metadata_path = self._config_dir / "metadata.json"
        iid_path = self._config_dir / "iid"
        args = (_buildx_args if builder.buildx else _engine_args)(spec)
        args += self._secret_args(spec)
        args += ["--iidfile", str(iid_path), spec.context]
        if builder.buildx:
            args[2:2] = ["--metadata-file", str(metadata_path)]
        log: list[str] = []
        progress = ProgressLog()

        def show(line: str) -> None:
            for shown in progress.feed(line) if builder.buildx else [line]:
                _keep(log, on_line, shown)

        extra = {} if builder.buildx else {"DOCKER_BUILDKIT": "1"}
        code, _ = self._run(args, on_line=show, extra=extra)
        if code != 0:
            raise BuildFailed(f"{builder.describe()} failed (exit code {code}): {self._tail(log)}")
        steps, cached = progress.counts() if builder.buildx else count_steps(log)
        metadata = _read_text(metadata_path)
        image_id = _read_text(iid_path).strip()
        digest = ""
        if metadata:
            data = json.loads(metadata)
            digest = str(data.get("containerimage.digest", "")) if spec.push else ""
            image_id = image_id or str(data.get("containerimage.config.digest", ""))
            metadata = json.dumps(data, separators=(",", ":"), sort_keys=True)
        return BuildResult(builder.describe(), image_id, digest, metadata, steps, cached)

    def push(self, reference: str, on_line: Line) -> str:
        """`docker push REFERENCE` (the engine path); the digest it reports."""
        log: list[str] = []
        code, _ = self._run(["push", reference], on_line=lambda line: _keep(log, on_line, line))
        found = [m.group(1) for m in map(_PUSH_DIGEST.search, log) if m]
        if code != 0 or not found:
            raise PushFailed(f"push of {reference} failed: {self._tail(log)}")
        return found[-1]

    # -- helpers ---------------------------------------------------------
    def _builder_from_state(self) -> Builder | None:
        """Name and driver from `$DOCKER_CONFIG/buildx` (None: ask buildx instead)."""
        state = self._config_dir / "buildx"
        name = self._env.get("BUILDX_BUILDER", "")
        if not name:
            current = _read_json(state / "current")
            endpoint = self._env.get("DOCKER_HOST", "")
            if current is None:
                name = "default"
            elif current.get("Global") or (endpoint and current.get("Key") == endpoint):
                name = str(current.get("Name") or "default")
            else:
                return None
        if name == "default":
            return Builder(True, "default", "docker")
        instance = _read_json(state / "instances" / name)
        if instance is None or not instance.get("Driver"):
            return None
        return Builder(True, name, str(instance["Driver"]))

    def _has_buildx(self) -> bool:
        """The buildx plugin is where the docker CLI looks (a file check, no process)."""
        config = docker_cli_config.read_config(self._config_dir)
        extra = config.get("cliPluginsExtraDirs")
        dirs = [self._config_dir / "cli-plugins", *map(Path, PLUGIN_DIRS)]
        if isinstance(extra, list):
            dirs += [Path(str(d)) for d in extra]
        return any(os.access(d / "docker-buildx", os.X_OK) for d in dirs)

    def _secret_args(self, spec: BuildSpec) -> list[str]:
        args: list[str] = []
        for number, (secret_id, value) in enumerate(spec.options.secrets.items()):
            path = docker_cli_config.secret_file(self._config_dir, number, value)
            args += ["--secret", f"id={secret_id},src={path}"]
        for secret_id, path_text in spec.secret_files.items():
            args += ["--secret", f"id={secret_id},src={path_text}"]
        return args

    def _run(
        self,
        args: Sequence[str],
        *,
        stdin: str | None = None,
        on_line: Line | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> tuple[int, list[str]]:
        """Run `docker ARGS`; lines (redacted) to `on_line` or returned; the exit code."""
        lines: list[str] = []
        sink = on_line or lines.append
        try:
            process = subprocess.Popen(
                [self._docker, *args],
                env={**self._env, **(extra or {})},
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except OSError as error:
            raise DockerEngineError(
                f"the docker CLI could not start ({self._docker}): {error.strerror or error}"
            ) from error
        assert process.stdout is not None
        with process:
            if stdin is not None and process.stdin is not None:
                process.stdin.write(stdin)
                process.stdin.close()
            for line in process.stdout:
                text = self._redact(line.rstrip("\r\n"))
                if text.strip():
                    sink(text)
        return process.returncode, lines

    def _tail(self, lines: list[str]) -> str:
        meaningful = [line.strip() for line in lines if line.strip()]
        errors = [line for line in meaningful if "error" in line.lower()]
        return self._redact.one_line((errors or meaningful or ["no output"])[-1])[:500]


def check_platforms(requested: tuple[str, ...], builder: Builder, dockerfile: str) -> None:
    """Refuse (exit 2, naming `platforms`) what the builder cannot build.

    Only `RUN` steps need the platform natively (or QEMU emulation); a
    `COPY`-only Dockerfile builds for any platform (`runs_on_target_platform`).
    """
    if not builder.buildx:
        if len(requested) > 1:
            raise InvalidBuildInput(
                f"platforms {', '.join(requested)}: the engine's BuildKit builds one platform "
                "per build; install the buildx plugin (docker/setup-buildx-action)"
            )
        return
    if not builder.platforms or not requested:
        return
    try:
        with open(dockerfile, encoding="utf-8", errors="replace") as handle:
            if not runs_on_target_platform(handle.read()):
                return
    except OSError:
        pass
    known = {str(parse_platform(p)) for p in builder.platforms}
    missing = [p for p in requested if p not in known]
    if missing:
        raise InvalidBuildInput(
            f"platforms: {', '.join(missing)} cannot be built by builder {builder.name} "
            f"(it builds {', '.join(builder.platforms)}; the Dockerfile RUNs on the target "
            "platform: add QEMU emulation or a node of that platform)"
        )


def _common_args(spec: BuildSpec) -> list[str]:
    args = ["-f", spec.dockerfile]
    for reference in spec.references:
        args += ["-t", reference]
    for key, value in spec.labels.items():
        args += ["--label", f"{key}={value}"]
    for key, value in spec.build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    if spec.target:
        args += ["--target", spec.target]
    if spec.options.platforms:
        args += ["--platform", ",".join(spec.options.platforms)]
    for value in spec.options.cache_from:
        args += ["--cache-from", value]
    for value in spec.options.cache_to:
        args += ["--cache-to", value]
    if spec.options.no_cache:
        args.append("--no-cache")
    if spec.options.pull:
        args.append("--pull")
    if spec.options.network:
        args.append(f"--network={spec.options.network}")
    return args


def _buildx_args(spec: BuildSpec) -> list[str]:
    args = ["buildx", "build", "--progress=rawjson", *_common_args(spec)]
    if spec.options.provenance:
        args.append(f"--provenance={spec.options.provenance}")
    if spec.options.sbom:
        args.append(f"--sbom={spec.options.sbom}")
    for value in spec.options.annotations:
        args += ["--annotation", value]
    for name, value in spec.options.build_contexts.items():
        args += ["--build-context", f"{name}={value}"]
    if spec.push:
        args.append("--push")
    return args


def _engine_args(spec: BuildSpec) -> list[str]:
    unsupported = spec.options.needs_buildx()
    if unsupported:
        raise InvalidBuildInput(
            f"{', '.join(unsupported)}: needs the buildx plugin; the engine's BuildKit "
            "(DOCKER_BUILDKIT=1 docker build) cannot do it (docker/setup-buildx-action)"
        )
    return ["build", "--progress=plain", *_common_args(spec)]


def _inspect_fields(lines: list[str]) -> dict[str, str]:
    """`docker buildx inspect` text -> first value of each `Key: value` line."""
    fields: dict[str, str] = {}
    for line in lines:
        key, colon, value = line.partition(":")
        if colon and key.strip() and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    return fields


def _keep(log: list[str], on_line: Line, line: str) -> None:
    log.append(line)
    on_line(line)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
