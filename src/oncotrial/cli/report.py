"""``oncotrial report``: tables, figures, CONSORT and one HTML report from analysis data.

``oncotrial report SPEC.yaml ADAM_DIR --out DIR [--profile sas|r] [--json]``  (default command)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from oncotrial.cli._common import JsonOption, default_command_group, emit, stderr
from oncotrial.conventions import PROFILES
from oncotrial.errors import InputError
from oncotrial.report.build import Report, build_report

app = typer.Typer(
    cls=default_command_group("build"),
    help=(
        "Tables, figures, CONSORT and one self-contained HTML report from analysis data "
        "(oncotrial report SPEC.yaml ADAM_DIR --out DIR); docs/REPORT.md."
    ),
    no_args_is_help=True,
)


@app.command("build")
def build(
    spec: Annotated[str, typer.Argument(metavar="SPEC.yaml", help="Trial spec (or example name).")],
    adam_dir: Annotated[
        Path, typer.Argument(metavar="ADAM_DIR", help="Analysis datasets (oncotrial derive).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Report folder (written all at once).")],
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="Conventions profile: sas or r (default: the spec's)."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Write report.html, tables (CSV, RTF), figures (SVG, PNG) and results.json."""
    if profile is not None and profile not in PROFILES:
        raise InputError(
            f"--profile: unknown value {profile!r}; valid: {', '.join(PROFILES)}",
            field="profile",
            value=profile,
            valid=list(PROFILES),
        )
    with stderr.status("report: starting") as status:
        report = build_report(
            spec, adam_dir, out, profile=profile, progress=lambda s: status.update(f"report: {s}")
        )

    def render(console: Console) -> None:
        _render(report, console)

    emit(report, json_mode=json_output, render=render)


def _render(report: Report, console: Console) -> None:
    console.print(report.summary(), markup=False)
    console.print(f"Open [bold]{report.html}[/] in a browser (prints to PDF).")
