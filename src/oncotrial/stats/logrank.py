"""The log-rank family: k-sample, stratified, Fleming-Harrington G(rho, gamma) weighted.

Method (Mantel 1966; Peto & Peto 1972; Harrington & Fleming 1982), as R
``survival::survdiff``. Within each stratum, at each distinct event time ``t_j`` with
``n_j`` at risk (``n_gj`` in group g) and ``d_j`` events (``d_gj``), and weight
``w_j = S(t_j-)^rho * (1 - S(t_j-))^gamma`` where ``S(t-)`` is the Kaplan-Meier estimate of
the pooled sample of that stratum just before ``t_j``:

* observed ``O_g = sum_j w_j d_gj`` and expected ``E_g = sum_j w_j d_j n_gj / n_j``;
* ``V_gh = sum_j w_j^2 d_j (n_j - d_j) / (n_j - 1) * (n_gj / n_j) (delta_gh - n_hj / n_j)``
  (the hypergeometric variance; a time with ``n_j = 1`` adds 0).

Stratified tests sum O, E and V over strata. The statistic is ``(O - E)' V^- (O - E)`` on the
groups with ``E_g > 0`` minus one, with df = (number of such groups) - 1, exactly as
``survdiff``; when fewer than two groups have ``E_g > 0`` (e.g. one arm has nobody at risk
at any event time) there is nothing to compare: chisq 0 on 0 df and p = 1, as ``survdiff``.
``rho`` matches ``survdiff(rho=)`` (rho = 1: Peto-Peto / Prentice-Wilcoxon
type); ``gamma`` follows the G(rho, gamma) class of Fleming & Harrington (1991, sec. 7.3),
the weights used by R ``survMisc::comp`` and ``nph::logrank.test``, always with the
hypergeometric variance above (``survMisc`` reports a slightly different variance).

Sign convention for two groups: ``z = (O - E) / sqrt(V)`` of the first non-reference group
(the reference is the first level in sorted order unless ``reference=`` is given), so
``z < 0`` means fewer events than expected in that group (a benefit if it is the
experimental arm). ``p_one_sided = Phi(z)`` tests the alternative "the non-reference group
has the lower hazard"; ``z**2`` equals ``chisq``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from oncotrial.conventions import Conventions, resolve
from oncotrial.errors import DataError, InputError
from oncotrial.results import Result
from oncotrial.stats._inputs import ArrayLike, as_events, as_groups, as_times
from oncotrial.stats.km import _integer_valued, _runs


@dataclass(frozen=True, eq=False)
class LogRankResult(Result):
    """Result of :func:`logrank` (see the module docstring for definitions)."""

    groups: tuple[Any, ...]
    n: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    chisq: float
    df: int
    p_value: float
    z: float | None
    p_one_sided: float | None
    reference: Any
    rho: float
    gamma: float
    strata: tuple[Any, ...] | None
    conventions: Conventions = field(default_factory=Conventions)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "group": list(self.groups),
                "n": self.n,
                "observed": self.observed,
                "expected": self.expected,
                "o_minus_e": self.observed - self.expected,
            }
        )

    def summary(self) -> str:
        kind = (
            "Log-rank"
            if self.rho == 0 and self.gamma == 0
            else (f"Fleming-Harrington G({self.rho:g}, {self.gamma:g})")
        )
        strat = f", stratified by {len(self.strata)} strata" if self.strata else ""
        lines = [
            f"{kind} test{strat}: chisq {self.chisq:.4f} on {self.df} df, p = {self.p_value:.4g}"
        ]
        if self.z is not None:
            other = self.groups[1] if self.reference == self.groups[0] else self.groups[0]
            lines.append(
                f"  z = {self.z:.4f} (negative: fewer events than expected in "
                f"{other!s}), one-sided p = {self.p_one_sided:.4g}"
            )
        for row in self.to_frame().itertuples(index=False):
            lines.append(
                f"  {row.group!s}: n {row.n}, observed {row.observed:.4g}, "
                f"expected {row.expected:.4g}"
            )
        return "\n".join(lines)


def logrank(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    rho: float = 0.0,
    gamma: float = 0.0,
    reference: Any = None,
    conventions: Conventions | None = None,
) -> LogRankResult:
    """k-sample (stratified, weighted) log-rank test; see the module docstring."""
    conv = conventions or resolve("r")
    t = as_times(time)
    n = t.shape[0]
    e = as_events(event, n=n)
    levels, codes = group_codes(group, "group", n, min_levels=2)
    for name, value in (("rho", rho), ("gamma", gamma)):
        if not (np.isfinite(value) and value >= 0):
            raise InputError(
                f"{name}: {value!r} is invalid; use a number >= 0", field=name, value=value
            )
    k = len(levels)
    ref = levels[0] if reference is None else reference
    if ref not in levels:
        raise InputError(
            f"reference: {reference!r} is not a level of group; levels are {list(levels)!r}",
            field="reference",
            value=str(reference),
        )
    obs, exp, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    strata_levels: tuple[Any, ...] | None = None
    if strata is None:
        parts = [(t, e, codes)]
    else:
        strata_levels, s_codes = group_codes(strata, "strata", n, min_levels=1)
        parts = [(t[m], e[m], codes[m]) for m in (s_codes == i for i in range(len(strata_levels)))]
    integer = _integer_valued(t, n)
    for ts, es, gs in parts:
        n_risk, n_event = risk_tables(ts, es, gs, k, integer)
        o, x, v = _weighted_sums(n_risk, n_event, rho, gamma)
        obs += o
        exp += x
        var += v
    chisq, df = _chisq(obs, exp, var)
    p_value = float(sps.chi2.sf(chisq, df)) if df > 0 else 1.0  # as survdiff
    z = p_one = None
    if k == 2:
        other = 1 if levels[0] == ref else 0
        if var[other, other] > 0:
            z = float((obs[other] - exp[other]) / np.sqrt(var[other, other]))
            p_one = float(sps.norm.cdf(z))
    return LogRankResult(
        groups=tuple(levels),
        n=np.bincount(codes, minlength=k),
        observed=obs,
        expected=exp,
        variance=var,
        chisq=chisq,
        df=df,
        p_value=p_value,
        z=z,
        p_one_sided=p_one,
        reference=ref,
        rho=float(rho),
        gamma=float(gamma),
        strata=strata_levels,
        conventions=conv,
    )


def group_codes(
    values: ArrayLike, name: str, n: int, min_levels: int
) -> tuple[tuple[Any, ...], np.ndarray]:
    """Sorted levels and integer codes of a grouping column (R factor order)."""
    arr = values if isinstance(values, np.ndarray) else None
    if arr is not None and arr.ndim == 1 and arr.dtype.kind in "biu" and arr.shape[0] == n:
        lo, hi = (int(arr.min()), int(arr.max())) if n else (0, -1)
        if n and lo >= 0 and hi < 4 * n + 1024:
            as_int = arr.astype(np.int64)
            present = np.flatnonzero(np.bincount(as_int))
            lookup = np.full(hi + 1, -1, dtype=np.int64)
            lookup[present] = np.arange(present.size)
            cast = bool if arr.dtype.kind == "b" else int
            levels = tuple(cast(v) for v in present)
            codes = lookup[as_int]
        else:
            uniq, codes = np.unique(arr, return_inverse=True)
            levels = tuple(v.item() for v in uniq)
        if len(levels) < min_levels:
            as_groups(arr, name=name, n=n, min_levels=min_levels)  # raises the shared error
        return levels, codes.astype(np.int64)
    raw = as_groups(values, name=name, n=n, min_levels=min_levels)
    observed = list(pd.unique(pd.Series(raw)))
    try:
        levels = tuple(sorted(observed))
    except TypeError:
        levels = tuple(sorted(observed, key=str))
    codes = pd.Categorical(raw, categories=list(levels)).codes.astype(np.int64)
    if (codes < 0).any():  # pragma: no cover - categories are the observed values
        raise DataError(f"column {name!r}: could not encode levels", column=name)
    return levels, codes


def risk_tables(
    time: np.ndarray, event: np.ndarray, code: np.ndarray, k: int, integer: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers at risk and events per group (columns) at each distinct event time (rows)."""
    ev = event.astype(bool, copy=False)
    if time.size == 0 or not ev.any():
        return np.zeros((0, k)), np.zeros((0, k))
    if integer:
        t_int = time.astype(np.int64)
        width = int(t_int.max()) + 1
        key = code * width + t_int
        total = np.bincount(key, minlength=k * width).reshape(k, width)
        died = np.bincount(key[ev], minlength=k * width).reshape(k, width)
        cols = np.flatnonzero(died.sum(axis=0))
        at_risk = np.cumsum(total[:, ::-1], axis=1)[:, ::-1]
        return at_risk[:, cols].T.astype(float), died[:, cols].T.astype(float)
    per_group = [np.sort(time[code == g]) for g in range(k)]
    per_group_ev = [_runs(np.sort(time[(code == g) & ev])) for g in range(k)]
    merged = np.sort(np.concatenate([u for u, _, _ in per_group_ev]), kind="stable")
    grid = _runs(merged)[0]
    n_risk = np.empty((grid.size, k))
    n_event = np.zeros((grid.size, k))
    for g in range(k):
        n_risk[:, g] = per_group[g].size - np.searchsorted(per_group[g], grid, "left")
        ev_uniq, _, ev_counts = per_group_ev[g]
        n_event[np.searchsorted(grid, ev_uniq), g] = ev_counts
    return n_risk, n_event


def _weighted_sums(
    n_risk: np.ndarray, n_event: np.ndarray, rho: float, gamma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = n_risk.shape[1]
    if n_risk.shape[0] == 0:
        return np.zeros(k), np.zeros(k), np.zeros((k, k))
    n = n_risk.sum(axis=1)
    d = n_event.sum(axis=1)
    if rho == 0 and gamma == 0:
        w = np.ones_like(n)
    else:
        s_left = np.concatenate(([1.0], np.cumprod(1.0 - d / n)[:-1]))
        w = s_left**rho * (1.0 - s_left) ** gamma
    frac = n_risk / n[:, None]
    obs = (w[:, None] * n_event).sum(axis=0)
    exp = (w[:, None] * d[:, None] * frac).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 1, w**2 * d * (n - d) / (n - 1), 0.0)
    weighted = frac * scale[:, None]
    var = np.diag(weighted.sum(axis=0)) - weighted.T @ frac
    return obs, exp, var


def _chisq(obs: np.ndarray, exp: np.ndarray, var: np.ndarray) -> tuple[float, int]:
    keep = np.flatnonzero(exp > 0)
    if keep.size < 2:
        return 0.0, 0
    idx = keep[1:]
    diff = (obs - exp)[idx]
    sub = var[np.ix_(idx, idx)]
    try:
        sol = np.linalg.solve(sub, diff)
    except np.linalg.LinAlgError:
        sol = np.linalg.lstsq(sub, diff, rcond=None)[0]
    return float(diff @ sol), int(keep.size - 1)
