"""Reading and writing raw and analysis datasets: CSV, Parquet and SAS transport (XPT).

Every read goes through the dataset's column contract (:mod:`oncotrial.derive.contracts`),
so a missing column, a wrong type, an impossible date (2024-02-30) or an unknown code is a
:class:`DataError` naming the file, row, column, value and what is valid.

* CSV: UTF-8 with a header row, read as text (only an empty cell is missing, see
  :func:`oncotrial.data.io.read_table`); dates written as ``YYYY-MM-DD``.
* Parquet (pyarrow): dates written as ``date32``.
* XPT via pyreadstat (the SAS Transport format of the FDA Study Data Technical Conformance
  Guide): version 8 by default (``xpt``: names up to 32 characters). ``xpt5`` writes version 5,
  whose names have at most 8 characters: a longer name is written as ``ATTR01``, ``ATTR02``...
  with the long name as its label, and the reader maps it back. SAS names are
  case-insensitive, so a column whose name differs from an earlier one only by case (the
  spec attribute ``age`` next to ADSL ``AGE``) is mapped the same way in both versions.
  Dates are SAS dates (``DATE9.`` format).

Writing is all or nothing: the files go to a temporary directory next to the output directory,
which is renamed into place at the end (:func:`write_outputs`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from oncotrial.data.io import check_replaceable, read_table, staged_directory
from oncotrial.derive.contracts import (
    OPTIONAL_DOMAINS,
    RAW,
    REQUIRED_DOMAINS,
    Contract,
    check_unique,
    conform,
)
from oncotrial.derive.dates import Level
from oncotrial.errors import DataError, InputError

Format = Literal["csv", "parquet", "xpt", "xpt5"]
FORMATS: tuple[str, ...] = ("csv", "parquet", "xpt", "xpt5")
SUFFIX = {"csv": ".csv", "parquet": ".parquet", "xpt": ".xpt", "xpt5": ".xpt"}
READ_SUFFIXES = (".csv", ".parquet", ".pq", ".xpt")
LOG_NAME = "derivation_log.json"
_LONG_NAME = re.compile(r"^ATTR\d{2}$")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- reading


def read_frame(path: str | Path, *, what: str = "dataset") -> pd.DataFrame:
    """A file as read, untyped: CSV cells as text, Parquet/XPT as stored."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix != ".xpt":
        return read_table(path, what=what, as_text=suffix == ".csv")
    if not path.is_file():
        raise DataError(f"{path}: {what} not found", file=str(path))
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_xport(str(path))
    except Exception as exc:  # pyreadstat raises its own exception types
        raise DataError(
            f"{path}: cannot read the SAS transport file ({exc})", file=str(path)
        ) from None
    labels = meta.column_names_to_labels or {}
    renames = {
        name: label
        for name, label in labels.items()
        if _LONG_NAME.match(name) and label and label.isidentifier() and label not in frame.columns
    }
    return frame.rename(columns=renames)


def read_dataset(
    path: str | Path,
    contract: Contract,
    *,
    allowed: Mapping[str, Sequence[str]] | None = None,
    partial: Mapping[str, Level] | None = None,
) -> pd.DataFrame:
    """Read one dataset file and check it against ``contract`` (typed result); ``partial``
    lists the date columns that may hold partial dates (see :func:`contracts.conform`)."""
    path = Path(path)
    frame = read_frame(path, what=f"{contract.name} file")
    typed = conform(
        frame,
        contract,
        dataset=f"{contract.name} ({path.name})",
        allowed=allowed,
        partial=partial,
    )
    check_unique(typed, contract, dataset=f"{contract.name} ({path.name})")
    return typed


@dataclass(frozen=True)
class RawData:
    """The raw domains of one trial as typed frames, with the files they came from."""

    frames: dict[str, pd.DataFrame]
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # domain -> path, sha256
    absent: tuple[str, ...] = ()  # optional domains not given
    ignored: tuple[str, ...] = ()  # other files in the directory

    def get(self, domain: str) -> pd.DataFrame | None:
        return self.frames.get(domain)


def domain_files(raw_dir: str | Path) -> tuple[dict[str, Path], list[str]]:
    """The file of each domain in ``raw_dir`` (``dm.csv``, ``tr.xpt``...) and other files.

    Two files for one domain (``dm.csv`` and ``dm.parquet``) is an error: we never guess.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise DataError(f"{raw_dir}: raw data directory not found", file=str(raw_dir))
    found: dict[str, Path] = {}
    ignored: list[str] = []
    for path in sorted(raw_dir.iterdir()):
        domain = path.stem.upper()
        if not path.is_file() or path.suffix.lower() not in READ_SUFFIXES or domain not in RAW:
            ignored.append(path.name)
            continue
        if domain in found:
            raise DataError(
                f"{raw_dir}: domain {domain} is given twice ({found[domain].name} and "
                f"{path.name}); keep one file per domain",
                file=str(path),
                value=path.name,
            )
        found[domain] = path
    return found, ignored


def read_raw(
    raw_dir: str | Path,
    *,
    allowed: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    partial: Mapping[str, Mapping[str, Level]] | None = None,
) -> RawData:
    """Read every raw domain of ``raw_dir`` through its contract.

    ``allowed`` gives per-domain codes (``{"DM": {"ARMCD": [...]}}``); ``partial`` the
    per-domain date columns that may hold partial dates (``{"AE": {"AESTDTC": "M"}}``).
    A required domain (DM, DS, EX, TR, AE) that is absent is a DataError; optional ones are
    listed in ``absent``.
    """
    found, ignored = domain_files(raw_dir)
    missing = [d for d in REQUIRED_DOMAINS if d not in found]
    if missing:
        raise DataError(
            f"{raw_dir}: required domain(s) {', '.join(missing)} missing; expected files such "
            f"as {', '.join(d.lower() + '.csv' for d in missing)} (docs/DATA_MODEL.md)",
            file=str(raw_dir),
            dataset=missing[0],
            value=missing,
            valid=list(REQUIRED_DOMAINS),
        )
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, dict[str, str]] = {}
    for domain, path in found.items():
        frames[domain] = read_dataset(
            path,
            RAW[domain],
            allowed=(allowed or {}).get(domain),
            partial=(partial or {}).get(domain),
        )
        files[domain] = {"path": str(path), "sha256": sha256(path)}
    absent = tuple(d for d in OPTIONAL_DOMAINS if d not in found)
    return RawData(frames, files, absent, tuple(ignored))


# --------------------------------------------------------------------------- writing


def check_format(fmt: str) -> Format:
    if fmt not in FORMATS:
        raise InputError(
            f"format {fmt!r} is not supported; valid: {', '.join(FORMATS)}",
            argument="format",
            value=fmt,
            valid=list(FORMATS),
        )
    return fmt  # type: ignore[return-value]


def _date_objects(series: pd.Series) -> pd.Series:
    return pd.Series(
        [None if pd.isna(v) else pd.Timestamp(v).date() for v in series],
        index=series.index,
        dtype=object,
    )


_SAS_EPOCH = pd.Timestamp("1960-01-01")


def _sas_dates(series: pd.Series) -> pd.Series:
    """SAS date values: days since 1960-01-01 as numbers (missing stays missing)."""
    days = (pd.to_datetime(series) - _SAS_EPOCH).dt.days
    return days.astype("float64")


def _for_csv(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for name in df.columns:
        series = df[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[name] = ["" if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in series]
        else:
            out[name] = ["" if _blank(v) else _cell_text(v) for v in series]
    return out


def _blank(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _cell_text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (float, np.floating)):
        return repr(float(value)) if not float(value).is_integer() else str(int(value))
    return str(value)


def _for_xpt(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    out = pd.DataFrame(index=df.index)
    formats: dict[str, str] = {}
    for name in df.columns:
        series = df[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[name] = _sas_dates(series)
            formats[name] = "DATE9."
        elif pd.api.types.is_integer_dtype(series) or pd.api.types.is_bool_dtype(series):
            out[name] = series.astype("float64")
        elif pd.api.types.is_float_dtype(series):
            out[name] = series
        else:
            out[name] = ["" if _blank(v) else _cell_text(v) for v in series]
    return out, formats


def write_dataset(df: pd.DataFrame, path: Path, fmt: Format, *, name: str) -> dict[str, str]:
    """Write one dataset; returns the XPT v5 name map (long name -> short), else empty."""
    if fmt == "csv":
        _for_csv(df).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        return {}
    if fmt == "parquet":
        out = df.copy()
        for column in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[column]):
                out[column] = _date_objects(out[column])
        out.to_parquet(path, index=False)
        return {}
    import pyreadstat

    frame, formats = _for_xpt(df)
    name_map: dict[str, str] = {}
    labels: dict[str, str] = {}
    seen: set[str] = set()
    for column in frame.columns:
        # SAS names are case-insensitive (ADSL AGE and the spec attribute age collide)
        if column.upper() in seen or (fmt == "xpt5" and len(column) > 8):
            name_map[column] = f"ATTR{len(name_map) + 1:02d}"
            labels[name_map[column]] = column
        seen.add(column.upper())
    frame = frame.rename(columns=name_map)
    if name_map:
        formats = {name_map.get(k, k): v for k, v in formats.items()}
    pyreadstat.write_xport(
        frame,
        str(path),
        file_format_version=5 if fmt == "xpt5" else 8,
        table_name=name[:8],
        column_labels=[labels.get(c, "") for c in frame.columns],
        variable_format=formats,
    )
    return name_map


def write_outputs(
    out_dir: str | Path,
    datasets: Mapping[str, pd.DataFrame],
    fmt: str | Sequence[str],
    *,
    texts: Mapping[str, str] | None = None,
    texts_fn: Callable[[dict[str, dict[str, str]]], Mapping[str, str]] | None = None,
) -> dict[str, dict[str, str]]:
    """Write ``datasets`` (file stem -> frame) in each format of ``fmt`` and ``texts`` (file
    name -> text) atomically.

    Files are written into a fresh temporary directory beside ``out_dir`` and renamed into
    place at the end, so a failure leaves ``out_dir`` as it was. An existing ``out_dir`` is
    replaced only when it is empty or holds an earlier derivation (it has a
    ``derivation_log.json``), never another directory. ``texts_fn`` receives the XPT v5 name
    maps and returns more texts (the derivation log records the maps). Returns the name maps.
    """
    formats = [check_format(f) for f in ([fmt] if isinstance(fmt, str) else fmt)]
    out_dir = Path(out_dir)
    check_replaceable(out_dir, LOG_NAME, "derivation", "out_dir")
    name_maps: dict[str, dict[str, str]] = {}
    with staged_directory(out_dir) as tmp:
        for one in formats:
            for stem, frame in datasets.items():
                path = tmp / f"{stem.lower()}{SUFFIX[one]}"
                mapping = write_dataset(frame, path, one, name=stem.upper())
                if mapping:
                    name_maps[stem] = mapping
        all_texts = dict(texts or {})
        if texts_fn is not None:
            all_texts.update(texts_fn(name_maps))
        for filename, text in all_texts.items():
            (tmp / filename).write_text(text, encoding="utf-8")
    return name_maps
