"""ADLB: CTCAE v5.0 grade of every laboratory record, baseline grade, worst post-baseline
grade and the shift from baseline.

Method: the grades come from :func:`oncotrial.derive.ctcae.grade_labs` (NCI CTCAE v5.0, the
criteria kept as data in ``ctcae_v5_labs.yaml``; SI and conventional units). This module adds
the ADaM BDS timing variables (CDISC ADaM IG 1.3, section 3.3; ADaM "Lab toxicity grading"
variables ATOXGR/BTOXGR):

* **Baseline record** (``ABLFL = Y``) per subject and test: the record flagged
  ``LBBLFL = Y`` when there is one; else the last record with a value on or before the
  first dose TRTSDT (the ADaM convention "last non-missing value before treatment"). No
  such record -> no baseline (baseline-dependent CTCAE criteria then assume a normal
  baseline, as :mod:`oncotrial.derive.ctcae` documents).
* **Post-baseline** (``ONTRTFL = Y``): not the baseline record and ADT after TRTSDT
  (strictly; a day-1 record is taken as pre-dose), and, when ``window_days`` is given, ADT on
  or before TRTEDT + ``window_days``. A subject never dosed has no post-baseline record.
* ``BTOXGR`` is the grade of the baseline record (the baseline itself is graded on the ULN
  criteria); ``WTOXGR`` the worst (highest) ``ATOXGR`` of the post-baseline records; records
  that cannot be graded (a missing value or a needed normal limit) are left out of the worst
  grade. The shift is ``BTOXGR`` -> ``WTOXGR``.
* Only the CTCAE-graded tests are in ADLB; the others are listed in ``ignored_tests``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from oncotrial.derive._columns import (
    bad_cell,
    code_cells,
    decimal_cells,
    is_missing,
    require_columns,
    text_cells,
)
from oncotrial.derive.ctcae import REQUIRED as CTCAE_REQUIRED
from oncotrial.derive.ctcae import LabGrade, ctcae_lab_terms, grade_labs
from oncotrial.derive.populations import (
    SubjectTrace,
    TracedData,
    TreatedSubject,
    read_subjects,
    required_dates,
    unknown_subject,
)
from oncotrial.derive.safety import study_day
from oncotrial.errors import InputError

REQUIRED = (*CTCAE_REQUIRED, "LBDTC")


@dataclass(frozen=True)
class Adlb(TracedData):
    """ADLB records (``data``), per subject and test shifts (``shifts``) and their traces."""

    data: pd.DataFrame
    shifts: pd.DataFrame
    traces: tuple[SubjectTrace, ...]
    ignored_tests: tuple[str, ...]
    window_days: int | None
    arm_column: str = "ARMCD"

    def summary(self) -> str:
        graded = int(self.data["ATOXGR"].notna().sum())
        worst3 = int((self.shifts["WTOXGR"] >= 3).fillna(False).sum())
        return (
            f"ADLB: {len(self.data)} records of {self.data['LBTESTCD'].nunique()} CTCAE-graded "
            f"tests, {graded} graded; {worst3} subject-test pairs with a worst post-baseline "
            f"grade >= 3"
            + (f"; not graded: {', '.join(self.ignored_tests)}" if self.ignored_tests else "")
        )


def derive_adlb(
    lb: pd.DataFrame,
    adsl: pd.DataFrame,
    *,
    baseline_flag: str = "LBBLFL",
    window_days: int | None = None,
    arm_column: str = "ARMCD",
    dataset: str = "LB",
    adsl_name: str = "ADSL",
) -> Adlb:
    """ADLB from an LB-like frame and an ADSL-like frame (USUBJID, arm, TRTSDT, TRTEDT).

    ``baseline_flag`` names LB's baseline flag column (optional in the frame);
    ``window_days`` bounds post-baseline records to TRTEDT + window (None: no bound).
    """
    if window_days is not None and (
        isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 0
    ):
        raise InputError(
            f"window_days: {window_days!r} is not valid; give None or a whole number >= 0",
            argument="window_days",
        )
    subjects = read_subjects(adsl, arm_column=arm_column, dataset=adsl_name)
    require_columns(lb, REQUIRED, dataset)
    lb = lb.reset_index(drop=True)
    ids = text_cells(lb, "USUBJID", dataset)
    for i, usubjid in enumerate(ids):
        if usubjid not in subjects:
            raise unknown_subject(dataset, i, usubjid, subjects, adsl_name)
    dates = required_dates(lb, "LBDTC", dataset)
    tests = [None if is_missing(v) else str(v).strip().upper() for v in lb["LBTESTCD"]]
    values = decimal_cells(lb, "LBSTRESN", dataset)
    base_rows, base_how = _baselines(
        lb, ids, tests, dates, values, subjects, baseline_flag, dataset
    )

    flagged = lb.assign(ABLFL=["Y" if i in base_rows else "N" for i in range(len(lb))])
    grades = grade_labs(flagged, baseline_flag="ABLFL", dataset=dataset)
    by_row: dict[int, LabGrade] = {g.row - 1: g for g in grades.grades}

    records = []
    traces: list[SubjectTrace] = []
    baseline_of = {(ids[i], str(tests[i])): i for i in base_rows}
    for i in sorted(by_row):
        g = by_row[i]
        subject = subjects[ids[i]]
        base_row = baseline_of.get((ids[i], g.lbtestcd))
        on_trt, why_on = _post_baseline(i in base_rows, dates[i], subject, window_days)
        records.append(
            {
                "USUBJID": ids[i],
                arm_column: subject.arm,
                "LBTESTCD": g.lbtestcd,
                "ATOXDSC": g.term,
                "ADT": dates[i],
                "ADY": study_day(dates[i], subject.trtsdt),
                "AVAL": g.value,
                "AVALU": g.unit,
                "ANRLO": g.lln,
                "ANRHI": g.uln,
                "ABLFL": "Y" if i in base_rows else "N",
                "ONTRTFL": on_trt,
                "ATOXGR": g.grade,
                "BTOXGR": None if base_row is None else by_row[base_row].grade,
                "SRCROW": i + 1,
            }
        )
        key = f"{g.lbtestcd} {dates[i].isoformat()} row {i + 1}"
        value = "" if g.grade is None else str(g.grade)
        traces.append(SubjectTrace(ids[i], "ADLB", "ATOXGR", key, value, f"{g.trace}; {why_on}"))
    columns = [
        "USUBJID", arm_column, "LBTESTCD", "ATOXDSC", "ADT", "ADY", "AVAL", "AVALU", "ANRLO",
        "ANRHI", "ABLFL", "ONTRTFL", "ATOXGR", "BTOXGR", "SRCROW",
    ]  # fmt: skip
    data = pd.DataFrame(records, columns=columns)
    for column in ("ADY", "ATOXGR", "BTOXGR", "SRCROW"):
        data[column] = data[column].astype("Int64")
    shifts, shift_traces = _shifts(data, base_how, subjects, arm_column, window_days, by_row)
    traces.extend(shift_traces)
    return Adlb(data, shifts, tuple(traces), grades.ignored_tests, window_days, arm_column)


def _baselines(
    lb: pd.DataFrame,
    ids: list[str],
    tests: list[str | None],
    dates: list[dt.date],
    values: Sequence[Decimal | None],
    subjects: dict[str, TreatedSubject],
    baseline_flag: str,
    dataset: str,
) -> tuple[set[int], dict[tuple[str, str], str]]:
    """Rows that are baseline records, and per (subject, test) how the baseline was chosen."""
    terms = ctcae_lab_terms()
    flags = (
        code_cells(lb, baseline_flag, dataset, ("Y", "N"), missing="N")
        if baseline_flag in lb.columns
        else ["N"] * len(lb)
    )
    chosen: dict[tuple[str, str], int] = {}
    how: dict[tuple[str, str], str] = {}
    for i, test in enumerate(tests):
        if test in terms and flags[i] == "Y":
            key = (ids[i], test)
            if key in chosen:
                raise bad_cell(
                    dataset,
                    baseline_flag,
                    i,
                    "Y",
                    f"marks a second baseline of {test} for subject {ids[i]!r} (first on row "
                    f"{chosen[key] + 1}); one baseline per test",
                )
            chosen[key] = i
            how[key] = f"row {i + 1} ({dates[i].isoformat()}) flagged {baseline_flag} = Y"
    candidates: dict[tuple[str, str], int] = {}
    for i, test in enumerate(tests):
        if test not in terms or values[i] is None:
            continue
        key = (ids[i], test)
        start = subjects[ids[i]].trtsdt
        if key in chosen or start is None or dates[i] > start:
            continue
        best = candidates.get(key)
        if best is None or dates[i] >= dates[best]:
            candidates[key] = i
    for key, i in candidates.items():
        chosen[key] = i
        start = subjects[key[0]].trtsdt
        assert start is not None
        how[key] = (
            f"row {i + 1} ({dates[i].isoformat()}): last value on or before first dose "
            f"{start.isoformat()} (no {baseline_flag} = Y record)"
        )
    return set(chosen.values()), how


def _post_baseline(
    is_baseline: bool, date: dt.date, subject: TreatedSubject, window_days: int | None
) -> tuple[str, str]:
    if is_baseline:
        return "N", "baseline record"
    if subject.trtsdt is None:
        return "N", "not post-baseline: subject never dosed"
    if date <= subject.trtsdt:
        return (
            "N",
            f"not post-baseline: {date.isoformat()} is not after first dose {subject.trtsdt}",
        )
    if window_days is not None and subject.trtedt is not None:
        limit = subject.trtedt + dt.timedelta(days=window_days)
        if date > limit:
            return "N", (
                f"not post-baseline: {date.isoformat()} is after last dose {subject.trtedt} + "
                f"{window_days} days = {limit.isoformat()}"
            )
    return "Y", f"post-baseline: {date.isoformat()} is after first dose {subject.trtsdt}"


def _shifts(
    data: pd.DataFrame,
    base_how: dict[tuple[str, str], str],
    subjects: dict[str, TreatedSubject],
    arm_column: str,
    window_days: int | None,
    by_row: dict[int, LabGrade],
) -> tuple[pd.DataFrame, list[SubjectTrace]]:
    rows = []
    traces = []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for raw_record in data[
        ["USUBJID", "LBTESTCD", "ATOXDSC", "ABLFL", "ONTRTFL", "ATOXGR", "ADT", "SRCROW"]
    ].to_dict(orient="records"):
        record = {str(k): v for k, v in raw_record.items()}
        groups.setdefault((str(record["USUBJID"]), str(record["LBTESTCD"])), []).append(record)
    for key in sorted(groups):
        group = groups[key]
        base = [r for r in group if r["ABLFL"] == "Y"]
        btox = None if not base or is_missing(base[0]["ATOXGR"]) else int(base[0]["ATOXGR"])
        if not base:
            base_text = "no baseline record (none flagged, none on or before first dose)"
        else:
            base_text = (
                f"baseline {base_how[key]}: grade {'not gradable' if btox is None else btox}"
            )
        post = [r for r in group if r["ONTRTFL"] == "Y" and not is_missing(r["ATOXGR"])]
        if not post:
            wtox = None
            worst_date = None
            worst_text = "no gradable post-baseline record"
        else:
            wtox = max(int(r["ATOXGR"]) for r in post)
            hit = next(r for r in post if int(r["ATOXGR"]) == wtox)
            worst_date = hit["ADT"]
            worst_text = (
                f"worst of {len(post)} gradable post-baseline record(s): grade {wtox} on "
                f"{worst_date.isoformat()} (LB row {int(hit['SRCROW'])})"
            )
        shift = f"{'missing' if btox is None else btox} to {'missing' if wtox is None else wtox}"
        rows.append(
            {
                "USUBJID": key[0],
                arm_column: subjects[key[0]].arm,
                "LBTESTCD": key[1],
                "ATOXDSC": group[0]["ATOXDSC"],
                "BTOXGR": btox,
                "WTOXGR": wtox,
                "WTOXDT": worst_date,
                "SHIFT": shift,
            }
        )
        traces.append(
            SubjectTrace(
                key[0], "ADLB", "BTOXGR", key[1], "" if btox is None else str(btox), base_text
            )
        )
        traces.append(
            SubjectTrace(
                key[0], "ADLB", "WTOXGR", key[1], "" if wtox is None else str(wtox), worst_text
            )
        )
        traces.append(
            SubjectTrace(key[0], "ADLB", "SHIFT", key[1], shift, f"{base_text}; {worst_text}")
        )
    columns = ["USUBJID", arm_column, "LBTESTCD", "ATOXDSC", "BTOXGR", "WTOXGR", "WTOXDT", "SHIFT"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("BTOXGR", "WTOXGR"):
        frame[column] = frame[column].astype("Int64")
    return frame, traces


def shift_table(shifts: pd.DataFrame, *, arm_column: str = "ARMCD") -> pd.DataFrame:
    """Subjects by test, arm, baseline grade and worst post-baseline grade (``Adlb.shifts``).

    Columns: LBTESTCD, the arm, BTOXGR, WTOXGR (``missing`` where empty), N.
    """
    require_columns(shifts, ("USUBJID", arm_column, "LBTESTCD", "BTOXGR", "WTOXGR"), "shifts")
    frame = shifts.assign(
        BTOXGR=[("missing" if pd.isna(v) else str(int(v))) for v in shifts["BTOXGR"]],
        WTOXGR=[("missing" if pd.isna(v) else str(int(v))) for v in shifts["WTOXGR"]],
    )
    out = frame.groupby(["LBTESTCD", arm_column, "BTOXGR", "WTOXGR"], sort=True)["USUBJID"]
    return out.nunique().rename("N").reset_index()
