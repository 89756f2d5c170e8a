"""``oncotrial spec screen SPEC SUBJECTS``: screen subjects against a spec's eligibility rules.

Registered on the ``spec`` group (imported for its side effect by ``oncotrial.cli``).
Semantics of verdicts, outcomes and counts: :mod:`oncotrial.screening`, docs/ELIGIBILITY.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from oncotrial.cli._common import JsonOption, emit, note
from oncotrial.cli.spec import app
from oncotrial.errors import InputError
from oncotrial.screening import ScreeningResult, read_screening_file, screen
from oncotrial.spec import load_spec

_VERDICT_STYLE = {"eligible": "green", "not_eligible": "red", "cannot_tell": "yellow"}


def _render(result: ScreeningResult, console: Console) -> None:
    counts = result.counts
    verdicts = Table(title="Verdicts", show_header=True)
    verdicts.add_column("verdict")
    verdicts.add_column("subjects", justify="right")
    for verdict, n in (
        ("eligible", counts.eligible),
        ("not_eligible", counts.excluded),
        ("cannot_tell", counts.cannot_tell),
    ):
        verdicts.add_row(f"[{_VERDICT_STYLE[verdict]}]{verdict}[/]", str(n))
    verdicts.add_row("[bold]assessed[/]", f"[bold]{counts.assessed}[/]")
    console.print(verdicts)

    consort = Table(title="CONSORT enrolment (excluded, by reason)", show_header=True)
    consort.add_column("criterion")
    consort.add_column("text", overflow="fold", max_width=70)
    consort.add_column("any failure", justify="right")
    consort.add_column("first failure", justify="right")
    first = {c.criterion_id: c.n for c in counts.first_failing}
    for c in counts.excluded_by_criterion:
        consort.add_row(c.criterion_id, c.text, str(c.n), str(first.get(c.criterion_id, 0)))
    consort.add_row("", "[bold]excluded subjects[/]", "", f"[bold]{counts.excluded}[/]")
    console.print(consort)
    console.print(
        "'any failure' counts a subject under every criterion it fails; 'first failure' under "
        "the first in protocol order (sums to the excluded subjects).",
        style="dim",
    )

    subjects = Table(title="Subjects", show_header=True)
    subjects.add_column(result.id_column)
    subjects.add_column("verdict")
    subjects.add_column("failed")
    subjects.add_column("cannot tell")
    subjects.add_column("reasons", overflow="fold")
    for row in result.subjects.to_dict(orient="records"):
        style = _VERDICT_STYLE[str(row["verdict"])]
        subjects.add_row(
            str(row["subject_id"]),
            f"[{style}]{row['verdict']}[/]",
            ", ".join(row["failed"]),
            ", ".join(row["unresolved"]),
            str(row["reasons"]),
        )
    console.print(subjects)


@app.command("screen")
def screen_command(
    spec_file: Annotated[
        Path, typer.Argument(help="Trial spec YAML file, or a shipped example name.")
    ],
    subjects_file: Annotated[
        Path, typer.Argument(help="Screening records: CSV or Parquet, one row per subject.")
    ],
    log: Annotated[
        Path | None,
        typer.Option("--log", help="Write the subject x criterion log (CSV) to this file."),
    ] = None,
    id_column: Annotated[
        str, typer.Option("--id-column", help="Column holding the subject id.")
    ] = "subject_id",
    json_output: JsonOption = False,
) -> None:
    """Screen subjects against the spec's inclusion/exclusion rules.

    Verdict per subject: eligible, not_eligible (an inclusion not met or an exclusion that
    applies) or cannot_tell (missing data). Prints verdict counts, CONSORT-shaped
    exclusion counts and a per-subject table.
    """
    spec = load_spec(spec_file)
    records = read_screening_file(subjects_file, spec.subject_attributes, id_column=id_column)
    result = screen(
        spec.eligibility,
        spec.subject_attributes,
        records,
        id_column=id_column,
        source=str(subjects_file),
    )
    for warning in result.warnings:
        note(f"[yellow]warning:[/] {warning}")
    if log is not None:
        if log.suffix.lower() != ".csv":
            raise InputError(f"--log: {log} must be a .csv file", field="log", value=str(log))
        frame = result.log.copy()
        frame["value"] = frame["value"].map({True: "true", False: "false", None: ""})
        frame.to_csv(log, index=False)
        note(f"log of {len(frame)} subject x criterion outcomes written to {log}")
    emit(result, json_mode=json_output, render=lambda console: _render(result, console))
