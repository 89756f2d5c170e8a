"""Calendar-time looks against closed forms.

At calendar time ``tau`` a patient who entered at ``e < tau`` with event hazard ``lambda`` and
exponential dropout hazard ``delta`` has had an observed event with probability
``p(tau - e) = lambda / (lambda + delta) * (1 - exp(-(lambda + delta) (tau - e)))``
(competing risks), independently of the others. Hence:

* regular entry (``e_i = i T / n``) and a fixed allocation pattern: the number of events is a
  sum of independent Bernoulli(``p_i``) variables -- mean ``sum p_i`` and variance
  ``sum p_i (1 - p_i)`` exactly -- and the number enrolled is ``#{e_i <= tau}`` in every trial;
* uniform random entry on ``[0, T]`` and 1:1 permuted blocks (each patient's arm is
  experimental with probability 1/2): mean events
  ``n / T * sum_arms 1/2 int_0^min(tau, T) p(tau - s) ds`` with, for ``r = lambda + delta``,
  ``int_0^u p(v) dv = lambda / r * (u - (1 - exp(-r u)) / r)``.

Simulated means are within 4 Monte Carlo SEs (exact SD / sqrt(n_sim) in the first case, the
sample SD in the second). Under H0 the log-rank test at a calendar look with ~200 events
rejects at the nominal two-sided 5% (4 MC SEs).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.stats import norm

from oncotrial.simulate import (
    Accrual,
    AnalysisPlan,
    Look,
    PiecewiseExponential,
    Randomization,
    Scenario,
    simulate,
)

N_SIM = 10_000
LAMBDA_C = math.log(2) / 6
LAMBDA_E = 0.7 * LAMBDA_C
DELTA = 0.02
TIMES = (8.0, 20.0)


def _scenario(n: int, accrual: Accrual, randomization: Randomization, hr: float) -> Scenario:
    return Scenario(
        n=n,
        accrual=accrual,
        control=PiecewiseExponential.exponential(LAMBDA_C),
        experimental=PiecewiseExponential.exponential(hr * LAMBDA_C),
        plan=AnalysisPlan(tuple(Look(time=t) for t in TIMES), (2.8, 1.96), (-2.8, -1.96), 2, 0.05),
        allocation=(1, 1),
        randomization=randomization,
        dropout_hazard=DELTA,
    )


def _p_event(lam: float, u: np.ndarray) -> np.ndarray:
    return lam / (lam + DELTA) * (1 - np.exp(-(lam + DELTA) * u))


def _integral_p(lam: float, u: float) -> float:
    rate = lam + DELTA
    return lam / rate * (u - (1 - math.exp(-rate * u)) / rate)


def test_events_at_calendar_looks_regular_entry_exact_mean_and_variance() -> None:
    n, months = 60, 12.0
    sc = _scenario(
        n, Accrual.uniform(months, n, entry="regular"), Randomization("fixed"), LAMBDA_E / LAMBDA_C
    )
    res = simulate(sc, N_SIM, seed=77, estimates=False)
    rec = res.records
    assert rec is not None
    entry = np.arange(1, n + 1) * months / n
    lam = np.where(np.arange(n) % 2 == 0, LAMBDA_E, LAMBDA_C)  # pattern: experimental first
    for j, tau in enumerate(TIMES):
        entered = entry <= tau
        p = _p_event(lam[entered], tau - entry[entered])
        mean, sd = p.sum(), math.sqrt(np.sum(p * (1 - p)))
        assert np.all(rec.enrolled[:, j] == entered.sum())
        assert np.all(rec.cut[:, j] == tau)
        got = rec.events[:, j].mean()
        assert abs(got - mean) < 4 * sd / math.sqrt(N_SIM), (got, mean)
        # the variance too: its estimate has SD about sd^2 sqrt(2 / n_sim) (near-normal counts)
        var = rec.events[:, j].var(ddof=1)
        assert abs(var - sd**2) < 4 * sd**2 * math.sqrt(2 / N_SIM), (var, sd**2)


def test_events_at_calendar_looks_random_entry_mean() -> None:
    n, months = 80, 12.0
    sc = _scenario(
        n, Accrual.uniform(months, n), Randomization("blocks", (4,)), LAMBDA_E / LAMBDA_C
    )
    res = simulate(sc, N_SIM, seed=78, estimates=False)
    rec = res.records
    assert rec is not None
    for j, tau in enumerate(TIMES):
        u = min(tau, months)
        expected = (
            n
            / months
            * 0.5
            * sum(_integral_p(lam, tau) - _integral_p(lam, tau - u) for lam in (LAMBDA_C, LAMBDA_E))
        )
        events = rec.events[:, j]
        se = events.std(ddof=1) / math.sqrt(N_SIM)
        assert abs(events.mean() - expected) < 4 * se, (events.mean(), expected, se)
        enrolled = rec.enrolled[:, j].mean()
        expected_enrolled = n * u / months
        se_enr = rec.enrolled[:, j].std(ddof=1) / math.sqrt(N_SIM) + 1e-12
        assert abs(enrolled - expected_enrolled) < 4 * se_enr + 1e-9


def test_logrank_at_a_calendar_look_has_nominal_size_under_h0() -> None:
    crit = float(norm.isf(0.025))
    sc = replace(
        _scenario(300, Accrual.uniform(12.0, 300), Randomization("blocks", (4,)), 1.0),
        plan=AnalysisPlan((Look(time=20.0),), (crit,), (-crit,), 2, 0.05),
    )
    res = simulate(sc, N_SIM, seed=79, estimates=False)
    assert res.records is not None and res.records.events.mean() > 150
    rejected = float(np.mean(np.abs(res.records.z[:, 0]) >= crit))
    se = math.sqrt(0.05 * 0.95 / N_SIM)
    assert abs(rejected - 0.05) < 4 * se, rejected
