"""Swimmer plot lanes: duration on treatment, first response, progression, ongoing."""

from __future__ import annotations

import pandas as pd
import pytest

from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.report.figures.style import save_figure
from oncotrial.report.figures.swimmer import draw_swimmer, swimmer_data

ADSL = pd.DataFrame(
    {
        "USUBJID": ["1", "2", "3"],
        "ARMCD": ["A", "B", "A"],
        "TRTSDT": ["2024-01-01", "2024-01-10", "2024-02-01"],
        "TRTEDT": ["2024-06-30", "2024-03-10", "2024-04-01"],
        "EOTSTT": ["DISCONTINUED", "DISCONTINUED", "ONGOING"],
        "DCUTDT": ["2024-12-31"] * 3,
    }
)
ADRS = pd.DataFrame(
    {
        "USUBJID": ["1", "1", "1", "2", "3", "1", "2", "3"],
        "PARAMCD": ["OVR", "OVR", "OVR", "OVR", "OVR", "CBR", "CBR", "CBR"],
        "AVALC": ["SD", "PR", "PR", "SD", "SD", "Y", "N", "Y"],
        "ADT": ["2024-02-26", "2024-04-22", "2024-06-17", "2024-03-05", "2024-03-28", "", "", ""],
    }
)
ADTTE = pd.DataFrame(
    {
        "USUBJID": ["1", "2", "3"],
        "PARAMCD": ["PFS"] * 3,
        "ADT": ["2024-07-01", "2024-03-05", "2024-12-31"],
        "CNSR": [0, 0, 1],
        "EVNTDESC": ["Disease progression", "Death", ""],
    }
)


def test_default_lanes_are_subjects_with_clinical_benefit_longest_first():
    lanes = swimmer_data(ADSL, ADRS, ADTTE).lanes
    assert lanes["USUBJID"].tolist() == ["3", "1"]


def test_duration_response_and_progression_in_months_from_first_dose():
    lanes = swimmer_data(ADSL, ADRS, ADTTE).lanes.set_index("USUBJID")
    # subject 1: 2024-01-01 .. 2024-06-30 inclusive = 182 days; first PR 2024-04-22 = day 112
    assert lanes.loc["1", "months"] == pytest.approx(182 / DAYS_PER_MONTH)
    assert lanes.loc["1", "response_month"] == pytest.approx(112 / DAYS_PER_MONTH)
    assert lanes.loc["1", "progression_month"] == pytest.approx(182 / DAYS_PER_MONTH)
    assert not lanes.loc["1", "ongoing"]


def test_ongoing_treatment_runs_to_the_data_cut():
    lanes = swimmer_data(ADSL, ADRS, ADTTE).lanes.set_index("USUBJID")
    # 2024-02-01 .. 2024-12-31 inclusive = 335 days
    assert lanes.loc["3", "ongoing"] and lanes.loc["3", "months"] == pytest.approx(
        335 / DAYS_PER_MONTH
    )
    assert pd.isna(lanes.loc["3", "progression_month"])


def test_death_is_not_drawn_as_progression():
    lanes = swimmer_data(ADSL, ADRS, ADTTE, subjects=["2"]).lanes
    assert pd.isna(lanes.loc[0, "progression_month"])


def test_renders(tmp_path):
    svg, _ = save_figure(draw_swimmer(swimmer_data(ADSL, ADRS, ADTTE)), tmp_path / "s")
    assert "First response" in svg.read_text()
