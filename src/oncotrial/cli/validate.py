"""``oncotrial validate``: qualify this installation against the shipped references."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oncotrial.cli._common import JsonOption, emit, note
from oncotrial.errors import InputError
from oncotrial.validation.report import run_validation


def _reference_names() -> list[str]:
    from importlib import resources

    folder = resources.files("oncotrial.validation") / "references"
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


def validate(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for validation_report.md / .json (and .html)."),
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(
            "--reference",
            help="Only this reference file (name without .json); repeatable. Default: all.",
        ),
    ] = None,
    html: Annotated[bool, typer.Option("--html", help="Also write an HTML report.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Run every shipped reference case (R, published, hand-calculated) and report.

    Exit code 0 when every check passes, 1 when any fails.
    """
    if reference:
        known = _reference_names()
        unknown = [r for r in reference if r not in known]
        if unknown:
            raise InputError(
                f"--reference: unknown reference file {unknown[0]!r}; shipped files are "
                f"{', '.join(known)}",
                field="reference",
                value=unknown[0],
                valid=known,
            )
    report = run_validation(reference)
    if out is not None:
        for path in report.write(out, html_too=html):
            note(f"wrote {path}")
    emit(
        report,
        json_mode=json_output,
        render=lambda console: console.print(report.summary(), markup=False),
    )
    if not report.passed:
        raise typer.Exit(1)
