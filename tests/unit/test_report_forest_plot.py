"""The forest plot shows the subgroup table's numbers, one line per level under headings."""

from __future__ import annotations

import math

import pytest

from oncotrial.analysis import analyze_survival
from oncotrial.data.io import read_table
from oncotrial.report.figures.forest_plot import draw_forest_plot, forest_plot_data
from oncotrial.report.figures.style import save_figure

EXAMPLE = "src/oncotrial/data/examples/palmira_like_pfs.csv"
SUBGROUPS = ["AGEGR", "ECOG", "VISCERAL"]


@pytest.fixture(scope="module")
def table():
    frame = read_table(EXAMPLE)
    result = analyze_survival(
        frame,
        time="AVAL",
        censor="CNSR",
        arm="ARM",
        strata=["PRIOR_ET", "VISCERAL"],
        subgroups=SUBGROUPS,
        reference="ET",
        profile="sas",
    )
    return frame, result.subgroups


def test_one_line_per_level_plus_a_heading_per_subgroup(table):
    frame, subgroups = table
    data = forest_plot_data(subgroups)
    levels = sum(frame[s].nunique() for s in SUBGROUPS)
    assert len(data.text) == 1 + len(SUBGROUPS) + levels
    assert data.text["Subgroup"].iloc[0] == "All patients" and not data.heading[0]
    assert [t for t, h in zip(data.text["Subgroup"], data.heading, strict=True) if h] == SUBGROUPS


def test_plotted_intervals_are_the_table_hazard_ratios(table):
    _, subgroups = table
    data = forest_plot_data(subgroups)
    plotted = [
        (h, lo, hi)
        for h, lo, hi, head in zip(data.hr, data.lower, data.upper, data.heading, strict=True)
        if not head
    ]
    assert plotted == [(r.hr, r.hr_lower, r.hr_upper) for r in subgroups.rows]
    assert all(math.isnan(h) for h, head in zip(data.hr, data.heading, strict=True) if head)


def test_events_over_n_are_direct_counts(table):
    frame, subgroups = table
    data = forest_plot_data(subgroups)
    column = next(c for c in data.text.columns if c.startswith("Palbociclib") and "Events" in c)
    line = data.text.index[data.text["Subgroup"] == "  yes"][0]
    arm = frame[(frame["ARM"] == "Palbociclib + ET") & (frame["VISCERAL"] == "yes")]
    assert data.text.loc[line, column].startswith(f"{(arm['CNSR'] == 0).sum()} / {len(arm)} ")


def test_interaction_p_sits_on_the_heading_line(table):
    _, subgroups = table
    data = forest_plot_data(subgroups, footnote="ITT.")
    headings = data.text[data.heading]
    assert all(p for p in headings["Interaction P"])
    assert "ITT." in data.footnote and "Conventions:" in data.footnote


def test_renders(tmp_path, table):
    _, subgroups = table
    svg, png = save_figure(draw_forest_plot(forest_plot_data(subgroups)), tmp_path / "forest")
    assert "Favours Palbociclib + ET" in svg.read_text()
    assert png.stat().st_size > 10_000
