"""Validation of the arrays every statistic takes: clear errors, never silent NaN.

Rows in messages are 1-based positions in the data as given (the first data row is row 1;
in a CSV with a header line, row r is on line r + 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.errors import DataError, describe_value

ArrayLike = Sequence[Any] | np.ndarray | pd.Series


def first_row(mask: np.ndarray) -> int:
    """0-based index of the first True in ``mask``."""
    return int(np.flatnonzero(mask)[0])


def row_error(column: str, i: int, problem: str, value: Any, **details: Any) -> DataError:
    """The error for row ``i`` (0-based) of ``column``: ``column 'x', row 3: <problem>``."""
    return DataError(
        f"column {column!r}, row {i + 1}: {problem}",
        column=column,
        row=i + 1,
        value=value,
        **details,
    )


def require_columns(data: pd.DataFrame, roles: dict[str, list[str]]) -> None:
    """:class:`DataError` naming the role and the available columns for the first column of
    ``roles`` (role -> column names) that ``data`` lacks."""
    available = [str(c) for c in data.columns]
    for role, names in roles.items():
        for name in names:
            if name not in data.columns:
                raise DataError(
                    f"{role}: column {name!r} not found; available columns: {', '.join(available)}",
                    column=name,
                    field=role,
                    valid=available,
                )


def check_rows(name: str, rows: int, n: int) -> None:
    """:class:`DataError` unless the table ``name`` (covariates, strata) has ``n`` rows."""
    if rows != n:
        raise DataError(
            f"{name}: have {rows} rows but the times have {n}", column=name, rows=rows, expected=n
        )


def as_times(values: ArrayLike, name: str = "time") -> np.ndarray:
    """Times as a float array: numeric, finite and >= 0, else :class:`DataError`."""
    return times_and_range(values, name)[0]


def times_and_range(values: ArrayLike, name: str = "time") -> tuple[np.ndarray, float, float]:
    """:func:`as_times` and the smallest and largest time (the checks compute them)."""
    raw = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    try:
        times = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        numeric = pd.to_numeric(pd.Series(np.asarray(raw, dtype=object)), errors="coerce")
        bad = numeric.isna().to_numpy() & pd.notna(pd.Series(np.asarray(raw, dtype=object)))
        i = first_row(bad)
        problem = f"value {describe_value(raw[i])} is not a number; times must be numeric and >= 0"
        raise row_error(name, i, problem, str(raw[i])) from None
    if times.ndim != 1:
        raise DataError(f"column {name!r}: expected a 1-dimensional array", column=name)
    if times.size == 0:
        raise DataError(f"column {name!r}: no rows; at least one subject is needed", column=name)
    low, high = times.min(), times.max()  # NaN propagates into both
    if low >= 0 and high < np.inf:
        return times, float(low), float(high)
    missing = np.isnan(times)
    if missing.any():
        i = first_row(missing)
        raise row_error(name, i, "missing time; every subject needs a time >= 0", None)
    i = first_row(~np.isfinite(times) | (times < 0))  # the check above failed: one exists
    problem = f"time {describe_value(times[i])} is invalid; times must be finite and >= 0"
    raise row_error(name, i, problem, float(times[i]))


def _check_length(raw: np.ndarray, name: str, n: int | None) -> None:
    if n is not None and raw.shape[0] != n:
        raise DataError(
            f"column {name!r}: has {raw.shape[0]} rows but the times have {n}",
            column=name,
            rows=int(raw.shape[0]),
            expected=n,
        )


def as_events(values: ArrayLike, name: str = "event", n: int | None = None) -> np.ndarray:
    """Event indicators as an int8 array of 0 (censored) and 1 (event)."""
    raw = np.asarray(values)
    _check_length(raw, name, n)
    if raw.dtype == bool:
        return raw.astype(np.int8)
    binary = (
        raw.dtype.kind in "iu" and raw.ndim == 1 and raw.size > 0 and raw.min() >= 0
    ) and raw.max() <= 1
    if binary:
        return raw.astype(np.int8, copy=False)
    numeric = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        i = first_row(bad)
        problem = (
            f"event code {describe_value(raw[i])} is invalid; use 1 for an event and 0 for censored"
        )
        raise row_error(name, i, problem, str(raw[i]), valid=[0, 1])
    return numeric.astype(np.int8)


def as_groups(
    values: ArrayLike, name: str = "arm", n: int | None = None, min_levels: int = 1
) -> np.ndarray:
    """Group labels as an object array without missing values, with >= ``min_levels`` levels."""
    raw = np.asarray(values, dtype=object)
    _check_length(raw, name, n)
    missing = pd.isna(pd.Series(raw)).to_numpy()
    if missing.any():
        i = first_row(missing)
        raise row_error(name, i, f"missing value; every subject needs a {name}", None)
    levels = pd.unique(pd.Series(raw))
    if len(levels) < min_levels:
        raise DataError(
            f"column {name!r}: has {len(levels)} level(s) {list(levels)!r}; "
            f"at least {min_levels} are needed",
            column=name,
            levels=[str(x) for x in levels],
        )
    return raw
