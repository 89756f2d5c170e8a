"""Single-arm Kaplan-Meier landmark simulation against exact and analytic references.

1. Exact finite-sample power (abemaciclib rechallenge spec: n = 59, 12-month KM rate on the
   log-log scale vs 0.0625, 24 months accrual + 12 months follow-up). Every patient is followed
   at least 12 months, so nobody is censored before the landmark: ``S_hat(12) = X / n`` with
   ``X ~ Binomial(n, S1(12))`` and the exact power is a binomial sum (hand-coded here,
   independent of the engine). The null SD is the binomial one,
   ``sigma0 = sqrt((1 - S0) / S0) / |ln S0|``.
2. The design module's large-sample power (``variance="null_alt"``: the power of the
   null-standardised statistic) where the normal approximation holds (n = 1000) and patients
   are censored before the landmark (3 months of follow-up, 6-month landmark).
Tolerances: 4 Monte Carlo SEs ``sqrt(p (1 - p) / n_sim)`` of the reference ``p``.
"""

from __future__ import annotations

import math

import pytest
from scipy.stats import binom, norm

from oncotrial.simulate import scenario_from_spec, simulate
from oncotrial.simulate.single_arm import SingleArmScenario

N_SIM = 20_000
N_SIM_LARGE = 10_000


def _exact_rejections(n: int, s_true: float, s0: float, alpha: float) -> tuple[float, float]:
    """P(reject for benefit), P(reject for harm): two-sided log-log test of X / n vs s0."""
    sigma0 = math.sqrt((1 - s0) / s0) / abs(math.log(s0))
    crit = norm.isf(alpha / 2)
    benefit = harm = 0.0
    for x in range(n + 1):
        s = x / n
        if s in (0.0, 1.0):
            z = -math.inf if s == 0.0 else math.inf
        else:
            z = -math.sqrt(n) * (math.log(-math.log(s)) - math.log(-math.log(s0))) / sigma0
        benefit += binom.pmf(x, n, s_true) if z >= crit else 0.0
        harm += binom.pmf(x, n, s_true) if z <= -crit else 0.0
    return benefit, harm


def _close(ours: float, exact: float, n_sim: int) -> None:
    se = math.sqrt(exact * (1 - exact) / n_sim)
    assert abs(ours - exact) < 4 * se + 1e-12, (ours, exact, se)


@pytest.mark.parametrize("null", [False, True], ids=["alternative", "null"])
def test_spec_power_equals_the_exact_binomial_power(null: bool) -> None:
    sc = scenario_from_spec("abemaciclib_rechallenge")
    assert isinstance(sc, SingleArmScenario)
    s0 = math.exp(-math.log(2) * 12 / 3)
    assert sc.null_survival == pytest.approx(s0, rel=1e-12)
    assert sc.null_sd == pytest.approx(math.sqrt((1 - s0) / s0) / abs(math.log(s0)), rel=1e-9)
    if null:
        from dataclasses import replace

        sc = replace(sc, median1=sc.median0)
    s_true = math.exp(-math.log(2) * 12 / sc.median1)
    benefit, harm = _exact_rejections(sc.n, s_true, s0, sc.alpha)
    res = simulate(sc, N_SIM, seed=2025)
    _close(res.power, benefit, N_SIM)
    _close(res.p_reject_harm, harm, N_SIM)


@pytest.mark.parametrize("transform", ["loglog", "arcsine"])
def test_large_sample_power_matches_the_design_module(transform: str) -> None:
    sc = SingleArmScenario(
        n=1000,
        median0=6.0,
        median1=6.9,
        accrual_months=24.0,
        follow_up_months=3.0,
        landmark=6.0,
        transform=transform,
        formula_variance="null_alt",
    )
    res = simulate(sc, N_SIM_LARGE, seed=31)
    analytic = sc.analytic_power()
    assert 0.75 < analytic < 0.9
    _close(res.power, analytic, N_SIM_LARGE)
