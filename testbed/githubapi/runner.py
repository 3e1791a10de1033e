"""Read what a step wrote, the way the Actions runner (actions/runner) reads it.

Tests must not check our `$GITHUB_OUTPUT` and workflow-command text against our
own formatter; they parse it with this independent re-statement of the
runner's rules, so a value that would be misread by the runner fails here too.

- File commands (`$GITHUB_OUTPUT`, `$GITHUB_ENV`): line by line; a line whose
  first `=` comes before any `<<` is `NAME=VALUE`; a line whose `<<` comes first
  starts a heredoc `NAME<<DELIMITER` whose value is every following line up to
  one equal to the delimiter (the newline before the delimiter is not part of
  the value). Empty names or delimiters and a missing closing delimiter are
  errors that fail the step.
- Workflow commands: `::name k=v,k=v::data`; data unescapes `%0D %0A %25`,
  property values also `%3A %2C`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class RunnerParseError(ValueError):
    """The runner would reject the file and fail the step."""


def parse_file_command(text: str) -> dict[str, str]:
    """Name -> value, later entries winning, as the runner applies them."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # a final newline ends the last line; it starts no new one
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line.split("=", 1)
            if not name:
                raise RunnerParseError(f"empty name in {line!r}")
            values[name] = value
            continue
        if heredoc < 0:
            raise RunnerParseError(f"invalid format {line!r}")
        name, delimiter = line.split("<<", 1)
        if not name or not delimiter:
            raise RunnerParseError(f"empty name or delimiter in {line!r}")
        body: list[str] = []
        while True:
            if index >= len(lines):
                raise RunnerParseError(f"matching delimiter not found {delimiter!r}")
            current = lines[index]
            index += 1
            if current == delimiter:
                break
            body.append(current)
        values[name] = "\n".join(body)
    return values


@dataclass(frozen=True)
class WorkflowCommand:
    name: str
    data: str
    properties: dict[str, str] = field(default_factory=dict)


def parse_workflow_command(line: str) -> WorkflowCommand | None:
    """The command on `line`, or None when the runner would print it as text."""
    if not line.startswith("::"):
        return None
    end = line.find("::", 2)
    if end < 0:
        return None
    info = line[2:end]
    name, _, props = info.partition(" ")
    if not name:
        return None
    properties: dict[str, str] = {}
    for pair in (p for p in props.strip().split(",") if p):
        key, sep, value = pair.partition("=")
        if sep and key:
            properties[key] = _unescape_property(value)
    return WorkflowCommand(name=name, data=_unescape_data(line[end + 2 :]), properties=properties)


def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )
