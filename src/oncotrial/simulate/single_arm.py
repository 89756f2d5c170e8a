"""Single-arm trials tested on the Kaplan-Meier rate at a landmark, simulated many at once.

The design (``oncotrial.design.single_arm``, method ``km_landmark``; Nagashima, Noma, Sato &
Gosho, *Pharm Stat* 2021;20:499-511) compares the Kaplan-Meier survival ``S_hat(L)`` at a
landmark ``L`` with a historical rate ``S0 = S_0(L)`` on a transformed scale ``g`` (identity,
log, log-log ``log(-log S)``, logit, arcsine-square-root):

    Z = sqrt(n) (g(S_hat(L)) - g(S0)) / sigma0,

``sigma0`` the standard deviation of ``sqrt(n) g(S_hat(L))`` under the null with the design's
censoring (``|g'(S0)| sqrt(S0^2 int_0^L lambda0 / (S0(u) G(u)) du)``, Fleming & Harrington
1991, Example 6.3.1; computed by the design module). Benefit is a larger survival rate:
``z_eff = Z`` for increasing transforms and ``-Z`` for log-log (decreasing); the null is
rejected in favour of the treatment when ``z_eff >= z_{1 - alpha/sides}``. Power is counted in
that direction, as the design module does; ``p_reject_harm`` is the other side of a
two-sided test.

The two variance options of the design are two approximations of the power of this same
statistic: ``variance="null_alt"`` gives its large-sample power
``Phi((sqrt(n) |g(S1) - g(S0)| - z sigma0) / sigma1)``; ``variance="null"`` replaces
``sigma1`` by ``sigma0``. The simulation is the finite-sample truth for either.

Simulated trial (per replicate, vectorised across replicates): ``n`` evaluable patients enter
as :class:`~oncotrial.simulate.scenario.Accrual` says (uniform over the accrual period by
default); Weibull event times with the true median ``median1`` and shape ``k``
(``t = median1 (E / ln 2)^(1/k)``, ``E`` standard exponential), optional exponential
dropout, one analysis at calendar ``accrual + follow_up``. The Kaplan-Meier estimate at the
landmark is ``prod_{events t_j <= L} (1 - 1 / n_j)`` computed from each row sorted by
observed time (event in the lowest mantissa bit, as in :mod:`.engine`): at sorted position
``j`` of ``n`` there are ``n - j`` at risk, so ``log S_hat(L) = sum_j e_j [t_j <= L]
log(1 - 1 / (n - j))``. Random numbers: block ``i`` of ``block_size`` replicates draws from
``SeedSequence(seed, spawn_key=(i,))`` (entry, events, dropout), as the two-arm engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from oncotrial.design import single_arm as design
from oncotrial.results import Result
from oncotrial.simulate.result import SimulatedRun
from oncotrial.simulate.scenario import (
    ENTRY,
    Accrual,
    _fail,
    _non_negative,
    _positive,
    _positive_int,
)

_INCREASING = {"identity": True, "log": True, "loglog": False, "logit": True, "arcsine": True}


@dataclass(frozen=True)
class SingleArmScenario(Result):
    """A single-arm trial tested on the Kaplan-Meier rate at ``landmark`` (module docstring).

    ``median0`` is the historical (null) median, ``median1`` the true median of the simulated
    patients (equal to ``median0`` to simulate under the null); Weibull shape ``shape``.
    ``n`` evaluable patients; accrual over ``accrual_months`` (``entry`` as
    :class:`Accrual`), analysis ``follow_up_months`` after the end of accrual.
    ``formula_variance`` is the design's power formula (``null`` or ``null_alt``).
    """

    n: int
    median0: float
    median1: float
    accrual_months: float
    follow_up_months: float
    landmark: float
    transform: str = "loglog"
    alpha: float = 0.05
    sides: int = 2
    shape: float = 1.0
    dropout_hazard: float = 0.0
    entry: str = "random"
    formula_variance: str = "null"
    name: str = "single-arm trial"
    assumptions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        _positive_int(self.n, "n")
        for name in ("median0", "median1", "accrual_months", "landmark", "shape"):
            _positive(getattr(self, name), name)
        _non_negative(self.follow_up_months, "follow_up_months")
        _non_negative(self.dropout_hazard, "dropout_hazard")
        if self.landmark >= self.analysis_time:
            raise _fail(
                "landmark",
                self.landmark,
                f"it must be before the analysis (accrual + follow-up = {self.analysis_time:g})",
            )
        if self.transform not in design.TRANSFORMS:
            raise _fail("transform", self.transform, f"use one of {', '.join(design.TRANSFORMS)}")
        if self.formula_variance not in design.VARIANCES:
            raise _fail("formula_variance", self.formula_variance, "use 'null' or 'null_alt'")
        if not (0.0 < float(self.alpha) < 1.0):
            raise _fail("alpha", self.alpha, "give a level in (0, 1)")
        if self.sides not in (1, 2):
            raise _fail("sides", self.sides, "use 1 or 2")
        if self.entry not in ENTRY:
            raise _fail("entry", self.entry, f"use one of {', '.join(ENTRY)}")

    @property
    def analysis_time(self) -> float:
        return float(self.accrual_months) + float(self.follow_up_months)

    @property
    def accrual(self) -> Accrual:
        """Uniform entry of the ``n`` patients (what :func:`engine._entry_times` reads)."""
        return Accrual.uniform(self.accrual_months, self.n, entry=self.entry)

    def _design_scenario(self, median1: float) -> design.Scenario:
        return design.Scenario(
            self.median0, median1, self.accrual_months, self.follow_up_months, self.shape
        )

    @cached_property
    def null_survival(self) -> float:
        """``S0``: the historical survival at the landmark."""
        return float(self._design_scenario(self.median1).survival(self.landmark, self.median0))

    @cached_property
    def null_sd(self) -> float:
        """``sigma0``: SD of ``sqrt(n) g(S_hat(L))`` under the null, design censoring."""
        # the alternative median only enters the effect size, not sigma0
        alt = self.median1 if self.median1 != self.median0 else 2.0 * self.median0
        _, sigma0, _ = design._km_terms(self._design_scenario(alt), self.landmark, self.transform)
        return sigma0

    def analytic_power(self, variance: str | None = None) -> float:
        """The design module's power (``variance``: formula; default ``formula_variance``).

        NaN under the null (the design module needs ``median1 != median0``)."""
        if self.median1 == self.median0:
            return float("nan")
        return design.single_arm_survival_power(
            self.n,
            self.median0,
            self.median1,
            accrual=self.accrual_months,
            follow_up=self.follow_up_months,
            alpha=self.alpha,
            sides=self.sides,
            method="km_landmark",
            shape=self.shape,
            landmark=self.landmark,
            transform=self.transform,
            variance=variance or self.formula_variance,
        )

    def summary(self) -> str:
        return (
            f"{self.name}: single arm, n = {self.n}, Kaplan-Meier rate at {self.landmark:g} "
            f"({self.transform} scale) vs historical {self.null_survival:.4f} (median "
            f"{self.median0:g}); true median {self.median1:g} (Weibull shape {self.shape:g}); "
            f"accrual {self.accrual_months:g} + follow-up {self.follow_up_months:g}; "
            f"alpha {self.alpha:g} {self.sides}-sided"
            + (f"; dropout hazard {self.dropout_hazard:g}" if self.dropout_hazard else "")
            + "".join(f"\n  assumption: {note}" for note in self.assumptions)
        )


@dataclass
class SingleArmRecords:
    """Per-trial outputs of a block: landmark KM estimate, ``z_eff``, events at the analysis."""

    survival: np.ndarray
    z: np.ndarray
    events: np.ndarray

    @staticmethod
    def concat(parts: list[SingleArmRecords]) -> SingleArmRecords:
        return SingleArmRecords(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("survival", "z", "events"))
        )


def transform(s: np.ndarray, name: str) -> np.ndarray:
    """``g(S)`` elementwise (``+-inf`` at the ends of ``[0, 1]`` where ``g`` diverges)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "identity":
            return s
        if name == "log":
            return np.log(s)
        if name == "loglog":
            return np.log(-np.log(s))
        if name == "logit":
            return np.log(s) - np.log1p(-s)
        return np.arcsin(np.sqrt(s))


def draw_sorted(scenario: SingleArmScenario, rng: np.random.Generator, n_rep: int) -> np.ndarray:
    """Observed times at the analysis, each row sorted, event in the lowest mantissa bit."""
    from oncotrial.simulate.engine import _entry_times

    n = scenario.n
    entry = _entry_times(scenario, rng, n_rep)  # type: ignore[arg-type]
    e = rng.standard_exponential((n_rep, n))
    if scenario.shape == 1.0:
        t = e * (scenario.median1 / math.log(2.0))
    else:
        t = scenario.median1 * (e / math.log(2.0)) ** (1.0 / scenario.shape)
    follow = scenario.analysis_time - entry
    event = t <= follow
    if scenario.dropout_hazard > 0:
        drop = rng.standard_exponential((n_rep, n)) / scenario.dropout_hazard
        event &= t <= drop
        np.minimum(t, drop, out=t)
    x = np.minimum(t, follow, out=t)
    xi = x.view(np.int64)
    xi &= ~np.int64(1)
    xi |= event.view(np.int8)
    x.sort(axis=1)
    return x


def landmark_survival(x: np.ndarray, landmark: float) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate at ``landmark`` and the number of events, per sorted row."""
    n = x.shape[1]
    event = (x.view(np.int64) & 1).astype(bool)
    with np.errstate(divide="ignore"):
        step = np.log1p(-1.0 / (n - np.arange(n, dtype=np.float64)))
    log_s = np.where(event & (x <= landmark), step, 0.0).sum(axis=1)
    return np.exp(log_s), np.count_nonzero(event, axis=1)


def simulate_single_arm_block(
    scenario: SingleArmScenario, seed: np.random.SeedSequence, n_rep: int
) -> SingleArmRecords:
    """``n_rep`` trials from ``seed`` (pure; module docstring)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    x = draw_sorted(scenario, rng, n_rep)
    s_hat, events = landmark_survival(x, scenario.landmark)
    g0 = float(transform(np.asarray(scenario.null_survival), scenario.transform))
    z = math.sqrt(scenario.n) * (transform(s_hat, scenario.transform) - g0) / scenario.null_sd
    if not _INCREASING[scenario.transform]:
        z = -z
    return SingleArmRecords(s_hat, z, events)


@dataclass(frozen=True, eq=False)
class SingleArmSimulationResult(SimulatedRun):
    """Simulated power of a single-arm landmark test, with the design module's answers."""

    scenario: SingleArmScenario
    n_sim: int
    seed: int | list[int]
    block_size: int
    critical_value: float
    power: float
    power_se: float
    p_reject_harm: float
    p_reject_harm_se: float
    analytic_power: float
    analytic_power_null_alt: float
    landmark_survival: dict[str, float]
    expected_events: float
    expected_events_se: float
    elapsed_seconds: float
    workers: int
    records: SingleArmRecords | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row: simulated and analytic power, the landmark estimate's distribution."""
        row = {
            "power": self.power,
            "power_se": self.power_se,
            "p_reject_harm": self.p_reject_harm,
            "analytic_power": self.analytic_power,
            "analytic_power_null_alt": self.analytic_power_null_alt,
            "expected_events": self.expected_events,
            **{f"landmark_{k}": v for k, v in self.landmark_survival.items()},
        }
        return pd.DataFrame([row])

    def summary(self) -> str:
        sc = self.scenario
        q = self.landmark_survival
        return "\n".join(
            [
                f"Simulation of {sc.name}: {self.n_sim} trials, seed {self.seed}, KM rate at "
                f"{sc.landmark:g} ({sc.transform}) vs {sc.null_survival:.4f}",
                f"  power {self.power:.4f} (MC SE {self.power_se:.4f}); analytic "
                f"({sc.formula_variance} variance) {self.analytic_power:.4f}, large-sample "
                f"(null_alt) {self.analytic_power_null_alt:.4f}",
                f"  P(reject in favour of the historical control) {self.p_reject_harm:.4f}",
                f"  KM at {sc.landmark:g}: mean {q.get('mean', float('nan')):.4f}, 95% of "
                f"trials in [{q.get('q2.5', float('nan')):.4f}, "
                f"{q.get('q97.5', float('nan')):.4f}]",
                f"  expected events {self.expected_events:.2f}",
                f"  {self.trials_per_second:,.0f} trials/s on {self.workers} worker(s)",
            ]
        )


def summarize_single_arm(
    scenario: SingleArmScenario,
    records: SingleArmRecords,
    *,
    seed: int | list[int],
    block_size: int,
    elapsed: float,
    workers: int,
    keep_records: bool = True,
) -> SingleArmSimulationResult:
    """Power (``z_eff >= z_{1 - alpha/sides}``), the other side, and summaries."""
    from oncotrial.simulate.result import _mean, _prob, distribution

    crit = float(stats.norm.isf(scenario.alpha / scenario.sides))
    power, power_se = _prob(records.z >= crit)
    harm, harm_se = _prob(records.z <= -crit) if scenario.sides == 2 else (0.0, 0.0)
    ev, ev_se = _mean(records.events.astype(float))
    return SingleArmSimulationResult(
        scenario=scenario,
        n_sim=int(records.z.size),
        seed=seed,
        block_size=block_size,
        critical_value=crit,
        power=power,
        power_se=power_se,
        p_reject_harm=harm,
        p_reject_harm_se=harm_se,
        analytic_power=scenario.analytic_power(),
        analytic_power_null_alt=scenario.analytic_power("null_alt"),
        landmark_survival=distribution(records.survival),
        expected_events=ev,
        expected_events_se=ev_se,
        elapsed_seconds=elapsed,
        workers=workers,
        records=records if keep_records else None,
    )
