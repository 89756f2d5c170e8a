"""Property tests of Kaplan-Meier and log-rank (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrial.stats.km import kaplan_meier
from oncotrial.stats.logrank import logrank

rows = st.lists(
    st.tuples(st.integers(0, 30), st.booleans(), st.integers(0, 1)), min_size=2, max_size=60
)
CONF = st.sampled_from(["log", "log-log", "plain", "logit", "arcsin"])


def _arrays(data):
    t = np.array([r[0] for r in data], dtype=float)
    e = np.array([r[1] for r in data], dtype=int)
    g = np.array([r[2] for r in data])
    return t, e, g


@settings(max_examples=60, deadline=None)
@given(rows, CONF)
def test_km_non_increasing_and_ci_contains_estimate(data, conf) -> None:
    t, e, _ = _arrays(data)
    km = kaplan_meier(t, e, conf_type=conf)
    assert np.all(np.diff(km.survival) <= 1e-15)
    assert np.all((km.survival >= 0) & (km.survival <= 1))
    ok = ~np.isnan(km.lower) & ~np.isnan(km.upper)
    assert np.all(km.lower[ok] <= km.survival[ok] + 1e-12)
    assert np.all(km.upper[ok] >= km.survival[ok] - 1e-12)
    assert km.n_risk[0] == t.size and km.n_event.sum() == e.sum()


@settings(max_examples=60, deadline=None)
@given(rows, st.randoms(use_true_random=False), st.sampled_from([0.001, 7.0, 365.25]))
def test_km_invariant_to_row_order_and_time_units(data, rnd, scale) -> None:
    t, e, _ = _arrays(data)
    order = list(range(t.size))
    rnd.shuffle(order)
    a = kaplan_meier(t, e)
    b = kaplan_meier(t[order] * scale, e[order])
    np.testing.assert_allclose(a.survival, b.survival, rtol=1e-12)
    np.testing.assert_allclose(a.time * scale, b.time, rtol=1e-12)
    np.testing.assert_allclose(a.lower, b.lower, rtol=1e-12, equal_nan=True)
    if not np.isnan(a.median):
        assert np.isclose(a.median * scale, b.median, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(rows, st.randoms(use_true_random=False), st.sampled_from([(0, 0), (1, 0), (0.5, 1)]))
def test_logrank_symmetric_order_and_scale_invariant(data, rnd, weights) -> None:
    t, e, g = _arrays(data)
    if len(set(g.tolist())) < 2:
        g[0], g[1] = 0, 1
    rho, gamma = weights
    base = logrank(t, e, g, rho=rho, gamma=gamma)
    swapped = logrank(t, e, 1 - g, rho=rho, gamma=gamma)
    assert np.isclose(base.chisq, swapped.chisq, rtol=1e-9, atol=1e-12)
    if base.z is not None:
        assert np.isclose(base.z, -swapped.z, rtol=1e-9, atol=1e-12)
    order = list(range(t.size))
    rnd.shuffle(order)
    moved = logrank(t[order] * 3.7, e[order], g[order], rho=rho, gamma=gamma)
    assert np.isclose(base.chisq, moved.chisq, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(base.expected, moved.expected, rtol=1e-9, atol=1e-12)
