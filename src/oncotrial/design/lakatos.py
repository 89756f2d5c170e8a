"""Patients for a log-rank test by the Markov-chain method of Lakatos (1988).

Lakatos (Biometrics 1988;44:229-241) follows each arm as a Markov chain over short
intervals, so hazards need not be proportional and patients may change treatment. Here
each arm has four states: *active on experimental treatment*, *active on control treatment*,
*event* and *lost* (dropout), absorbing the last two. On period ``j`` (``starts[j]`` to
``starts[j+1]``) the rates are constant:

* event hazard ``hazards_experimental[j]`` while on experimental treatment and
  ``hazards_control[j]`` while on control treatment (whichever arm the patient was
  randomised to: intention to treat);
* dropout hazard per arm (``dropout_control``, ``dropout_experimental``);
* ``noncompliance[j]``: hazard of an experimental-arm patient switching to control treatment;
* ``drop_in[j]``: hazard of a control-arm patient switching to experimental treatment.

State probabilities at the ends of the ``b`` intervals per time unit are exact (matrix
exponential of the generator on each piece). Entry is uniform (or piecewise uniform) over
the accrual period and the analysis is at ``T = accrual_time + follow_up``, so a patient is
under observation at time ``t`` after entry with probability ``G(t) = P(entry <= T - t)``
(administrative censoring, the same in both arms).

For interval ``i`` let ``A_k`` be the probability of being active (at risk) at its start
and ``dE_k`` the probability of an event within it, arm ``k``; ``r`` the allocation ratio
(experimental:control) and ``G_i`` the mean of ``G`` over the interval. Lakatos' statistic
uses the at-risk ratio ``phi_i = r A_E / A_C`` and the hazard ratio ``theta_i = (dE_E/A_E) /
(dE_C/A_C)``; the proportion of all patients with an event in the interval is ``d_i = G_i
(dE_C + r dE_E) / (1 + r)``. With ``pi_i = phi_i / (1 + phi_i)`` (expected share of events
in the experimental arm under H0) and ``phi_i theta_i / (1 + phi_i theta_i) = r dE_E / (dE_C
+ r dE_E)`` (share under H1)::

    E* = sum_i d_i [phi_i theta_i/(1 + phi_i theta_i) - pi_i] / sqrt(sum_i d_i pi_i (1 - pi_i))
    n  = (z_{1-alpha/sides} + z_{power})^2 / E*^2

(Lakatos 1988 eq. 6; SAS PROC POWER TWOSAMPLESURVIVAL and PASS "Logrank Tests (Lakatos)"
use the same statistic). The result depends slightly on the number of intervals per time
unit ``intervals_per_unit`` (``b``; Lakatos used coarse yearly intervals, SAS ``NSUBINTERVAL``
defaults to 12 per unit): it converges as ``b`` grows.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm
from scipy.stats import norm

from oncotrial.design import _tte_inputs as check
from oncotrial.design import accrual as acc
from oncotrial.design.effect import PiecewiseExponential, effect_from
from oncotrial.design.lachin_foulkes import PatientsDesign
from oncotrial.errors import InputError
from oncotrial.results import Result

ON_E, ON_C, EVENT, LOST = 0, 1, 2, 3


@dataclass(frozen=True)
class ArmRates(Result):
    """Piecewise-constant rates of one arm's Markov chain on the periods ``starts``."""

    starts: tuple[float, ...]
    hazard_on_e: tuple[float, ...]
    hazard_on_c: tuple[float, ...]
    dropout: tuple[float, ...]
    to_control: tuple[float, ...]
    to_experimental: tuple[float, ...]

    def generator(self, j: int) -> np.ndarray:
        q = np.zeros((4, 4))
        q[ON_E, EVENT] = self.hazard_on_e[j]
        q[ON_C, EVENT] = self.hazard_on_c[j]
        q[ON_E, LOST] = q[ON_C, LOST] = self.dropout[j]
        q[ON_E, ON_C] = self.to_control[j]
        q[ON_C, ON_E] = self.to_experimental[j]
        q[np.diag_indices(4)] = -q.sum(axis=1)
        return q

    def states(self, grid: np.ndarray, start: int) -> np.ndarray:
        """State probabilities at each time of ``grid`` (starting at 0) from state ``start``."""
        out = np.zeros((grid.size, 4))
        p = np.zeros(4)
        p[start] = 1.0
        out[0] = p
        starts = np.asarray(self.starts)
        cache: dict[tuple[int, float], np.ndarray] = {}
        for i in range(1, grid.size):
            a, b = grid[i - 1], grid[i]
            cuts = [a, *[s for s in starts if a < s < b], b]
            for lo, hi in itertools.pairwise(cuts):
                j = int(np.searchsorted(starts, lo, side="right")) - 1
                key = (j, round(hi - lo, 12))
                if key not in cache:
                    cache[key] = expm(self.generator(j) * (hi - lo))
                p = p @ cache[key]
            out[i] = p
        return out


def _periodic(value: float | Sequence[float] | None, k: int, name: str) -> tuple[float, ...]:
    """A scalar (same on every period) or one non-negative value per period."""
    if value is None:
        return (0.0,) * k
    if isinstance(value, (int, float)):
        return (check.non_negative(value, name),) * k
    vals = tuple(check.non_negative(v, f"{name}[{i}]") for i, v in enumerate(value))
    if len(vals) == 1:
        return vals * k
    if len(vals) != k:
        raise InputError(
            f"{name}: give one value per period ({k}), or one value for all",
            argument=name,
            value=list(vals),
            valid=f"1 or {k} values",
        )
    return vals


def _observed_fraction(accrual: acc.Accrual, end: float, grid: np.ndarray) -> np.ndarray:
    """Mean over each ``[grid[i], grid[i+1]]`` of ``G(t) = P(entry <= end - t)``: exact,
    because ``G`` is piecewise linear (trapezoids between its kinks)."""
    if accrual.duration == 0.0:  # everyone enters at 0: observed until ``end``
        return np.ones(grid.size - 1)
    pieces = accrual.pieces()
    entry = np.array([pieces[0][0], *[e for _, e, _ in pieces]])
    mass = np.concatenate([[0.0], np.cumsum([d * (e - s) for s, e, d in pieces])])
    kinks = end - entry
    pts = np.union1d(grid, kinks[(kinks > grid[0]) & (kinks < grid[-1])])
    g = np.interp(end - pts, entry, mass, left=0.0, right=1.0)
    area = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(pts))])
    at_grid = np.interp(grid, pts, area)
    return np.diff(at_grid) / np.diff(grid)


@dataclass(frozen=True)
class LakatosStatistic(Result):
    """Per-interval terms of Lakatos' statistic (per patient enrolled)."""

    times: tuple[float, ...]
    events: tuple[float, ...]
    share_h1: tuple[float, ...]
    share_h0: tuple[float, ...]
    drift: float
    event_probability_control: float
    event_probability_experimental: float


def lakatos_statistic(
    control: ArmRates,
    experimental: ArmRates,
    ratio: float,
    accrual: acc.Accrual,
    follow_up: float,
    intervals_per_unit: int,
) -> LakatosStatistic:
    """``E*`` of the module docstring (the drift per sqrt(patient))."""
    end = accrual.duration + follow_up
    k = max(1, math.ceil(end * intervals_per_unit - 1e-9))
    grid = np.linspace(0.0, end, k + 1)
    s_c = control.states(grid, ON_C)
    s_e = experimental.states(grid, ON_E)
    active_c = s_c[:-1, ON_E] + s_c[:-1, ON_C]
    active_e = s_e[:-1, ON_E] + s_e[:-1, ON_C]
    de_c = np.diff(s_c[:, EVENT])
    de_e = np.diff(s_e[:, EVENT])
    g = _observed_fraction(accrual, end, grid)
    d = g * (de_c + ratio * de_e) / (1.0 + ratio)
    total = de_c + ratio * de_e
    share_h1 = np.divide(ratio * de_e, total, out=np.zeros(k), where=total > 0)
    at_risk = active_c + ratio * active_e
    share_h0 = np.divide(ratio * active_e, at_risk, out=np.zeros(k), where=at_risk > 0)
    num = float(np.sum(d * (share_h1 - share_h0)))
    var = float(np.sum(d * share_h0 * (1.0 - share_h0)))
    if var <= 0.0 or num == 0.0:
        raise InputError(
            "the two arms have the same expected events in every interval: no difference "
            "for the log-rank test to detect",
            argument="hazards_experimental",
        )
    return LakatosStatistic(
        tuple(grid[1:]),
        tuple(d),
        tuple(share_h1),
        tuple(share_h0),
        abs(num) / math.sqrt(var),
        float(np.sum(g * de_c)),
        float(np.sum(g * de_e)),
    )


def _models(
    hr: float | None,
    median_control: float | None,
    median_experimental: float | None,
    hazards_control: Sequence[float] | None,
    hazards_experimental: Sequence[float] | None,
    starts: Sequence[float] | None,
) -> tuple[PiecewiseExponential, PiecewiseExponential]:
    """Control and experimental survival; piecewise hazards need not be proportional."""
    if hazards_control is not None and hazards_experimental is not None:
        st = tuple(float(s) for s in (starts if starts is not None else (0.0,)))

        def arm(hazards: Sequence[float], name: str) -> PiecewiseExponential:
            return PiecewiseExponential(
                st, tuple(check.non_negative(h, f"{name}[{i}]") for i, h in enumerate(hazards))
            )

        control = arm(hazards_control, "hazards_control")
        return control, arm(hazards_experimental, "hazards_experimental")
    effect = effect_from(
        hr=hr,
        median_control=median_control,
        median_experimental=median_experimental,
        hazards_control=hazards_control,
        starts=starts,
    )
    if effect.control is None:
        raise InputError(
            "the Lakatos method needs the control arm's survival: give median_control or "
            "hazards_control",
            argument="median_control",
        )
    return effect.control, effect.control.scaled(effect.hr)


def _on_grid(model: PiecewiseExponential, starts: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(float(model.hazard(np.array([s]))[0]) for s in starts)


def lakatos(
    *,
    hr: float | None = None,
    median_control: float | None = None,
    median_experimental: float | None = None,
    hazards_control: Sequence[float] | None = None,
    hazards_experimental: Sequence[float] | None = None,
    starts: Sequence[float] | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    sides: int = 2,
    ratio: float = 1.0,
    accrual_time: float,
    follow_up: float,
    accrual_starts: Sequence[float] | None = None,
    accrual_rates: Sequence[float] | None = None,
    dropout_rate: float = 0.0,
    dropout_time: float = 12.0,
    dropout_control: float | Sequence[float] | None = None,
    dropout_experimental: float | Sequence[float] | None = None,
    noncompliance: float | Sequence[float] | None = None,
    drop_in: float | Sequence[float] | None = None,
    intervals_per_unit: int = 12,
    block: int | None = None,
    inevaluable: float = 0.0,
    inflation: str = "multiply",
) -> PatientsDesign:
    """Lakatos (1988) sample size (module docstring).

    Survival: ``hr`` with ``median_control`` (exponential, proportional hazards), two medians,
    or piecewise ``hazards_control`` and ``hazards_experimental`` on ``starts`` (any ratio,
    period by period). Dropout: ``dropout_rate`` by ``dropout_time`` in both arms, or
    piecewise hazards per arm (``dropout_control``/``dropout_experimental``, on the periods
    ``starts``). ``noncompliance`` and ``drop_in`` are switching hazards per period.
    """
    inputs = {"method": "lakatos", **{k: v for k, v in locals().items() if k != "inputs"}}
    ctrl, expt = _models(
        hr, median_control, median_experimental, hazards_control, hazards_experimental, starts
    )
    a, s, p = check.test_levels(alpha, sides, power)
    r = check.positive(ratio, "ratio")
    accrual, fu, eta = acc.study_timing(
        accrual_time, follow_up, accrual_starts, accrual_rates, dropout_rate, dropout_time
    )
    b = int(check.positive(intervals_per_unit, "intervals_per_unit"))
    grid_starts = tuple(sorted(set(ctrl.starts) | set(expt.starts)))
    if starts is not None:
        grid_starts = tuple(sorted(set(grid_starts) | {float(x) for x in starts}))
    k = len(grid_starts)
    if eta > 0 and (dropout_control is not None or dropout_experimental is not None):
        raise InputError(
            "give dropout_rate (both arms) or dropout_control/dropout_experimental, not both",
            argument="dropout_rate",
            value=dropout_rate,
        )
    loss_c = _periodic(
        dropout_control if dropout_control is not None else eta, k, "dropout_control"
    )
    loss_e = _periodic(
        dropout_experimental if dropout_experimental is not None else eta, k, "dropout_experimental"
    )
    h_c, h_e = _on_grid(ctrl, grid_starts), _on_grid(expt, grid_starts)
    zero = (0.0,) * k
    arm_c = ArmRates(grid_starts, h_e, h_c, loss_c, zero, _periodic(drop_in, k, "drop_in"))
    arm_e = ArmRates(
        grid_starts, h_e, h_c, loss_e, _periodic(noncompliance, k, "noncompliance"), zero
    )
    stat = lakatos_statistic(arm_c, arm_e, r, accrual, fu, b)
    z_a, z_b = float(norm.isf(a / s)), float(norm.ppf(p))
    n_exact = ((z_a + z_b) / stat.drift) ** 2
    q_c, q_e = 1.0 / (1.0 + r), r / (1.0 + r)
    p_mix = q_c * stat.event_probability_control + q_e * stat.event_probability_experimental
    blk, n_eval, n, n_c, n_e = acc.round_patients(n_exact, r, block, inevaluable, inflation)
    details = {
        "inputs": {k2: (list(v) if isinstance(v, tuple) else v) for k2, v in inputs.items()},
        "drift_per_sqrt_patient": stat.drift,
        "intervals": len(stat.times),
        "z_alpha": z_a,
        "z_beta": z_b,
        "periods": list(grid_starts),
    }
    single = len(set(h_c)) == 1 and len(set(h_e)) == 1
    return PatientsDesign(
        "lakatos",
        a,
        s,
        p,
        r,
        h_c[0] if single else None,
        h_e[0] if single else None,
        accrual.duration,
        fu,
        eta if dropout_control is None and dropout_experimental is None else None,
        stat.event_probability_control,
        stat.event_probability_experimental,
        p_mix,
        n_exact,
        n_exact * p_mix,
        blk,
        n_eval,
        float(inevaluable),
        inflation,
        n,
        n_c,
        n_e,
        details,
    )
