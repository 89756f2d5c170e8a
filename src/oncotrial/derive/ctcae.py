"""CTCAE v5.0 grades of laboratory values, each with the sentence that explains it.

Method: National Cancer Institute, Common Terminology Criteria for Adverse Events (CTCAE)
Version 5.0 (2017). The criteria live in ``ctcae_v5_labs.yaml`` as the guideline words them;
this module only evaluates them:

* the grade is the highest grade any of whose criteria is met, 0 when none is (an upper bound
  in the wording, "<1500 - 1000", is the next grade's lower bound);
* LLN, ULN and baseline multiples are compared in the unit of the value (SDTM gives
  LBSTNRLO/LBSTNRHI in LBSTRESU); absolute thresholds are compared after converting the value
  into the unit CTCAE states (:mod:`oncotrial.derive.units`), in exact decimal arithmetic;
* "if baseline was normal / abnormal" (ALT, AST, GGT, ALP, bilirubin): baseline abnormal
  means the baseline value is above its ULN; a missing baseline is taken as normal and the
  trace says so; the baseline record itself is graded on the ULN criteria;
* creatinine: each grade is met by its ULN or its baseline multiple (";" read as "or"); the
  baseline multiples are used only when a baseline value exists.

Column contract of the LB-like input frame (CDISC SDTM LB names):

========  ==============================================================================
USUBJID   subject identifier
LBTESTCD  NEUT, WBC, LYM, PLAT, HGB, ALT, AST, GGT, ALP, BILI, CREAT (others are not graded)
LBSTRESN  numeric result (missing: not graded)
LBSTRESU  unit of LBSTRESN, LBSTNRLO and LBSTNRHI (e.g. 10^9/L, /mm3, g/dL, g/L, mmol/L,
          mg/dL, umol/L, U/L)
LBSTNRLO  lower limit of normal (LLN)
LBSTNRHI  upper limit of normal (ULN)
LBBLFL    optional baseline flag "Y" (the column name is the ``baseline_flag`` argument)
========  ==============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

import pandas as pd
import yaml

from oncotrial.derive import units
from oncotrial.derive._columns import (
    bad_cell,
    code_cells,
    decimal_cells,
    fmt,
    is_missing,
    require_columns,
    text_cells,
    to_decimal,
)
from oncotrial.errors import DataError
from oncotrial.results import Result

REQUIRED = ("USUBJID", "LBTESTCD", "LBSTRESN", "LBSTRESU", "LBSTNRLO", "LBSTNRHI")


# --------------------------------------------------------------------------- criteria as data


@dataclass(frozen=True)
class Criterion:
    """One condition of a grade: value ``op`` (``times`` x LLN/ULN/BASELINE, or a ``value``)."""

    of: str  # LLN, ULN, BASELINE, ABSOLUTE
    op: str  # "<", ">", ">="
    times: Decimal | None
    value: Decimal | None
    value_by_unit: tuple[tuple[str, Decimal], ...]
    if_baseline: str | None  # normal, abnormal or None (always)

    def threshold_for(self, unit: str) -> Decimal:
        threshold = dict(self.value_by_unit).get(unit, self.value)
        assert threshold is not None, "an ABSOLUTE criterion needs a value"
        return threshold

    def describe(self, reference: Decimal | None, unit: str) -> str:
        if self.of == "ABSOLUTE":
            return f"{self.op} {self.threshold_for(unit)} {unit}"
        assert self.times is not None
        name = "baseline" if self.of == "BASELINE" else self.of
        amount = "" if reference is None else f" ({fmt(self.times * reference)} {unit})"
        if self.times == 1:
            return f"{self.op} {name}{amount}"
        return f"{self.op} {self.times} x {name}{amount}"


@dataclass(frozen=True)
class GradeRule:
    grade: int
    text: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class LabTerm:
    """A CTCAE term graded from a laboratory test."""

    testcd: str
    term: str
    quantity: str
    unit: str
    baseline_dependent: bool
    grades: tuple[GradeRule, ...]  # ascending grade
    note: str = ""


@cache
def ctcae_lab_terms() -> dict[str, LabTerm]:
    """The graded laboratory terms by LBTESTCD, read from ``ctcae_v5_labs.yaml``."""
    text = (resources.files("oncotrial.derive") / "ctcae_v5_labs.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    terms = {}
    for testcd, body in raw["terms"].items():
        rules = []
        for grade, spec in sorted(body["grades"].items()):
            criteria = tuple(
                Criterion(
                    of=c["of"],
                    op=c["op"],
                    times=None if "times" not in c else to_decimal(c["times"]),
                    value=None if "value" not in c else to_decimal(c["value"]),
                    value_by_unit=tuple(
                        (u, to_decimal(v)) for u, v in c.get("value_by_unit", {}).items()
                    ),
                    if_baseline=c.get("if_baseline"),
                )
                for c in spec["criteria"]
            )
            rules.append(GradeRule(int(grade), spec["text"], criteria))
        terms[testcd] = LabTerm(
            testcd,
            body["term"],
            body["quantity"],
            body["unit"],
            bool(body.get("baseline_dependent", False)),
            tuple(rules),
            " ".join(str(body.get("note", "")).split()),
        )
    return terms


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class LabGrade(Result):
    """The CTCAE grade of one laboratory record and the sentence that explains it."""

    row: int  # 1-based position in the input frame
    usubjid: str
    lbtestcd: str
    term: str
    value: float | None
    unit: str
    lln: float | None
    uln: float | None
    baseline: float | None  # in ``unit``
    baseline_abnormal: bool | None
    is_baseline: bool
    grade: int | None  # None: not gradable (missing value or a needed normal limit)
    trace: str


@dataclass(frozen=True)
class LabGrades(Result):
    """CTCAE grades of every gradable record (``to_frame()``: one row per record)."""

    grades: tuple[LabGrade, ...]
    ignored_tests: tuple[str, ...]  # LBTESTCD values without a CTCAE criterion here
    version: str = "CTCAE v5.0"

    def to_frame(self) -> pd.DataFrame:
        columns = [name.upper() for name in LabGrade.__dataclass_fields__]
        frame = pd.DataFrame(
            [{k.upper(): v for k, v in g.to_dict().items()} for g in self.grades], columns=columns
        )
        frame["GRADE"] = frame["GRADE"].astype("Int64")
        return frame

    def worst(self, *, include_baseline: bool = False) -> pd.DataFrame:
        """Worst grade per subject and term (post-baseline records unless ``include_baseline``)."""
        frame = self.to_frame()
        if not include_baseline:
            frame = frame[~frame["IS_BASELINE"].astype(bool)]
        out = frame.groupby(["USUBJID", "LBTESTCD", "TERM"], sort=True)["GRADE"].max()
        return out.rename("WORST_GRADE").reset_index()

    def summary(self) -> str:
        lines = [f"{self.version} laboratory grades: {len(self.grades)} records"]
        lines.extend(f"  row {g.row}: {g.usubjid} {g.trace}" for g in self.grades)
        if self.ignored_tests:
            lines.append(f"  not graded (no criterion): {', '.join(self.ignored_tests)}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- grading


def _compare(value: Decimal, op: str, threshold: Decimal) -> bool:
    if op == "<":
        return value < threshold
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    raise ValueError(f"unknown operator {op!r} in ctcae_v5_labs.yaml")  # pragma: no cover


@dataclass(frozen=True)
class _Record:
    value: Decimal
    unit: str  # normalized spelling of LBSTRESU
    lln: Decimal | None
    uln: Decimal | None
    baseline: Decimal | None  # in ``unit``
    baseline_abnormal: bool | None
    is_baseline: bool


def grade_value(term: LabTerm, record: _Record) -> tuple[int | None, str]:
    """(grade, trace) of one value under ``term``; grade None when a needed limit is missing."""
    canonical_value, canonical_unit = units.convert(record.value, record.unit, term.quantity)
    head = f"{term.testcd} {fmt(record.value)} {record.unit}"
    if canonical_unit != record.unit and any(
        c.of == "ABSOLUTE" for rule in term.grades for c in rule.criteria
    ):
        head += f" = {fmt(canonical_value)} {canonical_unit}"
    status = "normal" if not record.baseline_abnormal else "abnormal"
    notes = []
    if term.baseline_dependent and not record.is_baseline:
        if record.baseline_abnormal is None:
            notes.append("baseline missing: assumed normal")
        else:
            notes.append(f"baseline {fmt(record.baseline)} {record.unit} {status}")
    if record.is_baseline and term.baseline_dependent:
        notes.append("baseline record: graded on the ULN criteria")
    prefix = head + (f" ({'; '.join(notes)})" if notes else "")
    failed: list[str] = []
    for rule in reversed(term.grades):
        for c in rule.criteria:
            if c.if_baseline is not None and (
                (record.is_baseline and c.if_baseline == "abnormal")
                or (not record.is_baseline and c.if_baseline != status)
            ):
                continue
            if c.of == "BASELINE":
                if record.is_baseline or record.baseline is None:
                    continue
                reference: Decimal | None = record.baseline
            elif c.of in ("LLN", "ULN"):
                reference = record.lln if c.of == "LLN" else record.uln
                if reference is None:
                    return None, (
                        f"{prefix}: {c.of} missing, needed for grade {rule.grade} "
                        f"('{rule.text}') -> not gradable"
                    )
            else:
                reference = None
            if c.of == "ABSOLUTE":
                met = _compare(canonical_value, c.op, c.threshold_for(canonical_unit))
                described = c.describe(None, canonical_unit)
            else:
                assert reference is not None and c.times is not None
                met = _compare(record.value, c.op, c.times * reference)
                described = c.describe(reference, record.unit)
            if met:
                not_higher = f" and not {failed[-1]}" if failed else ""
                return rule.grade, f"{prefix}: {described}{not_higher} -> grade {rule.grade}"
            failed.append(described)
    return 0, f"{prefix}: not {failed[-1]} -> grade 0"


def grade_labs(
    lb: pd.DataFrame, *, baseline_flag: str = "LBBLFL", dataset: str = "LB"
) -> LabGrades:
    """CTCAE v5.0 grade of every record of a graded test (see the module docstring)."""
    require_columns(lb, REQUIRED, dataset)
    lb = lb.reset_index(drop=True)
    terms = ctcae_lab_terms()
    subjects = text_cells(lb, "USUBJID", dataset)
    tests = [None if is_missing(v) else str(v).strip().upper() for v in lb["LBTESTCD"]]
    values = decimal_cells(lb, "LBSTRESN", dataset)
    llns = decimal_cells(lb, "LBSTNRLO", dataset)
    ulns = decimal_cells(lb, "LBSTNRHI", dataset)
    flags = (
        code_cells(lb, baseline_flag, dataset, ("Y", "N"), missing="N")
        if baseline_flag in lb.columns
        else ["N"] * len(lb)
    )
    graded = [i for i, t in enumerate(tests) if t in terms]
    ignored = sorted({t for t in tests if t is not None and t not in terms})
    unit_of: dict[int, str] = {}
    for i in graded:
        term = terms[tests[i]]  # type: ignore[index]
        raw = lb["LBSTRESU"].iloc[i]
        unit = None if is_missing(raw) else units.normalize_unit(str(raw))
        valid = units.units_of(term.quantity)
        if unit not in valid:
            raise bad_cell(
                dataset,
                "LBSTRESU",
                i,
                raw,
                f"is not a unit of {term.testcd} ({term.term}); valid: {valid}",
                valid=valid,
            )
        unit_of[i] = unit
    baselines: dict[tuple[str, str], int] = {}
    for i in graded:
        if flags[i] == "Y":
            key = (subjects[i], str(tests[i]))
            if key in baselines:
                raise bad_cell(
                    dataset,
                    baseline_flag,
                    i,
                    "Y",
                    f"marks a second baseline of {key[1]} for subject {key[0]!r} "
                    f"(first on row {baselines[key] + 1}); one baseline per test",
                )
            baselines[key] = i
    out = []
    for i in graded:
        term = terms[tests[i]]  # type: ignore[index]
        base_row = baselines.get((subjects[i], term.testcd))
        base_value: Decimal | None = None
        abnormal: bool | None = None
        if base_row is not None and values[base_row] is not None:
            bv = values[base_row]
            assert bv is not None
            base_value = units.same_unit(bv, unit_of[base_row], unit_of[i], term.quantity)
            base_uln = ulns[base_row]
            if base_uln is not None:
                abnormal = bv > base_uln
            else:
                row_uln = ulns[i]
                abnormal = None if row_uln is None else base_value > row_uln
        value = values[i]
        if value is None:
            grade: int | None = None
            trace = f"{term.testcd}: value missing -> not graded"
        else:
            record = _Record(
                value, unit_of[i], llns[i], ulns[i], base_value, abnormal, flags[i] == "Y"
            )
            grade, trace = grade_value(term, record)
        out.append(
            LabGrade(
                row=i + 1,
                usubjid=subjects[i],
                lbtestcd=term.testcd,
                term=term.term,
                value=_f(value),
                unit=unit_of[i],
                lln=_f(llns[i]),
                uln=_f(ulns[i]),
                baseline=_f(base_value),
                baseline_abnormal=abnormal,
                is_baseline=flags[i] == "Y",
                grade=grade,
                trace=trace,
            )
        )
    if not out and not ignored:
        raise DataError(f"{dataset}: no rows to grade", dataset=dataset)
    return LabGrades(tuple(out), tuple(ignored))


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
