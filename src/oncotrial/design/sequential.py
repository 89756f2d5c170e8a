"""Group-sequential designs: Lan-DeMets error spending, futility bounds, maximum information.

Boundaries on the standardised (z) scale at information fractions ``t_1 < ... < t_K = 1``:

* **Efficacy**: at look ``k`` the critical value ``c_k`` solves
  ``P_0(continue to k, Z_k >= c_k) = alpha(t_k) - alpha(t_{k-1})`` for the alpha-spending
  function (:mod:`oncotrial.design.spending`); ``spending="none"`` spends no alpha before the
  last look (futility-only interims; rpact ``typeOfDesign = "noEarlyEfficacy"``). Two-sided
  designs (``sides=2``) are symmetric: ``+/-c_k`` with half the increment on each side;
  their power counts crossings of the bound on the side of the effect only (as the fixed
  design formula and rpact do; paths crossing the other bound stop without rejection).
* **Futility** (one-sided designs): fixed z bounds, or beta spending
  (``P_eta(continue to k, Z_k <= b_k) = beta(t_k) - beta(t_{k-1})``, Pampallona & Tsiatis,
  JSPI 1994;42:19-35; rpact ``typeBetaSpending``), with the drift ``eta`` chosen so that the
  last bounds meet (``b_K = c_K``), i.e. the power is exactly ``1 - beta``.
  *Binding*: the efficacy bounds are computed with the futility bounds in the continuation
  region (alpha is controlled only if the trial stops when a futility bound is crossed).
  *Non-binding*: efficacy bounds ignore futility (alpha is controlled whatever is decided at
  the futility look); the power accounts for futility stopping. A futility bound above the
  efficacy bound at an interim is set equal to it (rpact does the same).
* **Maximum information**: ``eta`` solves power = ``1 - beta``; the inflation factor is
  ``(eta / (z_{1-alpha/sides} + z_{1-beta}))^2``: the maximum number of events is the fixed
  design's events times this factor.

Probabilities are computed by recursive numerical integration (:mod:`._gs_numerics`,
Jennison & Turnbull 2000, ch. 19). Results reproduce rpact ``getDesignGroupSequential`` and
``getDesignCharacteristics`` to 1e-6 relative (tests/conformance/r/rpact_designs.R).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from oncotrial.design import _gs_numerics as gs
from oncotrial.design import _tte_inputs as check
from oncotrial.design import spending as sp
from oncotrial.errors import InputError
from oncotrial.results import Result

FUTILITY_KINDS: tuple[str, ...] = ("none", "beta-spending", "fixed")


@dataclass(frozen=True)
class SequentialDesign(Result):
    """Boundaries and operating characteristics of a group-sequential design (z scale)."""

    fractions: tuple[float, ...]
    alpha: float
    sides: int
    power: float
    spending: str
    gamma: float | None
    futility: str
    beta_spending: str | None
    beta_gamma: float | None
    binding: bool
    critical_values: tuple[float, ...]
    futility_bounds: tuple[float, ...]
    alpha_spent: tuple[float, ...]
    beta_spent: tuple[float, ...]
    stage_levels: tuple[float, ...]
    drift: float
    inflation_factor: float
    rejection_h1: tuple[float, ...]
    futility_stop_h1: tuple[float, ...]
    expected_information_h1: float
    grid_r: int = gs.GRID_R
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def looks(self) -> int:
        return len(self.fractions)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(
            {
                "look": range(1, self.looks + 1),
                "fraction": self.fractions,
                "critical_value": self.critical_values,
                "futility_bound": self.futility_bounds,
                "alpha_spent": self.alpha_spent,
                "stage_level": self.stage_levels,
                "rejection_h1": self.rejection_h1,
                "futility_stop_h1": self.futility_stop_h1,
            }
        )

    def _efficacy_words(self) -> str:
        if self.spending == "none":
            return "no efficacy stopping before the final analysis"
        return (
            f"efficacy boundaries from a {sp.describe(self.spending, self.gamma)} "
            "alpha-spending function"
        )

    def _futility_words(self) -> str:
        if self.futility == "none":
            return "no futility boundary"
        kind = "binding" if self.binding else "non-binding"
        if self.futility == "fixed":
            bounds = ", ".join(f"{b:.3f}" for b in self.futility_bounds[:-1])
            return f"a {kind} futility boundary at z = {bounds} (fixed)"
        return (
            f"a {kind} futility boundary from a "
            f"{sp.describe(self.beta_spending or '', self.beta_gamma)} beta-spending "
            "function"
        )

    def protocol_text(self) -> str:
        looks = ", ".join(f"{t:.0%}" for t in self.fractions)
        kind = "two-sided" if self.sides == 2 else "one-sided"
        crit = ", ".join("none" if math.isinf(c) else f"{c:.3f}" for c in self.critical_values)
        return (
            f"The design has {self.looks} analyses at {looks} of the maximum information, "
            f"{self._efficacy_words()} ({kind} overall alpha {self.alpha:g}) and "
            f"{self._futility_words()}. Critical values (z) are {crit}. To keep "
            f"{self.power:.0%} power, the maximum information is {self.inflation_factor:.4f} "
            "times that of the fixed design. Boundaries were computed by recursive numerical "
            "integration (Jennison and Turnbull 2000, ch. 19)."
        )

    def spec_block(self) -> dict[str, Any]:
        block: dict[str, Any] = {"looks": list(self.fractions), "spending": self.spending}
        if self.gamma is not None:
            block["gamma"] = self.gamma
        block["futility"] = self.futility
        if self.futility == "beta-spending":
            block["beta_spending"] = self.beta_spending
            if self.beta_gamma is not None:
                block["beta_gamma"] = self.beta_gamma
        if self.futility == "fixed":
            block["futility_bounds"] = list(self.futility_bounds[:-1])
        if self.futility != "none":
            block["binding"] = self.binding
        return block

    def summary(self) -> str:
        lines = [
            f"SequentialDesign ({self.looks} looks, inflation factor {self.inflation_factor:.6f})",
            "  look  fraction  efficacy z  futility z  alpha spent  power spent",
        ]
        for k in range(self.looks):
            lines.append(
                f"  {k + 1:>4}  {self.fractions[k]:>8.3f}  {self.critical_values[k]:>10.4f}  "
                f"{self.futility_bounds[k]:>10.4f}  {self.alpha_spent[k]:>11.6f}  "
                f"{float(np.sum(self.rejection_h1[: k + 1])):>11.6f}"
            )
        return "\n".join([*lines, self.protocol_text()])


def _solve_decreasing(func: Any, target: float, lo: float, hi: float) -> float:
    """Root of ``func(x) = target`` for ``func`` decreasing on ``[lo, hi]`` (bracket grown)."""
    while func(lo) < target:
        lo -= 5.0
    while func(hi) > target:
        hi += 5.0
    return float(brentq(lambda x: func(x) - target, lo, hi, xtol=1e-13, rtol=1e-14, maxiter=200))


def _advance(prev: gs.Stage | None, t: float, eta: float, lo: float, hi: float) -> gs.Stage | None:
    """Next stage's sub-density; ``None`` while no look so far could stop the trial.

    With ``None`` the next look uses the exact marginal ``Z_k ~ N(eta sqrt(t_k), 1)`` (e.g.
    the final look of a futility-only design without binding bounds gives ``z_{1-alpha}``).
    """
    if prev is None and lo == -math.inf and hi == math.inf:
        return None
    return gs.advance(prev, t, eta, lo, hi)


@dataclass
class _Plan:
    t: list[float]
    sides: int
    alpha_incr: np.ndarray  # per side
    futility: str
    fixed_bounds: list[float]
    beta_incr: np.ndarray
    binding: bool


def _efficacy_value(plan: _Plan, k: int, prev0: gs.Stage | None, strict: bool = True) -> float:
    target = float(plan.alpha_incr[k])
    if target <= 0.0:
        return math.inf
    t = plan.t[k]

    def func(c: float) -> float:
        return gs.prob_above(prev0, t, 0.0, c)

    available = func(-1e300)
    if available <= target:
        if not strict:  # only while searching the drift: reject every continuing path
            return -math.inf
        raise InputError(
            f"look {k + 1}: the binding futility bounds leave less than the alpha to spend "
            f"({available:.3g} < {target:.3g}); lower the futility bounds",
            argument="futility",
        )
    return _solve_decreasing(func, target, -8.0, 12.0)


def _run(
    plan: _Plan, eta: float, c_given: list[float] | None, strict: bool = True
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Bounds and H1 exit probabilities at drift ``eta``.

    ``c_given``: efficacy bounds already known (they do not depend on ``eta`` unless the
    futility bounds are binding beta-spending bounds).
    """
    K = len(plan.t)
    prev0: gs.Stage | None = None
    prev1: gs.Stage | None = None
    cs: list[float] = []
    bs: list[float] = []
    rej: list[float] = []
    fut: list[float] = []
    for k in range(K):
        t = plan.t[k]
        c = c_given[k] if c_given is not None else _efficacy_value(plan, k, prev0, strict)
        if plan.sides == 2:
            b = -c
        elif k == K - 1:
            b = c
        elif plan.futility == "fixed":
            b = min(plan.fixed_bounds[k], c)
        elif plan.futility == "beta-spending":
            target = float(plan.beta_incr[k])
            mass = gs.prob_below(prev1, t, eta, c)
            b = (
                c
                if mass <= target
                else -_solve_decreasing(
                    lambda x, p=prev1, tt=t: gs.prob_below(p, tt, eta, -x),
                    target,
                    -min(c, 12.0),
                    12.0,
                )
            )
        else:
            b = -math.inf
        cs.append(c)
        bs.append(b)
        rej.append(gs.prob_above(prev1, t, eta, c))
        fut.append(gs.prob_below(prev1, t, eta, b) if plan.sides == 1 else 0.0)
        if k < K - 1:
            lo1 = b
            lo0 = b if (plan.binding or plan.sides == 2) else -math.inf
            if c_given is None:
                prev0 = _advance(prev0, t, 0.0, lo0, c)
            prev1 = _advance(prev1, t, eta, lo1, c)
    return cs, bs, rej, fut


def _efficacy_bounds(plan: _Plan, lower: list[float] | None) -> list[float]:
    """Efficacy bounds under H0 with the given continuation lower bounds (None: -inf)."""
    prev0: gs.Stage | None = None
    cs: list[float] = []
    for k, t in enumerate(plan.t):
        c = _efficacy_value(plan, k, prev0)
        cs.append(c)
        lo = -c if plan.sides == 2 else -math.inf if lower is None else min(lower[k], c)
        prev0 = _advance(prev0, t, 0.0, lo, c)
    return cs


def group_sequential(
    fractions: Sequence[float],
    *,
    alpha: float = 0.025,
    power: float = 0.9,
    sides: int = 1,
    spending: str = "of",
    gamma: float | None = None,
    futility: str = "none",
    beta_spending: str = "of",
    beta_gamma: float | None = None,
    futility_bounds: Sequence[float] | None = None,
    binding: bool = False,
) -> SequentialDesign:
    """Compute a group-sequential design (see module docstring for the method).

    Args:
        fractions: information fractions of the looks, increasing, last = 1.
        alpha: overall type I error (one-sided if ``sides=1``, two-sided if ``sides=2``).
        power: target power ``1 - beta`` at the alternative.
        spending: alpha-spending function ``"of"``, ``"pocock"``, ``"hsd"`` (with ``gamma``)
            or ``"none"`` (no efficacy stop before the last look).
        futility: ``"none"``, ``"beta-spending"`` (``beta_spending``/``beta_gamma``) or
            ``"fixed"`` (``futility_bounds``: one z value per interim look). One-sided only.
        binding: whether the futility bounds are binding.
    """
    t = check.increasing_fractions(list(fractions), "fractions")
    a, s, pw = check.test_levels(alpha, sides, power)
    kind = check.one_of(futility, FUTILITY_KINDS, "futility", fold_case=True)
    spend = str(spending).lower()
    K = len(t)
    alpha_side = a / s
    if spend == "none":
        cum_alpha = np.where(np.arange(K) == K - 1, alpha_side, 0.0)
        gam = None
    else:
        spend = sp.check_spending(spend, gamma, "spending")
        gam = float(gamma) if spend == "hsd" and gamma is not None else None
        cum_alpha = sp.spent(spend, np.asarray(t), alpha_side, gam)
    if s == 2 and kind != "none":
        raise InputError(
            "futility bounds are supported for one-sided designs only (sides=1)",
            argument="futility",
            value=futility,
            valid="none when sides=2",
        )
    if kind != "none" and K < 2:
        raise InputError(
            "a futility bound needs at least one interim look", argument="fractions", value=list(t)
        )
    fixed: list[float] = []
    beta_name: str | None = None
    b_gam: float | None = None
    cum_beta = np.zeros(K)
    if kind == "fixed":
        if futility_bounds is None or len(futility_bounds) != K - 1:
            raise InputError(
                f"futility = 'fixed' needs futility_bounds with one z value per "
                f"interim look ({K - 1})",
                argument="futility_bounds",
                value=None if futility_bounds is None else list(futility_bounds),
            )
        fixed = [float(x) for x in futility_bounds]
        for j, x in enumerate(fixed):
            if not math.isfinite(x):
                raise InputError(
                    f"futility_bounds[{j}] = {x!r} must be finite",
                    argument="futility_bounds",
                    row=j,
                    value=x,
                )
    if kind == "beta-spending":
        beta_name = sp.check_spending(beta_spending, beta_gamma, "beta_spending")
        b_gam = float(beta_gamma) if beta_name == "hsd" and beta_gamma is not None else None
        cum_beta = sp.spent(beta_name, np.asarray(t), 1.0 - pw, b_gam)
    plan = _Plan(
        t,
        s,
        np.diff(np.concatenate([[0.0], cum_alpha])),
        kind,
        fixed,
        np.diff(np.concatenate([[0.0], cum_beta])),
        bool(binding),
    )
    eta_dependent = kind == "beta-spending" and plan.binding
    c_given = None
    if not eta_dependent:
        lower = [*fixed, math.inf] if (kind == "fixed" and plan.binding) else None
        c_given = _efficacy_bounds(plan, lower)

    def power_gap(eta: float) -> float:
        return float(np.sum(_run(plan, eta, c_given, strict=False)[2])) - pw

    z_fixed = float(norm.isf(alpha_side) + norm.ppf(pw))
    lo, hi = 0.5 * z_fixed, 1.5 * z_fixed
    while power_gap(hi) < 0:
        hi *= 1.5
    while power_gap(lo) > 0:
        lo *= 0.5
    eta = float(brentq(power_gap, lo, hi, xtol=1e-13, rtol=1e-14, maxiter=200))
    cs, bs, rej, fut = _run(plan, eta, c_given)
    # expected information (fraction of maximum) under H1: stop at k with prob rej+fut
    stop = np.asarray(rej) + np.asarray(fut)
    stop[-1] = 1.0 - float(np.sum(stop[:-1]))
    notes = []
    if kind == "beta-spending":
        clipped = [k + 1 for k in range(K - 1) if bs[k] == cs[k]]
        if clipped:
            notes.append(f"futility bound set equal to the efficacy bound at look(s) {clipped}")
    beta_spent = (
        tuple(float(x) for x in np.cumsum(fut)) if kind != "none" else tuple(0.0 for _ in t)
    )
    return SequentialDesign(
        fractions=tuple(t),
        alpha=a,
        sides=s,
        power=pw,
        spending=spend,
        gamma=gam,
        futility=kind,
        beta_spending=beta_name,
        beta_gamma=b_gam,
        binding=bool(binding),
        critical_values=tuple(cs),
        futility_bounds=tuple(bs if s == 1 else [-c for c in cs]),
        alpha_spent=tuple(float(x) * s for x in cum_alpha),
        beta_spent=beta_spent,
        stage_levels=tuple(float(norm.sf(c)) for c in cs),
        drift=eta,
        inflation_factor=(eta / z_fixed) ** 2,
        rejection_h1=tuple(rej),
        futility_stop_h1=tuple(fut),
        expected_information_h1=float(stop @ np.asarray(t)),
        notes=tuple(notes),
    )
