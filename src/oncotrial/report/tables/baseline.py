"""Baseline characteristics by arm and in total (PALMIRA, J Clin Oncol 2025, Table 1).

Categorical variables: one heading row, then one row per level with ``n (%)`` per arm and in
total, percentages of the column's N rounded half-up to one decimal; a "Missing" row when
values are missing. Continuous variables: ``median (min-max)`` on the heading row, as
journals print "Age, years, median (range)". The numbers come from
:mod:`oncotrial.stats.descriptive`; this module formats and lays them out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from oncotrial.conventions import round_half_up
from oncotrial.derive._columns import require_columns
from oncotrial.report.tables.model import ReportTable, Row
from oncotrial.spec.models import SubjectAttribute, TrialSpec
from oncotrial.spec.rules import parse_rule
from oncotrial.stats.descriptive import continuous_summaries, group_sizes, level_counts

TOTAL = "Total"


@dataclass(frozen=True)
class Variable:
    """A row block of the table: ``kind`` is "categorical" or "continuous"."""

    column: str
    label: str
    kind: str = "categorical"
    levels: tuple[str, ...] | None = None
    level_labels: dict[str, str] | None = None


def _number(value: float, digits: int) -> str:
    if not math.isfinite(value):
        return "NA"
    return str(round_half_up(value, digits))


def n_percent(n: int, percent: float) -> str:
    """``n (p%)`` with p rounded half-up to one decimal, ``0`` alone for none."""
    return f"{n} ({_number(percent, 1)})" if n else "0"


def baseline_table(
    adsl: pd.DataFrame,
    variables: Sequence[Variable],
    *,
    arm: str = "ARM",
    arm_order: Sequence[str] | None = None,
    population: str = "Intention-to-treat population",
    footnotes: Sequence[str] = (),
    total: bool = True,
) -> ReportTable:
    """Baseline characteristics table of ``adsl`` (one row per subject of the population)."""
    require_columns(adsl, [arm, *[v.column for v in variables]], "ADSL")
    groups = adsl[arm].astype(str)
    order = list(arm_order) if arm_order is not None else sorted(pd.unique(groups))
    if total:
        frame = pd.concat([adsl, adsl.assign(**{arm: TOTAL})], ignore_index=True)
        groups = frame[arm].astype(str)
        order = [*order, TOTAL]
    else:
        frame = adsl
    sizes = group_sizes(groups, order)
    columns = ("Characteristic", *(f"{g} (N = {sizes[g]})" for g in order))
    rows: list[Row] = []
    for var in variables:
        values = frame[var.column]
        if var.kind == "continuous":
            stats = continuous_summaries(values, groups, order)
            cells = tuple(
                f"{_number(s.median, 1)} ({_number(s.minimum, 1)}-{_number(s.maximum, 1)})"
                for s in stats
            )
            rows.append(Row(f"{var.label}, median (range)", cells, indent=0))
            if any(s.missing for s in stats):
                rows.append(Row("Missing", tuple(str(s.missing) for s in stats)))
            continue
        rows.append(Row(f"{var.label}, No. (%)", ("",) * len(order), indent=0))
        for count in level_counts(values, groups, order, var.levels):
            label = (var.level_labels or {}).get(count.level, count.level)
            rows.append(
                Row(label, tuple(n_percent(count.counts[g], count.percents[g]) for g in order))
            )
    return ReportTable(
        name="baseline",
        title=f"Baseline characteristics ({population})",
        columns=columns,
        rows=tuple(rows),
        footnotes=(
            "Percentages are of the column N, rounded half-up to one decimal.",
            *footnotes,
        ),
    )


def _eligibility_names(spec: TrialSpec) -> set[str]:
    criteria = [*spec.eligibility.inclusion, *spec.eligibility.exclusion]
    return {name for c in criteria for name in parse_rule(c.rule).names}


def _display(value: object, kind: str) -> object:
    """Booleans as Yes/No and integers as text, so that they read as categories."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "boolean":
        return "Yes" if value else "No"
    if kind == "integer":
        return str(int(value))  # type: ignore[call-overload]
    return value


def spec_baseline(
    spec: TrialSpec, adsl: pd.DataFrame, attributes: pd.DataFrame, *, max_levels: int = 8
) -> tuple[pd.DataFrame, list[Variable]]:
    """Table 1 variables of a trial: age and sex (ADSL), the stratification factors, then
    the other subject attributes that describe the patients rather than decide eligibility
    (not read by any eligibility rule; dates left out).

    Booleans show as Yes/No; integers with at most ``max_levels`` distinct values as
    categories (ECOG 0/1/2), other numbers as median (range). Returns the frame (``ARM``
    and one column per variable, rows as ``adsl``) and the variables in display order.
    """
    frame = adsl[["USUBJID", "ARM", "AGE", "SEX"]].merge(attributes, on="USUBJID", how="left")
    variables = [
        Variable("AGE", "Age, years", "continuous"),
        Variable("SEX", "Sex", level_labels={"F": "Female", "M": "Male", "U": "Unknown"}),
    ]
    by_name = {a.name: a for a in spec.subject_attributes}
    strata = {f.name: f for f in spec.stratification}
    excluded = _eligibility_names(spec) - set(strata)
    chosen = [*strata, *(n for n in by_name if n not in strata and n not in excluded)]
    for name in chosen:
        attribute = by_name.get(name)
        if attribute is None or attribute.type == "date" or name not in frame.columns:
            continue
        label = strata[name].label if name in strata else _attribute_label(attribute)
        column = f"attr:{name}"
        frame[column] = pd.Series(
            [_display(v, attribute.type) for v in frame[name]], index=frame.index, dtype=object
        )
        distinct = frame[column].dropna().nunique()
        if attribute.type == "number" or (attribute.type == "integer" and distinct > max_levels):
            frame[column] = pd.to_numeric(frame[name], errors="coerce")
            variables.append(Variable(column, label, "continuous"))
        elif attribute.type == "category":
            levels = tuple(attribute.levels or ())
            shown = {lvl: lvl.replace("_", " ").capitalize() for lvl in levels}
            variables.append(Variable(column, label, levels=levels, level_labels=shown))
        elif attribute.type == "boolean":
            variables.append(Variable(column, label, levels=("Yes", "No")))
        else:
            levels = tuple(sorted(frame[column].dropna().unique(), key=_natural))
            variables.append(Variable(column, label, levels=levels))
    return frame, variables


def _natural(text: object) -> tuple[int, float | str]:
    try:
        return (0, float(str(text)))
    except ValueError:
        return (1, str(text))


def _attribute_label(attribute: SubjectAttribute) -> str:
    text = attribute.description or attribute.name.replace("_", " ").capitalize()
    text = text.split(" (")[0]
    return f"{text}, {attribute.unit}" if attribute.unit else text
