"""Column-contract checks shared by the derivations: every bad cell is named.

Rows in messages are 1-based positions in the frame as given (the first data row is row 1;
in a CSV with a header line, row r is on line r + 1). Numbers are read into
:class:`decimal.Decimal` from their shortest decimal form, so that guideline boundaries such
as "30% decrease" or "3.0 x ULN" are compared exactly as a person computing by hand would
(``1.2 * 1.5`` is ``1.80``, not ``1.7999999999999998``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from oncotrial.errors import DataError, describe_value


def require_columns(df: pd.DataFrame, columns: Iterable[str], dataset: str) -> None:
    """Raise :class:`DataError` naming the first required column that ``df`` lacks."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(
            f"{dataset}: expected a pandas DataFrame, got {type(df).__name__}",
            dataset=dataset,
        )
    for column in columns:
        if column not in df.columns:
            raise DataError(
                f"{dataset}: required column {column!r} is missing; "
                f"the frame has {sorted(map(str, df.columns))}",
                dataset=dataset,
                column=column,
                columns=[str(c) for c in df.columns],
            )


def bad_cell(
    dataset: str, column: str, row: int, value: Any, problem: str, **extra: Any
) -> DataError:
    """A :class:`DataError` for one cell; ``row`` is 0-based here and reported 1-based.

    A date read as a midnight timestamp is shown as its ISO date, as the file wrote it."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        value = value.date().isoformat()
    return DataError(
        f"{dataset}: column {column!r}, row {row + 1}: value {describe_value(value)} {problem}",
        dataset=dataset,
        column=column,
        row=row + 1,
        value=None if _missing(value) else str(value),
        **extra,
    )


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(value is pd.NA or value is pd.NaT)


def is_missing(value: Any) -> bool:
    """True for None, NaN, pd.NA, pd.NaT and blank strings."""
    if isinstance(value, str):
        return value.strip() == ""
    return _missing(value)


def to_decimal(value: Any) -> Decimal:
    """``value`` (int, float, Decimal or numeric text) as an exact Decimal of its shortest form."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise InvalidOperation("a boolean is not a measurement")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidOperation("not finite")
        return Decimal(repr(value))
    if hasattr(value, "item"):  # numpy scalar
        return to_decimal(value.item())
    text = str(value).strip()
    result = Decimal(text)
    if not result.is_finite():
        raise InvalidOperation("not finite")
    return result


def decimal_cells(
    df: pd.DataFrame, column: str, dataset: str, *, minimum: Decimal | None = None
) -> list[Decimal | None]:
    """The cells of ``column`` as Decimals (None where missing); a non-number is a DataError."""
    out: list[Decimal | None] = []
    for i, value in enumerate(df[column].tolist()):
        if is_missing(value):
            out.append(None)
            continue
        try:
            number = to_decimal(value)
        except (InvalidOperation, ValueError, TypeError):
            raise bad_cell(dataset, column, i, value, "is not a number") from None
        if minimum is not None and number < minimum:
            raise bad_cell(
                dataset, column, i, value, f"is below the smallest valid value {minimum}"
            )
        out.append(number)
    return out


def date_cells(df: pd.DataFrame, column: str, dataset: str) -> list[dt.date]:
    """The cells of ``column`` as dates; a missing or unreadable date is a DataError."""
    out: list[dt.date] = []
    for i, value in enumerate(df[column].tolist()):
        if is_missing(value):
            raise bad_cell(dataset, column, i, value, "is missing; every row needs a date")
        try:
            out.append(pd.Timestamp(value).date())
        except (ValueError, TypeError):
            raise bad_cell(
                dataset, column, i, value, "is not a date (use ISO 8601, e.g. 2024-03-15)"
            ) from None
    return out


def code_cells(
    df: pd.DataFrame,
    column: str,
    dataset: str,
    valid: Sequence[str],
    *,
    synonyms: dict[str, str] | None = None,
    missing: str | None = None,
) -> list[str]:
    """The cells of ``column`` as upper-case codes from ``valid`` (after ``synonyms``).

    A missing cell becomes ``missing`` when given, else it is a DataError.
    """
    synonyms = synonyms or {}
    out: list[str] = []
    for i, value in enumerate(df[column].tolist()):
        if is_missing(value):
            if missing is None:
                raise bad_cell(dataset, column, i, value, f"is missing; valid: {list(valid)}")
            out.append(missing)
            continue
        code = " ".join(str(value).strip().upper().split())
        code = synonyms.get(code, code)
        if code not in valid:
            raise bad_cell(
                dataset, column, i, value, f"is not valid; valid: {list(valid)}", valid=list(valid)
            )
        out.append(code)
    return out


def text_cells(df: pd.DataFrame, column: str, dataset: str) -> list[str]:
    """The cells of an identifier column as strings; a missing identifier is a DataError."""
    out: list[str] = []
    for i, value in enumerate(df[column].tolist()):
        if is_missing(value):
            raise bad_cell(dataset, column, i, value, "is missing; every row needs an identifier")
        out.append(str(value).strip())
    return out


def fmt(number: Decimal | float | None) -> str:
    """A number for a trace: no exponent, no trailing zeros (``Decimal('80.0')`` -> ``80``)."""
    if number is None:
        return "NA"
    d = to_decimal(number) if not isinstance(number, Decimal) else number
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    text = format(d.normalize(), "f")
    return text
