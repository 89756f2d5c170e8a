"""Eligibility screening: apply a trial's inclusion/exclusion rules to subject records.

Each criterion's rule (see :mod:`oncotrial.spec.rules`) is evaluated for each subject in
Kleene three-valued logic. Outcomes per criterion:

* inclusion: ``met`` (rule true), ``not_met`` (false), ``cannot_tell`` (data missing);
* exclusion: ``applies`` (rule true), ``does_not_apply`` (false), ``cannot_tell``.

A subject is ``not_eligible`` when any inclusion is ``not_met`` or any exclusion
``applies``; otherwise ``cannot_tell`` when any criterion is ``cannot_tell``; otherwise
``eligible``. A definite failure outranks missing data: the subject is excluded whatever the
missing values turn out to be.

Counts follow the enrolment box of the CONSORT 2010 flow diagram (Schulz et al., BMJ
2010;340:c332, item 13a / Figure 1): *assessed for eligibility*, *excluded* (with reasons),
and the eligible remainder; ``cannot_tell`` is reported separately because CONSORT assumes
complete screening data. A subject failing several criteria counts once in ``excluded`` and
under every failed criterion in ``excluded_by_criterion`` (so that breakdown may sum to more
than ``excluded``); ``first_failing`` counts each excluded subject once, under the first
failed criterion in protocol order (inclusions in listed order, then exclusions), and does
sum to ``excluded``. The user guide is ``docs/ELIGIBILITY.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.data.io import read_table
from oncotrial.errors import DataError, SpecError, describe_value
from oncotrial.results import Result
from oncotrial.spec.rules import (
    AttributeView,
    Rule,
    attribute_map,
    is_missing_value,
    parse_iso_date,
    parse_rule,
)

__all__ = [
    "ELIGIBLE",
    "EXCLUSION_OUTCOMES",
    "INCLUSION_OUTCOMES",
    "NOT_ELIGIBLE",
    "UNDECIDED",
    "ConsortCounts",
    "Criterion",
    "ScreeningResult",
    "coerce_records",
    "compile_criteria",
    "read_screening_file",
    "screen",
]

ELIGIBLE, NOT_ELIGIBLE, UNDECIDED = "eligible", "not_eligible", "cannot_tell"
VERDICTS = (ELIGIBLE, NOT_ELIGIBLE, UNDECIDED)
INCLUSION_OUTCOMES = {True: "met", False: "not_met", None: UNDECIDED}
EXCLUSION_OUTCOMES = {True: "applies", False: "does_not_apply", None: UNDECIDED}
KINDS = ("inclusion", "exclusion")

MAX_REPORTED_ERRORS = 20


# --------------------------------------------------------------------------- criteria


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion with its parsed rule."""

    id: str
    kind: str  # "inclusion" | "exclusion"
    text: str
    rule: Rule

    def outcome(self, value: bool | None) -> str:
        """The outcome name of a rule value for this kind of criterion."""
        table = INCLUSION_OUTCOMES if self.kind == "inclusion" else EXCLUSION_OUTCOMES
        return table[value]

    def fails(self, value: bool | None) -> bool:
        """True when this rule value definitely makes the subject ineligible."""
        return value is (self.kind == "exclusion")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "text": self.text, "rule": str(self.rule)}


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def compile_criteria(criteria: Any, attributes: Iterable[Any]) -> tuple[Criterion, ...]:
    """Parse and check every rule of ``criteria`` against ``attributes``.

    ``criteria`` has ``inclusion`` and ``exclusion`` lists (attributes or mapping keys, e.g.
    the spec's ``eligibility`` block) of items with ``id``, ``text`` and ``rule`` (a string
    or a parsed :class:`Rule`), or is already a sequence of :class:`Criterion`. Raises
    :class:`SpecError` for a bad rule, a duplicate id or a missing field.
    """
    attrs = attribute_map(attributes)
    if isinstance(criteria, Sequence) and all(isinstance(c, Criterion) for c in criteria):
        compiled = tuple(criteria)
        for criterion in compiled:
            criterion.rule.check_names(attrs.values())
        return compiled
    out: list[Criterion] = []
    seen: dict[str, str] = {}
    for kind in KINDS:
        items = _get(criteria, kind)
        for i, item in enumerate(items or ()):
            where = f"eligibility.{kind}[{i}]"
            cid, text, rule = _get(item, "id"), _get(item, "text"), _get(item, "rule")
            if not isinstance(cid, str) or not cid:
                raise SpecError(
                    f"{where}.id: a criterion needs an id",
                    location=f"{where}.id",
                    value=describe_value(cid),
                )
            if cid in seen:
                raise SpecError(
                    f"{where}.id: duplicate criterion id {cid!r} (also {seen[cid]})",
                    location=f"{where}.id",
                    value=cid,
                )
            seen[cid] = where
            if not isinstance(rule, Rule):
                rule = parse_rule(rule, where=f"{where}.rule ({cid})")
            rule.check_names(attrs.values(), where=f"{where}.rule ({cid})")
            out.append(Criterion(cid, kind, str(text or ""), rule))
    if not out:
        raise SpecError(
            "eligibility: no inclusion or exclusion criteria to screen against",
            location="eligibility",
        )
    return tuple(out)


# --------------------------------------------------------------------------- values


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class _Invalid(Exception):
    """A cell value is not valid for its attribute type; args[0] says what is valid."""


def _as_number(value: Any, integer: bool) -> float | int:
    if isinstance(value, (bool, np.bool_)):
        raise _Invalid("a number (true/false is not a number)")
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER.fullmatch(text):
            raise _Invalid("a number such as 18 or 24.5")
        number = float(text)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if not np.isfinite(number):
            raise _Invalid("a finite number")
    else:
        raise _Invalid("a number")
    if integer:
        if not number.is_integer():
            raise _Invalid("a whole number")
        return int(number)
    return number


def _as_boolean(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer, float, np.floating)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _Invalid("one of true, false, yes, no, 1, 0")


def _as_date(value: Any) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, str) and (parsed := parse_iso_date(value)) is not None:
        return parsed
    raise _Invalid("a date written YYYY-MM-DD")


def _as_category(value: Any, levels: tuple[str, ...]) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        value = str(value)
    if isinstance(value, str) and value.strip() in levels:
        return value.strip()
    raise _Invalid("one of " + ", ".join(levels))


def convert_value(value: Any, attribute: AttributeView) -> Any:
    """Convert one raw cell to the attribute's Python type; empty/NA cells become ``None``.

    Raises ``_Invalid`` with a description of the valid values.
    """
    if is_missing_value(value) or (isinstance(value, str) and not value.strip()):
        return None
    kind = attribute.type
    if kind in ("number", "integer"):
        return _as_number(value, integer=kind == "integer")
    if kind == "boolean":
        return _as_boolean(value)
    if kind == "date":
        return _as_date(value)
    if kind == "category":
        return _as_category(value, attribute.levels or ())
    return str(value)


def _error_text(error: Mapping[str, Any]) -> str:
    return (
        f"row {error['row']}, column {error['column']!r}: {describe_value(error['value'])} "
        f"is not {error['expected']} (leave the cell empty if the value is missing)"
    )


def _raise_errors(errors: list[dict[str, Any]], source: str) -> None:
    if not errors:
        return
    shown = errors[:MAX_REPORTED_ERRORS]
    more = len(errors) - len(shown)
    lines = [f"{source}: {len(errors)} invalid value{'s' if len(errors) > 1 else ''}:"]
    lines += [f"  {_error_text(e)}" for e in shown]
    if more:
        lines.append(f"  ... and {more} more")
    first = errors[0]
    raise DataError(
        "\n".join(lines),
        file=source,
        row=first["row"],
        column=first["column"],
        value=describe_value(first["value"]),
        expected=first["expected"],
        errors=[{**e, "value": describe_value(e["value"])} for e in shown],
    )


def _check_ids(frame: pd.DataFrame, id_column: str, source: str) -> list[Any]:
    if id_column not in frame.columns:
        raise DataError(
            f"{source}: no subject id column {id_column!r}; columns are "
            f"{', '.join(map(str, frame.columns)) or '(none)'} (choose one with --id-column)",
            file=source,
            column=id_column,
            expected=[str(c) for c in frame.columns],
        )
    ids: list[Any] = []
    first_row: dict[Any, int] = {}
    errors: list[dict[str, Any]] = []
    for row, raw in enumerate(frame[id_column].tolist(), start=1):
        value = raw.strip() if isinstance(raw, str) else raw
        if is_missing_value(value) or value == "":
            errors.append(
                {
                    "row": row,
                    "column": id_column,
                    "value": raw,
                    "expected": "a subject id (ids may not be empty)",
                }
            )
        elif value in first_row:
            errors.append(
                {
                    "row": row,
                    "column": id_column,
                    "value": raw,
                    "expected": f"a unique subject id (row {first_row[value]} has it too)",
                }
            )
        else:
            first_row[value] = row
        ids.append(value.item() if isinstance(value, np.generic) else value)
    _raise_errors(errors, source)
    return ids


def coerce_records(
    records: pd.DataFrame,
    attributes: Iterable[Any],
    id_column: str = "subject_id",
    source: str = "records",
    used: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Validate and type the screening records; return the typed frame and warnings.

    Every attribute column is converted to Python values (``float``/``int``, ``bool``,
    ``datetime.date``, ``str``) with ``None`` for missing; empty cells are missing and are
    never filled in. Invalid values raise :class:`DataError` naming ``source``, the 1-based
    data row, the column, the value and what is valid. An attribute without a column is
    entirely missing and reported in the warnings (only the attributes in ``used``, e.g.
    those the rules read, when given), as is a column that is not an attribute.
    """
    if not isinstance(records, pd.DataFrame):
        raise DataError(
            f"{source}: screening records must be a pandas DataFrame, got {type(records).__name__}",
            file=source,
        )
    attrs = attribute_map(attributes)
    columns = [str(c) for c in records.columns]
    if len(set(columns)) != len(columns):
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        raise DataError(
            f"{source}: duplicated column(s) {', '.join(duplicated)}",
            file=source,
            column=duplicated[0],
        )
    frame = records.copy()
    frame.columns = columns
    ids = _check_ids(frame, id_column, source)
    typed: dict[str, list[Any]] = {id_column: ids}
    errors: list[dict[str, Any]] = []
    for name, attribute in attrs.items():
        if name == id_column or name not in frame.columns:
            continue
        values: list[Any] = []
        for row, raw in enumerate(frame[name].tolist(), start=1):
            try:
                values.append(convert_value(raw, attribute))
            except _Invalid as exc:
                errors.append({"row": row, "column": name, "value": raw, "expected": exc.args[0]})
                values.append(None)
        typed[name] = values
    _raise_errors(errors, source)
    wanted = set(attrs) if used is None else set(used)
    warnings = [
        f"no column for attribute {name!r}: its value is missing for every subject"
        for name in attrs
        if name in wanted and name not in frame.columns and name != id_column
    ]
    warnings += [
        f"column {c!r} is not a subject attribute and was ignored"
        for c in columns
        if c not in attrs and c != id_column
    ]
    out = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in typed.items()})
    return out, tuple(warnings)


def read_screening_file(
    path: str | Path, attributes: Iterable[Any], id_column: str = "subject_id"
) -> pd.DataFrame:
    """Read and validate a screening file (CSV or Parquet) into typed records.

    CSV is read as text (UTF-8, header row) so that nothing is guessed: an empty cell is
    missing, and ``NA``/``nan`` are *not* missing markers but invalid values. Parquet nulls
    are missing. Values are validated by :func:`coerce_records` (errors name the file, the
    1-based data row, the column, the value and what is valid).
    """
    raw = read_table(path, what="screening file", as_text=True)
    frame, _ = coerce_records(raw, attributes, id_column, source=str(path))
    for column in raw.columns:  # keep the unknown columns so screen() can warn about them
        if str(column) not in frame.columns:
            frame[str(column)] = raw[column].to_numpy()
    return frame


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CriterionCount:
    """How many subjects a criterion excluded (or left undecided)."""

    criterion_id: str
    kind: str
    text: str
    n: int


@dataclass(frozen=True)
class ConsortCounts(Result):
    """Enrolment counts in the shape of the CONSORT 2010 flow diagram.

    ``excluded`` counts subjects; ``excluded_by_criterion`` counts every failed criterion of
    every excluded subject (may sum to more than ``excluded``); ``first_failing`` counts
    each excluded subject under its first failed criterion in protocol order (sums to
    ``excluded``). ``not_meeting_inclusion`` / ``meeting_exclusion`` are the subjects with at
    least one failed inclusion / applying exclusion (a subject may be in both).
    """

    assessed: int
    eligible: int
    excluded: int
    cannot_tell: int
    not_meeting_inclusion: int
    meeting_exclusion: int
    excluded_by_criterion: tuple[CriterionCount, ...]
    first_failing: tuple[CriterionCount, ...]
    cannot_tell_by_criterion: tuple[CriterionCount, ...]

    def summary(self) -> str:
        lines = [
            f"Assessed for eligibility: {self.assessed}",
            f"  Excluded: {self.excluded}",
            f"    not meeting inclusion criteria: {self.not_meeting_inclusion}",
            f"    meeting exclusion criteria: {self.meeting_exclusion}",
        ]
        for count in self.excluded_by_criterion:
            lines.append(f"      {count.criterion_id} {count.text}: {count.n}")
        lines.append(f"  Cannot tell (missing data): {self.cannot_tell}")
        lines.append(f"  Eligible: {self.eligible}")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class ScreeningResult(Result):
    """The outcome of screening subjects against the eligibility criteria.

    * ``subjects``: one row per subject: ``subject_id``, ``verdict`` (eligible /
      not_eligible / cannot_tell), ``failed`` (criterion ids definitely failed, protocol
      order), ``unresolved`` (ids that cannot be told), ``first_failed`` and ``reasons``;
    * ``log``: one row per subject x criterion: ``subject_id``, ``criterion_id``, ``kind``,
      ``outcome`` (met / not_met / applies / does_not_apply / cannot_tell), ``value`` (the
      rule's truth value, ``None`` when it cannot be told), ``reason``;
    * ``counts``: :class:`ConsortCounts`; ``warnings``: data problems that did not stop
      screening (attribute columns absent, extra columns ignored).
    """

    criteria: tuple[Criterion, ...]
    subjects: pd.DataFrame
    log: pd.DataFrame
    counts: ConsortCounts
    warnings: tuple[str, ...]
    id_column: str = "subject_id"
    source: str = "records"

    def to_frame(self) -> pd.DataFrame:
        """The per-subject table, criterion id lists joined with ``;``."""
        frame = self.subjects.copy()
        for column in ("failed", "unresolved"):
            frame[column] = frame[column].map(";".join)
        return frame

    def verdict(self, subject_id: Any) -> str:
        """The verdict of one subject."""
        match = self.subjects.loc[self.subjects["subject_id"] == subject_id, "verdict"]
        if match.empty:
            raise DataError(f"no subject {subject_id!r} was screened", value=str(subject_id))
        return str(match.iloc[0])

    def summary(self) -> str:
        lines = [f"Eligibility screening of {self.source}", self.counts.summary()]
        if self.counts.cannot_tell_by_criterion:
            lines.append("  Undecided criteria (subjects with missing data):")
            for count in self.counts.cannot_tell_by_criterion:
                lines.append(f"    {count.criterion_id} {count.text}: {count.n}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _subject_row(
    subject_id: Any, criteria: Sequence[Criterion], values: Sequence[tuple[bool | None, str]]
) -> dict[str, Any]:
    failed = tuple(c.id for c, (v, _) in zip(criteria, values, strict=True) if c.fails(v))
    unresolved = tuple(c.id for c, (v, _) in zip(criteria, values, strict=True) if v is None)
    verdict = NOT_ELIGIBLE if failed else (UNDECIDED if unresolved else ELIGIBLE)
    shown = failed if failed else unresolved
    reasons = "; ".join(
        f"{c.id}: {reason}"
        for c, (_, reason) in zip(criteria, values, strict=True)
        if c.id in shown
    )
    return {
        "subject_id": subject_id,
        "verdict": verdict,
        "failed": failed,
        "unresolved": unresolved,
        "first_failed": failed[0] if failed else None,
        "reasons": reasons,
    }


def _tally(criteria: Sequence[Criterion], ids: Iterable[str]) -> tuple[CriterionCount, ...]:
    counts: dict[str, int] = {}
    for cid in ids:
        counts[cid] = counts.get(cid, 0) + 1
    return tuple(
        CriterionCount(c.id, c.kind, c.text, counts[c.id]) for c in criteria if c.id in counts
    )


def _consort(criteria: Sequence[Criterion], subjects: pd.DataFrame) -> ConsortCounts:
    kind = {c.id: c.kind for c in criteria}
    excluded = subjects[subjects["verdict"] == NOT_ELIGIBLE]
    undecided = subjects[subjects["verdict"] == UNDECIDED]
    failed_lists = excluded["failed"].tolist()
    return ConsortCounts(
        assessed=len(subjects),
        eligible=int((subjects["verdict"] == ELIGIBLE).sum()),
        excluded=len(excluded),
        cannot_tell=len(undecided),
        not_meeting_inclusion=sum(any(kind[i] == "inclusion" for i in f) for f in failed_lists),
        meeting_exclusion=sum(any(kind[i] == "exclusion" for i in f) for f in failed_lists),
        excluded_by_criterion=_tally(criteria, (i for f in failed_lists for i in f)),
        first_failing=_tally(criteria, (f[0] for f in failed_lists)),
        cannot_tell_by_criterion=_tally(
            criteria, (i for f in undecided["unresolved"].tolist() for i in f)
        ),
    )


def screen(
    criteria: Any,
    attributes: Iterable[Any],
    records: pd.DataFrame,
    id_column: str = "subject_id",
    source: str = "records",
) -> ScreeningResult:
    """Screen every subject of ``records`` against the eligibility ``criteria``.

    ``criteria``: the spec's ``eligibility`` block (``inclusion``/``exclusion`` lists of
    items with ``id``, ``text``, ``rule``) or compiled :class:`Criterion` objects;
    ``attributes``: the spec's ``subject_attributes`` (``name``, ``type``, ``levels``);
    ``records``: one row per subject, with ``id_column`` and one column per attribute (raw
    text or typed values; validated by :func:`coerce_records`). Semantics in the module
    docstring.
    """
    attribute_list = list(attributes.values() if isinstance(attributes, Mapping) else attributes)
    compiled = compile_criteria(criteria, attribute_list)
    used = {name for criterion in compiled for name in criterion.rule.names}
    frame, warnings = coerce_records(records, attribute_list, id_column, source, used=used)
    log_rows: list[dict[str, Any]] = []
    subject_rows: list[dict[str, Any]] = []
    for record in frame.to_dict(orient="records"):
        subject_id = record[id_column]
        values: list[tuple[bool | None, str]] = []
        for criterion in compiled:
            outcome = criterion.rule.evaluate(record)
            values.append((outcome.value, outcome.reason))
            log_rows.append(
                {
                    "subject_id": subject_id,
                    "criterion_id": criterion.id,
                    "kind": criterion.kind,
                    "outcome": criterion.outcome(outcome.value),
                    "value": outcome.value,
                    "reason": outcome.reason,
                }
            )
        subject_rows.append(_subject_row(subject_id, compiled, values))
    log_columns = ["subject_id", "criterion_id", "kind", "outcome", "value", "reason"]
    subject_columns = ["subject_id", "verdict", "failed", "unresolved", "first_failed", "reasons"]
    log = pd.DataFrame(log_rows, columns=log_columns)
    log["value"] = log["value"].astype(object)
    subjects = pd.DataFrame(subject_rows, columns=subject_columns)
    return ScreeningResult(
        criteria=compiled,
        subjects=subjects,
        log=log,
        counts=_consort(compiled, subjects),
        warnings=warnings,
        id_column=id_column,
        source=source,
    )
