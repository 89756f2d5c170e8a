"""Operating characteristics from the per-trial records of a simulation.

Decisions follow :class:`~oncotrial.simulate.scenario.AnalysisPlan` on ``z_eff`` (positive
favours the experimental arm): at look ``k`` efficacy if ``z_eff >= c_k``; else, at an
interim, stop if ``z_eff <= lower_k`` (futility for one-sided designs, a rejection in favour
of control for two-sided ones). A NaN statistic (no comparison possible) continues.
``power`` obeys every futility bound (binding or not: the trial is assumed to stop when it
says so, as the design module's power does); ``power_ignoring_futility`` ignores futility
bounds, which is the type I error a non-binding design controls.

Monte Carlo standard errors: ``sqrt(p (1 - p) / n_sim)`` for probabilities and
``sd / sqrt(n_sim)`` for means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.results import Result
from oncotrial.simulate.engine import BlockRecords
from oncotrial.simulate.scenario import Scenario

QUANTILES: tuple[float, ...] = (0.025, 0.25, 0.5, 0.75, 0.975)


def decisions(scenario: Scenario, z: np.ndarray, obey_futility: bool = True) -> np.ndarray:
    """Per trial: (look index at which the trial stopped, outcome) as an (n, 2) int array.

    Outcome 1 = efficacy, -1 = stopped at a lower bound (futility / other side), 0 = reached
    the final look without rejection.
    """
    plan = scenario.plan
    n, k = z.shape
    look = np.full(n, k - 1, dtype=np.int64)
    outcome = np.zeros(n, dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    for j in range(k):
        zj = z[:, j]
        eff = open_ & (zj >= plan.efficacy[j])
        lower_active = j < k - 1 and (plan.sides == 2 or obey_futility)
        low = open_ & ~eff & (zj <= plan.lower[j]) if lower_active else np.zeros(n, bool)
        if j == k - 1 and plan.sides == 2:
            low = open_ & ~eff & (zj <= plan.lower[j])
        outcome[eff] = 1
        outcome[low] = -1
        stop = eff | low
        look[stop] = j
        open_ &= ~stop
    return np.column_stack([look, outcome])


def _prob(x: np.ndarray) -> tuple[float, float]:
    p = float(np.mean(x)) if x.size else float("nan")
    return p, float(np.sqrt(p * (1.0 - p) / x.size)) if x.size else float("nan")


def _mean(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    sd = float(np.std(x, ddof=1)) if x.size > 1 else float("nan")
    return float(np.mean(x)), sd / float(np.sqrt(x.size))


def distribution(x: np.ndarray) -> dict[str, float]:
    """Mean, SD, quantiles (2.5, 25, 50, 75, 97.5%) of the finite values and the share
    of non-finite ones (e.g. a median not reached)."""
    finite = x[np.isfinite(x)]
    out: dict[str, float] = {
        "n": int(finite.size),
        "missing": float(1 - finite.size / max(x.size, 1)),
    }
    if finite.size:
        out["mean"] = float(np.mean(finite))
        out["sd"] = float(np.std(finite, ddof=1)) if finite.size > 1 else float("nan")
        for q, v in zip(QUANTILES, np.quantile(finite, QUANTILES), strict=True):
            out[f"q{q * 100:g}"] = float(v)
    return out


class SimulatedRun(Result):
    """Mixin for simulation results: ``to_dict`` leaves out the per-trial ``records`` and adds
    ``trials_per_second`` (``n_sim / elapsed_seconds``)."""

    n_sim: int
    elapsed_seconds: float

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("records", None)
        out["trials_per_second"] = self.trials_per_second
        return out

    @property
    def trials_per_second(self) -> float:
        return self.n_sim / self.elapsed_seconds if self.elapsed_seconds > 0 else float("nan")


@dataclass(frozen=True, eq=False)
class SimulationResult(SimulatedRun):
    """Operating characteristics of a scenario from ``n_sim`` simulated trials.

    ``records`` (per-trial arrays) is kept for further analysis and left out of ``to_dict``.
    """

    scenario: Scenario
    n_sim: int
    seed: int | list[int]
    block_size: int
    power: float
    power_se: float
    power_ignoring_futility: float
    power_ignoring_futility_se: float
    by_look: pd.DataFrame
    expected_events: float
    expected_events_se: float
    expected_patients: float
    expected_patients_se: float
    expected_duration: float
    expected_duration_se: float
    hr: dict[str, float]
    median_control: dict[str, float]
    median_experimental: dict[str, float]
    events_not_reached: float
    elapsed_seconds: float
    workers: int
    records: BlockRecords | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per look: stopping probabilities, power so far, mean cut and events."""
        return self.by_look.copy()

    def summary(self) -> str:
        sc = self.scenario
        lines = [
            f"Simulation of {sc.name}: {self.n_sim} trials, seed {self.seed}, test {sc.test.label}",
            f"  power {self.power:.4f} (MC SE {self.power_se:.4f})"
            + (
                f"; ignoring futility {self.power_ignoring_futility:.4f}"
                if sc.plan.sides == 1 and len(sc.plan.looks) > 1
                else ""
            ),
            "  look  events  time     P(efficacy)  P(lower)  power so far",
        ]
        for row in self.by_look.itertuples(index=False):
            lines.append(
                f"  {row.look:>4}  {row.mean_events:>6.1f}  {row.mean_time:>7.2f}  "
                f"{row.p_efficacy:>11.4f}  {row.p_lower:>8.4f}  {row.power_cumulative:>11.4f}"
            )
        lines += [
            f"  expected events {self.expected_events:.2f}, patients {self.expected_patients:.2f}, "
            f"duration {self.expected_duration:.2f} (at the stopping analysis)",
            f"  HR estimate: median {self.hr.get('q50', float('nan')):.3f}, 95% of trials in "
            f"[{self.hr.get('q2.5', float('nan')):.3f}, {self.hr.get('q97.5', float('nan')):.3f}]",
            f"  KM median control {self.median_control.get('q50', float('nan')):.2f}, "
            f"experimental {self.median_experimental.get('q50', float('nan')):.2f} "
            "(median over trials)",
        ]
        if self.events_not_reached > 0:
            lines.append(f"  target events not reached in {self.events_not_reached:.2%} of trials")
        lines.append(f"  {self.trials_per_second:,.0f} trials/s on {self.workers} worker(s)")
        return "\n".join(lines)


def summarize(
    scenario: Scenario,
    records: BlockRecords,
    *,
    seed: int | list[int],
    block_size: int,
    elapsed: float,
    workers: int,
    keep_records: bool = True,
) -> SimulationResult:
    """Operating characteristics (module docstring) from the per-trial records."""
    n = records.z.shape[0]
    dec = decisions(scenario, records.z)
    look, outcome = dec[:, 0], dec[:, 1]
    dec_nf = decisions(scenario, records.z, obey_futility=False)
    rows = np.arange(n)
    k = records.z.shape[1]
    table: dict[str, list[Any]] = {
        "look": [],
        "target_events": [],
        "target_time": [],
        "efficacy_bound": [],
        "lower_bound": [],
        "p_efficacy": [],
        "p_efficacy_se": [],
        "p_lower": [],
        "p_lower_se": [],
        "power_cumulative": [],
        "mean_events": [],
        "mean_time": [],
        "mean_patients": [],
    }
    for j in range(k):
        lk = scenario.plan.looks[j]
        p_eff, se_eff = _prob((look == j) & (outcome == 1))
        p_low, se_low = _prob((look == j) & (outcome == -1))
        table["look"].append(j + 1)
        table["target_events"].append(lk.events)
        table["target_time"].append(lk.time)
        table["efficacy_bound"].append(scenario.plan.efficacy[j])
        table["lower_bound"].append(
            scenario.plan.lower[j] if j < k - 1 or scenario.plan.sides == 2 else None
        )
        table["p_efficacy"].append(p_eff)
        table["p_efficacy_se"].append(se_eff)
        table["p_lower"].append(p_low)
        table["p_lower_se"].append(se_low)
        table["power_cumulative"].append(float(np.mean((look <= j) & (outcome == 1))))
        table["mean_events"].append(float(np.mean(records.events[:, j])))
        table["mean_time"].append(float(np.mean(records.cut[:, j])))
        table["mean_patients"].append(float(np.mean(records.enrolled[:, j])))
    power, power_se = _prob(outcome == 1)
    pnf, pnf_se = _prob(dec_nf[:, 1] == 1)
    ev, ev_se = _mean(records.events[rows, look].astype(float))
    pt, pt_se = _mean(records.enrolled[rows, look].astype(float))
    du, du_se = _mean(records.cut[rows, look])
    log_hr = records.log_hr if records.log_hr is not None else np.full((n, k), np.nan)
    median = records.median if records.median is not None else np.full((n, k, 2), np.nan)
    return SimulationResult(
        scenario=scenario,
        n_sim=n,
        seed=seed,
        block_size=block_size,
        power=power,
        power_se=power_se,
        power_ignoring_futility=pnf,
        power_ignoring_futility_se=pnf_se,
        by_look=pd.DataFrame(table),
        expected_events=ev,
        expected_events_se=ev_se,
        expected_patients=pt,
        expected_patients_se=pt_se,
        expected_duration=du,
        expected_duration_se=du_se,
        hr=distribution(np.exp(log_hr[rows, look])),
        median_control=distribution(median[rows, look, 0]),
        median_experimental=distribution(median[rows, look, 1]),
        events_not_reached=float(np.mean(~records.reached[rows, look])),
        elapsed_seconds=elapsed,
        workers=workers,
        records=records if keep_records else None,
    )
