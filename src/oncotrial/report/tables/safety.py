"""Safety tables: TEAE overview, adverse events by maximum grade, serious TEAEs, exposure.

The counts come from the derivation's summary functions (:mod:`oncotrial.derive.safety`,
:mod:`oncotrial.derive.exposure`): each subject is counted once per row at the maximum
grade of the term (ICH E3 section 12.2; CTCAE v5.0 grades), percentages of the safety-set
subjects of the arm. This module selects rows and formats them, ``n (%)`` with the percent
rounded half-up to one decimal.

* **Adverse events by maximum grade** (PALMIRA, J Clin Oncol 2025, Table 2): per arm the
  subjects with the term at any grade and at maximum grade 3, 4 and 5; a term is shown when
  at least ``min_percent`` (10%) of the subjects of some arm had it at any grade, or any
  subject had it at grade 4 or 5.
* **Serious TEAEs**: subjects with at least one serious (AESER = Y) treatment-emergent AE,
  overall and per preferred term.
* **Exposure**: per agent and arm, subjects given the agent, median relative dose intensity
  (%), median treatment duration (months = days / 30.4375) and subjects with a dose
  reduction / interruption (definitions in :mod:`oncotrial.derive.exposure`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from oncotrial.analysis import fmt_number
from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.derive.exposure import exposure_summary
from oncotrial.derive.safety import SafetyTable, ae_term_table, teae_overview
from oncotrial.report.tables.baseline import n_percent
from oncotrial.report.tables.model import ReportTable, Row

GRADE_COLUMNS = (
    ("Any grade", "N_ANY"),
    ("Grade 3", "N_G3"),
    ("Grade 4", "N_G4"),
    ("Grade 5", "N_G5"),
)


def _cell(table: SafetyTable, frame: pd.DataFrame, arm: str, count: str) -> str:
    n = int(frame.loc[frame[table.arm_column] == arm, count].sum())
    total = table.denominators.get(arm, 0)
    return n_percent(n, 100.0 * n / total) if total else "0"


def _header(labels: dict[str, str], sizes: dict[str, int], arm: str) -> str:
    return f"{labels[arm]} (N = {sizes.get(arm, 0)})"


def teae_overview_table(
    adae: pd.DataFrame,
    adsl: pd.DataFrame,
    labels: dict[str, str],
    *,
    footnotes: Sequence[str] = (),
) -> ReportTable:
    """Subjects with at least one TEAE of each kind (any, grade >= 3, 4, 5, serious...)."""
    table = teae_overview(adae, adsl)
    arms = list(labels)
    rows = []
    for category, group in table.data.groupby("CATEGORY", sort=False):
        rows.append(Row(str(category), tuple(_cell(table, group, a, "N") for a in arms)))
    return ReportTable(
        name="teae_overview",
        title="Treatment-emergent adverse events, overview (safety population)",
        columns=("Patients with", *(_header(labels, table.denominators, a) for a in arms)),
        rows=tuple(rows),
        footnotes=(
            f"Safety population: {table.population}. No. (%) of patients; a patient is "
            "counted once per row.",
            *footnotes,
        ),
    )


def shown_terms(table: SafetyTable, min_percent: float = 10.0) -> list[str]:
    """Terms with >= ``min_percent`` of some arm at any grade, or any grade 4 or 5 case."""
    data = table.data
    by = data.columns[0]
    keep = []
    for term, group in data.groupby(by, sort=False):
        frequent = (group["PCT_ANY"] >= min_percent).any()
        severe = (group["N_G4"] + group["N_G5"]).sum() > 0
        if frequent or severe:
            keep.append(str(term))
    return keep


def ae_grade_table(
    adae: pd.DataFrame,
    adsl: pd.DataFrame,
    labels: dict[str, str],
    *,
    min_percent: float = 10.0,
    footnotes: Sequence[str] = (),
) -> ReportTable:
    """PALMIRA Table 2: subjects by maximum grade per preferred term, any / 3 / 4 / 5."""
    table = ae_term_table(adae, adsl, by="AEDECOD")
    arms = list(labels)
    columns = ["Adverse event"]
    for arm in arms:
        columns += [f"{labels[arm]}: {name}" for name, _ in GRADE_COLUMNS]
    rows = []
    data = table.data
    for term in shown_terms(table, min_percent):
        group = data[data["AEDECOD"] == term]
        cells = [_cell(table, group, arm, count) for arm in arms for _, count in GRADE_COLUMNS]
        rows.append(Row(term, tuple(cells)))
    sizes = ", ".join(f"{labels[a]} N = {table.denominators.get(a, 0)}" for a in arms)
    return ReportTable(
        name="ae_by_grade",
        title="Treatment-emergent adverse events by maximum grade (safety population)",
        columns=tuple(columns),
        rows=tuple(rows),
        footnotes=(
            f"Safety population ({table.population}): {sizes}. No. (%) of patients by their "
            "maximum CTCAE v5.0 grade for the term; grade 3, 4 and 5 columns do not overlap.",
            f"Terms reported in at least {min_percent:g}% of the patients of either arm "
            "(any grade) or with any grade 4 or 5 event; ordered by frequency over both arms.",
            *footnotes,
        ),
    )


def serious_table(
    adae: pd.DataFrame,
    adsl: pd.DataFrame,
    labels: dict[str, str],
    *,
    footnotes: Sequence[str] = (),
) -> ReportTable:
    """Serious TEAEs: any serious TEAE, then each preferred term, subjects n (%) per arm."""
    arms = list(labels)
    overview = teae_overview(adae, adsl)
    serious = overview.data[overview.data["CATEGORY"] == "Serious"]
    rows = [Row("Any serious TEAE", tuple(_cell(overview, serious, a, "N") for a in arms), 0)]
    serious_aes = adae[adae["AESER"] == "Y"]
    if len(serious_aes):
        table = ae_term_table(serious_aes, adsl, by="AEDECOD")
        for term, group in table.data.groupby("AEDECOD", sort=False):
            rows.append(Row(str(term), tuple(_cell(table, group, a, "N_ANY") for a in arms)))
    return ReportTable(
        name="serious_teae",
        title="Serious treatment-emergent adverse events (safety population)",
        columns=(
            "Adverse event",
            *(_header(labels, overview.denominators, a) for a in arms),
        ),
        rows=tuple(rows),
        footnotes=(
            f"Safety population: {overview.population}. No. (%) of patients with at least "
            "one serious (AESER = Y) treatment-emergent event, overall and per term.",
            *footnotes,
        ),
    )


def _median(value: float, digits: int = 1) -> str:
    return fmt_number(value, digits) if math.isfinite(value) else "NA"


EXPOSURE_ROWS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("Patients given the agent, No.", lambda r: str(int(r["N"]))),
    ("Relative dose intensity, median %", lambda r: _median(r["MEDRDI"])),
    ("Treatment duration, median months", lambda r: _median(r["MEDDUR"] / DAYS_PER_MONTH)),
    ("Dose reduction, No. (%)", lambda r: n_percent(int(r["N_RED"]), float(r["PCT_RED"]))),
    ("Dose interruption, No. (%)", lambda r: n_percent(int(r["N_INT"]), float(r["PCT_INT"]))),
)


def exposure_table(
    adex: pd.DataFrame,
    labels: dict[str, str],
    *,
    footnotes: Sequence[str] = (),
) -> ReportTable:
    """Per agent: subjects, median RDI, median duration, reductions, interruptions by arm."""
    summary = exposure_summary(adex)
    data = summary.data
    arms = list(labels)
    rows: list[Row] = []
    for agent in sorted(data["EXTRT"].unique(), key=str):
        by_arm = {str(r["ARMCD"]): r for r in data[data["EXTRT"] == agent].to_dict("records")}
        rows.append(Row(str(agent), ("",) * len(arms), indent=0))
        for label, show in EXPOSURE_ROWS:
            rows.append(Row(label, tuple(show(by_arm[a]) if a in by_arm else "-" for a in arms)))
    return ReportTable(
        name="exposure",
        title="Exposure and dose modifications (patients given each agent)",
        columns=("Agent", *(labels[a] for a in arms)),
        rows=tuple(rows),
        footnotes=(
            "Relative dose intensity = 100 x cumulative dose / planned dose over the "
            "scheduled dosing days between first and last dose (Longo et al. 1991); "
            "duration = last - first dose day + 1, in months of 30.4375 days. Percentages "
            "of the patients given the agent in the arm; '-' = agent not given in the arm.",
            *footnotes,
        ),
    )
