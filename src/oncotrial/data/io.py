"""Reading tabular files (CSV, Parquet) without guessing.

CSV is UTF-8 with a header row. Only an empty cell is missing: ``NA``/``nan`` are values,
which the column checks of the caller then accept or reject by name. Parquet nulls are
missing. A header that repeats a column name is refused (pandas would silently rename the
second one ``name.1``). Errors name the file and, where it applies, the column.

Output directories are written atomically (:func:`staged_directory`): files go into a fresh
temporary directory beside the target, which is renamed into place only when all are written.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from oncotrial.errors import DataError, InputError

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


def check_replaceable(out_dir: Path, marker: str, what: str, argument: str) -> None:
    """Refuse an ``out_dir`` that is not a directory, or is a non-empty directory without
    ``marker`` (the file an earlier ``what``, e.g. "report", leaves): only those are replaced."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise InputError(f"{out_dir}: exists and is not a directory", argument=argument)
        if any(out_dir.iterdir()) and not (out_dir / marker).is_file():
            raise InputError(
                f"{out_dir}: directory is not empty and holds no earlier {what} "
                f"({marker}); choose an empty or new directory",
                argument=argument,
                value=str(out_dir),
            )


@contextmanager
def staged_directory(out_dir: Path) -> Iterator[Path]:
    """A fresh temporary directory beside ``out_dir`` to write into; when the block ends
    without error it replaces ``out_dir`` (an earlier one is moved aside, then removed), and
    on any error it is deleted, leaving ``out_dir`` as it was."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        yield tmp
        _swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_into_place(tmp: Path, out_dir: Path) -> None:
    old: Path | None = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        if old is not None:
            os.replace(old, out_dir)
        raise
    os.chmod(out_dir, 0o755)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
