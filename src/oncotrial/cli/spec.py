"""``oncotrial spec``: check, show and plan from a trial spec."""

from __future__ import annotations

import typer

app = typer.Typer(help="Trial spec (protocol as code): check, show, calendar, screen.",
                  no_args_is_help=True)
