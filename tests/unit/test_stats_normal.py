"""Unit tests of oncotrial.stats.normal (Wald intervals shared by every statistic).

Expected values are R 4 (``qnorm``, ``pnorm``, ``exp``) printed with 17 digits:
``qnorm(c(0.95, 0.975, 0.995))``; for b = 0.3, se = 0.2:
``b + c(-1, 1) * qnorm(0.975) * se``, ``2 * pnorm(-abs(b) / se)`` and
``exp(b + c(0, -1, 1) * qnorm(0.95) * se)``.
"""

from __future__ import annotations

import math

import pytest

from oncotrial.stats.normal import exp_or_inf, log_wald_interval, normal_quantile, wald_interval


@pytest.mark.parametrize(
    ("conf_level", "expected"),
    [(0.90, 1.6448536269514715), (0.95, 1.9599639845400536), (0.99, 2.5758293035488999)],
)
def test_normal_quantile_is_r_qnorm(conf_level: float, expected: float) -> None:
    assert normal_quantile(conf_level) == pytest.approx(expected, rel=1e-12)


def test_wald_interval_matches_r() -> None:
    lower, upper, p = wald_interval(0.3, 0.2, 0.95)
    assert lower == pytest.approx(-0.091992796908010765, rel=1e-12)
    assert upper == pytest.approx(0.691992796908010743, rel=1e-12)
    assert p == pytest.approx(0.13361440253771614, abs=1e-15)


def test_wald_p_is_symmetric_and_nan_without_spread() -> None:
    assert wald_interval(-0.3, 0.2, 0.95)[2] == wald_interval(0.3, 0.2, 0.95)[2]
    lower, upper, p = wald_interval(0.3, 0.0, 0.95)
    assert (lower, upper) == (0.3, 0.3)
    assert math.isnan(p)


def test_log_wald_interval_matches_r() -> None:
    ratio, lower, upper, p = log_wald_interval(0.3, 0.2, 0.90)
    assert ratio == pytest.approx(1.34985880757600318, rel=1e-12)
    assert lower == pytest.approx(0.97144490272072115, rel=1e-12)
    assert upper == pytest.approx(1.87567899660321391, rel=1e-12)
    assert p == pytest.approx(0.13361440253771614, abs=1e-15)


def test_exp_or_inf_does_not_overflow() -> None:
    assert exp_or_inf(1.0) == math.e
    assert exp_or_inf(709.0) == math.inf
    assert exp_or_inf(1e6) == math.inf
    assert exp_or_inf(-1e6) == 0.0
