"""``oncotrial derive``: raw trial data to analysis datasets, and why a subject's values are
what they are.

``oncotrial derive SPEC.yaml RAW_DIR OUT_DIR [--cutoff DATE] [--format csv]``  (default command)
``oncotrial derive explain SUBJECT --spec SPEC --raw RAW_DIR [--cutoff DATE]``
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oncotrial.cli._common import JsonOption, default_command_group, emit, note
from oncotrial.derive.explain import explain as explain_subject
from oncotrial.derive.pipeline import derive_trial

app = typer.Typer(
    cls=default_command_group("run"),
    help=(
        "Raw (SDTM-like) trial data to analysis datasets (ADSL, ADTTE, ADRS, ADAE, ADLB, ADEX): "
        "RECIST 1.1, CTCAE v5, censoring rules, data cut (oncotrial derive SPEC RAW_DIR OUT_DIR); "
        "'explain' says why a subject's values are what they are."
    ),
    no_args_is_help=True,
)

CutoffOption = Annotated[
    str | None,
    typer.Option("--cutoff", help="Data cutoff date YYYY-MM-DD (records after it are ignored)."),
]


@app.command("run")
def run(
    spec: Annotated[str, typer.Argument(help="Trial spec YAML (or a shipped example name).")],
    raw_dir: Annotated[Path, typer.Argument(help="Directory of raw domain files (dm.csv ...).")],
    out_dir: Annotated[Path, typer.Argument(help="Output directory (written all at once).")],
    cutoff: CutoffOption = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format", help="csv, parquet, xpt (SAS transport v8) or xpt5; repeat for several."
        ),
    ] = None,
    json_mode: JsonOption = False,
) -> None:
    """Derive every analysis dataset and write them with derivation_log.json and traces.json."""
    result = derive_trial(spec, raw_dir, out_dir, cutoff=cutoff, formats=fmt or ["csv"])
    note(f"wrote {len(result.log['outputs'])} dataset files to {out_dir}")
    emit(result.log, json_mode=json_mode, render=lambda c: c.print(result.summary(), markup=False))


@app.command("explain")
def explain(
    subject: Annotated[str, typer.Argument(help="USUBJID of the subject to explain.")],
    spec: Annotated[str, typer.Option("--spec", help="Trial spec YAML (or example name).")],
    raw: Annotated[Path, typer.Option("--raw", help="Directory of raw domain files.")],
    cutoff: CutoffOption = None,
    json_mode: JsonOption = False,
) -> None:
    """Why the subject's best response, PFS event or censoring date, grades and flags."""
    result = explain_subject(spec, raw, subject, cutoff=cutoff)
    emit(result, json_mode=json_mode, render=lambda c: c.print(result.summary(), markup=False))
