"""The docker engine, through the docker SDK: log in, build, tag, push.

The SDK (`docker`) is imported inside `DockerEngine.connect`: `ci tags`,
`--help` and the skip path must not pay for it (DESIGN.md §2). The engine is
the one `DOCKER_HOST` names (with `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`),
exactly as the docker CLI finds it.

Why the SDK's legacy builder: it needs nothing but an engine, which every
GitHub-hosted runner and self-hosted docker has. Its limit is one platform
per build, the engine's own; multi-platform images need buildx/BuildKit, and
`ci run` says so instead of failing obscurely.

Every message that leaves this module passes the `Redactor`, which also
learns each password `login` is given: the engine's errors can quote what it
was sent.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from gitops_action.domain.build_inputs import BuildSpec, dockerfile_with_labels
from gitops_action.domain.errors import (
    BuildFailed,
    DockerEngineError,
    InvalidBuildInput,
    PushFailed,
    RegistryLoginFailed,
)
from gitops_action.domain.redact import Redactor
from gitops_action.domain.refs import DOCKER_HUB

ENGINE_TIMEOUT = 1800
"""Seconds one engine read may take: a quiet build step (a long compile) sends nothing."""

Line = Callable[[str], None]


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


class DockerEngine:
    """One connection to the engine for a whole run."""

    def __init__(self, api: Any, where: str, redact: Redactor, platform: tuple[str, str]) -> None:
        self._api = api
        self.where = where
        self._redact = redact
        self._platform = platform

    @classmethod
    def connect(cls, environ: Mapping[str, str], redact: Redactor) -> DockerEngine:
        """Connect to the engine `DOCKER_HOST` names (the local socket by default).

        One `GET /version` serves both the API version negotiation and the
        engine's platform: the SDK's `version="auto"` would ask once for the
        former and `platform()` again for the latter (a round trip per run).
        """
        import docker
        import requests

        where = environ.get("DOCKER_HOST") or "the default docker socket"
        try:
            kwargs = docker.utils.kwargs_from_env(environment=dict(environ))
            probe = docker.APIClient(
                version=docker.constants.MINIMUM_DOCKER_API_VERSION, timeout=30, **kwargs
            )
            try:
                info = probe.version(api_version=False)
            finally:
                probe.close()
            version = str(info.get("ApiVersion") or docker.constants.MINIMUM_DOCKER_API_VERSION)
            api = docker.APIClient(version=version, timeout=ENGINE_TIMEOUT, **kwargs)
        except (docker.errors.DockerException, requests.RequestException) as error:
            raise DockerEngineError(
                f"cannot reach the docker engine at {where} (set DOCKER_HOST): "
                f"{redact.one_line(str(error))}"
            ) from error
        return cls(api, where, redact, (str(info.get("Os", "")), str(info.get("Arch", ""))))

    def close(self) -> None:
        self._api.close()

    def platform(self) -> tuple[str, str]:
        """The engine's (os, arch), e.g. ("linux", "amd64"), as `connect` read it."""
        return self._platform

    def login(self, host: str, username: str, password: str) -> None:
        """Check the credentials with the registry (through the engine) and keep them.

        The SDK keeps them in memory for later pushes; nothing is written to
        a docker config file. Docker Hub is the SDK's default index.
        """
        import docker

        self._redact.add(password, username)
        registry = None if host == DOCKER_HUB else host
        try:
            self._api.login(username, password, registry=registry, reauth=True)
        except docker.errors.APIError as error:
            why = self._redact.one_line(str(error.explanation or error))
            if "401" in why or "unauthorized" in why.lower():
                why += " (wrong username or password?)"
            raise RegistryLoginFailed(
                f"registry login to {host} as {username!r} failed: {why}"
            ) from error
        except docker.errors.DockerException as error:
            raise DockerEngineError(self._engine_message(f"login to {host}", error)) from error

    def build(self, spec: BuildSpec, on_line: Line) -> str:
        """Build the image; stream the log; return the image id."""
        with _labelled_dockerfile(spec) as (dockerfile, api_labels):
            options: dict[str, Any] = {
                "path": spec.context,
                "dockerfile": dockerfile,
                "tag": spec.tag,
                "buildargs": dict(spec.build_args),
                "labels": api_labels,
                "rm": True,
                "forcerm": True,
                "pull": False,
                "decode": True,
            }
            if spec.target:
                options["target"] = spec.target
            if spec.platform:
                options["platform"] = spec.platform
            image_id = ""
            with self._engine_errors("build", BuildFailed):
                for event in self._api.build(**options):
                    image_id = self._build_event(event, on_line) or image_id
        if not image_id:
            with self._engine_errors("inspect"):
                image_id = str(self._api.inspect_image(spec.tag)["Id"])
        return image_id

    def tag(self, image_id: str, repository: str, tag: str) -> None:
        with self._engine_errors(f"tag {repository}:{tag}"):
            self._api.tag(image_id, repository, tag, force=True)

    def push(self, repository: str, tag: str, on_line: Line) -> str:
        """Push one tag; return the manifest digest the registry stored."""
        reference = f"{repository}:{tag}"
        digest = ""
        with self._engine_errors(f"push of {reference}", PushFailed):
            for event in self._push_events(repository, tag):
                if event.get("error"):
                    detail = self._redact.one_line(str(event["error"]))
                    raise PushFailed(f"push of {reference} failed: {detail}")
                aux = event.get("aux") or {}
                digest = str(aux.get("Digest") or digest)
                _print_push_status(event, on_line)
        return digest or self.repo_digest(repository, reference)

    def repo_digest(self, repository: str, reference: str) -> str:
        """The digest from the image's `RepoDigests` (when the push stream had none)."""
        with self._engine_errors(f"inspect {reference}"):
            info = self._api.inspect_image(reference)
        for entry in info.get("RepoDigests") or []:
            name, _, digest = str(entry).partition("@")
            if name == repository:
                return digest
        raise PushFailed(f"push of {reference} reported no digest")

    # -- helpers ---------------------------------------------------------
    def _push_events(self, repository: str, tag: str) -> Iterator[dict[str, Any]]:
        events: Iterator[dict[str, Any]] = self._api.push(
            repository, tag=tag, stream=True, decode=True
        )
        return events

    def _build_event(self, event: dict[str, Any], on_line: Line) -> str:
        if event.get("error"):
            detail = self._redact.one_line(str(event["error"]))
            raise BuildFailed(f"docker build failed: {detail}")
        for line in str(event.get("stream") or "").splitlines():
            if line.strip():
                on_line(self._redact(line))
        if event.get("status"):
            on_line(self._redact(str(event["status"])))
        aux = event.get("aux") or {}
        return str(aux.get("ID") or "")

    def _engine_message(self, what: str, error: BaseException) -> str:
        detail = getattr(error, "explanation", None) or str(error) or type(error).__name__
        return f"docker engine at {self.where}: {what} failed: {self._redact.one_line(str(detail))}"

    def _engine_errors(
        self, what: str, family: type[Exception] = DockerEngineError
    ) -> _EngineErrors:
        return _EngineErrors(self, what, family)


class _EngineErrors:
    """Turn SDK and connection errors into our one-line, redacted errors."""

    def __init__(self, engine: DockerEngine, what: str, family: type[Exception]) -> None:
        self._engine = engine
        self._what = what
        self._family = family

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        if error is None:
            return
        import docker
        import requests

        if isinstance(error, docker.errors.DockerException | requests.RequestException):
            raise self._family(self._engine._engine_message(self._what, error)) from error


@contextmanager
def _labelled_dockerfile(spec: BuildSpec) -> Iterator[tuple[str, dict[str, str]]]:
    """(Dockerfile to build, labels for the API): one LABEL line when that is safe.

    The copy lives outside the context, so the SDK sends it inside the build
    tar under a name of its own; the user's file is never touched. See
    `dockerfile_with_labels` for why (one builder step instead of one per label).
    """
    text = None
    if not spec.target and spec.labels:
        with open(spec.dockerfile, encoding="utf-8", errors="surrogateescape") as handle:
            text = dockerfile_with_labels(handle.read(), spec.labels)
    if text is None:
        yield spec.dockerfile, dict(spec.labels)
        return
    with tempfile.TemporaryDirectory(prefix="gitops-build-") as directory:
        path = os.path.join(directory, "Dockerfile")
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        yield path, {}


def _print_push_status(event: dict[str, Any], on_line: Line) -> None:
    """One line per layer state change; progress bars ("Pushing") are left out."""
    status = str(event.get("status") or "")
    if not status or status == "Pushing" or event.get("progressDetail", {}).get("current"):
        return
    layer = event.get("id")
    on_line(f"{layer}: {status}" if layer else status)
