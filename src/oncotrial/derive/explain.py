"""Why a subject's derived values are what they are: the traces of one subject, by dataset.

The traces are the sentences the derivations wrote while deriving (RECIST sums and table
rows, the Table 3 reading of the best response, the censoring rule that decided PFS, the
CTCAE criterion behind each grade, the flags of ADSL...); nothing is re-worded here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from oncotrial.derive.contracts import ADAM
from oncotrial.derive.datasets import READ_SUFFIXES, read_dataset
from oncotrial.derive.options import DerivationOptions
from oncotrial.derive.pipeline import DATASETS, TRACES_NAME, TrialDerivation, derive_datasets
from oncotrial.errors import DataError, InputError
from oncotrial.results import Result, jsonable
from oncotrial.spec import TrialSpec

KEY_COLUMNS = ("ARMCD", "RANDDT", "TRTSDT", "TRTEDT", "DTHDT", "LSTALVDT", "ITTFL", "SAFFL",
               "MEASFL", "EOTSTT", "DCTREAS", "DCUTDT")  # fmt: skip


@dataclass(frozen=True)
class SubjectExplanation(Result):
    """One subject: key ADSL values and the trace sentences grouped by dataset."""

    usubjid: str
    subject: dict[str, Any]
    sections: dict[str, list[str]]

    def summary(self) -> str:
        head = ", ".join(f"{k} {v}" for k, v in self.subject.items() if v not in (None, ""))
        lines = [f"Subject {self.usubjid}: {head}"]
        for name, items in self.sections.items():
            if not items:
                continue
            lines.append(f"{name}:")
            lines.extend(f"  - {item}" for item in items)
        return "\n".join(lines)


def explain_subject(derivation: TrialDerivation, usubjid: str) -> SubjectExplanation:
    """The explanation of ``usubjid`` from a derivation's traces."""
    return _explain(derivation.datasets["ADSL"], derivation.traces, usubjid)


def explain_written(out_dir: str | Path, usubjid: str) -> SubjectExplanation:
    """The explanation of ``usubjid`` from a derivation already written to ``out_dir``
    (its ADSL file and ``traces.json``): nothing is derived again."""
    root = Path(out_dir)
    traces_path = root / TRACES_NAME
    adsl_files = (
        [p for p in sorted(root.glob("adsl.*")) if p.suffix.lower() in READ_SUFFIXES]
        if root.is_dir()
        else []
    )
    if not traces_path.is_file() or not adsl_files:
        raise DataError(
            f"{root}: not an output directory of `oncotrial derive` (needs {TRACES_NAME} and "
            "adsl.csv, .parquet or .xpt)",
            file=str(root),
        )
    adsl = read_dataset(adsl_files[0], ADAM["ADSL"])
    traces = json.loads(traces_path.read_text("utf-8"))
    return _explain(adsl, traces, usubjid)


def _explain(adsl: pd.DataFrame, traces: dict[str, list[str]], usubjid: str) -> SubjectExplanation:
    rows = adsl.loc[adsl["USUBJID"] == usubjid]
    if rows.empty:
        known = list(adsl["USUBJID"])
        raise InputError(
            f"subject {usubjid!r} is not in DM; subjects: {', '.join(known[:10])}"
            + (" ..." if len(known) > 10 else ""),
            argument="subject",
            value=usubjid,
        )
    record = rows.iloc[0]
    subject = {c: _plain(record[c]) for c in KEY_COLUMNS if c in rows.columns}
    sections: dict[str, list[str]] = {name: [] for name in DATASETS}
    for line in traces.get(usubjid, []):
        name, _, text = line.partition(" ")
        sections.setdefault(name, []).append(text)
    return SubjectExplanation(usubjid, subject, sections)


def explain(
    spec: TrialSpec | str | Path,
    raw_dir: str | Path,
    usubjid: str,
    *,
    cutoff: dt.date | str | None = None,
    options: DerivationOptions | str | Path | None = None,
) -> SubjectExplanation:
    """Derive the trial in ``raw_dir`` (nothing written) and explain ``usubjid``;
    ``options``: date imputation and AE grouping (``load_options``)."""
    derived = derive_datasets(spec, raw_dir, cutoff=cutoff, options=options)
    return explain_subject(derived, usubjid)


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return jsonable(value)
