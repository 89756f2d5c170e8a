"""Reading tabular files (CSV, Parquet) without guessing.

CSV is UTF-8 with a header row. Only an empty cell is missing: ``NA``/``nan`` are values,
which the column checks of the caller then accept or reject by name. Parquet nulls are
missing. A header that repeats a column name is refused (pandas would silently rename the
second one ``name.1``). Errors name the file and, where it applies, the column.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from oncotrial.errors import DataError

SUFFIXES = (".csv", ".parquet", ".pq")


def read_table(path: str | Path, *, what: str = "file", as_text: bool = False) -> pd.DataFrame:
    """Read a CSV or Parquet file into a data frame.

    ``what`` names the file in messages ("screening file"). With ``as_text`` every CSV cell
    is kept as text (empty cells as ``""``) for a caller that validates types itself;
    otherwise pandas parses numbers and empty cells become missing.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: {what} not found", file=str(path))
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(
            f"{path}: unknown {what} type {suffix!r}; use .csv or .parquet",
            file=str(path),
            value=suffix,
            valid=[".csv", ".parquet"],
        )
    try:
        if suffix != ".csv":
            return pd.read_parquet(path)
        _refuse_repeated_columns(path)
        if as_text:
            return pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding="utf-8-sig",
                skipinitialspace=True,
            )
        return pd.read_csv(
            path, keep_default_na=False, na_values=[""], encoding="utf-8-sig", skipinitialspace=True
        )
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot read the file ({exc})", file=str(path)) from None


def _refuse_repeated_columns(path: Path) -> None:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = [name.strip() for name in next(csv.reader(handle), [])]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(
            f"{path}: duplicated column(s) {', '.join(repeated)}",
            file=str(path),
            column=repeated[0],
        )
