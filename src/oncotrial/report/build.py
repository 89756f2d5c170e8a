"""``build_report``: a trial's analysis data to one HTML report, tables, figures and results.

Steps (each named to ``progress``): read the analysis datasets (:mod:`oncotrial.report.adam`)
-> run the analyses with the statistics core (:mod:`oncotrial.report.analyses`) -> build the
tables (:mod:`oncotrial.report.tables`) and figures (:mod:`oncotrial.report.figures`) ->
write, into a temporary directory beside ``out_dir`` that is renamed into place at the end
(a report directory is complete or absent):

* ``report.html``: one self-contained page (figures embedded), table of contents, print CSS;
* ``tables/<name>.csv`` and ``tables/<name>.rtf`` for every table;
* ``figures/<name>.svg`` and ``figures/<name>.png`` for every figure;
* ``results.json``: every analysis result (``to_dict()`` of the core's result objects), the
  CONSORT counts, the safety and exposure summaries and the formatted cells of every table.

Every table and figure carries a footnote with the data cut, the analysis set and the
conventions profile (:meth:`oncotrial.conventions.Conventions.footnote`).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from oncotrial import __version__
from oncotrial.data.io import check_replaceable, staged_directory
from oncotrial.derive.exposure import exposure_summary
from oncotrial.derive.safety import teae_overview
from oncotrial.report.adam import AdamData, read_adam
from oncotrial.report.analyses import (
    ITT,
    MEASURABLE,
    SAFETY,
    ReportAnalyses,
    run_analyses,
)
from oncotrial.report.figures.consort import draw_consort
from oncotrial.report.figures.forest_plot import (
    ForestPlotData,
    draw_forest_plot,
    forest_plot_data,
)
from oncotrial.report.figures.km_plot import draw_km_plot, km_plot_data
from oncotrial.report.figures.style import save_figure
from oncotrial.report.figures.swimmer import draw_swimmer, swimmer_data
from oncotrial.report.figures.waterfall import draw_waterfall, waterfall_data
from oncotrial.report.flow import consort_counts
from oncotrial.report.tables.baseline import baseline_table, spec_baseline
from oncotrial.report.tables.efficacy import efficacy_table
from oncotrial.report.tables.model import ReportTable, to_csv, to_html, to_rtf
from oncotrial.report.tables.safety import (
    ae_grade_table,
    exposure_table,
    serious_table,
    teae_overview_table,
)
from oncotrial.report.template import render_page
from oncotrial.results import Result, jsonable
from oncotrial.spec import TrialSpec, load_spec

REPORT_NAME = "report.html"
RESULTS_NAME = "results.json"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class FigureItem:
    """A drawn figure, its section heading, caption (footnote) and the data it shows."""

    name: str
    heading: str
    figure: Figure
    caption: str
    data: Any = None


@dataclass(frozen=True, eq=False)
class Report(Result):
    """What :func:`build_report` wrote, and the results behind it."""

    out_dir: str
    html: str
    tables: dict[str, dict[str, str]]
    figures: dict[str, dict[str, str]]
    results: str
    analyses: ReportAnalyses = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            "html": self.html,
            "results": self.results,
            "tables": self.tables,
            "figures": self.figures,
            "counts": {"tables": len(self.tables), "figures": len(self.figures)},
            "trial": self.analyses.trial,
            "cutoff": self.analyses.cutoff,
            "conventions": self.analyses.conventions.profile,
        }

    def summary(self) -> str:
        return (
            f"Report of {self.analyses.trial}: {len(self.tables)} tables, {len(self.figures)} "
            f"figures\n  {self.html}\n  {self.results}"
        )


def _footnote(adam: AdamData, population: str) -> str:
    return f"{adam.cutoff_text}. Analysis set: {population}."


def _arm_sizes(adam: AdamData, population: Any) -> dict[str, int]:
    subjects = population.subjects(adam["ADSL"])
    return {str(k): int(v) for k, v in subjects["ARMCD"].value_counts().items()}


def build_tables(spec: TrialSpec, adam: AdamData, analyses: ReportAnalyses) -> list[ReportTable]:
    """Baseline, efficacy (ITT, measurable), TEAE overview, AEs by grade, serious, exposure."""
    conv = analyses.conventions.footnote()
    labels = {a.name: a.label for a in spec.arms}
    itt = ITT.subjects(adam["ADSL"])
    frame, variables = spec_baseline(spec, itt, adam.attributes)
    tables = [
        baseline_table(
            frame,
            variables,
            arm="ARM",
            arm_order=[a.label for a in spec.arms],
            population=ITT.label,
            footnotes=(_footnote(adam, ITT.label), conv),
        )
    ]
    for population in (ITT, MEASURABLE):
        table = efficacy_table(
            analyses,
            population.name,
            population.label,
            _arm_sizes(adam, population),
            footnotes=(adam.cutoff_text + ".",),
        )
        if table is not None:
            tables.append(table)
    safety_notes = (_footnote(adam, SAFETY.label), conv)
    adae, adsl = adam["ADAE"], adam["ADSL"]
    tables += [
        teae_overview_table(adae, adsl, labels, footnotes=safety_notes),
        ae_grade_table(adae, adsl, labels, footnotes=safety_notes),
        serious_table(adae, adsl, labels, footnotes=safety_notes),
        exposure_table(adam["ADEX"], labels, footnotes=safety_notes),
    ]
    return tables


def build_figures(spec: TrialSpec, adam: AdamData, analyses: ReportAnalyses) -> list[FigureItem]:
    """CONSORT, Kaplan-Meier per endpoint (ITT), forest plot, waterfall, swimmer."""
    labels = {a.name: a.label for a in spec.arms}
    conv = analyses.conventions.footnote()
    items = []
    counts = consort_counts(spec, adam)
    note = f"{adam.cutoff_text}. Analysis set: {ITT.label}. {conv}"
    items.append(
        FigureItem(
            "consort", "CONSORT flow diagram", draw_consort(counts, footnote=note), note, counts
        )
    )
    for result in analyses.survival:
        if result.population != ITT.name:
            continue
        data = km_plot_data(
            result.analysis,
            endpoint=result.endpoint,
            labels=labels,
            footnote=_footnote(adam, ITT.label),
        )
        items.append(
            FigureItem(
                f"km_{result.endpoint.lower()}",
                f"Kaplan-Meier estimates of {result.name.split(' (')[0].lower()}",
                draw_km_plot(data),
                data.footnote,
                data,
            )
        )
        table = result.analysis.subgroups
        if table is not None:
            forest = _with_arm_labels(
                forest_plot_data(table, footnote=_footnote(adam, ITT.label)), labels
            )
            items.append(
                FigureItem(
                    f"forest_{result.endpoint.lower()}",
                    f"{result.endpoint} by subgroup (forest plot)",
                    draw_forest_plot(forest),
                    forest.footnote,
                    forest,
                )
            )
    # arm labels, experimental arm first, for the per-subject figures
    rank = {a.name: i for i, a in enumerate(spec.arms)}
    adsl = adam["ADSL"].sort_values("ARMCD", key=lambda c: c.map(rank), na_position="last")
    adtr = adam.get("ADTR")
    measurable_note = f"{_footnote(adam, MEASURABLE.label)} {conv}"
    if adtr is not None:
        wf = waterfall_data(adtr, adsl, adam["ADRS"], arm="ARM", footnote=_wrap(measurable_note))
        items.append(
            FigureItem(
                "waterfall",
                "Best change in target lesions (waterfall plot)",
                draw_waterfall(wf),
                wf.footnote,
                wf,
            )
        )
    swim_note = f"{adam.cutoff_text}. Patients with clinical benefit (ADRS CBR = Y). {conv}"
    swim = swimmer_data(adsl, adam["ADRS"], adam["ADTTE"], arm="ARM", footnote=_wrap(swim_note))
    if len(swim.lanes):
        items.append(
            FigureItem(
                "swimmer",
                "Time on treatment of patients with clinical benefit (swimmer plot)",
                draw_swimmer(swim),
                swim.footnote,
                swim,
            )
        )
    return items


def _wrap(text: str, width: int = 140) -> str:
    """Footnote lines that fit a 7.5-inch figure in its small footnote type."""
    return textwrap.fill(text, width)


def _with_arm_labels(data: ForestPlotData, labels: dict[str, str]) -> ForestPlotData:
    """The forest plot's column headers and "favours" texts with arm labels, not codes."""

    def relabel(text: str) -> str:
        for code, label in sorted(labels.items(), key=lambda kv: -len(kv[0])):
            if text.startswith(f"{code} ") or text.endswith(f" {code}"):
                return (
                    text.replace(code, label, 1)
                    if text.startswith(code)
                    else (text[: -len(code)] + label)
                )
        return text

    return dataclasses.replace(
        data,
        text=data.text.rename(columns=relabel),
        favours=(relabel(data.favours[0]), relabel(data.favours[1])),
    )


def _svg_uri(path: Path) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _methods(spec: TrialSpec, analyses: ReportAnalyses) -> list[str]:
    c = analyses.conventions
    strata = ", ".join(spec.analyses.primary.stratified_by) or "none"
    return [
        f"Experimental arm {analyses.arms[analyses.experimental]}, reference arm "
        f"{analyses.arms[analyses.reference]}; hazard and odds ratios are experimental vs "
        "reference, differences experimental minus reference.",
        f"Time-to-event endpoints: Kaplan-Meier per arm, median with the Brookmeyer-Crowley "
        f"CI ({c.conf_type} transform); log-rank test and Cox model stratified by {strata} "
        f"({c.ties} ties, Wald CI and p); landmark rates at "
        f"{', '.join(f'{m:g}' for m in spec.analyses.landmarks_months) or 'none'} months "
        "with Greenwood SEs, differences with Wald CI. Times in months = days / 30.4375.",
        "Subgroups: the spec's subgroup rules; HR per level from a Cox model within the "
        "level (stratified as above), interaction p from the Wald test of arm x subgroup "
        "terms.",
        "Response rates: Clopper-Pearson exact CI; odds ratio: conditional maximum "
        "likelihood with exact CI and Fisher p (R fisher.test).",
        "Adverse events: treatment-emergent (first dose to last dose + "
        f"{spec.derivation.teae_window_days} days), each patient counted once per row at "
        "the maximum CTCAE grade; percentages of the safety population of the arm.",
        c.footnote(),
        "SAS and R differ only where the profile says: SAS uses the log-log CI transform, "
        "Breslow ties and the SAS median rule; R the log transform, Efron ties and the R "
        "rule. Re-run with --profile r or --profile sas to see the other.",
    ]


def _write_outputs(
    tmp: Path,
    spec: TrialSpec,
    adam: AdamData,
    analyses: ReportAnalyses,
    tables: list[ReportTable],
    figures: list[FigureItem],
    progress: Progress,
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    table_files: dict[str, dict[str, str]] = {}
    (tmp / "tables").mkdir()
    for t in tables:
        csv_path, rtf_path = tmp / "tables" / f"{t.name}.csv", tmp / "tables" / f"{t.name}.rtf"
        csv_path.write_text(to_csv(t), encoding="utf-8")
        rtf_path.write_text(to_rtf(t), encoding="utf-8")
        table_files[t.name] = {"csv": f"tables/{t.name}.csv", "rtf": f"tables/{t.name}.rtf"}
    figure_files: dict[str, dict[str, str]] = {}
    with matplotlib.rc_context({"svg.hashsalt": "oncotrial"}):  # stable SVG ids
        for item in figures:
            progress(f"drawing {item.heading}")
            svg, png = save_figure(item.figure, tmp / "figures" / item.name)
            figure_files[item.name] = {"svg": f"figures/{svg.name}", "png": f"figures/{png.name}"}
    return table_files, figure_files


def _page(
    spec: TrialSpec,
    adam: AdamData,
    analyses: ReportAnalyses,
    tables: list[ReportTable],
    figures: list[FigureItem],
    tmp: Path,
    files: list[str],
) -> str:
    by_name = {t.name: t for t in tables}
    fig_by_name = {f.name: f for f in figures}
    order = [
        ("figure", "consort"),
        ("table", "baseline"),
        ("table", "efficacy_itt"),
        ("figure", "km_pfs"),
        ("figure", "km_os"),
        ("figure", "forest_pfs"),
        ("table", "efficacy_measurable"),
        ("figure", "waterfall"),
        ("figure", "swimmer"),
        ("table", "teae_overview"),
        ("table", "ae_by_grade"),
        ("table", "serious_teae"),
        ("table", "exposure"),
    ]
    listed = {name for _, name in order}
    order += [("table", t.name) for t in tables if t.name not in listed]
    order += [("figure", f.name) for f in figures if f.name not in listed]
    items = []
    for kind, name in order:
        if kind == "table" and name in by_name:
            t = by_name[name]
            items.append({"id": f"table-{name}", "kind": "table", "heading": t.title,
                          "html": to_html(t)})  # fmt: skip
        elif kind == "figure" and name in fig_by_name:
            f = fig_by_name[name]
            items.append({"id": f"figure-{name}", "kind": "figure", "heading": f.heading,
                          "src": _svg_uri(tmp / "figures" / f"{name}.svg"),
                          "caption": f.caption})  # fmt: skip
    adsl = adam["ADSL"]
    facts = [
        ("Trial", f"{spec.trial.id}: {spec.trial.title}"),
        ("Arms", "; ".join(f"{a.label} ({a.name})" for a in spec.arms)),
        ("Data cut", adam.cutoff.isoformat() if adam.cutoff else "none applied"),
        ("Subjects", f"{len(adsl)} screened, {int((adsl['ITTFL'] == 'Y').sum())} randomized "
                     f"(ITT), {int((adsl['SAFFL'] == 'Y').sum())} treated (safety)"),
        ("Primary analysis", f"{spec.analyses.primary.endpoint}: {spec.analyses.primary.test}"),
        ("Conventions", analyses.conventions.footnote()),
        ("Created", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
                    + f" by oncotrial {__version__}"),
    ]  # fmt: skip
    return render_page(
        {
            "version": __version__,
            "title": f"{spec.trial.id}: tables and figures",
            "subtitle": [spec.trial.title, adam.cutoff_text],
            "facts": facts,
            "items": items,
            "methods": _methods(spec, analyses),
            "files": files,
        }
    )


def _results(
    analyses: ReportAnalyses, adam: AdamData, tables: list[ReportTable], figures: list[FigureItem]
) -> dict[str, Any]:
    doc = analyses.to_dict()
    doc["oncotrial_version"] = __version__
    doc["inputs"] = adam.files
    doc["consort"] = next((jsonable(f.data) for f in figures if f.name == "consort"), None)
    doc["safety"] = {
        "teae_overview": jsonable(teae_overview(adam["ADAE"], adam["ADSL"]).data),
        "exposure": jsonable(exposure_summary(adam["ADEX"]).data),
    }
    doc["tables"] = {t.name: jsonable(t) for t in tables}
    return doc


def build_report(
    spec: TrialSpec | str | Path,
    adam_dir: str | Path,
    out_dir: str | Path,
    *,
    profile: str | None = None,
    progress: Progress | None = None,
) -> Report:
    """Write the report of the trial whose analysis datasets are in ``adam_dir``.

    ``spec``: a :class:`TrialSpec`, a spec file or a shipped example name. ``profile``:
    conventions profile ("sas" or "r"; default the spec's). ``progress`` receives a short
    text before each step. ``out_dir`` is replaced only if it is empty or an earlier report.
    """
    say = progress or (lambda _text: None)
    trial = spec if isinstance(spec, TrialSpec) else load_spec(spec)
    out = Path(out_dir)
    check_replaceable(out, RESULTS_NAME, "report", "out")
    say("reading analysis datasets")
    adam = read_adam(adam_dir, trial)
    say("running analyses (statistics core)")
    analyses = run_analyses(trial, adam, profile=profile)
    say("building tables")
    tables = build_tables(trial, adam, analyses)
    say("drawing figures")
    figures = build_figures(trial, adam, analyses)
    with staged_directory(out) as tmp:
        table_files, figure_files = _write_outputs(tmp, trial, adam, analyses, tables, figures, say)
        say("writing results.json")
        results = _results(analyses, adam, tables, figures)
        (tmp / RESULTS_NAME).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        say("rendering report.html")
        files = sorted(
            [RESULTS_NAME]
            + [p for d in (*table_files.values(), *figure_files.values()) for p in d.values()]
        )
        page = _page(trial, adam, analyses, tables, figures, tmp, files)
        (tmp / REPORT_NAME).write_text(page, encoding="utf-8")
    return Report(
        out_dir=str(out),
        html=str(out / REPORT_NAME),
        tables=table_files,
        figures=figure_files,
        results=str(out / RESULTS_NAME),
        analyses=analyses,
    )
