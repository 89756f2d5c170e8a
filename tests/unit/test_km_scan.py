"""The compiled Kaplan-Meier + log-rank pass (oncotrial.stats._scan) against the numpy path.

The numpy path is itself checked against R (tests/conformance); here the compiled path must
give the same curves to the last bit and the same log-rank sums to rounding, on the cases
where the two could part: ties across and within arms, zeros and -0.0, whole-number times
(counted without a sort), arms without events, one subject, three arms, and times too wide
for a 64-bit key (which fall back to numpy).
"""

from __future__ import annotations

import contextlib
import math
import weakref
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from oncotrial.stats import km_scan
from oncotrial.stats._inputs import times_and_range
from oncotrial.stats.km import (
    _before_nan_tail,
    _findq_r,
    _findq_r_above,
    _findq_r_curve,
    _findq_r_looked_up,
    _findq_r_sorted,
    _last_distinct,
    _last_distinct_if_near,
    _tail_start,
    kaplan_meier,
    pointwise_ci,
)
from oncotrial.stats.km_logrank import km_logrank
from oncotrial.stats.normal import normal_quantile

CURVE_FIELDS = (
    "time",
    "n_risk",
    "n_event",
    "n_censor",
    "survival",
    "std_err",
    "std_err_cumhaz",
    "lower",
    "upper",
)


def test_the_extension_is_compiled() -> None:
    # `pip install -e .` (the README's setup) compiles it; without it everything still
    # works, in numpy, several times slower
    assert km_scan.COMPILED, "oncotrial.stats._scan is not built: run `pip install -e .`"


def _numpy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(km_scan, "_scan", None)


@contextlib.contextmanager
def _path(compiled: bool) -> Iterator[None]:
    """Run the block with the compiled module, or as if it were not built."""
    with pytest.MonkeyPatch.context() as patch:
        if not compiled:
            _numpy_only(patch)
        yield


def _r_search(time: np.ndarray, curve: np.ndarray, p: float) -> float:
    """The reference: R's linear quantile search on ``(0, time)``, ``(0, 1 - curve)``."""
    return _findq_r(np.concatenate(([0.0], time)), np.concatenate(([0.0], 1.0 - curve)), p, 1e-8)


def _same_curve(a, b) -> None:
    for name in CURVE_FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.n, a.events) == (b.n, b.events)
    np.testing.assert_array_equal([a.median, *a.median_ci], [b.median, *b.median_ci])


def _same_result(fast, slow) -> None:
    assert list(fast.curves) == list(slow.curves)
    for level in fast.curves:
        _same_curve(fast.curves[level], slow.curves[level])
    a, b = fast.logrank, slow.logrank
    np.testing.assert_array_equal(a.observed, b.observed)
    np.testing.assert_array_equal(a.n, b.n)
    np.testing.assert_allclose(a.expected, b.expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.variance, b.variance, rtol=1e-12, atol=1e-12)
    assert a.df == b.df
    assert a.chisq == pytest.approx(b.chisq, rel=1e-10, abs=1e-12)
    assert a.p_value == pytest.approx(b.p_value, rel=1e-10, abs=1e-12)


def _both(monkeypatch, t, e, g, **kw):
    fast = km_logrank(t, e, g, **kw)
    with monkeypatch.context() as m:
        _numpy_only(m)
        slow = km_logrank(t, e, g, **kw)
    return fast, slow


def _data(n: int, seed: int, arms: int = 2, decimals: int | None = 3):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, arms, n)
    t = rng.exponential(100.0, n)
    t = np.floor(t) + 1 if decimals is None else np.round(t, decimals)
    e = (rng.random(n) < 0.75).astype(int)
    return t, e, g


@pytest.mark.parametrize(
    "case",
    ["ties", "whole days", "three arms", "zeros", "sas profile", "plain CI", "large"],
)
def test_compiled_equals_numpy(monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    kw: dict = {}
    if case == "ties":
        t, e, g = _data(3000, 1, decimals=0)  # many ties, within and across arms
        t = t + 0.5
    elif case == "whole days":
        t, e, g = _data(3000, 2, decimals=None)
    elif case == "three arms":
        t, e, g = _data(3000, 3, arms=3)
    elif case == "zeros":
        t, e, g = _data(500, 4)
        t[:40] = 0.0
        t[40:60] = -0.0
    elif case == "sas profile":
        t, e, g = _data(2000, 5)
        kw = {"profile": "sas"}
    elif case == "plain CI":
        t, e, g = _data(2000, 6)
        kw = {"conf_type": "plain", "conf_level": 0.9}
    else:
        t, e, g = _data(200_000, 7)
    fast, slow = _both(monkeypatch, t, e, g, **kw)
    _same_result(fast, slow)


def test_arm_without_events_and_single_subjects(monkeypatch: pytest.MonkeyPatch) -> None:
    t = np.array([3.0, 1.0, 2.0, 2.0, 5.0, 4.5])
    e = np.array([1, 1, 1, 0, 0, 0])
    g = np.array(["a", "a", "a", "b", "b", "c"])
    fast, slow = _both(monkeypatch, t, e, g)
    _same_result(fast, slow)
    assert fast.curves["c"].n == 1 and fast.curves["b"].events == 0


def test_too_wide_for_a_key_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # subnormal and huge times together need more than 63 bits of time key
    t = np.array([5e-324, 1e-300, 1.0, 2.0, 1e300, 3.0])
    e = np.array([1, 0, 1, 1, 0, 1])
    g = np.array([0, 1, 0, 1, 0, 1])
    assert km_scan.scan_arms(t, e.astype(np.int8), g, 2) is None
    fast, slow = _both(monkeypatch, t, e, g)
    _same_result(fast, slow)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.floats(0.0, 1e6, allow_nan=False),
                st.sampled_from([0.0, -0.0, 5e-324, 2.0**-1000, 1e-3, 1.0]),
            ),
            st.integers(0, 1),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_keys_order_alike_as_doubles(rows: list[tuple[float, int, int]]) -> None:
    # the keys are sorted as float64 (faster in numpy): every key must read as a positive
    # normal double and the two orders must agree, here on times from subnormal to 1e6
    t = np.array([r[0] for r in rows])
    e = np.array([r[1] for r in rows], dtype=np.int8)
    g = np.array([r[2] for r in rows], dtype=np.int64)
    layout = km_scan._time_key_layout(t, km_scan._scan.KEY_BITS - 1 - 2)
    if layout is None:  # subnormal and large times together: too wide, numpy counts them
        return
    keys, arm_sum = km_scan._scan.pack_keys(t, e, g, layout[0], layout[1])
    assert arm_sum == g.sum()
    as_double = keys.view(np.float64)
    assert np.all(np.isfinite(as_double)) and np.all(as_double >= np.finfo(float).tiny)
    order = np.argsort(keys, kind="stable")
    assert np.array_equal(np.argsort(as_double, kind="stable"), order)
    assert np.array_equal(np.sort(as_double).view(np.uint64), keys[order])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(0.0, 1e9, allow_nan=False),
            st.sampled_from([0.0, -0.0, 5e-324, 2.0**-1000, 1e-3, 1.0]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_key_layout_from_the_checked_range_equals_reading_the_times(times: list[float]) -> None:
    # the input checks pass their min and max on: the layout must not change
    t, low, high = times_and_range(np.array(times))
    assert (low, high) == (t.min(), t.max())
    for room in (59, 20):
        assert km_scan._time_key_layout(t, room, (low, high)) == km_scan._time_key_layout(t, room)


def test_widest_keys_that_fit_still_order_as_doubles() -> None:
    # times spanning as many binades as a key can hold: the top key stays below the NaN
    # patterns and the compiled result equals numpy's
    t = np.array([2.0**-60, 1.0, 2.0**60, 3.0, 2.0**-59, 7.5])
    e = np.array([1, 0, 1, 1, 0, 1], dtype=np.int8)
    g = np.array([0, 1, 0, 1, 1, 0])
    offset, time_bits = km_scan._time_key_layout(t, km_scan._scan.KEY_BITS - 2)
    keys, _ = km_scan._scan.pack_keys(t, e, g, offset, time_bits)
    assert time_bits + 2 <= km_scan._scan.KEY_BITS
    assert np.all(np.isfinite(keys.view(np.float64)))
    with _path(True):
        fast = km_logrank(t, e, g)
    with _path(False):
        slow = km_logrank(t, e, g)
    _same_result(fast, slow)


def test_strided_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    # views such as t[::2] are not contiguous; the compiled pass must take them too
    t, e, g = _data(4000, 9)
    fast, slow = _both(monkeypatch, t[::2], e[::2], g[::2])
    _same_result(fast, slow)
    _same_curve(kaplan_meier(t[::2], e[::2]), kaplan_meier(t[::2].copy(), e[::2].copy()))


def test_a_dropped_result_lends_its_memory_to_the_next_call() -> None:
    t, e, g = _data(3000, 10)
    first = km_logrank(t, e, g)
    block = weakref.ref(km_scan._spare[0])  # a strong reference would count as a user
    assert np.shares_memory(first.curves[0].survival, block())
    del first
    second = km_logrank(t, e, g)
    assert km_scan._spare[0] is block()
    assert np.shares_memory(second.curves[1].upper, block())


@pytest.mark.parametrize("kept", ["result", "one array"])
def test_memory_a_result_still_holds_is_never_reused(kept: str) -> None:
    t, e, g = _data(3000, 11)
    first = km_logrank(t, e, g)
    held = first if kept == "result" else first.curves[1].std_err
    before = first.curves[1].std_err.copy()
    if kept == "one array":
        del first
    t2, e2, g2 = _data(3000, 12)
    second = km_logrank(t2, e2, g2)
    curve = held.curves[1].std_err if kept == "result" else held
    assert not np.shares_memory(curve, second.curves[1].std_err)
    np.testing.assert_array_equal(curve, before)


def test_single_curve_equals_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    t, e, _ = _data(5000, 8)
    fast = kaplan_meier(t, e)
    _numpy_only(monkeypatch)
    _same_curve(fast, kaplan_meier(t, e))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.0, 3.0, 3.25, 7.0, 40.0]),
            st.integers(0, 1),
            st.integers(0, 2),
        ),
        min_size=2,
        max_size=40,
    )
)
def test_compiled_equals_numpy_on_small_samples(rows: list[tuple[float, int, int]]) -> None:
    t, e, g = (np.array(col) for col in zip(*rows, strict=True))
    if np.unique(g).size < 2:
        return
    fast = km_logrank(t, e, g)
    with pytest.MonkeyPatch.context() as m:
        _numpy_only(m)
        slow = km_logrank(t, e, g)
    _same_result(fast, slow)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.5 - 1e-9, 0.5 + 1e-9, 0.6, 0.9, 1.0, np.nan]),
        max_size=14,
    ),
    st.sampled_from([0.25, 0.5, 0.5 + 2e-9, 0.7, 0.9]),
)
def test_compiled_quantile_lookup_equals_the_r_search(values: list[float], p: float) -> None:
    # any band: not monotone, repeated values, NaN, values within tol of 1 - p
    curve = np.array(values, dtype=float)
    time = np.arange(1.0, curve.size + 1.0)
    np.testing.assert_array_equal(_findq_r_curve(time, curve, p, 1e-8), _r_search(time, curve, p))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([0.1, 0.5, 0.5 + 1e-9, 0.5 - 1e-9, 0.7, np.nan]), max_size=12),
    st.sampled_from([0.5, 0.7]),
)
def test_the_last_distinct_value_is_found_whenever_it_matters(values: list, p: float) -> None:
    # R's last de-duplicated value counts only when within tol of p: then it must be exact
    y = np.concatenate(([0.0], values))
    full = _last_distinct(y)
    quick = _last_distinct_if_near(y, p, 1e-8)
    if abs(p - full) < 1e-8:
        assert quick == full
    else:
        assert np.isnan(quick) or quick == full


@pytest.mark.parametrize("compiled", [True, False])
@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**31), p=st.floats(0.05, 0.95))
def test_upper_band_quantile_reads_only_the_rows_that_can_reach_p(
    compiled: bool, seed: int, p: float
) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 30))
    time = np.cumsum(rng.random(m) + 0.1)
    surv = np.sort(rng.choice([1.0, 0.9, 0.75, 0.5, 0.5, 0.3, 0.0], m))[::-1].copy()
    band = np.minimum(surv + rng.choice([0.0, 0.1, 0.25, p - 0.5, 0.6], m), 1.0)
    band = np.maximum(band, surv)  # an upper band: on or above the curve, may rise
    band[rng.random(m) < 0.1] = np.nan
    whole = _r_search(time, band, p)
    with _path(compiled):
        found = _findq_r_above(time, surv, band, p, 1e-8)
    np.testing.assert_array_equal(found, whole)


@pytest.mark.parametrize("compiled", [True, False])
@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**31), p=st.sampled_from([0.25, 0.5, 0.5, 0.7, 0.75]))
def test_quantile_of_a_band_with_a_nan_tail_by_bisection(
    compiled: bool, seed: int, p: float
) -> None:
    # a log-type band is NaN where S = 0; its head never rises: bisection on the head
    # must give what the linear R search gives on the whole band
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 30))
    time = np.cumsum(rng.random(m) + 0.1)
    band = np.sort(rng.choice([1.0, 0.9, 0.8, 0.75, 0.5, 0.5, 0.5, 0.3, 0.25, 0.1], m))[::-1]
    head = int(rng.integers(1, m))
    band[head:] = np.nan
    assert _before_nan_tail(band) == head
    whole = _r_search(time, band, p)
    with _path(compiled):
        fast = _findq_r_sorted(time[:head], band[:head], p, 1e-8, False)
    np.testing.assert_array_equal(fast, whole)


def _lookup_by_blocks(
    band: np.ndarray,
    surv: np.ndarray,
    se: np.ndarray,
    level: float,
    upper: bool,
    p: float,
    block: int,
) -> tuple[float, int, int, bool]:
    """The log band's lookup by blocks, checked against reading every row: the same
    ``i1``, ``i2`` and ``near``, and a ``top`` that answers the tests made of it alike."""
    whole = km_scan._scan.quantile_lookup(band, p, 1e-8)
    z = normal_quantile(level)
    blocks = km_scan._scan.log_band_lookup(band, surv, se, z, upper, p, 1e-8, block)
    assert blocks[1:] == whole[1:]  # i1, i2, near
    for limit in (p - 1e-8, p, p + 1e-8):  # the tests `top` answers
        assert (blocks[0] >= limit) == (whole[0] >= limit)
    return blocks


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    block=st.sampled_from([1, 2, 3, 7, 64, 512]),
    p=st.sampled_from([0.1, 0.25, 0.5, 0.5, 0.75, 0.9]),
    level=st.sampled_from([0.5, 0.8, 0.95, 0.99]),
)
def test_log_band_lookup_by_blocks_equals_reading_every_row(
    seed: int, block: int, p: float, level: float
) -> None:
    # curves with ties, heavy censoring, a last death that takes S to 0 (bands NaN there)
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    t = np.round(rng.exponential(10.0, n), int(rng.integers(0, 3)))
    e = (rng.random(n) < rng.choice([0.3, 0.8, 1.0])).astype(int)
    km = kaplan_meier(t, e, conf_type="log", conf_level=level)
    for band, upper in ((km.lower, False), (km.upper, True)):
        blocks = _lookup_by_blocks(band, km.survival, km.std_err_cumhaz, level, upper, p, block)
        np.testing.assert_array_equal(
            _findq_r_looked_up(km.time, band, p, 1e-8, blocks), _r_search(km.time, band, p)
        )


@settings(max_examples=500, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from([1.0, 0.9, 0.6, 0.51, 0.505, 0.5, 0.5, 0.495, 0.49, 0.3, 0.0]),
            st.sampled_from([0.0, 0.0, 1e-9, 1e-3, 0.005, 0.01, 0.02, 0.3, np.inf]),
        ),
        min_size=1,
        max_size=40,
    ),
    block=st.sampled_from([1, 2, 3, 5]),
    p=st.sampled_from([0.5, 0.5 - 1e-9, 0.49, 0.51, 0.7]),
    level=st.sampled_from([0.5, 0.95]),
)
# the upper band at 0.495 (1 - band = 0.505 >= p + tol), then rising to 0.4997 inside the
# next block (S flat, the SE up by 0.01): that block must be read
@example(steps=[(0.495, 0.0), (0.495, 0.0), (0.49, 0.0), (0.49, 0.01)], block=2, p=0.5, level=0.95)
def test_log_band_lookup_on_tight_bands(
    steps: list[tuple[float, float]], block: int, p: float, level: float
) -> None:
    # any curve that never rises with SEs that never fall, not only Kaplan-Meier ones: flat
    # stretches make a block's bounds exact, SE jumps make the upper band rise again after
    # it crossed, values at 1 - p make `near`; the bands are pointwise_ci's
    surv = np.sort([s for s, _ in steps])[::-1].copy()
    se = np.cumsum([h for _, h in steps])
    lower, upper = pointwise_ci(surv, se, "log", level)
    for band, is_upper in ((lower, False), (upper, True)):
        _lookup_by_blocks(band, surv, se, level, is_upper, p, block)


def test_log_band_lookup_skips_the_rows_far_from_the_crossing() -> None:
    # the point of it: past the band's crossing of 1 - p, blocks are skipped; a band that
    # is not the log band of this curve (here: raised after the crossing) shows it
    rng = np.random.default_rng(7)
    km = kaplan_meier(rng.exponential(10.0, 5000), rng.random(5000) < 0.8, conf_type="log")
    z = normal_quantile(0.95)
    fake = km.upper.copy()
    fake[-1000:-900] = 0.51  # 1 - band = 0.49 = p there: read, it would be the answer
    whole = km_scan._scan.quantile_lookup(fake, 0.49, 1e-8)
    blocks = km_scan._scan.log_band_lookup(
        fake, km.survival, km.std_err_cumhaz, z, True, 0.49, 1e-8
    )
    assert whole[1] == fake.size - 1000 + 1 and whole[3]
    assert blocks[1] < fake.size - 1000 and not blocks[3]  # that block was never read
    genuine = km_scan._scan.log_band_lookup(
        km.upper, km.survival, km.std_err_cumhaz, z, True, 0.49, 1e-8
    )
    assert genuine[1] == blocks[1]


def test_tail_start_finds_the_run_at_the_end_by_galloping() -> None:
    # reference: walk back one value at a time; every tail length up to 70, NaN and zeros
    for m in range(71):
        for start in range(m + 1):
            curve = np.linspace(1.0, 0.1, m)
            curve[start:] = np.nan
            assert _tail_start(curve, math.isnan) == start
            curve[start:] = 0.0
            assert _tail_start(curve, lambda v: v == 0.0) == start


def test_a_nan_inside_the_band_is_not_a_tail() -> None:
    assert _before_nan_tail(np.array([0.9, np.nan, 0.5, np.nan])) is None
    assert _before_nan_tail(np.array([0.9, 0.95, np.nan])) is None  # the head rises
    assert _before_nan_tail(np.array([0.9, 0.5])) is None
