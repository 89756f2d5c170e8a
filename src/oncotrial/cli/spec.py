"""``oncotrial spec``: check, show and plan from a trial spec."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from oncotrial.cli._common import JsonOption, emit, note
from oncotrial.derive.options import load_options
from oncotrial.errors import InputError
from oncotrial.spec import load_spec
from oncotrial.spec.calendar import CalendarEntry, planned_calendar
from oncotrial.spec.synopsis import synopsis_sections

app = typer.Typer(
    help="Trial spec (protocol as code): check it, show its synopsis, plan a subject's "
    "calendar, screen subjects for eligibility.",
    no_args_is_help=True,
)

SpecFile = Annotated[
    Path, typer.Argument(help="Trial spec YAML file, or a shipped example name (e.g. palmira).")
]


@app.command("check")
def check(spec_file: SpecFile, json_output: JsonOption = False) -> None:
    """Validate a trial spec; on failure list every problem with its YAML path and line."""
    spec = load_spec(spec_file)
    load_options(spec.derivation.options or None)  # the derivation options' own checks
    payload = {
        "valid": True,
        "file": str(spec_file),
        "trial": spec.trial.id,
        "arms": [a.name for a in spec.arms],
        "ratio": spec.ratio_text,
        "criteria": len(spec.criteria),
        "endpoints": [e.id for e in spec.endpoints],
    }
    emit(
        payload,
        json_mode=json_output,
        render=lambda console: console.print(
            f"[green]valid[/]: {spec_file} — {spec.trial.id}, {len(spec.arms)} arm(s) "
            f"{spec.ratio_text}, {len(spec.criteria)} eligibility criteria, "
            f"{len(spec.endpoints)} endpoints"
        ),
    )


@app.command("show")
def show(spec_file: SpecFile, json_output: JsonOption = False) -> None:
    """Print a readable protocol synopsis (arms, schedule, endpoints, design, analyses).

    With --json, the whole validated spec as JSON plus the synopsis sections.
    """
    spec = load_spec(spec_file)
    sections = synopsis_sections(spec)

    def render(console: Console) -> None:
        for heading, lines in sections:
            console.print(f"[bold cyan]{heading}[/]")
            for line in lines:
                indent = 2 + len(line) - len(line.lstrip())
                console.print(Padding(Text(line.lstrip()), (0, 0, 0, indent)))
            console.print()

    emit(
        {
            "spec": spec.model_dump(mode="json"),
            "synopsis": [{"section": h, "lines": lines} for h, lines in sections],
        },
        json_mode=json_output,
        render=render,
    )


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--start: {text!r} is not a date; use YYYY-MM-DD, e.g. 2024-03-01",
            field="start",
            value=text,
        ) from None


@app.command("calendar")
def calendar(
    spec_file: SpecFile,
    start: Annotated[str, typer.Option(help="Study day 1 (cycle 1 day 1), YYYY-MM-DD.")],
    arm: Annotated[str | None, typer.Option(help="Arm name (default: the first arm).")] = None,
    months: Annotated[float, typer.Option(help="How many months to plan.")] = 12.0,
    json_output: JsonOption = False,
) -> None:
    """Print one subject's planned calendar: cycles, dosing days, assessments and windows."""
    spec = load_spec(spec_file)
    plan = planned_calendar(spec, _parse_date(start), arm=arm, months=months)
    note(f"{spec.trial.id}: calendar for arm {plan.arm} from {plan.start} ({months:g} months)")

    def render(console: Console) -> None:
        table = Table(
            title=f"{spec.trial.id} — planned calendar, arm {plan.arm}",
            caption="* optional agent (see its condition in `spec show`); "
            "windows are ± days around the planned date",
        )
        for column in ("date", "day", "visit", "what", "details", "window"):
            table.add_column(column, overflow="fold")
        for e in plan.entries:
            table.add_row(
                str(e.date),
                str(e.study_day),
                f"C{e.cycle}D{e.cycle_day}",
                e.name,
                e.description.split(" (")[0],
                _window_text(e),
            )
        console.print(table)

    emit(plan, json_mode=json_output, render=render)


def _window_text(entry: CalendarEntry) -> str:
    if entry.kind == "dosing":
        return f"to {entry.window_end}" if entry.window_end != entry.date else ""
    before = (entry.date - entry.window_start).days
    after = (entry.window_end - entry.date).days
    if before == after:
        return f"±{before}d" if before else ""
    return f"-{before}d/+{after}d"
