"""Kaplan-Meier curves by arm and the (stratified) log-rank test from one counting pass.

The per-arm Kaplan-Meier estimates (:mod:`oncotrial.stats.km`) and the log-rank test
(:mod:`oncotrial.stats.logrank`) both read the numbers at risk and the events at each
distinct time. :func:`km_logrank` counts them once for every (stratum, arm) label
(:func:`oncotrial.stats.risk_table.risk_table`: one sort of packed keys, or no sort at all
for whole-number times) and derives both from that table; without strata or weights, times
that are not whole numbers are counted by :func:`~oncotrial.stats.risk_table.label_tables`
(the same sort, each arm's table and the pooled counts read off prefix sums, no joint
table). The results are identical to
calling :func:`~oncotrial.stats.km.kaplan_meier` on each arm and
:func:`~oncotrial.stats.logrank.logrank` on all subjects (the Kaplan-Meier curves are never
stratified; the strata only define the log-rank risk sets, as R ``survfit(Surv ~ arm)`` and
``survdiff(Surv ~ arm + strata(s))``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.conventions import Conventions, resolve
from oncotrial.results import Result
from oncotrial.stats._inputs import ArrayLike
from oncotrial.stats.km import KaplanMeier, from_columns, from_risk_table
from oncotrial.stats.km_scan import scan_arms
from oncotrial.stats.logrank import (
    JOINT_LABELS,
    LogRankResult,
    expected_variance,
    prepare,
    stratified_sums,
    stratum_sums,
    test_result,
)
from oncotrial.stats.risk_table import label_tables, risk_table


@dataclass(frozen=True, eq=False)
class KMLogRank(Result):
    """Kaplan-Meier curve per arm (keyed by arm level) and the log-rank test of the arms."""

    curves: dict[Any, KaplanMeier]
    logrank: LogRankResult
    conventions: Conventions = field(default_factory=Conventions)

    def to_frame(self) -> pd.DataFrame:
        rows = []
        observed = dict(zip(self.logrank.groups, self.logrank.observed, strict=True))
        expected = dict(zip(self.logrank.groups, self.logrank.expected, strict=True))
        for level, km in self.curves.items():
            lo, hi = km.median_ci
            rows.append(
                {
                    "arm": level,
                    "n": km.n,
                    "events": km.events,
                    "median": km.median,
                    "median_lower": lo,
                    "median_upper": hi,
                    "expected": float(expected[level]),
                    "observed": float(observed[level]),
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        lines = [f"{level!s}: {km.summary()}" for level, km in self.curves.items()]
        lines.append(self.logrank.summary())
        lines.append(self.conventions.footnote())
        return "\n".join(lines)


def km_logrank(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    rho: float = 0.0,
    gamma: float = 0.0,
    reference: Any = None,
    profile: str = "r",
    conf_type: str | None = None,
    conf_level: float | None = None,
    conventions: Conventions | None = None,
) -> KMLogRank:
    """Kaplan-Meier by arm and the (stratified, weighted) log-rank test in one pass.

    Arguments as :func:`~oncotrial.stats.km.kaplan_meier` and
    :func:`~oncotrial.stats.logrank.logrank`.
    """
    conv = conventions or resolve(profile, conf_type=conf_type, conf_level=conf_level)
    x = prepare(time, event, group, strata, rho, gamma, reference)
    k = x.k
    n_strata = 1 if x.strata is None else len(x.strata)
    scanned = own = None
    if n_strata == 1 and rho == 0 and gamma == 0 and k <= JOINT_LABELS:
        scanned = scan_arms(x.time, x.event, x.codes, k, x.time_range)
        if scanned is None:
            own = label_tables(x.time, x.event, x.codes, k)
    if scanned is not None or own is not None:
        if scanned is not None:
            curves = {
                g: from_columns(scanned.tables[i], conv, scanned.events[i])
                for i, g in enumerate(x.levels)
            }
            expected, variance = scanned.expected, scanned.variance
        else:
            assert own is not None
            curves = {g: from_risk_table(own.tables[i], conv) for i, g in enumerate(x.levels)}
            expected, variance = expected_variance(own.n_risk, own.n_event, own.n)
        observed = np.array([float(curve.events) for curve in curves.values()])
        sizes = np.array([curve.n for curve in curves.values()])
        test = test_result(x, (observed, expected, variance), rho, gamma, conv, sizes)
    elif n_strata * k <= JOINT_LABELS:
        labels = x.codes if x.s_codes is None else x.s_codes * k + x.codes
        table = risk_table(x.time, x.event, labels, n_strata * k)
        curves = {
            level: from_risk_table(table.columns([s * k + g for s in range(n_strata)]), conv)
            for g, level in enumerate(x.levels)
        }
        sums = [stratum_sums(table.labels(s * k, k), rho, gamma) for s in range(n_strata)]
        obs = np.sum([o for o, _, _ in sums], axis=0)
        exp = np.sum([e for _, e, _ in sums], axis=0)
        var = np.sum([v for _, _, v in sums], axis=0)
        sizes = np.array([curves[level].n for level in x.levels])
        test = test_result(x, (obs, exp, var), rho, gamma, conv, sizes)
    else:
        by_arm = risk_table(x.time, x.event, x.codes, k)
        curves = {
            level: from_risk_table(by_arm.columns([g]), conv) for g, level in enumerate(x.levels)
        }
        s_codes = x.s_codes if x.s_codes is not None else np.zeros_like(x.codes)
        sums3 = stratified_sums(x.time, x.event, x.codes, k, s_codes, n_strata, rho, gamma)
        test = test_result(x, sums3, rho, gamma, conv)
    return KMLogRank(curves, test, conv)
