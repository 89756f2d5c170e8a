"""``oncotrial derive``: raw trial data to analysis datasets, and why a subject's values are
what they are.

``oncotrial derive SPEC.yaml RAW_DIR OUT_DIR [--cutoff DATE] [--format csv] [--options FILE]``
(default command; ``--options`` turns on partial-date imputation and sets AE grouping)
``oncotrial derive explain SUBJECT --spec SPEC --raw RAW_DIR [--cutoff DATE]``
``oncotrial derive explain SUBJECT --from OUT_DIR``  (from an earlier run's traces)
``oncotrial derive cutoff SPEC RAW_DIR --events N [--endpoint PFS]``  (cut at the N-th event)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oncotrial.cli._common import JsonOption, default_command_group, emit, note
from oncotrial.derive.event_cutoff import cutoff_for_events
from oncotrial.derive.explain import explain as explain_subject
from oncotrial.derive.explain import explain_written
from oncotrial.derive.pipeline import derive_trial
from oncotrial.errors import InputError

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
OptionsOption = Annotated[
    Path | None,
    typer.Option(
        "--options",
        help="Derivation options YAML: partial-date imputation per raw column (admiral "
        "highest_imputation/date_imputation) and AE record grouping (docs/DERIVATIONS.md).",
    ),
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
    options: OptionsOption = None,
    json_mode: JsonOption = False,
) -> None:
    """Derive every analysis dataset and write them with derivation_log.json and traces.json."""
    result = derive_trial(
        spec, raw_dir, out_dir, cutoff=cutoff, formats=fmt or ["csv"], options=options
    )
    note(f"wrote {len(result.log['outputs'])} dataset files to {out_dir}")
    emit(result.log, json_mode=json_mode, render=lambda c: c.print(result.summary(), markup=False))


@app.command("cutoff")
def cutoff_cmd(
    spec: Annotated[str, typer.Argument(help="Trial spec YAML (or a shipped example name).")],
    raw_dir: Annotated[Path, typer.Argument(help="Directory of raw domain files (dm.csv ...).")],
    events: Annotated[int, typer.Option("--events", help="Number of events wanted.")],
    endpoint: Annotated[
        str, typer.Option("--endpoint", help="ADTTE PARAMCD whose events are counted.")
    ] = "PFS",
    options: OptionsOption = None,
    json_mode: JsonOption = False,
) -> None:
    """The data cutoff date at which ENDPOINT reaches EVENTS events (verified by a real cut)."""
    result = cutoff_for_events(raw_dir, spec, events, paramcd=endpoint, options=options)
    emit(result, json_mode=json_mode, render=lambda c: c.print(result.summary(), markup=False))


@app.command("explain")
def explain(
    subject: Annotated[str, typer.Argument(help="USUBJID of the subject to explain.")],
    spec: Annotated[
        str | None, typer.Option("--spec", help="Trial spec YAML (or example name).")
    ] = None,
    raw: Annotated[
        Path | None, typer.Option("--raw", help="Directory of raw domain files.")
    ] = None,
    written: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Output directory of an earlier `oncotrial derive` run (reads its traces; "
            "instead of --spec/--raw).",
        ),
    ] = None,
    cutoff: CutoffOption = None,
    options: OptionsOption = None,
    json_mode: JsonOption = False,
) -> None:
    """Why the subject's best response, PFS event or censoring date, grades and flags."""
    if written is not None:
        if spec is not None or raw is not None or cutoff is not None or options is not None:
            raise InputError(
                "give either --from OUT_DIR or --spec SPEC --raw RAW_DIR [--cutoff DATE] "
                "[--options FILE], not both",
                argument="--from",
            )
        result = explain_written(written, subject)
    elif spec is None or raw is None:
        raise InputError(
            "explain needs --spec SPEC and --raw RAW_DIR (derive now) or --from OUT_DIR "
            "(an earlier derivation)",
            argument="--spec" if spec is None else "--raw",
        )
    else:
        result = explain_subject(spec, raw, subject, cutoff=cutoff, options=options)
    emit(result, json_mode=json_mode, render=lambda c: c.print(result.summary(), markup=False))
