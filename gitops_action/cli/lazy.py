"""A click group whose subcommands are imported only when they are run.

`--help`, `policy` and `update` must start fast and must not load
kubernetes, docker or github (DESIGN.md §2). Each command is named by a
`"module:attribute"` path and imported on first use; its one-line summary is
kept beside the path so `--help` lists every command without importing any.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives and what `--help` says about it."""

    path: str
    summary: str


class LazyGroup(click.Group):
    """Group that resolves its subcommands on demand."""

    def __init__(
        self, *args: object, lazy: dict[str, LazyCommand] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self.lazy.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = entry.path.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{entry.path} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            entry = self.lazy.get(name)
            if entry is not None:
                rows.append((name, entry.summary))
            else:
                command = super().get_command(ctx, name)
                rows.append((name, command.get_short_help_str() if command else ""))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
