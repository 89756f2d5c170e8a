"""Restricted mean survival time (RMST) and median follow-up by reverse Kaplan-Meier.

RMST to ``tau`` is the area under the Kaplan-Meier curve on [0, tau] (Royston & Parmar
2013), computed exactly as R ``survival`` ``print(fit, rmean=tau)`` (``survival:::survmean``):
the curve is carried forward from the last time <= tau to tau, and

``var = sum_j A_j^2 d_j / (n_j (n_j - d_j))`` with ``A_j`` the area under the curve from
``t_j`` to tau (a time where every subject at risk dies adds 0). This is the same
estimator as R ``survRM2::rmst2``. CIs are Wald: ``estimate +/- z se``.

Median follow-up (Schemper & Smith 1996) is the median of the reverse Kaplan-Meier curve,
in which censoring is the "event" and events censor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from oncotrial.conventions import Conventions
from oncotrial.errors import InputError
from oncotrial.results import Result
from oncotrial.stats._inputs import ArrayLike, as_events, as_times
from oncotrial.stats.km import KaplanMeier, kaplan_meier
from oncotrial.stats.normal import wald_interval


@dataclass(frozen=True, eq=False)
class RMST(Result):
    """Restricted mean survival time of one curve."""

    tau: float
    estimate: float
    std_err: float
    lower: float
    upper: float
    conventions: Conventions = field(default_factory=Conventions)

    def summary(self) -> str:
        return (
            f"RMST to {self.tau:g}: {self.estimate:.4g} (SE {self.std_err:.4g}; "
            f"{self.conventions.conf_level:.0%} CI {self.lower:.4g} to {self.upper:.4g})"
        )


@dataclass(frozen=True, eq=False)
class RMSTDifference(Result):
    """Difference in RMST between two arms (a - b)."""

    tau: float
    rmst_a: float
    rmst_b: float
    estimate: float
    std_err: float
    lower: float
    upper: float
    p_value: float
    conventions: Conventions = field(default_factory=Conventions)

    def summary(self) -> str:
        return (
            f"RMST to {self.tau:g}: {self.rmst_a:.4g} vs {self.rmst_b:.4g}, difference "
            f"{self.estimate:.4g} ({self.conventions.conf_level:.0%} CI {self.lower:.4g} "
            f"to {self.upper:.4g}), p = {self.p_value:.4g}"
        )


@dataclass(frozen=True, eq=False)
class FollowUp(Result):
    """Median follow-up by reverse Kaplan-Meier, with its CI (NaN where not reached)."""

    median: float
    lower: float
    upper: float
    n: int
    reverse_km: KaplanMeier

    def summary(self) -> str:
        return (
            f"Median follow-up (reverse Kaplan-Meier): {self.median:.4g} "
            f"({self.reverse_km.conventions.conf_level:.0%} CI {self.lower:.4g} to "
            f"{self.upper:.4g}), n={self.n}"
        )


def rmst(km: KaplanMeier, tau: float) -> RMST:
    """RMST of ``km`` on [0, tau] with its SE (see module docstring)."""
    if not (np.isfinite(tau) and tau > 0):
        raise InputError(f"tau: {tau!r} is invalid; use a time > 0", field="tau", value=tau)
    keep = km.time <= tau
    times = km.time[keep]
    surv = km.survival[keep]
    heights = np.concatenate(([1.0], surv))
    widths = np.diff(np.concatenate(([0.0], times, [tau])))
    rect = widths * heights
    after = np.cumsum(rect[::-1])[::-1][1:]  # area from each kept time to tau
    n, d = km.n_risk[keep].astype(float), km.n_event[keep].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard_var = np.where((n - d) == 0, 0.0, d / (n * (n - d)))
    se = float(np.sqrt(np.sum(after**2 * hazard_var)))
    est = float(rect.sum())
    lower, upper, _ = wald_interval(est, se, km.conventions.conf_level)
    return RMST(float(tau), est, se, lower, upper, km.conventions)


def rmst_difference(km_a: KaplanMeier, km_b: KaplanMeier, tau: float) -> RMSTDifference:
    """RMST(a) - RMST(b) to ``tau``; SE from independent arms, Wald CI and two-sided p."""
    a, b = rmst(km_a, tau), rmst(km_b, tau)
    diff = a.estimate - b.estimate
    se = float(np.hypot(a.std_err, b.std_err))
    lower, upper, p = wald_interval(diff, se, km_a.conventions.conf_level)
    return RMSTDifference(
        float(tau), a.estimate, b.estimate, diff, se, lower, upper, p, km_a.conventions
    )


def median_followup(
    time: ArrayLike,
    event: ArrayLike,
    *,
    profile: str = "r",
    conventions: Conventions | None = None,
) -> FollowUp:
    """Median follow-up: median of the Kaplan-Meier curve of censoring (events censor)."""
    t = as_times(time)
    e = as_events(event, n=t.shape[0])
    rev = kaplan_meier(t, 1 - e, profile=profile, conventions=conventions)
    return FollowUp(rev.median, rev.median_ci[0], rev.median_ci[1], rev.n, rev)
