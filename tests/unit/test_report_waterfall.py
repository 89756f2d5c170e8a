"""Waterfall plot data: best post-baseline change per measurable subject, sorted, coloured."""

from __future__ import annotations

import pandas as pd
import pytest

from oncotrial.errors import DataError
from oncotrial.report.figures.style import save_figure
from oncotrial.report.figures.waterfall import draw_waterfall, waterfall_data

ADSL = pd.DataFrame(
    {
        "USUBJID": ["1", "2", "3", "4", "5"],
        "ARMCD": ["A", "A", "A", "B", "B"],
        "MEASFL": ["Y", "Y", "Y", "Y", "N"],
    }
)
ADTR = pd.DataFrame(
    {
        "USUBJID": ["1", "1", "1", "2", "2", "3", "4", "4", "5", "5"],
        "PARAMCD": ["SUMDIAM"] * 10,
        "ABLFL": ["Y", "", "", "Y", "", "Y", "Y", "", "Y", ""],
        "PCHG": [0.0, -35.0, -20.0, 0.0, 25.0, 0.0, 0.0, -5.0, 0.0, -50.0],
    }
)
BOR = pd.DataFrame(
    {"USUBJID": ["1", "2", "4"], "PARAMCD": ["BOR"] * 3, "AVALC": ["PR", "PD", "SD"]}
)


def test_best_change_is_the_minimum_post_baseline_change():
    data = waterfall_data(ADTR, ADSL, BOR)
    best = dict(zip(data.bars["USUBJID"], data.bars["best_pchg"], strict=True))
    assert best == {"1": -35.0, "2": 25.0, "4": -5.0}


def test_bars_sorted_from_largest_increase_within_each_arm():
    bars = waterfall_data(ADTR, ADSL, BOR).bars
    arm_a = bars[bars["arm"] == "A"]
    assert arm_a["USUBJID"].tolist() == ["2", "1"] and arm_a["position"].tolist() == [0, 1]


def test_subjects_without_post_baseline_sum_or_not_measurable_are_not_drawn():
    data = waterfall_data(ADTR, ADSL, BOR, footnote="Data cut 2022-06-30.")
    assert "3" not in set(data.bars["USUBJID"]) and "5" not in set(data.bars["USUBJID"])
    assert data.not_shown == {"A": 1, "B": 0}
    assert "A: 1 measurable without post-baseline sum" in data.footnote


def test_colour_follows_best_overall_response():
    bars = waterfall_data(ADTR, ADSL, BOR).bars.set_index("USUBJID")
    assert bars.loc["1", "response"] == "PR" and bars.loc["4", "response"] == "SD"


def test_missing_column_is_named():
    with pytest.raises(DataError, match="'PCHG'"):
        waterfall_data(ADTR.drop(columns="PCHG"), ADSL)


def test_renders(tmp_path):
    svg, png = save_figure(draw_waterfall(waterfall_data(ADTR, ADSL, BOR)), tmp_path / "w")
    assert "PR" in svg.read_text() and png.stat().st_size > 5000
