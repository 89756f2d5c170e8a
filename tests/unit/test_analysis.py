"""oncotrial.analysis: the orchestration reports exactly what the statistics core computes.

Agreement with R of the whole pipeline is in tests/e2e/test_analyze_survival_cli.py; here the
result is compared with the core functions called directly on the same data, and the unit,
coding and error rules are checked on hand-made data.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrial.analysis import (
    DAYS_PER_MONTH,
    SurvivalAnalysis,
    analyze_survival,
    censor_to_event,
    fmt_number,
    fmt_p,
    read_table,
)
from oncotrial.conventions import resolve
from oncotrial.errors import DataError, InputError
from oncotrial.stats.cox import cox
from oncotrial.stats.km import kaplan_meier, landmark_difference
from oncotrial.stats.logrank import logrank
from oncotrial.stats.rmst import median_followup, rmst_difference
from oncotrial.stats.subgroups import subgroup_analysis

PALMIRA = Path(__file__).parents[2] / "src/oncotrial/data/examples/palmira_like_pfs.csv"
EXP, REF = "Palbociclib + ET", "ET"


@pytest.fixture(scope="module")
def palmira() -> pd.DataFrame:
    return read_table(PALMIRA)


@pytest.fixture(scope="module", params=["r", "sas"])
def result(request, palmira) -> SurvivalAnalysis:
    return analyze_survival(
        palmira,
        time="AVAL",
        censor="CNSR",
        arm="ARM",
        strata=["PRIOR_ET", "VISCERAL"],
        landmarks=[6, 12],
        reference=REF,
        profile=request.param,
        rmst_tau=12,
    )


def test_shipped_demo_data_have_the_documented_design(palmira):
    assert len(palmira) == 198
    assert palmira["ARM"].value_counts().to_dict() == {EXP: 132, REF: 66}
    assert (palmira["PRIOR_ET"] == "aromatase_inhibitor").sum() == 178  # 89.9%
    assert (palmira["VISCERAL"] == "yes").sum() == 121  # 61.1%
    assert 0.18 <= palmira["CNSR"].mean() <= 0.22
    assert set(palmira["CNSR"]) == {0, 1}
    assert palmira["AVAL"].dtype.kind == "i" and palmira["AVAL"].min() >= 1
    assert set(palmira["AGEGR"]) == {"<65", ">=65"} and set(palmira["ECOG"]) == {"0", "1-2"}


def test_equals_the_core_functions_called_directly(result, palmira):
    conv = result.conventions
    months = palmira["AVAL"].to_numpy() / DAYS_PER_MONTH
    event = 1 - palmira["CNSR"].to_numpy()
    arm = palmira["ARM"].to_numpy()
    for estimate, level in zip(result.arms, (EXP, REF), strict=True):
        km = kaplan_meier(months[arm == level], event[arm == level], conventions=conv)
        assert (estimate.arm, estimate.n, estimate.events) == (level, km.n, km.events)
        assert estimate.median == pytest.approx(km.median, rel=1e-12)
        assert estimate.median_ci == pytest.approx(km.median_ci, rel=1e-12)
        marks = km.survival_at([6.0, 12.0])
        for i, mark in enumerate(estimate.landmarks):
            assert mark.survival == pytest.approx(marks.survival[i], rel=1e-12)
            assert mark.ci == pytest.approx((marks.lower[i], marks.upper[i]), rel=1e-12)
            assert mark.n_risk == marks.n_risk[i]
    stratum = (palmira["PRIOR_ET"] + "/" + palmira["VISCERAL"]).to_numpy()
    lr = logrank(months, event, arm, strata=stratum, reference=REF)
    assert result.logrank.chisq == pytest.approx(lr.chisq, rel=1e-12)
    assert result.logrank.p == pytest.approx(lr.p_value, rel=1e-12)
    assert result.logrank.df == 1 and result.logrank.n_strata == 4
    fit = cox(
        months,
        event,
        pd.DataFrame({"ARM": arm}),
        strata=palmira[["PRIOR_ET", "VISCERAL"]],
        ties=conv.ties,
        reference={"ARM": REF},
    )
    term = fit.term(f"ARM={EXP}")
    assert result.cox.hr == pytest.approx(term.hr, rel=1e-9)
    assert result.cox.ci == pytest.approx((term.hr_lower, term.hr_upper), rel=1e-9)
    assert result.cox.p == pytest.approx(term.p, rel=1e-9)
    assert result.cox.ties == ("breslow" if conv.profile == "sas" else "efron")
    km_e = kaplan_meier(months[arm == EXP], event[arm == EXP], conventions=conv)
    km_r = kaplan_meier(months[arm == REF], event[arm == REF], conventions=conv)
    diff = landmark_difference(km_e, km_r, 12.0)
    got = result.landmark_differences[1]
    assert (got.difference, got.p) == pytest.approx((diff.difference, diff.p_value), rel=1e-12)
    fu = median_followup(months, event, conventions=conv)
    assert result.followup.median == pytest.approx(fu.median, rel=1e-12)
    assert result.rmst is not None
    rm = rmst_difference(km_e, km_r, 12.0)
    assert result.rmst.difference == pytest.approx(rm.estimate, rel=1e-12)
    assert result.rmst.p == pytest.approx(rm.p_value, rel=1e-12)


def test_subgroups_are_the_subgroup_module_on_months(palmira):
    res = analyze_survival(
        palmira,
        time="AVAL",
        censor="CNSR",
        arm="ARM",
        strata=["PRIOR_ET", "VISCERAL"],
        subgroups=["AGEGR", "VISCERAL"],
        reference=REF,
    )
    frame = palmira.assign(months=palmira["AVAL"] / DAYS_PER_MONTH, event=1 - palmira["CNSR"])
    direct = subgroup_analysis(
        frame,
        "months",
        "event",
        "ARM",
        ["AGEGR", "VISCERAL"],
        reference=REF,
        strata=["PRIOR_ET", "VISCERAL"],
    )
    assert res.subgroups is not None
    got, want = res.subgroups.to_frame(), direct.to_frame()
    pd.testing.assert_frame_equal(got, want, rtol=1e-9)
    overall = got.iloc[0]
    assert overall["hr"] == pytest.approx(res.cox.hr, rel=1e-9)


def test_result_is_data(result):
    doc = json.loads(result.to_json())
    assert {
        "data",
        "arms",
        "logrank",
        "cox",
        "landmark_differences",
        "followup",
        "conventions",
        "notes",
    } <= set(doc)
    assert "km" not in doc["arms"][0] and "fit" not in doc["cox"]
    assert result.arms[0].km.n == 132  # the curve stays on the object
    frame = result.to_frame()
    assert list(frame["arm"]) == [EXP, REF] and "survival_6" in frame.columns
    text = result.summary()
    assert "Palbociclib + ET vs ET (reference)" in text and "Conventions: profile" in text
    with pytest.raises(AttributeError):
        result.notes = ()  # type: ignore[misc]


# --------------------------------------------------------------------------- units, coding


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 400), st.booleans(), st.booleans()), min_size=4, max_size=30)
)
def test_days_and_months_agree(rows):
    """Every method is invariant to the time scale: days / 30.4375 give the same report."""
    frame = pd.DataFrame(rows, columns=["t", "e", "arm"]).astype({"e": int})
    frame["arm"] = np.where(frame["arm"], "B", "A")
    if frame["arm"].nunique() < 2 or frame["e"].sum() == 0:
        return
    days = analyze_survival(frame, time="t", event="e", arm="arm", landmarks=[3])
    months = analyze_survival(
        frame.assign(t=frame["t"] / DAYS_PER_MONTH),
        time="t",
        event="e",
        arm="arm",
        landmarks=[3],
        time_unit="months",
    )
    for a, b in zip(days.arms, months.arms, strict=True):
        assert a.median == pytest.approx(b.median, rel=1e-9, nan_ok=True)
        assert a.landmarks[0].survival == pytest.approx(b.landmarks[0].survival, rel=1e-12)
    assert days.logrank.chisq == pytest.approx(months.logrank.chisq, rel=1e-9, abs=1e-12)


def test_landmark_months_are_converted_to_days_hand_example():
    # arm A dies at 30, 100, 200 days; S_A(3 months = 91.3125 days) = 2/3 by hand
    frame = pd.DataFrame(
        {
            "t": [30, 100, 200, 50, 60, 70],
            "e": [1, 1, 1, 1, 1, 0],
            "arm": ["A", "A", "A", "B", "B", "B"],
        }
    )
    res = analyze_survival(frame, time="t", event="e", arm="arm", landmarks=[3, 1])
    a = res.reference
    assert a.arm == "A"
    assert a.landmarks[0].survival == pytest.approx(2 / 3, rel=1e-15)
    assert a.landmarks[1].survival == pytest.approx(2 / 3, rel=1e-15)  # 30.4375 > 30 days
    assert a.median == pytest.approx(100 / DAYS_PER_MONTH, rel=1e-15)
    assert res.data["landmarks_in_data_unit"] == [3 * 30.4375, 30.4375]


def test_censor_codes_follow_adam():
    values = pd.Series([0, 1, 2, 0, 3])
    assert censor_to_event(values, "CNSR").tolist() == [1, 0, 0, 1, 0]
    with pytest.raises(DataError) as err:
        censor_to_event(pd.Series([0, 1, None]), "CNSR")
    assert err.value.details["row"] == 3 and "missing" in err.value.message


def test_notes_for_one_arm_strata_and_landmarks_past_follow_up():
    frame = pd.DataFrame(
        {
            "t": [1, 2, 3, 4, 5, 6, 7, 8],
            "e": [1, 1, 0, 1, 1, 1, 0, 1],
            "arm": list("ABABABAA"),
            "s": list("xxxxxxyy"),
        }
    )
    res = analyze_survival(
        frame, time="t", event="e", arm="arm", strata=["s"], landmarks=[0.25], time_unit="months"
    )
    assert any("stratum s=y has patients of one arm only (A)" in n for n in res.notes)
    assert not any("landmark" in n for n in res.notes)
    res = analyze_survival(
        frame, time="t", event="e", arm="arm", landmarks=[7.5], time_unit="months"
    )
    assert any("landmark 7.5 months is beyond the last follow-up in B" in n for n in res.notes)


def test_conventions_override_marks_custom():
    frame = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 0, 1, 1, 1], "arm": list("ABABAB")})
    res = analyze_survival(frame, time="t", event="e", arm="arm", profile="sas", ties="efron")
    assert res.conventions == resolve("sas", ties="efron")
    assert res.cox.ties == "efron" and res.conventions.conf_type == "log-log"


# --------------------------------------------------------------------------- errors


def test_errors_name_column_row_value():
    frame = pd.DataFrame({"t": [1.0, 2, 3, 4], "e": [1, 0, 1, 1], "arm": list("ABAB")})
    with pytest.raises(DataError) as err:
        analyze_survival(frame, time="time", event="e", arm="arm")
    assert err.value.details["column"] == "time" and "t, e, arm" in err.value.message
    with pytest.raises(DataError) as err:
        analyze_survival(frame.assign(arm=["A", "B", " ", "B"]), time="t", event="e", arm="arm")
    assert err.value.details["row"] == 3 and "blank" in err.value.message
    with pytest.raises(InputError):
        analyze_survival(frame, time="t", event="e", arm="arm", landmarks=[-1])
    with pytest.raises(InputError):
        analyze_survival(frame, time="t", event="e", arm="arm", time_unit="weeks")
    with pytest.raises(InputError):
        analyze_survival(frame, time="t", event="e", arm="arm", rmst_tau=0)
    with pytest.raises(DataError) as err:
        analyze_survival(frame.assign(e=0), time="t", event="e", arm="arm")
    assert "no events" in err.value.message


def test_display_rounding_is_half_up():
    assert fmt_number(0.125, 2) == "0.13" and fmt_number(2.45, 1) == "2.5"
    assert fmt_number(math.nan, 1) == "NR"
    assert fmt_p(0.0004) == "<0.001" and fmt_p(0.04449) == "0.044" and fmt_p(0.1235) == "0.124"
    assert fmt_p(0.00245) == "0.0025" and fmt_p(0.001) == "0.0010"
