"""Exact operating characteristics of BOIN by enumerating every trial path.

:func:`~oncotrial.design.dose.boin_simulate` estimates BOIN's operating characteristics by
simulation. For a small design the same rules can be followed exactly: after each cohort the
trial's state is (current dose, patients and DLTs per dose, lowest eliminated dose, stopped),
and a cohort of ``m`` patients at true DLT rate ``p`` moves it to ``m + 1`` successor states
with binomial probabilities. Merging identical states cohort by cohort gives the exact
distribution of the final states (a forward Kolmogorov recursion on the trial's state space,
as for A+B designs, Lin & Shih 2001), hence exact selection probabilities (isotonic MTD
selection, :func:`~oncotrial.design.dose.boin_select_mtd`), expected patients and DLTs per
dose and the probability of stopping early. The rules are those of :func:`boin_simulate`
(Liu & Yuan 2015; R package BOIN ``get.oc``), so the two must agree within Monte Carlo error.

The number of states grows quickly with doses and cohorts; ``max_states`` guards the cost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from oncotrial.design import _tte_inputs as check
from oncotrial.design.dose import (
    BoinOC,
    _probability,
    boin_boundaries,
    boin_select_mtd,
    eliminated,
)
from oncotrial.errors import InputError

State = tuple[int, tuple[int, ...], tuple[int, ...], int, bool]
"""(current dose index, patients per dose, DLTs per dose, lowest eliminated dose, finished)."""


@dataclass(frozen=True)
class BoinExactOC(BoinOC):
    """:class:`BoinOC` computed exactly (``n_trials`` = 0, ``seed`` = -1); ``n_states`` is the
    number of distinct final states."""

    n_states: int = 0


def _step(
    state: State,
    y: int,
    size: int,
    k: int,
    lam_e: float,
    lam_d: float,
    first_elim: Sequence[int],
) -> tuple[State, bool]:
    """The state after ``y`` DLTs in a cohort at the current dose; True if stopped early."""
    d, n, x, elim, _ = state
    n_l, x_l = list(n), list(x)
    n_l[d] += size
    x_l[d] += y
    if x_l[d] >= first_elim[n_l[d]]:
        elim = min(elim, d)
        if d == 0:
            return (d, tuple(n_l), tuple(x_l), elim, True), True
    rate = x_l[d] / n_l[d]
    if rate <= lam_e and d < k - 1 and elim > d + 1:
        d += 1
    elif rate >= lam_d and d > 0:
        d -= 1
    return (d, tuple(n_l), tuple(x_l), elim, False), False


def boin_exact(
    dlt_rates: Sequence[float],
    target: float,
    *,
    cohort_size: int = 3,
    n_cohorts: int = 4,
    start: int = 1,
    cutoff: float = 0.95,
    n_earlystop: int = 100,
    max_states: int = 2_000_000,
) -> BoinExactOC:
    """Exact BOIN operating characteristics (module docstring); same arguments as
    :func:`~oncotrial.design.dose.boin_simulate` without the simulation ones."""
    rates = np.array([_probability(p, f"dlt_rates[{i}]") for i, p in enumerate(dlt_rates)])
    bounds = boin_boundaries(target)
    size = check.whole_number(cohort_size, "cohort_size", 1)
    cohorts = check.whole_number(n_cohorts, "n_cohorts", 1)
    k = rates.size
    d0 = check.whole_number(start, "start", 1) - 1
    if d0 >= k:
        raise InputError(
            f"start = {start!r} is invalid; there are {k} doses",
            argument="start",
            value=start,
            valid=f"1..{k}",
        )
    most = size * cohorts
    first_elim = [
        next((x for x in range(m + 1) if eliminated(m, x, bounds.target, cutoff)), m + 1)
        for m in range(most + 1)
    ]
    pmf = [stats.binom.pmf(np.arange(size + 1), size, p) for p in rates]
    live: dict[State, float] = {(d0, (0,) * k, (0,) * k, k, False): 1.0}
    final: dict[State, float] = defaultdict(float)
    early = 0.0
    for _ in range(cohorts):
        nxt: dict[State, float] = defaultdict(float)
        for state, prob in live.items():
            d, n = state[0], state[1]
            if n[d] >= n_earlystop:
                final[state] += prob
                continue
            for y in range(size + 1):
                py = float(pmf[d][y])
                if py == 0.0:
                    continue
                new, stopped = _step(
                    state, y, size, k, bounds.lambda_e, bounds.lambda_d, first_elim
                )
                if stopped:
                    final[new] += prob * py
                    early += prob * py
                else:
                    nxt[new] += prob * py
        live = nxt
        if len(live) > max_states:
            raise InputError(
                f"BOIN exact enumeration: {len(live)} states after a cohort exceed max_states "
                f"({max_states}); use fewer doses or cohorts, or simulate",
                argument="max_states",
                value=max_states,
            )
    for state, prob in live.items():
        final[state] += prob
    select = np.zeros(k + 1)
    pts = np.zeros(k)
    tox = np.zeros(k)
    for (_, n, x, _, stopped), prob in final.items():
        pts += prob * np.asarray(n)
        tox += prob * np.asarray(x)
        select[0 if stopped else boin_select_mtd(n, x, bounds.target, cutoff)] += prob
    return BoinExactOC(
        bounds.target,
        tuple(float(r) for r in rates),
        size,
        cohorts,
        0,
        -1,
        tuple(select),
        tuple(pts),
        tuple(tox),
        early,
        len(final),
    )
