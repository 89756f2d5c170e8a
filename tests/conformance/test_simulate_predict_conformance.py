"""Event prediction against independent references.

* Fitted rates vs R (survreg exponential; survSplit + Poisson GLM for piecewise), JSON made by
  tests/conformance/r/simulate_predict_rates.R.
* Simulated target-event times vs exact distributions: with m subjects at risk, a known
  exponential rate and no accrual, the time to the k-th of their events is hypoexponential
  (sum of independent Exp((m - i) * lambda), i = 0..k-1), equivalently the k-th order statistic
  of m Exp(lambda): P(T_k <= t) = P(Binomial(m, 1 - exp(-lambda t)) >= k). With parameter
  uncertainty the CDF is that mixed over the gamma posterior (numerical integration); with
  exponential dropout each subject has the event by t with probability
  lambda / (lambda + delta) (1 - exp(-(lambda + delta) t)).
* Simulated quantiles are checked through the exact CDF: F(q_hat) must be within 4.5 Monte
  Carlo standard errors sqrt(p (1 - p) / n) of p; means within 4.5 standard errors.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, signal, stats

from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.simulate.predict import predict_events, read_interim
from oncotrial.simulate.predict_draw import residual_times
from oncotrial.simulate.predict_rates import fit_hazards

ROOT = Path(__file__).parents[2]
R_JSON = Path(__file__).parent / "simulate_predict_rates_r.json"
PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)
N_SIM = 20_000


def _cohort(m: int, *, events: int = 0, censored: int = 0, follow_days: int = 100) -> pd.DataFrame:
    """``m`` ongoing subjects (last contact = cut-off), plus finished ones, one arm."""
    cut = pd.Timestamp("2024-06-30")
    rows = []
    for i in range(m + events + censored):
        status = "ongoing" if i < m else ("event" if i < m + events else "censored")
        entry = cut - pd.Timedelta(days=follow_days + i % 7)
        last = cut if status == "ongoing" else entry + pd.Timedelta(days=30 + 3 * i)
        rows.append(
            {
                "USUBJID": f"S{i:03d}",
                "ARM": "A",
                "RANDDT": entry.date().isoformat(),
                "STATUS": status,
                "ADT": last.date().isoformat(),
            }
        )
    return pd.DataFrame(rows)


def _order_stat_cdf(t: np.ndarray | float, m: int, k: int, lam: float) -> np.ndarray:
    return stats.binom.sf(k - 1, m, -np.expm1(-lam * np.asarray(t)))


def _hypoexp_cdf(t: float, m: int, k: int, lam: float) -> float:
    """Closed form for distinct rates r_i = (m - i) lambda: 1 - sum_i C_i exp(-r_i t)."""
    rates = np.array([(m - i) * lam for i in range(k)])
    total = 0.0
    for i, r in enumerate(rates):
        others = np.delete(rates, i)
        total += np.prod(others / (others - r)) * math.exp(-r * t)
    return 1.0 - total


def _check_quantiles(days: dict[float, float], cdf, n: int) -> None:  # type: ignore[no-untyped-def]
    for p, q in days.items():
        se = math.sqrt(p * (1 - p) / n)
        assert abs(cdf(q) - p) < 4.5 * se, (p, q, cdf(q))


def _quantile_days(result) -> dict[float, float]:  # type: ignore[no-untyped-def]
    return {p: d for p, d, _ in result.quantiles if p in PROBS}


@pytest.mark.parametrize("case", json.loads(R_JSON.read_text())["cases"], ids=lambda c: c["name"])
def test_fitted_rates_match_r(case: dict) -> None:
    data = read_interim(ROOT / "src/oncotrial/data/examples/palmira_interim_pfs.csv")
    model = fit_hazards(
        data.time,
        (data.status == 0).astype(np.int8),
        data.arm_index,
        data.arms,
        cuts_months=case["cuts"],
        pooled=case["pooled"],
        uncertainty=False,
    )
    got = {row["arm"]: [] for row in model.describe()}
    for row in model.describe():
        got[row["arm"]].append(row["per_month"])
    for arm, expected in case["per_month"].items():
        expected = expected if isinstance(expected, list) else [expected]
        np.testing.assert_allclose(got[arm], expected, rtol=1e-6)


def test_closed_form_and_order_statistic_references_agree() -> None:
    # the two exact references of the hypoexponential law agree with each other
    for t in (5.0, 20.0, 60.0):
        assert _hypoexp_cdf(t, 12, 5, 0.02) == pytest.approx(
            float(_order_stat_cdf(t, 12, 5, 0.02)), abs=1e-12
        )


@pytest.mark.parametrize(("m", "k"), [(40, 1), (40, 15), (12, 12)])
def test_known_rate_no_accrual_is_hypoexponential(m: int, k: int) -> None:
    hazard_month = 0.2
    lam = hazard_month / DAYS_PER_MONTH
    result = predict_events(_cohort(m), k, hazards=hazard_month, dropout=0.0, n_sim=N_SIM, seed=11)
    exact_mean = sum(1.0 / ((m - i) * lam) for i in range(k))
    assert abs(result.mean_days - exact_mean) < 4.5 * result.mean_days_se
    _check_quantiles(_quantile_days(result), lambda t: _order_stat_cdf(t, m, k, lam), N_SIM)
    assert result.prob_never == 0.0


def test_hypoexponential_by_numerical_convolution() -> None:
    # density of Exp(3 lam) + Exp(2 lam) + Exp(lam) by two numerical (FFT) convolutions
    lam = 0.25 / DAYS_PER_MONTH
    grid = np.linspace(0.0, 2000.0, 200_001)
    step = grid[1] - grid[0]
    dens = 3 * lam * np.exp(-3 * lam * grid)
    for rate in (2 * lam, lam):
        dens = signal.fftconvolve(dens, rate * np.exp(-rate * grid))[: grid.size] * step
    numeric_cdf = integrate.cumulative_trapezoid(dens, grid, initial=0.0)
    numeric_mean = float(integrate.trapezoid(grid * dens, grid))
    assert numeric_mean == pytest.approx(11.0 / (6.0 * lam), rel=1e-3)
    result = predict_events(_cohort(3), 3, hazards=0.25, dropout=0.0, n_sim=N_SIM, seed=5)
    assert abs(result.mean_days - numeric_mean) < 4.5 * result.mean_days_se
    _check_quantiles(
        _quantile_days(result), lambda t: float(np.interp(t, grid, numeric_cdf)), N_SIM
    )


def test_parameter_uncertainty_mixes_over_gamma_posterior() -> None:
    m, k, d = 20, 8, 6
    data = _cohort(m, events=d)
    interim = read_interim(data)
    exposure = float(interim.time.sum())  # days at risk of all subjects
    result = predict_events(data, d + k, dropout=0.0, n_sim=N_SIM, seed=3)
    ongoing_last = 0.0  # ongoing subjects were seen on the cut-off day

    def cdf(t: float) -> float:
        def integrand(lam: float) -> float:
            return float(_order_stat_cdf(t - ongoing_last, m, k, lam)) * stats.gamma.pdf(
                lam, d, scale=1.0 / exposure
            )

        return integrate.quad(integrand, 0.0, np.inf, limit=200)[0]

    _check_quantiles(_quantile_days(result), cdf, N_SIM)
    # the mixture is wider than the known-rate law at the MLE
    fixed = predict_events(
        data, d + k, dropout=0.0, n_sim=N_SIM, seed=3, parameter_uncertainty=False
    )
    assert result.upper_days - result.lower_days > fixed.upper_days - fixed.lower_days


def test_dropout_competing_risk_and_never_reached() -> None:
    m, k = 10, 8
    lam, delta = 0.3 / DAYS_PER_MONTH, 0.15 / DAYS_PER_MONTH
    result = predict_events(_cohort(m), k, hazards=0.3, dropout=0.15, n_sim=N_SIM, seed=8)
    share = lam / (lam + delta)
    exact_never = float(stats.binom.cdf(k - 1, m, share))
    assert abs(result.prob_never - exact_never) < 4.5 * math.sqrt(
        exact_never * (1 - exact_never) / N_SIM
    )

    def cdf(t: float) -> float:  # including the mass at "never" (t = inf)
        return float(stats.binom.sf(k - 1, m, share * -math.expm1(-(lam + delta) * t)))

    finite = {p: q for p, q in _quantile_days(result).items() if math.isfinite(q)}
    assert finite
    _check_quantiles(finite, cdf, N_SIM)


def test_one_new_subject_entry_plus_event_is_hypoexponential() -> None:
    # no one at risk; one subject still to enter at r per month, then an event at lam:
    # T = Exp(r) + Exp(lam), P(T <= t) = 1 - (lam e^{-r t} - r e^{-lam t}) / (lam - r)
    r, lam = 0.5 / DAYS_PER_MONTH, 0.2 / DAYS_PER_MONTH
    data = _cohort(0, events=1)
    result = predict_events(
        data, 2, n_planned=2, accrual_rate=0.5, hazards=0.2, dropout=0.0, n_sim=N_SIM, seed=2
    )

    def cdf(t: float) -> float:
        return 1.0 - (lam * math.exp(-r * t) - r * math.exp(-lam * t)) / (lam - r)

    _check_quantiles(_quantile_days(result), cdf, N_SIM)
    assert abs(result.mean_days - (1 / r + 1 / lam)) < 4.5 * result.mean_days_se


def test_piecewise_residual_times_follow_conditional_law() -> None:
    # T - u given T > u with hazards 0.02, 0.005, 0.01 per day on [0, 30), [30, 90), [90, inf)
    cuts = np.array([30.0, 90.0])
    h = np.array([0.02, 0.005, 0.01])

    def cum(t: np.ndarray) -> np.ndarray:
        lower = np.array([0.0, 30.0, 90.0])
        upper = np.array([30.0, 90.0, np.inf])
        return (np.clip(t[..., None], lower, upper) - lower) @ h

    rng = np.random.default_rng(4)
    for u in (0.0, 45.0, 120.0):
        n = 20_000
        draws = residual_times(
            np.full(n, u), np.broadcast_to(h, (1, n, 3)), cuts, rng.standard_exponential((1, n))
        )[0]

        def cdf(s: np.ndarray, u: float = u) -> np.ndarray:
            return -np.expm1(-(cum(u + s) - cum(np.array(u))))

        assert stats.kstest(draws, cdf).pvalue > 1e-3
