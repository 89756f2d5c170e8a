"""BOIN operating characteristics: exact enumeration vs a naive path enumerator, a hand
calculation and the simulator (within Monte Carlo error)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from oncotrial.design.boin_exact import boin_exact
from oncotrial.design.dose import boin_boundaries, boin_select_mtd, boin_simulate
from oncotrial.errors import InputError

RATES = [0.1, 0.3, 0.5]


def _naive(rates: list[float], target: float, size: int, cohorts: int) -> dict[str, np.ndarray]:
    """Walk every outcome path (no merging of states) with the BOIN rules written out again
    (Liu & Yuan 2015; BOIN get.oc): escalate if x/n <= lambda_e and the next dose is not
    eliminated, de-escalate if x/n >= lambda_d, eliminate the dose and those above when
    P(p > target | x, n) > 0.95 (n >= 3), stop if the lowest dose is eliminated."""
    b = boin_boundaries(target)
    k = len(rates)
    out = {"select": np.zeros(k + 1), "pts": np.zeros(k), "early": np.zeros(1)}

    def walk(n: list[int], x: list[int], d: int, elim: int, left: int, prob: float) -> None:
        if left == 0:
            out["select"][boin_select_mtd(n, x, target)] += prob
            out["pts"] += prob * np.asarray(n)
            return
        for y in range(size + 1):
            p = prob * float(stats.binom.pmf(y, size, rates[d]))
            n2, x2 = list(n), list(x)
            n2[d] += size
            x2[d] += y
            e2, d2 = elim, d
            if stats.beta.sf(target, 1 + x2[d], 1 + n2[d] - x2[d]) > 0.95:
                e2 = min(e2, d)
                if d == 0:
                    out["select"][0] += p
                    out["pts"] += p * np.asarray(n2)
                    out["early"] += p
                    continue
            if x2[d] / n2[d] <= b.lambda_e and d < k - 1 and e2 > d + 1:
                d2 = d + 1
            elif x2[d] / n2[d] >= b.lambda_d and d > 0:
                d2 = d - 1
            walk(n2, x2, d2, e2, left - 1, p)

    walk([0] * k, [0] * k, 0, k, cohorts, 1.0)
    return out


def test_exact_equals_naive_path_enumeration() -> None:
    for rates, cohorts in ((RATES, 4), ([0.05, 0.2, 0.35, 0.6], 4), ([0.45, 0.6, 0.7], 3)):
        ex = boin_exact(rates, 0.3, cohort_size=3, n_cohorts=cohorts)
        nv = _naive(rates, 0.3, 3, cohorts)
        assert ex.p_select == pytest.approx(list(nv["select"]), abs=1e-12)
        assert ex.mean_patients == pytest.approx(list(nv["pts"]), abs=1e-12)
        assert ex.p_early_stop == pytest.approx(float(nv["early"][0]), abs=1e-12)
        assert sum(ex.p_select) == pytest.approx(1.0, abs=1e-12)


def test_one_cohort_by_hand() -> None:
    # 3/3 DLTs at dose 1 eliminate it (P(p > 0.3 | 3/3) = 1 - 0.3^4 > 0.95) and stop the
    # trial; otherwise dose 1 is the only dose tried and is selected.
    p = 0.25
    ex = boin_exact([p, 0.4], 0.3, cohort_size=3, n_cohorts=1)
    assert ex.p_early_stop == pytest.approx(p**3, rel=1e-12)
    assert ex.p_select == pytest.approx((p**3, 1 - p**3, 0.0), rel=1e-12)
    assert ex.mean_patients == pytest.approx((3.0, 0.0))
    assert ex.mean_dlts == pytest.approx((3 * p, 0.0), rel=1e-12)


@pytest.mark.parametrize(
    ("rates", "cohorts"), [(RATES, 4), ([0.05, 0.15, 0.3, 0.45, 0.6], 6), ([0.4, 0.5, 0.6], 5)]
)
def test_simulation_agrees_with_exact_within_monte_carlo_error(
    rates: list[float], cohorts: int
) -> None:
    trials = 3000
    ex = boin_exact(rates, 0.3, n_cohorts=cohorts)
    sim = boin_simulate(rates, 0.3, n_cohorts=cohorts, n_trials=trials, seed=11)
    for e, s in zip(ex.p_select, sim.p_select, strict=True):
        se = np.sqrt(max(e * (1 - e), 1e-4) / trials)
        assert abs(s - e) <= 4 * se, (ex.p_select, sim.p_select)
    most = 3 * cohorts  # patients at a dose lie in [0, most]: sd <= most / 2
    for e, s in zip(ex.mean_patients, sim.mean_patients, strict=True):
        assert abs(s - e) <= 4 * (most / 2) / np.sqrt(trials)
    e = ex.p_early_stop
    assert abs(sim.p_early_stop - e) <= 4 * np.sqrt(max(e * (1 - e), 1e-4) / trials)


def test_bad_input_and_state_guard() -> None:
    with pytest.raises(InputError) as info:
        boin_exact(RATES, 0.3, start=4)
    assert info.value.details["argument"] == "start"
    with pytest.raises(InputError) as info:
        boin_exact([0.1, 0.2, 0.3, 0.4], 0.3, n_cohorts=8, max_states=50)
    assert info.value.details["argument"] == "max_states"
    with pytest.raises(InputError):
        boin_exact([0.1, 1.5], 0.3)
