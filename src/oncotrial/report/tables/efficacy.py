"""Efficacy summary table: time-to-event endpoints and response rates by arm, with comparisons.

One table per analysis set (ITT and the measurable-disease subset, as PALMIRA reports,
J Clin Oncol 2025, Table 2 and text). Per time-to-event endpoint: events n (%), the
Kaplan-Meier median (months) with its CI, survival at each landmark with its CI, and in the
comparison column the (stratified) Cox hazard ratio with its CI, the (stratified) log-rank
p and the landmark differences with their CIs. Per response endpoint: responders / N, the
rate with its Clopper-Pearson CI and the exact conditional odds ratio with its CI.

Every number comes from a result object of :mod:`oncotrial.report.analyses` (the statistics
core); this module only formats them: estimates rounded half-up
(:func:`oncotrial.analysis.fmt_ci`, :func:`oncotrial.stats.proportions.format_percent_ci`),
p-values as :func:`oncotrial.analysis.fmt_p` (3 decimals, 4 below 0.01, "<0.001").
"""

from __future__ import annotations

from collections.abc import Sequence

from oncotrial.analysis import (
    fmt_ci,
    fmt_number,
    fmt_p,
    fmt_pct_ci,
    methods_footnote,
    time_footnote,
)
from oncotrial.report.analyses import ReportAnalyses, ResponseEndpoint, SurvivalEndpoint
from oncotrial.report.tables.model import ReportTable, Row
from oncotrial.stats.proportions import METHOD_TITLES


def _blank(n: int) -> tuple[str, ...]:
    return ("",) * n


def _events(events: int, n: int) -> str:
    return f"{events}/{n} ({fmt_number(100.0 * events / n, 1)})"


def survival_rows(result: SurvivalEndpoint) -> list[Row]:
    """Rows of one time-to-event endpoint: arms in the first two value columns."""
    a = result.analysis
    level = f"{a.conventions.conf_level:.0%} CI"
    exp, ref = a.experimental, a.reference
    hr_kind = "stratified Cox" if a.cox.strata else "Cox"
    test = "Stratified log-rank" if a.logrank.strata else "Log-rank"
    rows = [
        Row(result.name, _blank(3), indent=0),
        Row("Events, No./N (%)", (_events(exp.events, exp.n), _events(ref.events, ref.n), "")),
        Row(
            f"Median, months ({level})",
            (fmt_ci(exp.median, exp.median_ci, 1), fmt_ci(ref.median, ref.median_ci, 1), ""),
        ),
        Row(f"Hazard ratio ({level}), {hr_kind}", ("", "", fmt_ci(a.cox.hr, a.cox.ci, 2))),
        Row(f"{test} P", ("", "", fmt_p(a.logrank.p))),
    ]
    for i, diff in enumerate(a.landmark_differences):
        e, r = exp.landmarks[i], ref.landmarks[i]
        rows.append(
            Row(
                f"{diff.time:g}-month rate, % ({level}); difference",
                (
                    fmt_pct_ci(e.survival, e.ci),
                    fmt_pct_ci(r.survival, r.ci),
                    fmt_pct_ci(diff.difference, diff.ci),
                ),
            )
        )
    return rows


def response_rows(result: ResponseEndpoint) -> list[Row]:
    """Rows of one response endpoint: responders / N, rate (exact CI), odds ratio."""
    exp, ref = result.arms[result.experimental], result.arms[result.reference]
    level = f"{exp.conf_level:.0%} CI"
    ratio = result.odds_ratio
    return [
        Row(result.name, _blank(3), indent=0),
        Row("Responders, No./N", (f"{exp.x}/{exp.n}", f"{ref.x}/{ref.n}", "")),
        Row(
            f"Rate, % ({level}); odds ratio ({level})",
            (exp.formatted(), ref.formatted(), ratio.formatted()),
        ),
        Row("Odds ratio P (Fisher exact)", ("", "", fmt_p(ratio.p_value))),
    ]


def efficacy_table(
    analyses: ReportAnalyses,
    population: str,
    population_label: str,
    arm_sizes: dict[str, int],
    *,
    footnotes: Sequence[str] = (),
) -> ReportTable | None:
    """The efficacy summary of one analysis set (None when it has no analysis)."""
    survival = [s for s in analyses.survival if s.population == population]
    responses = [r for r in analyses.responses if r.population == population]
    if not survival and not responses:
        return None
    exp, ref = analyses.experimental, analyses.reference
    columns = (
        "Endpoint",
        f"{analyses.arms[exp]} (N = {arm_sizes[exp]})",
        f"{analyses.arms[ref]} (N = {arm_sizes[ref]})",
        f"{analyses.arms[exp]} vs {analyses.arms[ref]}",
    )
    rows: list[Row] = []
    for s in survival:
        rows += survival_rows(s)
    for r in responses:
        rows += response_rows(r)
    notes = [f"Analysis set: {population_label}."]
    if survival:
        first = survival[0].analysis
        notes += [time_footnote(first), methods_footnote(first)]
        notes.append(
            "Medians: Kaplan-Meier with Brookmeyer-Crowley CI; landmark rates: Kaplan-Meier "
            "with Greenwood variance; N for an endpoint is the subjects with a record "
            "(OS starts at the first dose, so untreated subjects have none)."
        )
    if responses:
        notes.append(
            f"Rates: {METHOD_TITLES['clopper-pearson']} CI; odds ratio: "
            f"{METHOD_TITLES['exact']} conditional MLE; subjects without a response record "
            "count as non-responders."
        )
    notes += list(footnotes)
    notes.append(analyses.conventions.footnote())
    return ReportTable(
        name=f"efficacy_{population.lower()}",
        title=f"Efficacy summary ({population_label})",
        columns=columns,
        rows=tuple(rows),
        footnotes=tuple(notes),
    )
