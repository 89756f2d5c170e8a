"""Analysis sets (ITT, safety, measurable disease) and the per-subject trace they share.

Definitions (ICH E9 section 5.2 for the full analysis / intention-to-treat set; the usual
oncology safety set "all patients who received at least one dose of study treatment"; RECIST
1.1 section 3.1 for measurable disease, Eisenhauer et al., Eur J Cancer 2009;45:228-247):

* ``ITTFL = Y`` when the subject was randomized (DM ``RANDDT`` present). ``ARMCD`` must be
  present exactly when ``RANDDT`` is (DATA_MODEL.md: both empty when not randomized).
* ``SAFFL = Y`` when any EX row of the subject has ``EXDOSE > 0`` (a row with dose 0 is a
  held period and does not count as a dose).
* ``MEASFL = Y`` when the subject's baseline tumour assessment has at least one ``TARGET``
  lesion (RECIST target lesions are measurable by definition: the investigator chose them
  among lesions >= 10 mm, nodes >= 15 mm short axis; sizes are not re-checked here). The
  baseline assessment is the rows flagged ``ABLFL = Y`` when TR has that column, else the
  subject's earliest ``TRDTC`` (the rule of :mod:`oncotrial.derive.recist`).

This module also holds what the safety, exposure, laboratory and biomarker derivations
share: :class:`SubjectTrace` (one sentence per derived value) and the reading of an
ADSL-like frame (USUBJID, arm, TRTSDT, TRTEDT) into :class:`TreatedSubject` records.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from oncotrial.derive._columns import (
    bad_cell,
    code_cells,
    decimal_cells,
    fmt,
    is_missing,
    require_columns,
    text_cells,
)
from oncotrial.errors import DataError
from oncotrial.results import Result

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------- shared pieces


@dataclass(frozen=True)
class SubjectTrace(Result):
    """Why one derived value is what it is: ``text`` is a sentence with the numbers.

    ``dataset`` is the analysis dataset (ADSL, ADAE, ADLB, ADEX), ``variable`` the derived
    variable (e.g. ``TRTEMFL``), ``key`` identifies the record within the subject (e.g.
    ``AESEQ 3``, ``NEUT 2024-02-01``, ``palbociclib``; empty for subject-level values).
    """

    usubjid: str
    dataset: str
    variable: str
    key: str
    value: str
    text: str


def traces_frame(traces: Sequence[SubjectTrace]) -> pd.DataFrame:
    """The traces as a frame with columns USUBJID, DATASET, VARIABLE, KEY, VALUE, TEXT."""
    columns = ["USUBJID", "DATASET", "VARIABLE", "KEY", "VALUE", "TEXT"]
    return pd.DataFrame(
        [(t.usubjid, t.dataset, t.variable, t.key, t.value, t.text) for t in traces],
        columns=columns,
    )


def traces_for(traces: Iterable[SubjectTrace], usubjid: str) -> list[str]:
    """The trace sentences of one subject, each prefixed by ``VARIABLE [key]=value``."""
    out = []
    for t in traces:
        if t.usubjid == usubjid:
            key = f" [{t.key}]" if t.key else ""
            out.append(f"{t.dataset}.{t.variable}{key} = {t.value or '(empty)'}: {t.text}")
    return out


class TracedData(Result):
    """Mixin for a derived dataset ``data`` kept with the ``traces`` of its derivations:
    ``to_frame`` is a copy of ``data``, ``explain`` one subject's trace sentences."""

    data: pd.DataFrame
    traces: tuple[SubjectTrace, ...]

    def to_frame(self) -> pd.DataFrame:
        return self.data.copy()

    def explain(self, usubjid: str) -> list[str]:
        return traces_for(self.traces, usubjid)


def parse_date(value: object, dataset: str, column: str, row: int) -> dt.date | None:
    """One date cell: None when missing; text must be a full ISO 8601 date ``YYYY-MM-DD``.

    ``row`` is 0-based. Partial dates (``2024-03``) are errors (DATA_MODEL.md: no imputation).
    """
    if is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    text = str(value).strip()
    if _ISO_DATE.match(text[:10]) and (len(text) == 10 or text[10] == "T"):
        with contextlib.suppress(ValueError):  # 2024-02-30 falls through to the error
            return dt.date.fromisoformat(text[:10])
    raise bad_cell(
        dataset, column, row, value, "is not a full date (use ISO 8601 YYYY-MM-DD, e.g. 2024-03-15)"
    )


def optional_dates(df: pd.DataFrame, column: str, dataset: str) -> list[dt.date | None]:
    """The cells of ``column`` as dates, None where empty."""
    return [parse_date(v, dataset, column, i) for i, v in enumerate(df[column].tolist())]


def required_dates(df: pd.DataFrame, column: str, dataset: str) -> list[dt.date]:
    """The cells of ``column`` as dates; an empty cell is a DataError."""
    out = []
    for i, value in enumerate(df[column].tolist()):
        date = parse_date(value, dataset, column, i)
        if date is None:
            raise bad_cell(dataset, column, i, value, "is missing; every row needs a date")
        out.append(date)
    return out


@dataclass(frozen=True)
class TreatedSubject:
    """One subject of an ADSL-like frame: arm and first/last dose dates (None if untreated)."""

    usubjid: str
    arm: str
    trtsdt: dt.date | None
    trtedt: dt.date | None
    row: int  # 0-based row in the ADSL-like frame


def read_subjects(
    adsl: pd.DataFrame, *, arm_column: str = "ARMCD", dataset: str = "ADSL"
) -> dict[str, TreatedSubject]:
    """USUBJID -> :class:`TreatedSubject` from a frame with USUBJID, arm, TRTSDT, TRTEDT.

    Checks: one row per subject; TRTEDT only with TRTSDT, and not before it. TRTEDT may be
    empty for a subject still on treatment.
    """
    require_columns(adsl, ("USUBJID", arm_column, "TRTSDT", "TRTEDT"), dataset)
    adsl = adsl.reset_index(drop=True)
    ids = text_cells(adsl, "USUBJID", dataset)
    starts = optional_dates(adsl, "TRTSDT", dataset)
    ends = optional_dates(adsl, "TRTEDT", dataset)
    subject_rows(ids, dataset)
    out: dict[str, TreatedSubject] = {}
    for i, usubjid in enumerate(ids):
        start, end = starts[i], ends[i]
        if end is not None and start is None:
            raise bad_cell(dataset, "TRTEDT", i, end.isoformat(), "is given without TRTSDT")
        if end is not None and start is not None and end < start:
            raise bad_cell(
                dataset, "TRTEDT", i, end.isoformat(), f"is before TRTSDT {start.isoformat()}"
            )
        arm_value = adsl[arm_column].iloc[i]
        arm = "" if is_missing(arm_value) else str(arm_value).strip()
        out[usubjid] = TreatedSubject(usubjid, arm, start, end, i)
    return out


def subject_rows(ids: list[str], dataset: str) -> dict[str, int]:
    """USUBJID -> its (0-based) row; a :class:`DataError` naming both rows if a subject
    has two (these datasets hold one row per subject)."""
    rows: dict[str, int] = {}
    for i, usubjid in enumerate(ids):
        if usubjid in rows:
            raise bad_cell(
                dataset,
                "USUBJID",
                i,
                usubjid,
                f"repeats row {rows[usubjid] + 1}; one row per subject",
            )
        rows[usubjid] = i
    return rows


def unknown_subject(
    dataset: str, row: int, usubjid: str, subjects: dict[str, TreatedSubject], source: str
) -> DataError:
    """A DataError for a record whose subject is not in the subject-level frame."""
    return bad_cell(
        dataset,
        "USUBJID",
        row,
        usubjid,
        f"is not a subject of {source} ({len(subjects)} subjects)",
    )


# --------------------------------------------------------------------------- analysis sets


@dataclass(frozen=True)
class AnalysisSets(Result):
    """ITTFL, SAFFL, MEASFL per subject (``data``) with one trace per flag."""

    data: pd.DataFrame  # USUBJID, ARMCD, ITTFL, SAFFL, MEASFL
    traces: tuple[SubjectTrace, ...]

    def to_frame(self) -> pd.DataFrame:
        return self.data.copy()

    def counts(self) -> dict[str, int]:
        """Number of subjects in each set (and ``N`` screened)."""
        out = {"N": len(self.data)}
        for flag in ("ITTFL", "SAFFL", "MEASFL"):
            out[flag] = int((self.data[flag] == "Y").sum())
        return out

    def summary(self) -> str:
        c = self.counts()
        lines = [
            f"Analysis sets of {c['N']} subjects: ITT {c['ITTFL']}, safety {c['SAFFL']}, "
            f"measurable disease {c['MEASFL']}"
        ]
        lines.extend(f"  {t.usubjid} {t.variable}={t.value}: {t.text}" for t in self.traces)
        return "\n".join(lines)


def analysis_sets(
    dm: pd.DataFrame,
    ex: pd.DataFrame,
    tr: pd.DataFrame,
    *,
    dm_name: str = "DM",
    ex_name: str = "EX",
    tr_name: str = "TR",
) -> AnalysisSets:
    """ITTFL (randomized), SAFFL (any dose > 0), MEASFL (a baseline TARGET lesion) per subject.

    ``dm`` needs USUBJID, ARMCD, RANDDT; ``ex`` USUBJID, EXTRT, EXDOSE, EXSTDTC; ``tr``
    USUBJID, TRGRPID, TRLNKID and the date in TRDTC (or ADT), optional ABLFL. Every subject
    of EX and TR must be in DM. See the module docstring for the rules.
    """
    require_columns(dm, ("USUBJID", "ARMCD", "RANDDT"), dm_name)
    require_columns(ex, ("USUBJID", "EXTRT", "EXDOSE", "EXSTDTC"), ex_name)
    tr_date = "TRDTC" if "TRDTC" in tr.columns else "ADT"
    require_columns(tr, ("USUBJID", "TRGRPID", "TRLNKID", tr_date), tr_name)
    dm, ex, tr = (f.reset_index(drop=True) for f in (dm, ex, tr))

    ids = text_cells(dm, "USUBJID", dm_name)
    randdt = optional_dates(dm, "RANDDT", dm_name)
    rows = subject_rows(ids, dm_name)

    traces: list[SubjectTrace] = []
    records = []
    doses = _first_doses(ex, rows, ex_name, dm_name)
    baselines = _baseline_targets(tr, tr_date, rows, tr_name, dm_name)
    for i, usubjid in enumerate(ids):
        arm_value = dm["ARMCD"].iloc[i]
        arm = "" if is_missing(arm_value) else str(arm_value).strip()
        itt, itt_text = _itt(dm_name, i, arm, randdt[i])
        saf, saf_text = doses.get(usubjid, ("N", f"no {ex_name} record"))
        meas, meas_text = baselines.get(usubjid, ("N", f"no {tr_name} record"))
        records.append((usubjid, arm, itt, saf, meas))
        traces.append(SubjectTrace(usubjid, "ADSL", "ITTFL", "", itt, itt_text))
        traces.append(SubjectTrace(usubjid, "ADSL", "SAFFL", "", saf, saf_text))
        traces.append(SubjectTrace(usubjid, "ADSL", "MEASFL", "", meas, meas_text))
    data = pd.DataFrame(records, columns=["USUBJID", "ARMCD", "ITTFL", "SAFFL", "MEASFL"])
    return AnalysisSets(data, tuple(traces))


def _itt(dataset: str, row: int, arm: str, randdt: dt.date | None) -> tuple[str, str]:
    if randdt is None and arm:
        raise bad_cell(dataset, "RANDDT", row, None, f"is missing although ARMCD is {arm!r}")
    if randdt is not None and not arm:
        raise bad_cell(
            dataset, "ARMCD", row, None, f"is missing although RANDDT is {randdt.isoformat()}"
        )
    if randdt is None:
        return "N", "not randomized (RANDDT empty)"
    return "Y", f"randomized to {arm} on {randdt.isoformat()}"


def _first_doses(
    ex: pd.DataFrame, subjects: dict[str, int], dataset: str, source: str
) -> dict[str, tuple[str, str]]:
    ids = text_cells(ex, "USUBJID", dataset)
    doses = decimal_cells(ex, "EXDOSE", dataset)
    starts = required_dates(ex, "EXSTDTC", dataset)
    seen: dict[str, list[int]] = {}
    for i, usubjid in enumerate(ids):
        if usubjid not in subjects:
            raise bad_cell(dataset, "USUBJID", i, usubjid, f"is not a subject of {source}")
        dose = doses[i]
        if dose is not None and dose < 0:
            raise bad_cell(dataset, "EXDOSE", i, ex["EXDOSE"].iloc[i], "is negative; valid: >= 0")
        seen.setdefault(usubjid, []).append(i)
    out: dict[str, tuple[str, str]] = {}
    for usubjid, rows in seen.items():
        dosed = [i for i in rows if doses[i] is not None and doses[i] > 0]  # type: ignore[operator]
        if dosed:
            first = min(dosed, key=lambda i: (starts[i], i))
            out[usubjid] = (
                "Y",
                f"{dataset} row {first + 1}: {ex['EXTRT'].iloc[first]} {fmt(doses[first])} "
                f"from {starts[first].isoformat()} (dose > 0)",
            )
        else:
            out[usubjid] = (
                "N",
                f"{len(rows)} {dataset} record(s), none with dose > 0 (rows "
                f"{', '.join(str(i + 1) for i in rows)})",
            )
    return out


def _baseline_targets(
    tr: pd.DataFrame, date_column: str, subjects: dict[str, int], dataset: str, source: str
) -> dict[str, tuple[str, str]]:
    ids = text_cells(tr, "USUBJID", dataset)
    dates = required_dates(tr, date_column, dataset)
    groups = code_cells(tr, "TRGRPID", dataset, ("TARGET", "NON-TARGET", "NEW"))
    flagged = (
        code_cells(tr, "ABLFL", dataset, ("Y", "N"), missing="N") if "ABLFL" in tr.columns else None
    )
    by_subject: dict[str, list[int]] = {}
    for i, usubjid in enumerate(ids):
        if usubjid not in subjects:
            raise bad_cell(dataset, "USUBJID", i, usubjid, f"is not a subject of {source}")
        by_subject.setdefault(usubjid, []).append(i)
    out: dict[str, tuple[str, str]] = {}
    for usubjid, rows in by_subject.items():
        if flagged is not None:
            base = [i for i in rows if flagged[i] == "Y"]
            how = "rows flagged ABLFL=Y"
        else:
            first = min(dates[i] for i in rows)
            base = [i for i in rows if dates[i] == first]
            how = f"earliest assessment {first.isoformat()}"
        if not base:
            out[usubjid] = ("N", f"no baseline assessment ({how}: none)")
            continue
        lesions = sorted({str(tr["TRLNKID"].iloc[i]) for i in base if groups[i] == "TARGET"})
        if lesions:
            out[usubjid] = (
                "Y",
                f"{len(lesions)} TARGET lesion(s) at baseline ({how}): {', '.join(lesions)}",
            )
        else:
            out[usubjid] = ("N", f"no TARGET lesion at baseline ({how}); non-target disease only")
    return out
