"""One counting table for KM and log-rank: the three counting paths agree exactly, and
km_logrank equals kaplan_meier per arm + logrank."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrial.stats.km import _findq_r, kaplan_meier
from oncotrial.stats.km_logrank import km_logrank
from oncotrial.stats.logrank import logrank
from oncotrial.stats.risk_table import (
    _count_argsort,
    _count_packed,
    label_tables,
    risk_table,
    whole_days,
)


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.time, b.time)
    for name in ("n_risk", "n_event", "n_censor"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, -0.0, 1e-3, 0.5, 1.0, 2.0, 2.5, 7.0, 1e6, 3e12]),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 2**31),
)
def test_packed_sort_equals_argsort(times: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.array(times)
    e = rng.integers(0, 2, t.size).astype(np.uint8)
    lab = rng.integers(0, 3, t.size)
    packed = _count_packed(t, e, lab, 3)
    assert packed is not None
    _same(packed, _count_argsort(t, e, lab, 3))


def test_integer_path_equals_sort_paths_and_wide_ranges_fall_back() -> None:
    rng = np.random.default_rng(1)
    t = rng.integers(0, 400, 3000).astype(float)
    e = rng.integers(0, 2, t.size).astype(np.int8)
    lab = rng.integers(0, 2, t.size)
    counted = risk_table(t, e, lab, 2)  # whole numbers: bincount, no sort
    _same(counted, _count_argsort(t, e.view(np.uint8), lab, 2))
    wide = np.array([1e-300, 1e300, 5.0])  # 2000 binary orders of magnitude: no room to pack
    assert _count_packed(wide, np.ones(3, np.uint8), np.array([0, 1, 15]), 16) is None
    _same(
        risk_table(wide, np.ones(3, np.int8), np.array([0, 1, 15]), 16),
        _count_argsort(wide, np.ones(3, np.uint8), np.array([0, 1, 15]), 16),
    )


@pytest.mark.parametrize("integer", [False, True])
@pytest.mark.parametrize("strata", [None, 2, 12])
def test_km_logrank_equals_separate_calls(integer: bool, strata: int | None) -> None:
    rng = np.random.default_rng(4)
    n = 600
    g = rng.integers(0, 2, n)
    t = rng.exponential(100, n)
    t = np.floor(t) + 1 if integer else t.round(1)
    e = (rng.random(n) < 0.8).astype(int)
    s = rng.integers(0, strata, n) if strata else None
    both = km_logrank(t, e, g, strata=s, profile="sas")
    alone = logrank(t, e, g, strata=s)
    assert both.logrank.chisq == pytest.approx(alone.chisq, rel=1e-10)
    np.testing.assert_allclose(both.logrank.variance, alone.variance, rtol=1e-10)
    for arm in (0, 1):
        km = kaplan_meier(t[g == arm], e[g == arm], profile="sas")
        mine = both.curves[arm]
        np.testing.assert_array_equal(mine.time, km.time)
        np.testing.assert_array_equal(mine.n_risk, km.n_risk)
        np.testing.assert_allclose(mine.upper, km.upper, rtol=1e-12)
        assert mine.median_ci == km.median_ci
    assert list(both.to_frame().arm) == [0, 1] and "Log-rank" in both.summary()


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, -0.0, 1e-3, 0.5, 1.25, 2.0, 2.5, 7.0, 1e6, 3e12]),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 4),
    st.integers(0, 2**31),
)
def test_label_tables_equal_the_joint_table(times: list[float], k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.array(times)
    e = rng.integers(0, 2, t.size).astype(np.int8)
    lab = rng.integers(0, k, t.size)
    own = label_tables(t, e, lab, k)
    if whole_days(t, t.size, k) is not None:
        assert own is None  # small whole numbers: counted by bincount instead
        return
    assert own is not None
    joint = _count_argsort(t, e.view(np.uint8), lab, k)
    for g in range(k):
        _same(own.tables[g], joint.columns([g]))
        np.testing.assert_array_equal(own.n_risk[g], joint.n_risk[g])
    np.testing.assert_array_equal(own.n, joint.n_risk.sum(axis=0))
    np.testing.assert_array_equal(own.n_event, joint.n_event.sum(axis=0))


def _findq_r_literal(x: np.ndarray, y: np.ndarray, p: float, tol: float) -> float:
    """R survival 3.5 findq transcribed step by step: drop duplicated y (first kept), look
    p up in y + tol and y - tol sorted ascending (approx, method "constant", f = 1)."""
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return float("nan")
    xmax = x[-1]
    _, first = np.unique(y, return_index=True)
    keep = np.sort(first)
    x, y = x[keep], y[keep]
    ok = np.flatnonzero(~np.isnan(y))
    order = ok[np.argsort(y[ok], kind="stable")]

    def lookup(shift: float) -> int | None:
        grid = y[order] + shift
        if p < grid[0] or p > grid[-1]:
            return None
        return int(order[np.searchsorted(grid, p, "left")])

    i1, i2 = lookup(tol), lookup(-tol)
    if i1 is not None and not np.isnan(y[-1]) and abs(p - y[-1]) < tol:
        return float((x[i1] + xmax) / 2)
    if i1 is None or i2 is None:
        return float("nan")
    return float((x[i1] + x[i2]) / 2)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from([0.1, 0.3, 0.5, 0.5 + 1e-9, 0.6, 0.9, float("nan")]), max_size=12),
    st.sampled_from([0.25, 0.5, 0.6]),
)
def test_linear_time_quantile_search_equals_r_literal(values: list[float], p: float) -> None:
    y = np.concatenate(([0.0], values))  # non-monotone, repeated, NaN: any confidence band
    x = np.arange(y.size, dtype=float)
    expected = _findq_r_literal(x, y, p, 1.5e-8)
    found = _findq_r(x, y, p, 1.5e-8)
    assert (np.isnan(expected) and np.isnan(found)) or found == expected


@pytest.mark.parametrize("k", [2, 3])
def test_km_logrank_fractional_times_without_strata_equal_separate_calls(k: int) -> None:
    rng = np.random.default_rng(7)
    n = 900
    g = rng.integers(0, k, n)
    t = rng.exponential(50, n).round(2)
    e = (rng.random(n) < 0.7).astype(np.int8)
    both = km_logrank(t, e, g)  # label_tables path: no joint table
    alone = logrank(t, e, g)
    assert both.logrank.chisq == pytest.approx(alone.chisq, rel=1e-10)
    np.testing.assert_allclose(both.logrank.expected, alone.expected, rtol=1e-12)
    np.testing.assert_allclose(both.logrank.variance, alone.variance, rtol=1e-10)
    np.testing.assert_array_equal(both.logrank.n, np.bincount(g))
    for arm in range(k):
        km = kaplan_meier(t[g == arm], e[g == arm])
        mine = both.curves[arm]
        _same(mine, km)
        np.testing.assert_array_equal(mine.upper, km.upper)
        assert (mine.median, mine.median_ci) == (km.median, km.median_ci)
