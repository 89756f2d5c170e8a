"""Log-rank unit tests: hand calculation, sign convention, strata, errors.

Agreement with R survdiff / survMisc is in tests/conformance/test_km_conformance.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from oncotrial.errors import DataError, InputError
from oncotrial.stats.logrank import logrank


def test_hand_calculation_two_groups() -> None:
    # Group A times 1, 3 (events); group B times 2 (event), 4 (censored).
    # t=1: n=4 (2,2), d=1 -> E_A = 1/2, V = 1*3/3 * 1/2 * 1/2 = 1/4
    # t=2: n=3 (1,2), d=1 -> E_A = 1/3, V = 1/3 * 2/3 = 2/9
    # t=3: n=2 (1,1), d=1 -> E_A = 1/2, V = 1/4
    res = logrank([1, 3, 2, 4], [1, 1, 1, 0], ["A", "A", "B", "B"])
    e_a = 1 / 2 + 1 / 3 + 1 / 2
    v = 1 / 4 + 2 / 9 + 1 / 4
    assert res.expected[0] == pytest.approx(e_a)
    assert res.variance[0, 0] == pytest.approx(v)
    assert res.chisq == pytest.approx((2 - e_a) ** 2 / v)
    assert res.df == 1
    assert res.p_value == pytest.approx(stats.chi2.sf((2 - e_a) ** 2 / v, 1))
    # B (first non-reference) had 1 event vs 3 - e_a expected: fewer -> z < 0.
    assert res.z == pytest.approx((1 - (3 - e_a)) / math.sqrt(v))
    assert res.z < 0 and res.p_one_sided == pytest.approx(stats.norm.cdf(res.z))
    assert res.z**2 == pytest.approx(res.chisq)


def test_reference_choice_flips_sign() -> None:
    t, e, g = [1, 3, 2, 4, 5, 6], [1, 1, 1, 0, 1, 0], [0, 0, 1, 1, 0, 1]
    a = logrank(t, e, g)
    b = logrank(t, e, g, reference=1)
    assert a.z == pytest.approx(-b.z)
    assert a.chisq == pytest.approx(b.chisq)
    with pytest.raises(InputError, match="reference"):
        logrank(t, e, g, reference=7)


def test_strata_sum_and_single_stratum_equals_unstratified() -> None:
    rng = np.random.default_rng(5)
    t = rng.exponential(size=120).round(2)
    e = rng.random(120) < 0.8
    g = rng.integers(0, 2, 120)
    plain = logrank(t, e, g)
    one = logrank(t, e, g, strata=np.zeros(120, dtype=int))
    assert one.chisq == pytest.approx(plain.chisq, rel=1e-12)
    s = rng.integers(0, 3, 120)
    strat = logrank(t, e, g, strata=s)
    parts = [logrank(t[s == k], e[s == k], g[s == k]) for k in range(3)]
    np.testing.assert_allclose(strat.observed, sum(p.observed for p in parts))
    np.testing.assert_allclose(strat.variance, sum(p.variance for p in parts))


def test_three_groups_and_frame() -> None:
    res = logrank([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 0, 1], ["b", "a", "c", "a", "b", "c"])
    assert res.groups == ("a", "b", "c")
    assert res.df == 2 and res.z is None
    assert res.to_frame()["observed"].sum() == 5
    assert "2 df" in res.summary()


def test_integer_and_float_paths_agree() -> None:
    rng = np.random.default_rng(9)
    t = rng.integers(1, 40, 500).astype(float)
    e = rng.random(500) < 0.6
    g = rng.integers(0, 3, 500)
    a = logrank(t, e, g, rho=0.5, gamma=0.5)
    b = logrank(t * 1.5, e, g, rho=0.5, gamma=0.5)  # 1.5 * odd integers: float path
    np.testing.assert_allclose(a.observed, b.observed, rtol=1e-12)
    np.testing.assert_allclose(a.variance, b.variance, rtol=1e-12)


def test_bad_input() -> None:
    with pytest.raises(DataError, match=r"'group': has 1 level"):
        logrank([1, 2, 3], [1, 0, 1], ["A", "A", "A"])
    with pytest.raises(DataError, match=r"'group': has 1 level"):
        logrank([1, 2, 3], [1, 0, 1], np.array([2, 2, 2]))
    with pytest.raises(DataError, match=r"'group', row 2: missing"):
        logrank([1, 2, 3], [1, 0, 1], ["A", None, "B"])
    with pytest.raises(DataError, match=r"'strata', row 3: missing"):
        logrank([1, 2, 3], [1, 0, 1], ["A", "B", "B"], strata=["x", "y", None])
    with pytest.raises(DataError, match=r"'strata': has 2 rows"):
        logrank([1, 2, 3], [1, 0, 1], ["A", "B", "B"], strata=["x", "y"])
    with pytest.raises(DataError, match=r"'event', row 1: event code"):
        logrank([1, 2, 3], [3, 0, 1], ["A", "B", "B"])
    with pytest.raises(InputError, match="rho"):
        logrank([1, 2, 3], [1, 0, 1], ["A", "B", "B"], rho=-1)
