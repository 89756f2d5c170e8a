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
