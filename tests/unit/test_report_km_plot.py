"""The Kaplan-Meier figure shows the analysis's numbers: checked against direct counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oncotrial.analysis import analyze_survival
from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.data.io import read_table
from oncotrial.errors import InputError
from oncotrial.report.figures.km_plot import draw_km_plot, km_plot_data
from oncotrial.report.figures.style import save_figure

EXAMPLE = "src/oncotrial/data/examples/palmira_like_pfs.csv"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return read_table(EXAMPLE)


@pytest.fixture(scope="module")
def analysis(frame):
    return analyze_survival(
        frame,
        time="AVAL",
        censor="CNSR",
        arm="ARM",
        strata=["PRIOR_ET", "VISCERAL"],
        reference="ET",
        profile="sas",
    )


def test_numbers_at_risk_are_subjects_still_followed(frame, analysis):
    data = km_plot_data(analysis, tick_every=3)
    for curve in data.curves:
        times = frame.loc[frame["ARM"] == curve.arm, "AVAL"].to_numpy(float)
        expected = [(times >= t * DAYS_PER_MONTH).sum() for t in data.risk_times]
        assert curve.at_risk.tolist() == expected


def test_cumulative_events_count_events_up_to_each_tick(frame, analysis):
    data = km_plot_data(analysis, tick_every=3)
    for curve in data.curves:
        arm = frame[frame["ARM"] == curve.arm]
        events = arm.loc[arm["CNSR"] == 0, "AVAL"].to_numpy(float)
        expected = [(events <= t * DAYS_PER_MONTH).sum() for t in data.risk_times]
        assert curve.cumulative_events.tolist() == expected


def test_steps_drop_only_at_event_times_by_the_km_factor(frame, analysis):
    data = km_plot_data(analysis)
    for curve in data.curves:
        arm = frame[frame["ARM"] == curve.arm]
        t = arm["AVAL"].to_numpy(float)
        d = (arm["CNSR"] == 0).to_numpy()
        assert curve.step_x[0] == 0 and curve.step_y[0] == 1
        s = 1.0
        for x, y in zip(curve.step_x[1:], curve.step_y[1:], strict=True):
            day = x * DAYS_PER_MONTH
            at_risk = (t >= day - 1e-9).sum()
            deaths = (d & (np.abs(t - day) < 1e-9)).sum()
            s *= 1 - deaths / at_risk
            assert y == pytest.approx(s, rel=1e-12)
        censored_days = np.unique(t[~d]) / DAYS_PER_MONTH
        np.testing.assert_allclose(curve.censor_x, censored_days, rtol=1e-12)


def test_annotation_and_footnote_carry_the_analysis(analysis):
    data = km_plot_data(analysis, footnote="Data cut 2022-06-30; ITT.")
    text = "\n".join(data.annotation)
    assert f"{analysis.cox.hr:.2f}"[:3] in text
    assert "stratified log-rank" in text
    assert "Data cut 2022-06-30; ITT." in data.footnote
    assert "profile sas" in data.footnote and "log-log" in data.footnote


def test_medians_are_those_of_the_analysis(analysis):
    data = km_plot_data(analysis)
    for curve, arm in zip(data.curves, analysis.arms, strict=True):
        assert curve.median == arm.median and curve.median_ci == arm.median_ci


def test_renders_svg_and_png(tmp_path, analysis):
    data = km_plot_data(analysis, labels={"ET": "Endocrine therapy"})
    paths = save_figure(draw_km_plot(data, show_events=True), tmp_path / "km")
    svg = paths[0].read_text()
    assert "No. at risk" in svg and "Endocrine therapy" in svg
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_tick_spacing_is_refused(analysis):
    with pytest.raises(InputError, match="tick_every"):
        km_plot_data(analysis, tick_every=0)
