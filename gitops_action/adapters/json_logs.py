"""Log lines on stderr, as text or as one JSON object per line (`--log-format json`).

JSON lines carry `ts` (UTC, RFC 3339 with milliseconds), `level`, `phase`
(the reconcile phase running: `lease`, `automate`, `sync`, `canary`,
`status`, or `run`), `msg`, and `fields` (structured values a call passed as
`extra={"fields": {...}}`). Log aggregators (Loki, Cloud Logging, ...) index
them as they are.

Every line passes through a `Redactor` holding the credentials the process
was given (git password, registry and Prometheus passwords), in the forms
they travel in (as typed, Basic-encoded), so no secret leaves in a log line
even if a library or a git error echoes one.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final, TextIO

from gitops_action.domain.redact import Redactor

LOGGER: Final = "gitops_action"
SECRET_VARIABLES: Final = (
    "GITOPS_GIT_PASSWORD",
    "GITOPS_REGISTRY_PASSWORD",
    "GITOPS_PROMETHEUS_PASSWORD",
    "GITOPS_GITHUB_TOKEN",
    "GITHUB_TOKEN",
)

phase: contextvars.ContextVar[str] = contextvars.ContextVar("gitops_phase", default="run")


@contextmanager
def in_phase(name: str) -> Iterator[None]:
    """Every log line inside says it belongs to phase `name`."""
    token = phase.set(name)
    try:
        yield
    finally:
        phase.reset(token)


def redactor_for(environ: Mapping[str, str]) -> Redactor:
    redactor = Redactor()
    user = environ.get("GITOPS_GIT_USERNAME", "") or "git"
    redactor.add(environ.get("GITOPS_GIT_PASSWORD", ""), user)
    for name in SECRET_VARIABLES[1:]:
        redactor.add(environ.get(name, ""))
    return redactor


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        fields = getattr(record, "fields", None) or {}
        line: dict[str, Any] = {
            "ts": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "phase": getattr(record, "phase", None) or phase.get(),
            "msg": self.redactor.one_line(record.getMessage()),
            "fields": fields,
        }
        if record.exc_info:
            line["error"] = self.redactor.one_line(self.formatException(record.exc_info))
        return self.redactor(json.dumps(line, default=str, sort_keys=False))


class TextFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__("gitops-action: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


def configure(
    log_format: str, verbose: bool, environ: Mapping[str, str], stream: TextIO | None = None
) -> None:
    """Route the package's log lines to stderr in `log_format` (`text` or `json`)."""
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    redactor = redactor_for(environ)
    formatter: logging.Formatter = (
        JsonFormatter(redactor) if log_format == "json" else TextFormatter(redactor)
    )
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO if verbose or log_format == "json" else logging.WARNING)
