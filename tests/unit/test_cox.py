"""Cox model: input errors, monotone likelihood, invariances and identities.

Numerical agreement with R lives in tests/conformance/test_cox_conformance.py; these tests
check properties that hold whatever the data (hypothesis) and hand-checkable identities.
"""

from __future__ import annotations

import json
import math
import random
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncotrial.errors import DataError, InputError, OncotrialWarning
from oncotrial.stats.cox import (
    ConvergenceWarning,
    CoxResult,
    MonotoneLikelihoodWarning,
    NotEstimableWarning,
    cox,
)
from oncotrial.stats.logrank import logrank

TIME = [5.0, 8.0, 3.0, 9.0, 12.0, 4.0, 7.0, 10.0, 2.0, 6.0]
EVENT = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1]
ARM = ["A", "B", "A", "B", "B", "A", "B", "A", "A", "B"]
AGE = [61.0, 55.0, 70.0, 48.0, 66.0, 59.0, 73.0, 52.0, 64.0, 57.0]


def frame(**over: object) -> pd.DataFrame:
    data: dict[str, object] = {"arm": ARM, "age": AGE}
    data.update(over)
    return pd.DataFrame(data)


# ----------------------------------------------------------------------------- bad input


def test_covariate_with_nan_names_column_row_and_value() -> None:
    age = list(AGE)
    age[3] = float("nan")
    with pytest.raises(DataError) as err:
        cox(TIME, EVENT, frame(age=age))
    assert err.value.details == {"column": "age", "row": 4, "value": None}
    assert "column 'age', row 4: missing value" in err.value.message


def test_infinite_covariate_is_rejected_with_its_value() -> None:
    age = list(AGE)
    age[0] = float("inf")
    with pytest.raises(DataError) as err:
        cox(TIME, EVENT, frame(age=age))
    assert err.value.details["row"] == 1 and err.value.details["value"] == math.inf


def test_non_numeric_value_in_numeric_column() -> None:
    age: list[object] = list(AGE)
    age[6] = "seventy"
    with pytest.raises(DataError) as err:
        cox(TIME, EVENT, frame(age=age))
    assert err.value.details == {"column": "age", "row": 7, "value": "seventy"}
    assert "'seventy' is not a number" in err.value.message


def test_constant_covariate_is_rejected() -> None:
    with pytest.raises(DataError, match="column 'age': constant"):
        cox(TIME, EVENT, frame(age=[60.0] * 10))
    with pytest.raises(DataError, match="column 'arm': constant"):
        cox(TIME, EVENT, frame(arm=["A"] * 10))


def test_missing_level_in_categorical_covariate_names_row() -> None:
    arm: list[object] = list(ARM)
    arm[2] = None
    with pytest.raises(DataError) as err:
        cox(TIME, EVENT, frame(arm=arm))
    assert err.value.details["column"] == "arm" and err.value.details["row"] == 3


def test_collinear_covariates_are_named() -> None:
    with pytest.raises(DataError, match="'age_months' is a linear combination of"):
        cox(TIME, EVENT, frame(age_months=[12 * a for a in AGE]))


def test_bad_time_and_event_come_from_shared_input_checks() -> None:
    with pytest.raises(DataError, match=r"column 'time', row 2: time .*-8\.0.* is invalid"):
        cox([5.0, -8.0, *TIME[2:]], EVENT, frame())
    with pytest.raises(DataError, match=r"column 'event', row 1: event code .*2.* is invalid"):
        cox(TIME, [2, *EVENT[1:]], frame())
    with pytest.raises(DataError, match="has 9 rows but the times have 10"):
        cox(TIME, EVENT[:9], frame())
    with pytest.raises(DataError, match="covariates: have 9 rows"):
        cox(TIME, EVENT, frame().iloc[:9])


def test_no_events_is_an_error() -> None:
    with pytest.raises(DataError, match="no events"):
        cox(TIME, [0] * 10, frame())


def test_unknown_reference_level_lists_levels() -> None:
    with pytest.raises(InputError) as err:
        cox(TIME, EVENT, frame(), reference={"arm": "C"})
    assert err.value.details["valid"] == ["A", "B"]
    with pytest.raises(InputError, match="'ARM' is not a covariate"):
        cox(TIME, EVENT, frame(), reference={"ARM": "A"})


def test_bad_ties_and_profile() -> None:
    with pytest.raises(InputError, match="ties"):
        cox(TIME, EVENT, frame(), ties="exact")
    with pytest.raises(InputError, match="profile"):
        cox(TIME, EVENT, frame(), profile="stata")


def test_missing_stratum_and_cluster_name_row() -> None:
    strata: list[object] = [1, 1, 2, 2, 1, None, 2, 1, 2, 1]
    with pytest.raises(DataError) as err:
        cox(TIME, EVENT, frame(), strata=pd.Series(strata, name="region"))
    assert err.value.details["column"] == "region" and err.value.details["row"] == 6
    with pytest.raises(DataError, match="column 'site', row 1"):
        cox(TIME, EVENT, frame(), cluster=pd.Series([None, *range(9)], name="site"))


# ----------------------------------------------------------------------------- behaviour


def test_profile_chooses_ties_and_conventions_are_carried() -> None:
    r_fit = cox(TIME, EVENT, frame(), profile="r")
    sas_fit = cox(TIME, EVENT, frame(), profile="sas")
    assert (r_fit.ties, sas_fit.ties) == ("efron", "breslow")
    assert sas_fit.conventions.profile == "sas"
    assert cox(TIME, EVENT, frame(), profile="sas", ties="efron").conventions.profile == "custom"


def test_reference_override_inverts_the_hazard_ratio() -> None:
    a = cox(TIME, EVENT, frame(), reference={"arm": "A"})
    b = cox(TIME, EVENT, frame(), reference={"arm": "B"})
    assert a.names == ["arm=B", "age"] and b.names == ["arm=A", "age"]
    assert a.terms[0].hr == pytest.approx(1 / b.terms[0].hr, rel=1e-9)
    assert a.terms[0].hr_lower == pytest.approx(1 / b.terms[0].hr_upper, rel=1e-9)
    assert a.references == {"arm": "A"} and b.references == {"arm": "B"}
    assert a.loglik == pytest.approx(b.loglik, rel=1e-12)


def test_categorical_option_treats_numeric_codes_as_levels() -> None:
    ecog = [0, 1, 2, 2, 1, 0, 0, 1, 2, 1]
    fit = cox(TIME, EVENT, pd.DataFrame({"ecog": ecog}), categorical=["ecog"])
    assert fit.names == ["ecog=1", "ecog=2"]
    assert fit.wald.df == 2


def test_monotone_likelihood_warns_and_reports_infinite_hr() -> None:
    event = [1 if a == "A" else 0 for a in ARM]
    with pytest.warns(OncotrialWarning) as record:
        fit = cox(TIME, event, frame())
    assert any(
        issubclass(w.category, MonotoneLikelihoodWarning)
        and "arm=B still diverging" in str(w.message)
        and "coefficient may be infinite" in str(w.message)
        for w in record
    )
    arm = fit.term("arm=B")
    assert arm.infinite and arm.coef == -math.inf and arm.hr == 0.0
    assert math.isnan(arm.se) and math.isnan(arm.p)
    assert not fit.term("age").infinite and math.isfinite(fit.term("age").coef)
    assert math.isfinite(fit.lr.statistic) and math.isnan(fit.wald.statistic)
    assert fit.warnings and json.loads(fit.to_json())["terms"][0]["coef"] is None
    assert issubclass(MonotoneLikelihoodWarning, OncotrialWarning)
    assert issubclass(ConvergenceWarning, UserWarning)


def test_coefficient_without_information_is_nan_not_zero() -> None:
    # The only event is alone in its risk set: the partial likelihood is 1 for every beta.
    # (R coxph reports coef 0 with variance 0 here; oncotrial reports it as not estimable.)
    with pytest.warns(OncotrialWarning) as record:
        fit = cox([1.0, 2.0, 3.0], [0, 0, 1], {"x": [1.0, 2.0, 0.0]})
    assert NotEstimableWarning in {w.category for w in record}
    assert math.isnan(fit.terms[0].coef) and math.isnan(fit.terms[0].hr)
    assert fit.loglik == 0.0 and fit.lr.df == 0


def test_result_is_data() -> None:
    fit = cox(TIME, EVENT, frame(), robust=True)
    table = fit.to_frame()
    assert list(table["name"]) == ["arm=B", "age"]
    assert {"coef", "hr", "se", "robust_se", "z", "p", "hr_lower", "hr_upper"} <= set(table)
    doc = json.loads(fit.to_json())
    assert doc["n"] == 10 and doc["events"] == 7 and doc["conventions"]["ties"] == "efron"
    assert doc["robust_score"]["df"] == 2
    text = fit.summary()
    assert "arm=B" in text and "Likelihood ratio test" in text and "Conventions" in text
    all_terms = fit.wald_test(fit.names)
    assert all_terms.statistic == pytest.approx(fit.wald.statistic, rel=1e-10)
    with pytest.raises(InputError, match="not a coefficient"):
        fit.term("sex")


def test_hand_calculation_two_subjects_one_tie_free_event() -> None:
    # Two subjects, x = 0 and 1, the x = 1 subject dies first, the other is censored later.
    # Partial likelihood L(b) = e^b / (1 + e^b) is monotone: b -> +inf, at 0 it is log(1/2).
    with pytest.warns(OncotrialWarning) as record:
        fit = cox([1.0, 2.0], [1, 0], {"x": [1.0, 0.0]})
    assert {w.category for w in record} == {MonotoneLikelihoodWarning, ConvergenceWarning}
    assert fit.loglik_null == pytest.approx(math.log(0.5), rel=1e-12)
    assert fit.terms[0].coef == math.inf
    # Score test at b = 0: U = 1 - 1/2, I = 1/4 -> U^2 / I = 1.
    assert fit.score.statistic == pytest.approx(1.0, rel=1e-12)


def test_efron_hand_calculation_with_one_tied_pair() -> None:
    # Three subjects at risk at t = 1 (x = 1, 0, 0); the first two die at t = 1.
    # Efron: l(b) = b + 0 - log(e^b + 2) - log(e^b + 2 - (e^b + 1) / 2).
    time, event, x = [1.0, 1.0, 1.0], [1, 1, 0], [1.0, 0.0, 0.0]
    fit = cox(time, event, {"x": x}, ties="efron")
    b = fit.terms[0].coef

    def loglik(v: float) -> float:
        return v - math.log(math.exp(v) + 2) - math.log(math.exp(v) + 2 - (math.exp(v) + 1) / 2)

    assert fit.loglik == pytest.approx(loglik(b), rel=1e-12)
    assert fit.loglik_null == pytest.approx(loglik(0.0), rel=1e-12)
    h = 1e-5
    assert (loglik(b + h) - loglik(b - h)) / (2 * h) == pytest.approx(0.0, abs=1e-6)
    breslow = cox(time, event, {"x": x}, ties="breslow")
    assert breslow.loglik_null == pytest.approx(-2 * math.log(3), rel=1e-12)


# ----------------------------------------------------------------------------- properties


@st.composite
def survival_data(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(12, 40))
    times = draw(st.lists(st.integers(1, 15), min_size=n, max_size=n))
    events = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    arm = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    z = draw(st.lists(st.floats(-3, 3, allow_nan=False, width=32), min_size=n, max_size=n))
    events[0], arm[0], events[1], arm[1] = 1, 0, 1, 1
    z[2] = z[3] + 1.0
    return pd.DataFrame({"time": times, "event": events, "arm": arm, "z": z})


def _fit(data: pd.DataFrame, strata: pd.Series | None = None) -> CoxResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OncotrialWarning)
        return cox(data["time"], data["event"], data[["arm", "z"]], strata=strata)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(survival_data(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(data: pd.DataFrame, rnd: random.Random) -> None:
    perm = list(range(len(data)))
    rnd.shuffle(perm)
    a, b = _fit(data), _fit(data.iloc[perm].reset_index(drop=True))
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10, abs=1e-10)
    assert a.score.statistic == pytest.approx(b.score.statistic, rel=1e-8, abs=1e-10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(survival_data(), st.floats(-50, 50), st.floats(0.1, 20))
def test_affine_covariate_change_rescales_the_coefficient(
    data: pd.DataFrame, shift: float, factor: float
) -> None:
    a = _fit(data)
    moved = data.assign(z=data["z"] * factor + shift)
    b = _fit(moved)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-8)
    if a.converged and not any(t.infinite for t in a.terms):
        assert b.terms[1].coef * factor == pytest.approx(a.terms[1].coef, rel=1e-6, abs=1e-8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(survival_data())
def test_duplicated_data_in_two_strata_doubles_the_loglik(data: pd.DataFrame) -> None:
    single = _fit(data)
    double = pd.concat([data, data], ignore_index=True)
    strata = pd.Series(np.repeat([0, 1], len(data)), name="copy")
    both = _fit(double, strata=strata)
    assert both.loglik == pytest.approx(2 * single.loglik, rel=1e-9)
    assert both.score.statistic == pytest.approx(2 * single.score.statistic, rel=1e-8, abs=1e-10)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.01, 100, allow_nan=False), st.booleans(), st.booleans()),
        min_size=6,
        max_size=40,
        unique_by=lambda r: r[0],
    )
)
def test_without_ties_efron_equals_breslow_and_score_equals_logrank(rows: list) -> None:
    time = [r[0] for r in rows]
    event = [int(r[1]) for r in rows]
    arm = [int(r[2]) for r in rows]
    if sum(event) == 0 or len(set(arm)) < 2:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OncotrialWarning)
        efron = cox(time, event, {"arm": arm}, ties="efron")
        breslow = cox(time, event, {"arm": arm}, ties="breslow")
    assert efron.loglik_null == pytest.approx(breslow.loglik_null, rel=1e-12)
    assert efron.score.statistic == pytest.approx(breslow.score.statistic, rel=1e-9, abs=1e-12)
    # Without ties the Cox score test at beta = 0 is the log-rank test (Cox 1972, sec. 5).
    lr = logrank(time, event, arm)
    assert efron.score.statistic == pytest.approx(lr.chisq, rel=1e-9, abs=1e-12)


def test_large_stratified_fit_is_fast_and_sane() -> None:
    import time as clock

    rng = np.random.default_rng(7)
    n = 200_000
    arm = rng.integers(0, 2, n)
    s1, s2 = rng.integers(0, 2, n), rng.integers(0, 2, n)
    t = np.round(rng.exponential(1 / np.exp(np.log(0.7) * arm + 0.4 * s1 - 0.2 * s2)), 2)
    e = (rng.random(n) < 0.8).astype(int)
    start = clock.perf_counter()
    fit = cox(t, e, {"arm": arm}, strata=pd.DataFrame({"a": s1, "b": s2}))
    assert clock.perf_counter() - start < 5.0
    assert fit.n_strata == 4 and fit.converged
    assert fit.terms[0].hr == pytest.approx(0.7, rel=0.03)
