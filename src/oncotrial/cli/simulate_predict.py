"""``oncotrial simulate predict-events`` and ``oncotrial simulate sweep`` (registered on the
``simulate`` group by :mod:`oncotrial.cli.simulate`).

``oncotrial simulate predict-events DATA --target 127 --n-planned 198`` predicts the date of
the 127th event from interim subject-level data (:func:`oncotrial.simulate.predict.predict_events`).

``oncotrial simulate sweep GRID.yaml --workers 4 --out oc.csv`` runs a grid of scenarios on
dask and writes one row per grid point (:func:`oncotrial.simulate.sweep.sweep`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from oncotrial.cli._common import JsonOption, emit, note
from oncotrial.errors import InputError

Opt = typer.Option


def _pairs(values: list[str] | None, option: str) -> dict[str, str] | None:
    """``KEY=VALUE`` items (split at the last ``=``, so keys may hold spaces) as a dict."""
    if not values:
        return None
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.rpartition("=")
        if not sep or not key.strip():
            raise InputError(
                f"{option} {item!r} is invalid; use KEY=VALUE (e.g. {option} 'ET=0.19')",
                argument=option,
                value=item,
            )
        out[key.strip()] = value.strip()
    return out


def _float(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(
            f"{option} value {text!r} is not a number", argument=option, value=text
        ) from None


def _per_arm(values: list[str] | None, option: str) -> float | dict[str, float] | None:
    """One number for every arm, or ``ARM=NUMBER`` items."""
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return _float(values[0], option)
    pairs = _pairs(values, option) or {}
    return {arm: _float(v, option) for arm, v in pairs.items()}


def predict_events_command(
    data: Annotated[Path, typer.Argument(help="Interim subject data (CSV or Parquet).")],
    target: Annotated[int, Opt(help="Total events that trigger the analysis, e.g. 127.")],
    n_planned: Annotated[
        int | None, Opt("--n-planned", help="Planned total subjects (default: no more accrual).")
    ] = None,
    accrual_rate: Annotated[
        float | None,
        Opt("--accrual-rate", help="Subjects per month still entering (default: fitted)."),
    ] = None,
    hazard: Annotated[
        list[str] | None,
        Opt(help="Assumed hazard per month: one number, or ARM=RATE (repeat). Default: fitted."),
    ] = None,
    median: Annotated[
        list[str] | None, Opt(help="Assumed exponential median in months: one, or ARM=MONTHS.")
    ] = None,
    pooled: Annotated[bool, Opt(help="Fit one hazard for all arms.")] = False,
    cut: Annotated[
        list[float] | None,
        Opt("--cut", help="Piecewise-exponential boundary in months since entry (repeat)."),
    ] = None,
    dropout: Annotated[
        str, Opt(help="Dropout hazard per month, or 'fit' (censored / time at risk).")
    ] = "fit",
    allocation: Annotated[
        list[str] | None, Opt(help="Allocation ratio of new subjects, ARM=RATIO (repeat).")
    ] = None,
    uncertainty: Annotated[
        bool,
        Opt("--uncertainty/--no-uncertainty", help="Gamma-posterior parameter uncertainty."),
    ] = True,
    cut_date: Annotated[
        str | None, Opt("--cut-date", help="Data cut-off (default: latest date in the data).")
    ] = None,
    by_date: Annotated[
        str | None, Opt("--by-date", help="Report P(target reached by this date).")
    ] = None,
    level: Annotated[float, Opt(help="Prediction interval level.")] = 0.9,
    n_sim: Annotated[int, Opt("--n-sim", help="Simulated trials.")] = 10_000,
    seed: Annotated[int | None, Opt(help="Seed (default: fresh, reported).")] = None,
    subject_col: Annotated[str, Opt("--subject-col", help="Subject id column.")] = "USUBJID",
    arm_col: Annotated[str, Opt("--arm-col", help="Arm column.")] = "ARM",
    entry_col: Annotated[str, Opt("--entry-col", help="Entry/randomization date column.")] = (
        "RANDDT"
    ),
    status_col: Annotated[
        str, Opt("--status-col", help="Status column (event / censored / ongoing).")
    ] = "STATUS",
    date_col: Annotated[str, Opt("--date-col", help="Event or last-contact date column.")] = "ADT",
    status_code: Annotated[
        list[str] | None,
        Opt("--status-code", help="Map a raw status to event/censored/ongoing: RAW=STATUS."),
    ] = None,
    json_mode: JsonOption = False,
) -> None:
    """Predict the calendar date of the TARGET-th event of an ongoing trial."""
    from oncotrial.simulate.predict import PredictColumns, predict_events

    columns = PredictColumns(
        subject=subject_col, arm=arm_col, entry=entry_col, status=status_col, date=date_col
    )
    ratios = _pairs(allocation, "--allocation")
    result = predict_events(
        data,
        target,
        n_planned=n_planned,
        accrual_rate=accrual_rate,
        hazards=_per_arm(hazard, "--hazard"),
        medians=_per_arm(median, "--median"),
        pooled=pooled,
        cuts=tuple(cut or ()),
        dropout=dropout if dropout == "fit" else _float(dropout, "--dropout"),
        allocation=None
        if ratios is None
        else {a: _float(r, "--allocation") for a, r in ratios.items()},
        parameter_uncertainty=uncertainty,
        cut_date=cut_date,
        by_date=by_date,
        level=level,
        n_sim=n_sim,
        seed=seed,
        columns=columns,
        status_codes=_pairs(status_code, "--status-code"),
    )
    emit(result, json_mode=json_mode)


def sweep_command(
    grid: Annotated[Path, typer.Argument(help="Grid YAML (base, axes, n_sim, seed).")],
    workers: Annotated[
        int | None, Opt(help="LocalCluster worker processes (default: CPU count; 0: no dask).")
    ] = None,
    scheduler: Annotated[
        str | None, Opt(help="Run on the dask cluster at this address (tcp://host:8786).")
    ] = None,
    out: Annotated[
        Path | None, Opt("--out", help="Write the table to FILE.csv or FILE.parquet.")
    ] = None,
    n_sim: Annotated[int | None, Opt("--n-sim", help="Override the grid's n_sim.")] = None,
    seed: Annotated[int | None, Opt(help="Override the grid's master seed.")] = None,
    chunk_size: Annotated[
        int, Opt("--chunk-size", help="Trials per dask task (does not change results).")
    ] = 20_000,
    progress: Annotated[
        bool | None, Opt("--progress/--no-progress", help="Progress bar on stderr.")
    ] = None,
    json_mode: JsonOption = False,
) -> None:
    """Simulate every point of a grid of scenarios; one table row per point."""
    import dataclasses

    from oncotrial.simulate.sweep import load_grid, sweep

    if workers is not None and scheduler is not None:
        raise InputError(
            "--workers and --scheduler: give one or the other, not both", argument="workers"
        )
    suffix = None if out is None else out.suffix.lower()
    if suffix not in (None, ".csv", ".parquet"):
        raise InputError(
            f"--out {out}: unknown table type {suffix!r}; use .csv or .parquet",
            argument="out",
            value=str(out),
            valid=[".csv", ".parquet"],
        )
    spec = load_grid(grid)
    changes: dict[str, Any] = {}
    if n_sim is not None:
        changes["n_sim"] = n_sim
    if seed is not None:
        changes["seed"] = seed
    if changes:
        spec = dataclasses.replace(spec, **changes)
    note(f"sweep {spec.name}: {len(spec.points)} grid points x {spec.n_sim:,} trials")
    result = sweep(
        spec, workers=workers, scheduler=scheduler, chunk_size=chunk_size, progress=progress
    )
    if out is not None:
        table = result.to_frame()
        if suffix == ".csv":
            table.to_csv(out, index=False, lineterminator="\n")
        else:
            table.to_parquet(out, index=False)
        note(f"wrote {len(table)} rows to {out}")
    emit(result, json_mode=json_mode)
