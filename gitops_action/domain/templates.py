"""Flux commit message templates: parse once, render from update data.

An ImageUpdateAutomation's ``spec.git.commit.messageTemplate`` is a Go
`text/template`. We render it with our own engine for the subset Flux users
write (see docs/templates.md for the subset and the data model), so a config
that works with Flux produces the same commit message here.

Parsing happens when the config is loaded, so a template with a syntax error
is reported before any run, naming the object and the position. Rendering
errors (a field that does not exist, a function given the wrong type) are
reported the same way. Both raise `InvalidTemplate`, a `ConfigError`:
the user must fix the template.

Positions are "line L, column C" inside the template text (1-based; columns
count characters), not inside the YAML file that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from gitops_action.domain.errors import InvalidTemplate
from gitops_action.domain.gotemplate.executor import execute
from gitops_action.domain.gotemplate.functions import FUNCTIONS, unknown_function
from gitops_action.domain.gotemplate.lexer import TemplateError
from gitops_action.domain.gotemplate.nodes import Node
from gitops_action.domain.gotemplate.parser import parse

DEFAULT_TEMPLATE_NAME: Final = "commit message"
"""The name Flux gives the template (and ours when the caller names none)."""

DEFAULT_MESSAGE_TEMPLATE: Final = "Update from image update automation"
"""Flux's commit message when ``messageTemplate`` is empty or absent."""


@dataclass(frozen=True)
class Template:
    """A parsed template; `render` it over data built by `template_data`."""

    name: str
    text: str
    nodes: tuple[Node, ...] = field(repr=False, compare=False)

    def render(self, data: Any) -> str:
        """The rendered text; `InvalidTemplate` naming `name` and the position on failure."""
        try:
            return execute(self.nodes, data)
        except TemplateError as err:
            raise _invalid(self.name, self.text, err) from err


def parse_template(text: str, name: str = DEFAULT_TEMPLATE_NAME) -> Template:
    """Parse `text` (an empty one means Flux's default message).

    `name` says which template this is in error messages, e.g.
    ``cluster/auto.yaml: document 1 (ImageUpdateAutomation flux-system/auto):
    spec.git.commit.messageTemplate``.
    """
    source = text or DEFAULT_MESSAGE_TEMPLATE
    try:
        nodes = parse(source, FUNCTIONS, unknown_function)
    except TemplateError as err:
        raise _invalid(name, source, err) from err
    return Template(name, source, nodes)


def render_template(text: str, data: Any, name: str = DEFAULT_TEMPLATE_NAME) -> str:
    """Parse and render in one go."""
    return parse_template(text, name).render(data)


def line_and_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and character column of an offset into `text`."""
    position = max(0, min(position, len(text)))
    line = text.count("\n", 0, position) + 1
    line_start = text.rfind("\n", 0, position) + 1
    return line, position - line_start + 1


def _one_line(message: str) -> str:
    return message.replace("\r", "\\r").replace("\n", "\\n")


def _invalid(name: str, text: str, err: TemplateError) -> InvalidTemplate:
    line, column = line_and_column(text, err.position)
    return InvalidTemplate(f"{name}: line {line}, column {column}: {_one_line(err.message)}")
