"""Subject-level interim data of an ongoing event-driven trial, checked against its contract.

One row per randomized subject with (default column names in brackets, all configurable
through :class:`PredictColumns`):

* subject id (``USUBJID``), unique;
* arm (``ARM``);
* entry / randomization date (``RANDDT``), ISO 8601 ``YYYY-MM-DD``;
* status (``STATUS``): ``event`` (the event of interest happened), ``censored`` (follow-up
  ended without the event: withdrawal, loss to follow-up -- no longer at risk) or
  ``ongoing`` (still followed, event-free at last contact). Other codes can be mapped onto
  these three with ``status_codes`` (e.g. ``{"0": "event", "1": "ongoing"}``);
* date of the event or of last contact (``ADT``), on or after the entry date and on or
  before the data cut-off date.

Time on study is counted as ADaM ``AVAL`` is for days: ``ADT - RANDDT + 1`` (an event on
the day of randomization has time 1 day), so a subject who is ``ongoing`` is known to be
event-free through the end of its last-contact day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oncotrial.data.io import read_table
from oncotrial.errors import DataError, InputError, describe_value

STATUSES: tuple[str, ...] = ("event", "censored", "ongoing")
_DEFAULT_CODES = {"event": "event", "censored": "censored", "ongoing": "ongoing"}


@dataclass(frozen=True)
class PredictColumns:
    """Column names of the interim data (see module docstring)."""

    subject: str | None = "USUBJID"
    arm: str = "ARM"
    entry: str = "RANDDT"
    status: str = "STATUS"
    date: str = "ADT"


@dataclass(frozen=True)
class InterimData:
    """Validated interim data as arrays (one entry per subject, rows in input order).

    ``entry_day`` and ``last_day`` are whole days relative to ``cut_date`` (<= 0);
    ``time`` is the time on study in days (``last_day - entry_day + 1``).
    """

    cut_date: dt.date
    arms: tuple[str, ...]
    arm_index: np.ndarray = field(repr=False)
    entry_day: np.ndarray = field(repr=False)
    last_day: np.ndarray = field(repr=False)
    status: np.ndarray = field(repr=False)  # 0 event, 1 censored, 2 ongoing

    @property
    def time(self) -> np.ndarray:
        return (self.last_day - self.entry_day + 1).astype(float)

    @property
    def n(self) -> int:
        return int(self.status.size)

    @property
    def events(self) -> int:
        return int(np.count_nonzero(self.status == 0))

    @property
    def ongoing(self) -> int:
        return int(np.count_nonzero(self.status == 2))

    @property
    def censored(self) -> int:
        return int(np.count_nonzero(self.status == 1))


def _dates(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Parse a date column to datetime64[D]; the first bad cell raises naming its row."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        i = int(np.flatnonzero(raw.notna().to_numpy())[0]) if raw.notna().any() else 0
        raise DataError(
            f"column {column!r}, row {i + 1}: value {describe_value(raw.iloc[i])} is a number, "
            "not a date; dates are ISO 8601 YYYY-MM-DD",
            column=column,
            row=i + 1,
            value=str(raw.iloc[i]),
        )
    text = raw.astype("string").str.strip() if raw.dtype == object else raw
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = raw.iloc[i]
        what = "missing date" if pd.isna(value) else f"date {describe_value(value)} is invalid"
        raise DataError(
            f"column {column!r}, row {i + 1}: {what}; dates are ISO 8601 YYYY-MM-DD",
            column=column,
            row=i + 1,
            value=None if pd.isna(value) else str(value),
        )
    return parsed.to_numpy().astype("datetime64[D]")


def _statuses(frame: pd.DataFrame, column: str, codes: Mapping[str, str]) -> np.ndarray:
    lookup = {str(k).strip().lower(): v for k, v in codes.items()}
    for key, value in lookup.items():
        if value not in STATUSES:
            raise InputError(
                f"status_codes[{key!r}] = {value!r} is not a status; valid: {', '.join(STATUSES)}",
                argument="status_codes",
                value=value,
                valid=list(STATUSES),
            )
    raw = frame[column]
    out = np.empty(len(raw), dtype=np.int8)
    for i, value in enumerate(raw.tolist()):
        key = "" if pd.isna(value) else str(value).strip().lower()
        # numeric codes read by pandas as floats (1.0) match their integer spelling
        if key not in lookup and key.endswith(".0"):
            key = key[:-2]
        if key not in lookup:
            raise DataError(
                f"column {column!r}, row {i + 1}: status {describe_value(value)} is invalid; "
                f"valid: {', '.join(sorted(lookup))}",
                column=column,
                row=i + 1,
                value=None if pd.isna(value) else str(value),
                valid=sorted(lookup),
            )
        out[i] = STATUSES.index(lookup[key])
    return out


def _require_columns(frame: pd.DataFrame, columns: PredictColumns, source: str) -> None:
    wanted = [columns.subject, columns.arm, columns.entry, columns.status, columns.date]
    for name in wanted:
        if name is not None and name not in frame.columns:
            raise DataError(
                f"{source}: column {name!r} not found; columns are "
                f"{', '.join(map(str, frame.columns))} (other names: the columns option)",
                column=name,
                columns=[str(c) for c in frame.columns],
            )
    if len(frame) == 0:
        raise DataError(f"{source}: no rows; at least one subject is needed")


def read_interim(
    data: str | Path | pd.DataFrame,
    *,
    columns: PredictColumns | None = None,
    status_codes: Mapping[str, str] | None = None,
    cut_date: dt.date | str | None = None,
) -> InterimData:
    """Read and check interim data (CSV/Parquet path or data frame); see module docstring.

    ``cut_date`` (the data cut-off) defaults to the latest event/last-contact date.
    """
    columns = columns or PredictColumns()
    source = "interim data"
    if isinstance(data, (str, Path)):
        source = str(data)
        frame = read_table(data, what="interim data file")
    else:
        frame = data.reset_index(drop=True)
    _require_columns(frame, columns, source)

    if columns.subject is not None:
        ids = frame[columns.subject].astype("string")
        dup = ids.duplicated().to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise DataError(
                f"column {columns.subject!r}, row {i + 1}: subject {ids.iloc[i]!r} appears twice; "
                "the data need one row per subject",
                column=columns.subject,
                row=i + 1,
                value=str(ids.iloc[i]),
            )
    arm_raw = frame[columns.arm]
    missing = arm_raw.isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"column {columns.arm!r}, row {i + 1}: missing arm; every subject needs an arm",
            column=columns.arm,
            row=i + 1,
            value=None,
        )
    arm_text = arm_raw.astype(str).str.strip().to_numpy()
    arms = tuple(sorted(set(arm_text.tolist())))
    arm_index = np.searchsorted(np.array(arms, dtype=object), arm_text).astype(np.intp)

    entry = _dates(frame, columns.entry)
    last = _dates(frame, columns.date)
    status = _statuses(frame, columns.status, status_codes or _DEFAULT_CODES)
    before = last < entry
    if before.any():
        i = int(np.flatnonzero(before)[0])
        raise DataError(
            f"column {columns.date!r}, row {i + 1}: date {last[i]} is before the entry date "
            f"{entry[i]} ({columns.entry!r}); the event/last-contact date must be on or after it",
            column=columns.date,
            row=i + 1,
            value=str(last[i]),
        )
    cut = np.datetime64(as_date(cut_date), "D") if cut_date is not None else last.max()
    after = last > cut
    if after.any():
        i = int(np.flatnonzero(after)[0])
        raise DataError(
            f"column {columns.date!r}, row {i + 1}: date {last[i]} is after the data cut-off "
            f"{cut}; data must not extend beyond the cut-off",
            column=columns.date,
            row=i + 1,
            value=str(last[i]),
        )
    return InterimData(
        cut_date=pd.Timestamp(cut).date(),
        arms=arms,
        arm_index=arm_index,
        entry_day=(entry - cut).astype(np.int64),
        last_day=(last - cut).astype(np.int64),
        status=status,
    )


def as_date(value: dt.date | str, argument: str = "cut_date") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(
            f"{argument} {value!r} is not a date; use ISO 8601 YYYY-MM-DD",
            argument=argument,
            value=str(value),
        ) from None
