"""Unit tests of oncotrial.stats.proportions: closed forms, identities, bad input, display.

Reference numbers from R live in tests/conformance (proportions_r.json); here every expected
value is a closed form or an identity between two different code paths.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from oncotrial.errors import InputError
from oncotrial.stats import proportions as prop

Z975 = 1.959963984540054


# ------------------------------------------------------------------ closed forms


@pytest.mark.parametrize("n", [1, 7, 136])
def test_clopper_pearson_at_zero_and_n_is_the_closed_form(n: int) -> None:
    # P(X = 0 | p) = (1 - p)^n = 0.025 gives the upper limit at x = 0, and by symmetry
    # p^n = 0.025 the lower limit at x = n.
    zero = prop.proportion_ci(0, n)
    full = prop.proportion_ci(n, n)
    assert zero.lower == 0.0 and full.upper == 1.0
    assert zero.upper == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-12)
    assert full.lower == pytest.approx(0.025 ** (1 / n), rel=1e-12)


@pytest.mark.parametrize("n", [1, 10, 62])
def test_wilson_at_zero_is_the_closed_form(n: int) -> None:
    ci = prop.proportion_ci(0, n, "wilson")
    assert ci.lower == 0.0
    assert ci.upper == pytest.approx(Z975**2 / (n + Z975**2), rel=1e-12)


def test_jeffreys_interior_limits_are_beta_quantiles_and_ends_are_clamped() -> None:
    ci = prop.proportion_ci(3, 20, "jeffreys")
    assert ci.lower == pytest.approx(stats.beta.ppf(0.025, 3.5, 17.5), rel=1e-12)
    assert ci.upper == pytest.approx(stats.beta.ppf(0.975, 3.5, 17.5), rel=1e-12)
    assert prop.proportion_ci(0, 20, "jeffreys").lower == 0.0
    assert prop.proportion_ci(20, 20, "jeffreys").upper == 1.0


def test_wilson_cc_without_correction_when_x_is_n_times_p0() -> None:
    # R prop.test corrects by min(0.5, |x - n p0|): zero at x = n/2 with the default p0 = 1/2
    assert prop.proportion_ci(5, 10, "wilson-cc").lower == prop.proportion_ci(5, 10, "wilson").lower
    assert prop.proportion_ci(4, 10, "wilson-cc").lower < prop.proportion_ci(4, 10, "wilson").lower


def test_binomial_test_closed_forms() -> None:
    assert prop.binomial_test(0, 10).p_value == pytest.approx(2 * 0.5**10, rel=1e-12)
    assert prop.binomial_test(5, 10).p_value == 1.0
    assert prop.binomial_test(1, 3, 0.2, "greater").p_value == pytest.approx(1 - 0.8**3, rel=1e-12)
    assert prop.binomial_test(0, 4, 0.3, "less").p_value == pytest.approx(0.7**4, rel=1e-12)


@pytest.mark.parametrize(("x", "n"), [(1, 62), (6, 136), (57, 136), (13, 27)])
def test_clopper_pearson_limits_are_where_the_one_sided_binomial_test_has_p_alpha(
    x: int, n: int
) -> None:
    # duality between two code paths: Beta quantiles and binomial tail sums
    ci = prop.proportion_ci(x, n)
    assert prop.binomial_test(x, n, ci.lower, "greater").p_value == pytest.approx(0.025, rel=1e-9)
    assert prop.binomial_test(x, n, ci.upper, "less").p_value == pytest.approx(0.025, rel=1e-9)


def test_wald_odds_ratio_closed_form() -> None:
    a, b, c, d = 57, 79, 17, 45
    r = prop.odds_ratio(57, 136, 17, 62, "wald")
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert r.estimate == pytest.approx(a * d / (b * c), rel=1e-12)
    assert r.lower == pytest.approx(a * d / (b * c) * math.exp(-Z975 * se), rel=1e-12)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(math.log(a * d / (b * c)) / se), rel=1e-9)


def test_logistic_with_one_stratum_equals_wald_and_mh_estimate_equals_cross_product() -> None:
    wald = prop.odds_ratio(57, 136, 17, 62, "wald")
    logit = prop.logistic_odds_ratio([57], [136], [17], [62])
    mh = prop.mantel_haenszel([57], [136], [17], [62])
    for field in ("estimate", "lower", "upper", "p_value"):
        assert getattr(logit, field) == pytest.approx(getattr(wald, field), rel=1e-8)
    assert mh.estimate == pytest.approx(wald.estimate, rel=1e-12)


def test_exact_odds_ratio_at_the_edges_of_the_support() -> None:
    low = prop.odds_ratio(0, 10, 5, 10)
    high = prop.odds_ratio(10, 10, 5, 10)
    assert (low.estimate, low.lower) == (0.0, 0.0) and math.isfinite(low.upper)
    assert (high.estimate, high.upper) == (math.inf, math.inf) and high.lower > 0
    assert json.loads(high.to_json())["upper"] is None  # JSON has no infinity


def test_newcombe_at_both_zero_is_minus_and_plus_wilson_upper() -> None:
    # 0/10 - 0/10: limits -U and +U with U the Wilson upper limit of 0/10 (Newcombe 1998, (f))
    r = prop.risk_difference(0, 10, 0, 10)
    u = Z975**2 / (10 + Z975**2)
    assert (r.lower, r.upper) == (pytest.approx(-u, rel=1e-12), pytest.approx(u, rel=1e-12))


# ------------------------------------------------------------------ properties

counts = st.integers(min_value=1, max_value=300).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@settings(max_examples=60, deadline=None)
@given(counts, st.sampled_from(prop.ONE_SAMPLE_METHODS), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_one_sample_interval_is_ordered_inside_unit_interval(xn, method, level) -> None:
    x, n = xn
    ci = prop.proportion_ci(x, n, method, level)
    assert 0.0 <= ci.lower <= ci.estimate <= ci.upper <= 1.0
    wider = prop.proportion_ci(x, n, method, min(0.999, level + 0.009))
    assert wider.lower <= ci.lower + 1e-12 and wider.upper >= ci.upper - 1e-12


@settings(max_examples=60, deadline=None)
@given(counts, counts, st.sampled_from(prop.DIFFERENCE_METHODS))
def test_difference_interval_contains_estimate_and_negates_when_arms_swap(a, b, method) -> None:
    r = prop.risk_difference(a[0], a[1], b[0], b[1], method)
    s = prop.risk_difference(b[0], b[1], a[0], a[1], method)
    assert -1.0 <= r.lower <= r.estimate <= r.upper <= 1.0
    assert s.lower == pytest.approx(-r.upper, abs=1e-9)
    assert s.upper == pytest.approx(-r.lower, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(counts, counts)
def test_miettinen_nurminen_limits_are_where_the_score_statistic_is_z(a, b) -> None:
    r = prop.risk_difference(a[0], a[1], b[0], b[1], "miettinen-nurminen")
    for limit, target in ((r.lower, Z975), (r.upper, -Z975)):
        if abs(limit) < 1 - 1e-9:
            z = prop.score_statistic(a[0], a[1], b[0], b[1], limit)
            assert z == pytest.approx(target, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(counts, counts)
def test_exact_odds_ratio_inverts_when_arms_swap(a, b) -> None:
    r = prop.odds_ratio(a[0], a[1], b[0], b[1])
    s = prop.odds_ratio(b[0], b[1], a[0], a[1])
    if math.isnan(r.estimate):
        return  # a single possible table: no information about the odds ratio
    assert s.p_value == pytest.approx(r.p_value, rel=1e-9)
    for mine, swapped in ((r.estimate, s.estimate), (r.lower, s.upper), (r.upper, s.lower)):
        if mine in (0.0, math.inf):
            assert swapped == (math.inf if mine == 0.0 else 0.0)
        else:
            assert swapped == pytest.approx(1 / mine, rel=1e-9)


# ------------------------------------------------------------------ display rounding


def test_round_half_up_differs_from_half_even() -> None:
    assert prop.round_half_up(2.5, 0) == Decimal("3")  # Python's round(2.5) is 2
    assert prop.round_half_up(0.285, 2) == Decimal("0.29")  # as printed, not as stored
    assert prop.round_half_up(Fraction(1, 16) * 100, 1) == Decimal("6.3")
    assert prop.round_half_up(-0.05, 1) == Decimal("-0.1")


def test_palmira_format() -> None:
    assert prop.proportion_ci(6, 136).formatted() == "4.4% (1.6 to 9.4)"
    assert prop.format_percent_ci(Fraction(1, 8), 0.0, 0.5) == "12.5% (0.0 to 50.0)"
    assert prop.format_ratio_ci(0.525, 0.1, math.inf) == "0.53 (0.10 to inf)"


def test_results_carry_method_level_sides_and_rounding() -> None:
    r = prop.proportion_ci(6, 136, "wilson", 0.9)
    d = r.to_dict()
    expected = ("wilson", 0.9, 2, "half-up")
    assert (d["method"], d["conf_level"], d["sides"], d["rounding"]) == expected
    assert d["conventions"]["conf_level"] == 0.9 and d["conventions"]["profile"] == "custom"
    assert "4.4%" in r.summary() and "Wilson" in r.summary()
    assert prop.risk_difference(57, 136, 17, 62).to_frame().shape[0] == 1
    assert "Odds ratio" in str(prop.mantel_haenszel([30, 27], [70, 66], [10, 7], [32, 30]))


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("call", "field", "words"),
    [
        (lambda: prop.proportion_ci(7, 6), "x", "between 0 and 6"),
        (lambda: prop.proportion_ci(-1, 6), "x", ">= 0"),
        (lambda: prop.proportion_ci(2.5, 6), "x", "whole number"),
        (lambda: prop.proportion_ci(True, 6), "x", "whole number"),
        (lambda: prop.proportion_ci(1, 0), "n", ">= 1"),
        (lambda: prop.proportion_ci(1, "ten"), "n", "whole number"),
        (lambda: prop.proportion_ci(1, 6, conf_level=1.0), "conf_level", "outside (0, 1)"),
        (lambda: prop.proportion_ci(1, 6, conf_level=0), "conf_level", "outside (0, 1)"),
        (lambda: prop.proportion_ci(1, 6, "wald"), "method", "clopper-pearson"),
        (lambda: prop.binomial_test(1, 6, 1.5), "p0", "[0, 1]"),
        (lambda: prop.binomial_test(1, 6, alternative="two.sided"), "alternative", "two-sided"),
        (lambda: prop.risk_difference(3, 10, 11, 10), "x2", "between 0 and 10"),
        (lambda: prop.odds_ratio(0, 10, 3, 10, "wald"), "x1, n1, x2, n2", "zero cell"),
        (lambda: prop.mantel_haenszel([1, 2], [2, 4], [1], [3]), "x1, n1, x2, n2", "lengths"),
        (lambda: prop.mantel_haenszel([1, 0], [3, 1], [1, 0], [3, 0]), "strata", "stratum 2"),
        (
            lambda: prop.mantel_haenszel([3, 2], [3, 4], [0, 0], [3, 4]),
            "x1, n1, x2, n2",
            "infinite",
        ),
        (
            lambda: prop.logistic_odds_ratio([5, 4], [5, 4], [0, 0], [6, 3]),
            "x1, n1, x2, n2",
            "separation",
        ),
        (
            lambda: prop.mantel_haenszel([1, 2], [2, 4], [1, 5], [3, 4]),
            "x2[stratum 2]",
            "between 0 and 4",
        ),
    ],
)
def test_bad_input_names_the_argument_value_and_what_is_valid(call, field, words) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert info.value.details["field"] == field
    assert words in info.value.message
    json.dumps(info.value.to_dict())


def test_haldane_makes_zero_cell_wald_defined() -> None:
    r = prop.odds_ratio(0, 10, 3, 10, "wald", haldane=True)
    assert r.estimate == pytest.approx((0.5 * 7.5) / (10.5 * 3.5), rel=1e-12)
