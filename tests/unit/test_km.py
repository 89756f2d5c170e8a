"""Kaplan-Meier unit tests: hand calculations, quantile rules, landmarks, errors.

Agreement with R on real data sets is in tests/conformance/test_km_conformance.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from oncotrial.conventions import resolve
from oncotrial.errors import DataError, InputError
from oncotrial.stats.km import kaplan_meier, landmark_difference
from oncotrial.stats.rmst import median_followup, rmst, rmst_difference


def test_hand_calculation_with_ties_and_censoring_at_event_time() -> None:
    # t: 1 1 2 2 3, e: 1 0 1 1 0. At t=1: 5 at risk, 1 death, 1 censored -> S = 4/5.
    # At t=2: 3 at risk, 2 deaths -> S = 4/5 * 1/3. Greenwood: 1/(5*4) + 2/(3*1).
    km = kaplan_meier([1, 1, 2, 2, 3], [1, 0, 1, 1, 0])
    assert km.time.tolist() == [1.0, 2.0, 3.0]
    assert km.n_risk.tolist() == [5, 3, 1]
    assert km.n_event.tolist() == [1, 2, 0]
    assert km.n_censor.tolist() == [1, 0, 1]
    assert km.survival[1] == pytest.approx(4 / 15, rel=1e-12)
    assert km.std_err_cumhaz[1] == pytest.approx(math.sqrt(1 / 20 + 2 / 3), rel=1e-12)
    assert km.std_err[1] == pytest.approx(4 / 15 * math.sqrt(1 / 20 + 2 / 3), rel=1e-12)
    # log CI by hand: exp(log S +/- 1.959964 * se)
    z = 1.959963984540054
    se = math.sqrt(1 / 20 + 2 / 3)
    assert km.lower[1] == pytest.approx(4 / 15 * math.exp(-z * se), rel=1e-9)


@pytest.mark.parametrize(
    ("time", "event", "rule", "p", "expected"),
    [
        # S = .75 (t=1), .5 (t=2), .5 (censored t=3), 0 (t=4): both rules take the
        # midpoint of the flat stretch at 0.5, between t=2 and the next event time t=4.
        ([1, 2, 3, 4], [1, 1, 0, 1], "r", 0.5, 3.0),
        ([1, 2, 3, 4], [1, 1, 0, 1], "sas", 0.5, 3.0),
        # first quartile: S = .75 exactly on [1, 2): midpoint 1.5 in both.
        ([1, 2, 3, 4], [1, 1, 0, 1], "sas", 0.25, 1.5),
        # S = .5 from t=2 to the end of follow-up (t=4, censored). R quantile.survfit takes
        # the midpoint of 2 and the last follow-up time, 3; SAS's q = min{t_j : S(t_j) < .5}
        # has no qualifying event time, so the median is missing.
        ([1, 2, 3, 4], [1, 1, 0, 0], "r", 0.5, 3.0),
        ([1, 2, 3, 4], [1, 1, 0, 0], "sas", 0.5, float("nan")),
        # no flat stretch: S = .8, .6, .4 -> both rules give the first time S < .5, t=3.
        ([1, 2, 3, 4, 5], [1, 1, 1, 0, 0], "sas", 0.5, 3.0),
        ([1, 2, 3, 4, 5], [1, 1, 1, 0, 0], "r", 0.5, 3.0),
    ],
)
def test_quantile_rules_hand_calculated(time, event, rule, p, expected) -> None:
    km = kaplan_meier(time, event, conventions=resolve("r", quantile_rule=rule))
    estimate = km.quantile(p)[0]
    if math.isnan(expected):
        assert math.isnan(estimate)
    else:
        assert estimate == expected


def test_median_attributes_and_not_reached() -> None:
    km = kaplan_meier([1, 2, 3, 4], [0, 1, 0, 0])
    assert math.isnan(km.median)
    assert all(math.isnan(v) for v in km.median_ci[1:])
    assert "NR" in km.summary()
    assert km.to_dict()["median"] is None


def test_profiles_set_transform_and_rule() -> None:
    r = kaplan_meier([1, 2, 3, 4, 5], [1, 1, 0, 1, 1])
    sas = kaplan_meier([1, 2, 3, 4, 5], [1, 1, 0, 1, 1], profile="sas")
    assert (r.conventions.conf_type, sas.conventions.conf_type) == ("log", "log-log")
    assert sas.conventions.quantile_rule == "sas"
    np.testing.assert_allclose(r.survival, sas.survival)
    assert not np.allclose(r.lower[:3], sas.lower[:3])


def test_integer_counting_path_equals_sorting_path() -> None:
    rng = np.random.default_rng(3)
    t = rng.integers(0, 50, 2000).astype(float)
    e = rng.random(2000) < 0.7
    fast = kaplan_meier(t, e)
    slow = kaplan_meier(t + 0.5, e)  # non-integer: sorting path, same order and ties
    np.testing.assert_array_equal(fast.n_risk, slow.n_risk)
    np.testing.assert_array_equal(fast.n_event, slow.n_event)
    np.testing.assert_allclose(fast.survival, slow.survival, rtol=1e-14)


def test_survival_at_semantics() -> None:
    km = kaplan_meier([2, 3, 5], [1, 0, 1])
    marks = km.survival_at([0, 1.9, 2, 4, 5, 99])
    assert marks.survival.tolist()[:4] == [1.0, 1.0, pytest.approx(2 / 3), pytest.approx(2 / 3)]
    assert marks.survival[4] == 0.0 and marks.survival[5] == 0.0  # carried forward
    assert marks.n_risk.tolist() == [3, 3, 3, 1, 1, 0]
    assert marks.lower[0] == 1.0 and marks.upper[0] == 1.0
    assert math.isnan(marks.lower[5])  # log CI does not exist at S = 0
    assert list(marks.to_frame().columns) == [
        "time",
        "n_risk",
        "survival",
        "std_err",
        "lower",
        "upper",
    ]


def test_landmark_difference_hand_calculation() -> None:
    a = kaplan_meier([1, 2, 3, 4], [1, 0, 1, 0])  # S(2.5) = 3/4
    b = kaplan_meier([1, 2, 3, 4], [1, 1, 0, 0])  # S(2.5) = 1/2
    diff = landmark_difference(a, b, 2.5)
    var_a = (3 / 4) ** 2 * (1 / (4 * 3))
    var_b = (1 / 2) ** 2 * (1 / (4 * 3) + 1 / (3 * 2))
    assert diff.difference == pytest.approx(0.25)
    assert diff.std_err == pytest.approx(math.sqrt(var_a + var_b), rel=1e-12)
    assert diff.lower == pytest.approx(0.25 - 1.959963984540054 * diff.std_err, rel=1e-9)
    assert "difference 25.0%" in diff.summary()


def test_rmst_hand_calculation() -> None:
    km = kaplan_meier([1, 2, 3], [1, 1, 0])  # S: 2/3 on [1,2), 1/3 on [2, 3]
    area = rmst(km, 3.0)
    assert area.estimate == pytest.approx(1 + 2 / 3 + 1 / 3)
    # A_1 = 2/3 + 1/3 = 1 with d/(n(n-d)) = 1/6; A_2 = 1/3 with 1/2.
    assert area.std_err == pytest.approx(math.sqrt(1 / 6 + (1 / 3) ** 2 / 2))
    diff = rmst_difference(km, km, 3.0)
    assert diff.estimate == 0.0 and diff.p_value == pytest.approx(1.0)
    with pytest.raises(InputError, match="tau"):
        rmst(km, -1.0)


def test_median_followup_reverses_the_event() -> None:
    fu = median_followup([1, 2, 3, 4, 5], [1, 0, 1, 0, 0])
    reverse = kaplan_meier([1, 2, 3, 4, 5], [0, 1, 0, 1, 1])
    assert fu.median == reverse.median
    assert "follow-up" in fu.summary()


def test_results_are_data() -> None:
    km = kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1])
    d = km.to_dict()
    assert d["conventions"]["profile"] == "r"
    assert len(km.to_frame()) == 3
    assert '"survival"' in km.to_json()
    with pytest.raises(AttributeError):
        km.median = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("time", "event", "match"),
    [
        ([1, -2, 3], [1, 0, 1], r"'time', row 2: time .*-2\.0"),
        ([1, None, 3], [1, 0, 1], r"'time', row 2: missing"),
        ([1, 2, 3], [1, 2, 1], r"'event', row 2: event code .*2"),
        ([1, 2, 3], [1, 0], r"'event': has 2 rows"),
        ([], [], r"'time': no rows"),
    ],
)
def test_bad_input_names_column_row_value(time, event, match) -> None:
    with pytest.raises(DataError, match=match):
        kaplan_meier(time, event)


def test_bad_arguments() -> None:
    km = kaplan_meier([1, 2], [1, 1])
    with pytest.raises(InputError, match=r"p: 1\.5"):
        km.quantile(1.5)
    with pytest.raises(InputError, match="conf_type"):
        kaplan_meier([1, 2], [1, 1], conf_type="probit")
