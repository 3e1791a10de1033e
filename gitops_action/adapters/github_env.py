"""The GitHub Actions runner, seen from inside a step.

A step learns why it runs from `GITHUB_*` variables and the event payload file,
and talks back through file commands (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`)
and workflow commands printed as lines (`::add-mask::`, `::error::` ...). This
module does exactly that I/O and nothing else.

STDLIB ONLY and Python 3.9+: `ci should-skip` imports it from the runner's
stock `python3` before any dependency is installed (see docs/ci.md).

Formats follow the runner and `@actions/core`:
- an output is written as `name<<ghadelimiter_<uuid4>`, the value, then the
  delimiter, each on its own line, so values may hold `=`, `<<` and newlines;
- workflow command data escapes `%`, `\\r`, `\\n` as `%25`, `%0D`, `%0A`, and
  property values additionally escape `:` and `,` as `%3A` and `%2C`.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

DEFAULT_API_URL = "https://api.github.com"
TOKEN_VARIABLES = ("GITOPS_GITHUB_TOKEN", "GITHUB_TOKEN")
"""Where the API token is read, most specific first."""

_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_COMMAND_NAME = re.compile(r"[a-z][a-z-]*")
_PROPERTY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@dataclass(frozen=True)
class ActionsEnv:
    """The `GITHUB_*` (and `GITOPS_*`) variables a CI step reads."""

    event_name: str = ""
    event_path: str = ""
    ref: str = ""
    sha: str = ""
    actor: str = ""
    repository: str = ""
    api_url: str = DEFAULT_API_URL
    output_path: str = ""
    summary_path: str = ""
    bots: tuple[str, ...] = ()
    token: str = field(default="", repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ActionsEnv:
        """Read the variables; unset ones are empty (the API URL has a default)."""
        token = next(
            (environ[n].strip() for n in TOKEN_VARIABLES if environ.get(n, "").strip()), ""
        )
        return cls(
            event_name=environ.get("GITHUB_EVENT_NAME", ""),
            event_path=environ.get("GITHUB_EVENT_PATH", ""),
            ref=environ.get("GITHUB_REF", ""),
            sha=environ.get("GITHUB_SHA", ""),
            actor=environ.get("GITHUB_ACTOR", ""),
            repository=environ.get("GITHUB_REPOSITORY", ""),
            api_url=(environ.get("GITHUB_API_URL", "") or DEFAULT_API_URL).rstrip("/"),
            output_path=environ.get("GITHUB_OUTPUT", ""),
            summary_path=environ.get("GITHUB_STEP_SUMMARY", ""),
            bots=lines_of(environ.get("GITOPS_BOT", "")),
            token=token,
        )


def lines_of(value: str) -> tuple[str, ...]:
    """A newline-separated list (how action inputs pass lists), blanks dropped."""
    return tuple(line.strip() for line in value.splitlines() if line.strip())


def read_event(path: str) -> tuple[dict[str, Any] | None, str | None]:
    """The event payload, or None and a one-line reason it could not be read."""
    if not path:
        return None, "GITHUB_EVENT_PATH is not set"
    try:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
    except FileNotFoundError:
        return None, f"event file {path} does not exist"
    except (OSError, UnicodeDecodeError) as error:
        return None, f"event file {path} is unreadable ({error.__class__.__name__})"
    except json.JSONDecodeError as error:
        return None, f"event file {path} is not JSON (line {error.lineno}: {error.msg})"
    if not isinstance(payload, dict):
        return None, f"event file {path} does not hold a JSON object"
    return payload, None


def format_output(name: str, value: str, delimiter: str | None = None) -> str:
    """One `$GITHUB_OUTPUT` entry in the multi-line safe form, newline-terminated."""
    if _OUTPUT_NAME.fullmatch(name) is None:
        raise ValueError(f"output name {name!r} is not a valid GitHub output name")
    delimiter = delimiter or f"ghadelimiter_{uuid.uuid4()}"
    if delimiter in value or delimiter in name:
        raise ValueError(f"output {name!r} contains its own delimiter")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(path: str, values: Mapping[str, str]) -> None:
    """Append outputs to the `$GITHUB_OUTPUT` file (each with a fresh delimiter)."""
    text = "".join(format_output(name, value) for name, value in values.items())
    _append(path, text)


def append_step_summary(path: str, markdown: str) -> None:
    """Append markdown to the `$GITHUB_STEP_SUMMARY` file."""
    _append(path, markdown if markdown.endswith("\n") else markdown + "\n")


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str = "", **properties: str | int | None) -> str:
    """`::command key=value,...::message`, escaped; None properties are left out."""
    if _COMMAND_NAME.fullmatch(command) is None:
        raise ValueError(f"workflow command {command!r} is not a command name")
    pairs = []
    for key, value in properties.items():
        if value is None:
            continue
        if _PROPERTY_NAME.fullmatch(key) is None:
            raise ValueError(f"workflow command property {key!r} is not a property name")
        pairs.append(f"{key}={escape_property(str(value))}")
    head = f"::{command} {','.join(pairs)}" if pairs else f"::{command}"
    return f"{head}::{escape_data(message)}"


def add_mask(value: str) -> str:
    """The command that makes the runner hide `value` in logs."""
    return workflow_command("add-mask", value)


def group(title: str) -> str:
    return workflow_command("group", title)


def end_group() -> str:
    return workflow_command("endgroup")


def annotation(
    level: str,
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
    end_line: int | None = None,
    col: int | None = None,
    end_column: int | None = None,
) -> str:
    """An `error`, `warning` or `notice` annotation, optionally tied to a file."""
    if level not in ("error", "warning", "notice"):
        raise ValueError(f"annotation level {level!r} is not error, warning or notice")
    return workflow_command(
        level,
        message,
        title=title,
        file=file,
        line=line,
        endLine=end_line,
        col=col,
        endColumn=end_column,
    )


def emit(command_line: str, stream: TextIO | None = None) -> None:
    """Print a workflow command on its own line (stderr: stdout is machine output).

    The runner reads commands from both streams.
    """
    target = stream if stream is not None else sys.stderr
    target.write(command_line + "\n")
    target.flush()


def _append(path: str, text: str) -> None:
    """Append UTF-8 with `\\n` line ends; the runner reads `\\n` on every OS."""
    with open(path, "a", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
