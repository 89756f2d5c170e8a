"""RECIST 1.1 time-point responses from lesion measurements.

Method: Eisenhauer EA et al. New response evaluation criteria in solid tumours: revised
RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247 ("RECIST 1.1" below).

* Sum of diameters (section 4.3.1 note and 3.2): longest diameter of non-nodal target lesions
  plus short axis of nodal target lesions.
* Target response (section 4.3.1): PD first (sum >= 20% above the nadir - the smallest sum on
  study before this assessment, baseline included - AND >= 5 mm above it), then CR (every
  non-nodal target at 0 mm and every nodal target < 10 mm short axis), then PR (sum >= 30%
  below the baseline sum), else SD. A subset of target lesions measured gives NE unless the
  measured lesions alone already meet PD (section 4.4.2, "Missing assessments and
  inevaluable designation"). Nodes are measured by short axis and "too small to measure" is
  5 mm (section 4.3.2).
* Non-target response (section 4.3.3) and new lesions (section 4.3.5) from lesion statuses.
* Overall response looked up in RECIST 1.1 Table 1 (target disease) or Table 2 (non-target
  disease only) of section 4.4.1, kept as data in ``recist_tables.yaml``.

Column contract of the TR-like input frame (CDISC SDTM TR / ADaM ADTR names):

=========  =========================================================================
USUBJID    subject identifier
ADT        assessment date (a scan date); all rows of one assessment share it
TRLNKID    lesion identifier, unique within a subject
TRGRPID    lesion class: TARGET, NON-TARGET or NEW
TRTESTCD   TARGET rows: LDIAM (longest diameter) or LPERP (short axis, nodal lesions);
           NON-TARGET and NEW rows: TUMSTATE
TRSTRESN   TARGET rows: the measurement in mm (missing = not evaluated)
TRSTRESC   TARGET rows (optional): NE, or TOO SMALL TO MEASURE (5 mm default, RECIST 1.1
           section 4.3.2); NON-TARGET rows: PRESENT, ABSENT, UNEQUIVOCAL PROGRESSION, NE;
           NEW rows: PRESENT (or UNEQUIVOCAL), EQUIVOCAL, ABSENT
ABLFL      optional: "Y" on baseline rows; without it the earliest ADT of a subject is baseline
NODFL      optional: "Y" for a lymph-node lesion; without it a lesion is nodal when it has an
           LPERP row
VISIT      optional: visit label copied to the result
=========  =========================================================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from oncotrial.derive._columns import (
    bad_cell,
    code_cells,
    date_cells,
    decimal_cells,
    fmt,
    is_missing,
    require_columns,
    text_cells,
)
from oncotrial.errors import DataError
from oncotrial.results import Result

TARGET, NON_TARGET, NEW = "TARGET", "NON-TARGET", "NEW"
LESION_CLASSES = (TARGET, NON_TARGET, NEW)
CLASS_SYNONYMS = {"NON TARGET": NON_TARGET, "NONTARGET": NON_TARGET, "NON_TARGET": NON_TARGET}
TESTCODES = ("LDIAM", "LPERP", "TUMSTATE")
NT_STATUSES = ("PRESENT", "ABSENT", "UNEQUIVOCAL PROGRESSION", "NE")
NEW_STATUSES = ("PRESENT", "UNEQUIVOCAL", "EQUIVOCAL", "ABSENT")
STATUS_SYNONYMS = {
    "NOT EVALUATED": "NE",
    "NOT EVALUABLE": "NE",
    "NOT ASSESSED": "NE",
    "UNEQUIVOCAL PD": "UNEQUIVOCAL PROGRESSION",
    "PD": "UNEQUIVOCAL PROGRESSION",
}
TARGET_NOTES = ("NE", "TOO SMALL TO MEASURE")
REQUIRED = ("USUBJID", "ADT", "TRLNKID", "TRGRPID", "TRTESTCD", "TRSTRESN")

TOO_SMALL_MM = Decimal(5)  # RECIST 1.1 section 4.3.2: "a default value of 5 mm"
NODE_NORMAL_MM = Decimal(10)  # section 4.3.1: nodes must reach short axis < 10 mm for CR
PD_RELATIVE = Decimal("1.2")  # section 4.3.1: at least a 20% increase over the nadir
PD_ABSOLUTE_MM = Decimal(5)  # section 4.3.1: and an absolute increase of at least 5 mm
PR_RELATIVE = Decimal("0.7")  # section 4.3.1: at least a 30% decrease from baseline


# --------------------------------------------------------------------------- tables as data


@dataclass(frozen=True)
class TableRow:
    """One row of RECIST 1.1 Table 1 or Table 2: a cell is a set of accepted codes."""

    table: str
    row: int
    cells: dict[str, frozenset[str]]
    overall: str
    note: str = ""

    def matches(self, values: dict[str, str]) -> bool:
        return all(values[column] in codes for column, codes in self.cells.items())


CODES = {
    "target": ("CR", "PR", "SD", "PD", "NE"),
    "non_target": ("CR", "NON-CR/NON-PD", "PD", "NE", "ND"),
    "new": ("Y", "N"),
}


@cache
def response_tables() -> dict[str, tuple[TableRow, ...]]:
    """RECIST 1.1 Tables 1 and 2 from ``recist_tables.yaml``, checked to be a partition.

    Every combination of codes of a table's columns must match exactly one row, so that a
    lookup can never be ambiguous or fall through.
    """
    text = (resources.files("oncotrial.derive") / "recist_tables.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    tables: dict[str, tuple[TableRow, ...]] = {}
    for name in ("table1", "table2"):
        columns = raw[name]["columns"]
        rows = []
        for entry in raw[name]["rows"]:
            cells = {}
            for column in columns:
                cell = entry[column]
                codes = (
                    CODES[column] if cell == "ANY" else (cell if isinstance(cell, list) else [cell])
                )
                cells[column] = frozenset(str(c) for c in codes)
            rows.append(
                TableRow(
                    name, int(entry["row"]), cells, str(entry["overall"]), entry.get("note", "")
                )
            )
        tables[name] = tuple(rows)
        _check_partition(name, columns, tables[name])
    return tables


def _check_partition(name: str, columns: list[str], rows: tuple[TableRow, ...]) -> None:
    combos: list[dict[str, str]] = [{}]
    for column in columns:
        combos = [{**c, column: code} for c in combos for code in CODES[column]]
    if name == "table2":
        combos = [c for c in combos if c["non_target"] != "ND"]
    for combo in combos:
        hits = [r.row for r in rows if r.matches(combo)]
        if len(hits) != 1:  # pragma: no cover - guards edits of the shipped YAML
            raise RuntimeError(f"recist_tables.yaml {name}: {combo} matches rows {hits}")


def lookup_overall(target: str | None, non_target: str, new: str) -> TableRow:
    """The Table 1 row (``target`` given) or Table 2 row (``target`` None) for the codes."""
    tables = response_tables()
    if target is None:
        values = {"non_target": non_target, "new": new}
        rows = tables["table2"]
    else:
        values = {"target": target, "non_target": non_target, "new": new}
        rows = tables["table1"]
    for row in rows:
        if row.matches(values):
            return row
    raise ValueError(f"no RECIST table row for {values}")  # unreachable: tables are partitions


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class TimepointResponse(Result):
    """RECIST 1.1 response of one subject at one post-baseline assessment, with its trace."""

    usubjid: str
    adt: dt.date
    visit: str | None
    sum_diameters: float | None  # complete sum (None if target lesions missing or none)
    measured_sum: float | None  # sum of the lesions measured (equals sum_diameters if complete)
    n_target_measured: int
    n_target: int
    baseline_sum: float | None
    nadir: float | None  # smallest complete sum before this assessment, baseline included
    pchg_baseline: float | None
    pchg_nadir: float | None
    chg_nadir_mm: float | None
    target_response: str | None  # None: no target lesion at baseline
    non_target_response: str  # ND: no non-target lesion at baseline
    new_lesion: bool
    overall_response: str
    table_row: str  # e.g. "Table 1 row 4"
    trace: str


@dataclass(frozen=True)
class BaselineDisease(Result):
    """A subject's baseline: date, target sum and lesion counts."""

    usubjid: str
    adt: dt.date
    baseline_sum: float | None
    n_target: int
    n_non_target: int
    target_disease: bool


@dataclass(frozen=True)
class RecistTimepoints(Result):
    """Time-point responses of every subject (``to_frame()``: one row per assessment)."""

    responses: tuple[TimepointResponse, ...]
    baselines: tuple[BaselineDisease, ...]
    guideline: str = "RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-247)"
    tables: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        columns = [f.name.upper() for f in TimepointResponse.__dataclass_fields__.values()]
        rows = [{k.upper(): v for k, v in r.to_dict().items()} for r in self.responses]
        frame = pd.DataFrame(rows, columns=columns)
        frame["ADT"] = pd.to_datetime(frame["ADT"])
        return frame

    def summary(self) -> str:
        lines = [
            f"RECIST 1.1 time-point responses: {len(self.baselines)} subjects, "
            f"{len(self.responses)} assessments"
        ]
        for r in self.responses:
            lines.append(f"  {r.usubjid} {r.adt.isoformat()} {r.overall_response:<14} {r.trace}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- lesion frame


@dataclass
class _Row:
    index: int
    usubjid: str
    adt: dt.date
    lesion: str
    klass: str
    testcd: str
    value: Decimal | None
    status: str | None
    baseline: bool
    nodal: bool | None
    visit: str | None


def _read_rows(tr: pd.DataFrame, dataset: str) -> list[_Row]:
    require_columns(tr, REQUIRED, dataset)
    tr = tr.reset_index(drop=True)
    subjects = text_cells(tr, "USUBJID", dataset)
    dates = date_cells(tr, "ADT", dataset)
    lesions = text_cells(tr, "TRLNKID", dataset)
    classes = code_cells(tr, "TRGRPID", dataset, LESION_CLASSES, synonyms=CLASS_SYNONYMS)
    tests = code_cells(tr, "TRTESTCD", dataset, TESTCODES)
    values = decimal_cells(tr, "TRSTRESN", dataset, minimum=Decimal(0))
    statuses: list[str | None] = (
        [
            None if is_missing(v) else " ".join(str(v).strip().upper().split())
            for v in tr["TRSTRESC"]
        ]
        if "TRSTRESC" in tr.columns
        else [None] * len(tr)
    )
    statuses = [STATUS_SYNONYMS.get(s, s) if s is not None else None for s in statuses]
    flags = (
        code_cells(tr, "ABLFL", dataset, ("Y", "N"), missing="N") if "ABLFL" in tr.columns else None
    )
    nodal_flags = (
        code_cells(tr, "NODFL", dataset, ("Y", "N"), synonyms={"YES": "Y", "NO": "N"}, missing="")
        if "NODFL" in tr.columns
        else None
    )
    visits = (
        [None if is_missing(v) else str(v) for v in tr["VISIT"]]
        if "VISIT" in tr.columns
        else [None] * len(tr)
    )
    rows: list[_Row] = []
    for i in range(len(tr)):
        klass, testcd, status = classes[i], tests[i], statuses[i]
        if klass == TARGET:
            if testcd not in ("LDIAM", "LPERP"):
                raise bad_cell(
                    dataset,
                    "TRTESTCD",
                    i,
                    tr["TRTESTCD"].iloc[i],
                    "is not valid for a TARGET lesion; valid: ['LDIAM', 'LPERP']",
                )
            if status is not None and status not in TARGET_NOTES:
                raise bad_cell(
                    dataset,
                    "TRSTRESC",
                    i,
                    tr["TRSTRESC"].iloc[i],
                    f"is not valid for a TARGET lesion; valid: {list(TARGET_NOTES)} or blank",
                )
        else:
            if testcd != "TUMSTATE":
                raise bad_cell(
                    dataset,
                    "TRTESTCD",
                    i,
                    tr["TRTESTCD"].iloc[i],
                    f"is not valid for a {klass} lesion; valid: ['TUMSTATE']",
                )
            valid = NT_STATUSES if klass == NON_TARGET else NEW_STATUSES
            if klass == NON_TARGET and status is None:
                status = "NE"  # a non-target lesion without a status was not evaluated
            if klass == NEW and status is None:
                status = "PRESENT"  # a recorded new lesion without a status is present
            if status not in valid:
                raise bad_cell(
                    dataset,
                    "TRSTRESC",
                    i,
                    tr["TRSTRESC"].iloc[i],
                    f"is not a valid {klass} status; valid: {list(valid)}",
                )
        nodal = None
        if nodal_flags is not None and nodal_flags[i]:
            nodal = nodal_flags[i] == "Y"
        rows.append(
            _Row(
                i,
                subjects[i],
                dates[i],
                lesions[i],
                klass,
                testcd,
                values[i],
                status,
                False if flags is None else flags[i] == "Y",
                nodal,
                visits[i],
            )
        )
    return rows


def _mark_baseline(rows: list[_Row], has_flag: bool, dataset: str) -> dict[str, dt.date]:
    """Baseline date of each subject (ABLFL rows, else the earliest ADT); rows get ``baseline``."""
    by_subject: dict[str, list[_Row]] = {}
    for r in rows:
        by_subject.setdefault(r.usubjid, []).append(r)
    baseline_dates: dict[str, dt.date] = {}
    for subject, srows in by_subject.items():
        if has_flag:
            dates = sorted({r.adt for r in srows if r.baseline})
            if not dates:
                raise DataError(
                    f"{dataset}: subject {subject!r} has no row with ABLFL = 'Y'; "
                    "flag the baseline assessment",
                    dataset=dataset,
                    column="ABLFL",
                    usubjid=subject,
                )
            if len(dates) > 1:
                first = next(r for r in srows if r.baseline and r.adt != dates[0])
                raise bad_cell(
                    dataset,
                    "ADT",
                    first.index,
                    first.adt.isoformat(),
                    f"is a second baseline date for subject {subject!r} (baseline "
                    f"is {dates[0].isoformat()}); one baseline assessment per subject",
                )
            baseline_dates[subject] = dates[0]
        else:
            baseline_dates[subject] = min(r.adt for r in srows)
        for r in srows:
            r.baseline = r.adt == baseline_dates[subject]
        early = [r for r in srows if r.adt < baseline_dates[subject]]
        if early:
            raise bad_cell(
                dataset,
                "ADT",
                early[0].index,
                early[0].adt.isoformat(),
                f"is before the baseline date {baseline_dates[subject].isoformat()} "
                f"of subject {subject!r}",
            )
    return baseline_dates


def _check_duplicates(rows: list[_Row], dataset: str) -> None:
    seen: dict[tuple[str, dt.date, str, str], int] = {}
    for r in rows:
        key = (r.usubjid, r.adt, r.lesion, r.testcd)
        if key in seen:
            raise bad_cell(
                dataset,
                "TRLNKID",
                r.index,
                r.lesion,
                f"repeats row {seen[key] + 1} (same subject, ADT and TRTESTCD "
                f"{r.testcd}); one measurement per lesion and test per assessment",
            )
        seen[key] = r.index


@dataclass
class _Lesion:
    lesion: str
    klass: str
    nodal: bool


def _lesions_at_baseline(srows: list[_Row], dataset: str) -> dict[str, _Lesion]:
    lesions: dict[str, _Lesion] = {}
    all_rows_of: dict[str, list[_Row]] = {}
    for r in srows:
        all_rows_of.setdefault(r.lesion, []).append(r)
    for r in srows:
        if not r.baseline:
            continue
        if r.klass == NEW:
            raise bad_cell(
                dataset,
                "TRGRPID",
                r.index,
                "NEW",
                "is not possible at baseline; baseline lesions are TARGET or NON-TARGET",
            )
        known = lesions.get(r.lesion)
        if known is not None and known.klass != r.klass:
            raise bad_cell(
                dataset,
                "TRGRPID",
                r.index,
                r.klass,
                f"differs from the class {known.klass} of lesion {r.lesion!r} at baseline",
            )
        flags = {x.nodal for x in all_rows_of[r.lesion] if x.nodal is not None}
        if len(flags) > 1:
            raise bad_cell(
                dataset,
                "NODFL",
                r.index,
                r.nodal,
                f"is inconsistent across the rows of lesion {r.lesion!r}",
            )
        nodal = flags.pop() if flags else any(x.testcd == "LPERP" for x in all_rows_of[r.lesion])
        lesions[r.lesion] = _Lesion(r.lesion, r.klass, nodal)
    for r in srows:
        if r.baseline or r.klass == NEW:
            continue
        known = lesions.get(r.lesion)
        if known is None:
            raise bad_cell(
                dataset,
                "TRLNKID",
                r.index,
                r.lesion,
                f"is a {r.klass} lesion not recorded at baseline; a lesion first seen "
                "after baseline must be classed NEW",
            )
        if known.klass != r.klass:
            raise bad_cell(
                dataset,
                "TRGRPID",
                r.index,
                r.klass,
                f"differs from the class {known.klass} of lesion {r.lesion!r} at baseline",
            )
    return lesions


def _target_measure(lesion: _Lesion, rows: list[_Row]) -> tuple[Decimal | None, str]:
    """The lesion's RECIST measurement at one assessment: short axis for nodes, else LDIAM."""
    wanted = "LPERP" if lesion.nodal else "LDIAM"
    for r in rows:
        if r.lesion == lesion.lesion and r.testcd == wanted:
            if r.value is not None:
                return r.value, ""
            if r.status == "TOO SMALL TO MEASURE":
                return TOO_SMALL_MM, " (too small to measure: 5 mm default)"
            return None, ""
    return None, ""


# --------------------------------------------------------------------------- responses


def _pct(value: Decimal, ref: Decimal) -> Decimal | None:
    return None if ref == 0 else (value - ref) / ref * 100


def _meets_pd(total: Decimal, nadir: Decimal) -> bool:
    return total >= PD_RELATIVE * nadir and total - nadir >= PD_ABSOLUTE_MM


def _target_response(
    lesions: list[_Lesion], rows: list[_Row], baseline_sum: Decimal, nadir: Decimal
) -> tuple[str, Decimal | None, Decimal, int, str]:
    """(response, complete sum or None, measured sum, n measured, trace) per section 4.3.1."""
    measures: list[tuple[_Lesion, Decimal | None]] = []
    notes = []
    for lesion in lesions:
        value, note = _target_measure(lesion, rows)
        measures.append((lesion, value))
        if note:
            notes.append(f"{lesion.lesion}{note}")
    measured = [v for _, v in measures if v is not None]
    measured_sum = sum(measured, Decimal(0))
    n = len(measured)
    extra = f"; {', '.join(notes)}" if notes else ""
    growth = measured_sum - nadir
    pd_text = (
        f"{fmt(measured_sum)} mm is >= 120% of nadir {fmt(nadir)} and +{fmt(growth)} mm >= 5 mm"
    )
    if n < len(lesions):
        missing = [lesion.lesion for lesion, v in measures if v is None]
        if _meets_pd(measured_sum, nadir):
            return (
                "PD",
                None,
                measured_sum,
                n,
                f"target: {n}/{len(lesions)} measured (not {', '.join(missing)}) but their sum "
                f"{pd_text} -> PD{extra}",
            )
        return (
            "NE",
            None,
            measured_sum,
            n,
            f"target: {n}/{len(lesions)} measured (not {', '.join(missing)}), measured sum "
            f"{fmt(measured_sum)} mm does not meet PD -> NE{extra}",
        )
    total = measured_sum
    head = f"target: sum {fmt(total)} mm (baseline {fmt(baseline_sum)}, nadir {fmt(nadir)})"
    if _meets_pd(total, nadir):
        return "PD", total, total, n, f"{head}: {pd_text} -> PD{extra}"
    nodes = [v for lesion, v in measures if lesion.nodal]
    others = [v for lesion, v in measures if not lesion.nodal]
    if all(v == 0 for v in others) and all(v is not None and v < NODE_NORMAL_MM for v in nodes):
        why = "all non-nodal targets 0 mm" if others else "no non-nodal target"
        why += f", all {len(nodes)} nodal targets < 10 mm short axis" if nodes else ""
        return "CR", total, total, n, f"{head}: {why} -> CR{extra}"
    pct = _pct(total, baseline_sum)
    pct_text = "NA" if pct is None else f"{pct:+.1f}%"
    if total <= PR_RELATIVE * baseline_sum:
        return "PR", total, total, n, f"{head}: {pct_text} from baseline (<= -30%) -> PR{extra}"
    return (
        "SD",
        total,
        total,
        n,
        f"{head}: {pct_text} from baseline (> -30%), +{fmt(growth)} mm over nadir "
        f"(not >= 20% and >= 5 mm) -> SD{extra}",
    )


def _non_target_response(lesions: list[_Lesion], rows: list[_Row]) -> tuple[str, str]:
    """(response, trace) per RECIST 1.1 section 4.3.3."""
    if not lesions:
        return "ND", "non-target: none at baseline -> ND"
    status = {}
    for lesion in lesions:
        found = [r.status for r in rows if r.lesion == lesion.lesion]
        status[lesion.lesion] = found[0] if found and found[0] is not None else "NE"
    listed = ", ".join(f"{k} {v}" for k, v in status.items())
    values = set(status.values())
    if "UNEQUIVOCAL PROGRESSION" in values:
        return "PD", f"non-target: {listed} -> PD (unequivocal progression)"
    if "NE" in values:
        return "NE", f"non-target: {listed} -> NE (not all evaluated)"
    if values == {"ABSENT"}:
        return "CR", f"non-target: {listed} -> CR (all absent)"
    return "NON-CR/NON-PD", f"non-target: {listed} -> NON-CR/NON-PD"


def _new_lesion(rows: list[_Row]) -> tuple[bool, str]:
    """(new lesion present, trace) per RECIST 1.1 section 4.3.5; EQUIVOCAL does not count."""
    new = [r for r in rows if r.klass == NEW]
    present = [r.lesion for r in new if r.status in ("PRESENT", "UNEQUIVOCAL")]
    equivocal = [r.lesion for r in new if r.status == "EQUIVOCAL"]
    if present:
        return True, f"new lesion: {', '.join(present)} -> yes"
    if equivocal:
        return False, f"new lesion: {', '.join(equivocal)} equivocal -> not counted (section 4.3.5)"
    return False, "new lesion: none"


def timepoint_responses(tr: pd.DataFrame, *, dataset: str = "TR") -> RecistTimepoints:
    """RECIST 1.1 response of every subject at every post-baseline assessment.

    See the module docstring for the column contract and the rules. Returns a
    :class:`RecistTimepoints`; each :class:`TimepointResponse` carries a ``trace`` that states
    the sums, the thresholds met and the Table 1 / Table 2 row used.
    """
    rows = _read_rows(tr, dataset)
    if not rows:
        raise DataError(
            f"{dataset}: no rows; at least a baseline assessment is needed", dataset=dataset
        )
    baseline_dates = _mark_baseline(rows, "ABLFL" in tr.columns, dataset)
    _check_duplicates(rows, dataset)
    by_subject: dict[str, list[_Row]] = {}
    for r in rows:
        by_subject.setdefault(r.usubjid, []).append(r)
    responses: list[TimepointResponse] = []
    baselines: list[BaselineDisease] = []
    for subject, srows in by_subject.items():
        lesions = _lesions_at_baseline(srows, dataset)
        targets = [x for x in lesions.values() if x.klass == TARGET]
        non_targets = [x for x in lesions.values() if x.klass == NON_TARGET]
        base_rows = [r for r in srows if r.baseline]
        if not targets and not non_targets:
            raise DataError(
                f"{dataset}: subject {subject!r} has no TARGET or NON-TARGET lesion "
                f"at baseline ({baseline_dates[subject].isoformat()}); RECIST "
                "response needs baseline disease",
                dataset=dataset,
                usubjid=subject,
            )
        baseline_sum = None
        if targets:
            baseline_sum = Decimal(0)
            for lesion in targets:
                value, _ = _target_measure(lesion, base_rows)
                if value is None:
                    row = next((r for r in base_rows if r.lesion == lesion.lesion), base_rows[0])
                    raise bad_cell(
                        dataset,
                        "TRSTRESN",
                        row.index,
                        row.value,
                        f"is missing for baseline target lesion {lesion.lesion!r} "
                        f"({'LPERP' if lesion.nodal else 'LDIAM'}); every target "
                        "lesion needs a baseline measurement",
                    )
                baseline_sum += value
            if baseline_sum == 0:
                row = base_rows[0]
                raise bad_cell(
                    dataset,
                    "TRSTRESN",
                    row.index,
                    0,
                    f"makes the baseline sum of subject {subject!r} 0 mm; target "
                    "lesions must be measurable at baseline",
                )
        baselines.append(
            BaselineDisease(
                subject,
                baseline_dates[subject],
                None if baseline_sum is None else float(baseline_sum),
                len(targets),
                len(non_targets),
                bool(targets),
            )
        )
        nadir = baseline_sum
        for date in sorted({r.adt for r in srows if not r.baseline}):
            arows = [r for r in srows if r.adt == date]
            response, total = _assess(
                subject, date, arows, targets, non_targets, baseline_sum, nadir
            )
            responses.append(response)
            if nadir is not None and total is not None:
                nadir = min(nadir, total)
    tables = {
        name: [r.__dict__ | {"cells": {k: sorted(v) for k, v in r.cells.items()}} for r in rows_]
        for name, rows_ in response_tables().items()
    }
    return RecistTimepoints(tuple(responses), tuple(baselines), tables=tables)


def _assess(
    subject: str,
    date: dt.date,
    rows: list[_Row],
    targets: list[_Lesion],
    non_targets: list[_Lesion],
    baseline_sum: Decimal | None,
    nadir: Decimal | None,
) -> tuple[TimepointResponse, Decimal | None]:
    """One assessment's response and its complete target sum (None if incomplete or none)."""
    visit = next((r.visit for r in rows if r.visit is not None), None)
    target: str | None = None
    total: Decimal | None = None
    measured: Decimal | None = None
    n_measured = 0
    parts = []
    if targets:
        assert baseline_sum is not None and nadir is not None
        target, total, measured, n_measured, text = _target_response(
            targets, rows, baseline_sum, nadir
        )
        parts.append(text)
    else:
        parts.append("target: none at baseline (Table 2)")
    non_target, text = _non_target_response(non_targets, rows)
    parts.append(text)
    new, text = _new_lesion(rows)
    parts.append(text)
    row = lookup_overall(target, non_target, "Y" if new else "N")
    label = f"Table {row.table[-1]} row {row.row}"
    parts.append(f"{label} -> {row.overall}")
    pchg_base = (
        _pct(total, baseline_sum) if total is not None and baseline_sum is not None else None
    )
    pchg_nadir = _pct(total, nadir) if total is not None and nadir is not None else None
    response = TimepointResponse(
        usubjid=subject,
        adt=date,
        visit=visit,
        sum_diameters=None if total is None else float(total),
        measured_sum=None if measured is None else float(measured),
        n_target_measured=n_measured,
        n_target=len(targets),
        baseline_sum=None if baseline_sum is None else float(baseline_sum),
        nadir=None if nadir is None else float(nadir),
        pchg_baseline=None if pchg_base is None else float(pchg_base),
        pchg_nadir=None if pchg_nadir is None else float(pchg_nadir),
        chg_nadir_mm=None if total is None or nadir is None else float(total - nadir),
        target_response=target,
        non_target_response=non_target,
        new_lesion=new,
        overall_response=row.overall,
        table_row=label,
        trace="; ".join(parts),
    )
    return response, total
