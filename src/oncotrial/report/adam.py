"""Reading a trial's analysis datasets (ADaM-like, docs/DATA_MODEL.md) for the report.

Each dataset is one file in the analysis directory, named by the lower-case dataset name
(``adsl.csv``, ``adtte.parquet``, ``adrs.xpt``...), and is read through its column contract
(:data:`oncotrial.derive.contracts.ADAM`), so a missing dataset, a missing column or a bad
cell is a :class:`~oncotrial.errors.DataError` naming the file, the column, the row and what
is valid. ADTR (target-lesion sums, for the waterfall plot) has no contract; it is optional
and its columns are checked when present.

The spec's subject attributes, which ADSL carries under their spec names, are typed with the
spec's attribute types by :func:`oncotrial.screening.coerce_records` (the same reading as
eligibility screening), so subgroup rules and baseline tables see numbers, booleans and
categories, not text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from oncotrial.derive._columns import require_columns
from oncotrial.derive.contracts import ADAM, conform
from oncotrial.derive.datasets import READ_SUFFIXES, read_frame
from oncotrial.errors import DataError
from oncotrial.screening import coerce_records
from oncotrial.spec import TrialSpec

REQUIRED = ("ADSL", "ADTTE", "ADRS", "ADAE", "ADEX")
OPTIONAL = ("ADTR",)
ADTR_COLUMNS = ("USUBJID", "PARAMCD", "PCHG", "ABLFL")


@dataclass(frozen=True, eq=False)
class AdamData:
    """The analysis datasets of one trial, typed, with the files they came from."""

    frames: dict[str, pd.DataFrame]
    files: dict[str, str]
    attributes: pd.DataFrame = field(repr=False)
    cutoff: dt.date | None

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    def get(self, name: str) -> pd.DataFrame | None:
        return self.frames.get(name)

    @property
    def cutoff_text(self) -> str:
        """``Data cut 2023-02-02`` or, when the derivation applied no cut, say so."""
        if self.cutoff is None:
            return "Data cut: none applied (all data received)"
        return f"Data cut: {self.cutoff.isoformat()}"


def dataset_file(adam_dir: Path, name: str) -> Path | None:
    """The one file of dataset ``name`` in ``adam_dir``; two candidates are an error."""
    found = [
        p
        for p in sorted(adam_dir.iterdir())
        if p.is_file() and p.stem.upper() == name and p.suffix.lower() in READ_SUFFIXES
    ]
    if len(found) > 1:
        raise DataError(
            f"{adam_dir}: dataset {name} is given {len(found)} times "
            f"({', '.join(p.name for p in found)}); keep one file per dataset",
            file=str(adam_dir),
            dataset=name,
            value=[p.name for p in found],
        )
    return found[0] if found else None


def read_adam(adam_dir: str | Path, spec: TrialSpec) -> AdamData:
    """Read ADSL, ADTTE, ADRS, ADAE, ADEX (required) and ADTR (optional) from ``adam_dir``."""
    root = Path(adam_dir)
    if not root.is_dir():
        raise DataError(
            f"{root}: analysis data directory not found (make one with `oncotrial derive`)",
            file=str(root),
        )
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    for name in (*REQUIRED, *OPTIONAL):
        path = dataset_file(root, name)
        if path is None:
            if name in OPTIONAL:
                continue
            raise DataError(
                f"{root}: analysis dataset {name} missing; expected a file "
                f"{name.lower()}.csv (or .parquet, .xpt) as `oncotrial derive` writes it",
                file=str(root),
                dataset=name,
                valid=[f"{name.lower()}{s}" for s in (".csv", ".parquet", ".xpt")],
            )
        raw = read_frame(path, what=f"{name} file")
        where = f"{name} ({path.name})"
        if name in ADAM:
            frames[name] = conform(raw, ADAM[name], dataset=where)
        else:
            require_columns(raw, ADTR_COLUMNS, where)
            frame = raw.copy()
            frame["PCHG"] = pd.to_numeric(frame["PCHG"], errors="coerce")
            frames[name] = frame
        files[name] = str(path)
    adsl = frames["ADSL"]
    return AdamData(frames, files, subject_attributes(adsl, spec), _cutoff(adsl))


def subject_attributes(adsl: pd.DataFrame, spec: TrialSpec) -> pd.DataFrame:
    """USUBJID and every spec attribute ADSL carries, typed as the spec says."""
    names = [a.name for a in spec.subject_attributes if a.name in adsl.columns]
    records = adsl[["USUBJID", *names]].astype(object).where(adsl[["USUBJID", *names]].notna())
    typed, _ = coerce_records(
        records,
        [a for a in spec.subject_attributes if a.name in names],
        id_column="USUBJID",
        source="ADSL",
    )
    return typed


def _cutoff(adsl: pd.DataFrame) -> dt.date | None:
    dates = sorted({d.date() for d in pd.to_datetime(adsl["DCUTDT"]).dropna()})
    if len(dates) > 1:
        raise DataError(
            f"ADSL: column 'DCUTDT' holds {len(dates)} different data cut dates; one "
            "analysis has one data cut",
            dataset="ADSL",
            column="DCUTDT",
            value=[d.isoformat() for d in dates],
        )
    return dates[0] if dates else None
