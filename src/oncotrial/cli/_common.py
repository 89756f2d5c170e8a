"""What every CLI command shares: the ``--json`` option, output and error discipline.

Rules (issue #2): with ``--json`` a command prints exactly one JSON document on stdout and
nothing else; human-oriented messages (progress, notes) always go to stderr. Exit codes:
0 success, 1 user error (bad input, with a clear message), 2 internal error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from oncotrial.results import jsonable

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")
]

stdout = Console(highlight=False, soft_wrap=False)
stderr = Console(stderr=True, highlight=False)


def emit(payload: Any, *, json_mode: bool, render: Callable[[Console], None] | None = None) -> None:
    """Print a command's result: JSON document, or the human rendering.

    ``payload`` is anything :func:`oncotrial.results.jsonable` understands (result objects,
    dicts, lists). ``render`` draws the human view on the stdout console; without it the
    object's ``str`` is printed.
    """
    if json_mode:
        sys.stdout.write(json.dumps(jsonable(payload), indent=2) + "\n")
        sys.stdout.flush()
        return
    if render is not None:
        render(stdout)
    else:
        stdout.print(str(payload), markup=False)


def note(message: str) -> None:
    """A human message that must never pollute stdout (safe under --json)."""
    stderr.print(message)


class DefaultCommandGroup(TyperGroup):
    """A group whose first argument may be a file instead of a subcommand.

    ``oncotrial design survival --hr 0.59`` runs the ``survival`` subcommand, while
    ``oncotrial design SPEC.yaml`` runs the group's default command (named by the
    ``default_command`` attribute of the subclass) with ``SPEC.yaml`` as its argument.
    """

    default_command: str = "run"

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = [self.default_command, *args]
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(
            ctx.command_path, " ".join([f"[{self.default_command.upper()}_ARGS] |", *pieces])
        )


def default_command_group(name: str) -> type[DefaultCommandGroup]:
    """A :class:`DefaultCommandGroup` subclass whose default subcommand is ``name``."""
    return type(f"DefaultGroup_{name}", (DefaultCommandGroup,), {"default_command": name})
