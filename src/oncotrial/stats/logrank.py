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
from scipy import special

from oncotrial.conventions import Conventions, resolve
from oncotrial.errors import DataError, InputError
from oncotrial.results import Result
from oncotrial.stats._inputs import ArrayLike, as_events, as_groups, times_and_range
from oncotrial.stats.risk_table import RiskTable, risk_table


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
    x = prepare(time, event, group, strata, rho, gamma, reference)
    if x.s_codes is None:
        sums = stratum_sums(risk_table(x.time, x.event, x.codes, x.k), rho, gamma)
    else:
        sums = stratified_sums(
            x.time, x.event, x.codes, x.k, x.s_codes, len(x.strata or ()), rho, gamma
        )
    return test_result(x, sums, rho, gamma, conventions or resolve("r"))


@dataclass(frozen=True)
class Prepared:
    """Validated inputs of a log-rank test: arrays, group and stratum codes, reference."""

    time: np.ndarray
    event: np.ndarray
    levels: tuple[Any, ...]
    codes: np.ndarray
    reference: Any
    strata: tuple[Any, ...] | None
    s_codes: np.ndarray | None
    time_range: tuple[float, float] | None = None
    """Smallest and largest time."""

    @property
    def k(self) -> int:
        return len(self.levels)


def prepare(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    strata: ArrayLike | None,
    rho: float,
    gamma: float,
    reference: Any,
) -> Prepared:
    """Validate the inputs of :func:`logrank` (clear errors naming column, row and value)."""
    t, low, high = times_and_range(time)
    n = t.shape[0]
    e = as_events(event, n=n)
    levels, codes = group_codes(group, "group", n, min_levels=2)
    for name, value in (("rho", rho), ("gamma", gamma)):
        if not (np.isfinite(value) and value >= 0):
            raise InputError(
                f"{name}: {value!r} is invalid; use a number >= 0", field=name, value=value
            )
    ref = levels[0] if reference is None else reference
    if ref not in levels:
        raise InputError(
            f"reference: {reference!r} is not a level of group; levels are {list(levels)!r}",
            field="reference",
            value=str(reference),
        )
    strata_levels, s_codes = (None, None)
    if strata is not None:
        strata_levels, s_codes = group_codes(strata, "strata", n, min_levels=1)
    return Prepared(t, e, levels, codes, ref, strata_levels, s_codes, (low, high))


def test_result(
    x: Prepared,
    sums: tuple[np.ndarray, np.ndarray, np.ndarray],
    rho: float,
    gamma: float,
    conv: Conventions,
    n_per_group: np.ndarray | None = None,
) -> LogRankResult:
    """Chi-square, df, p and the signed z from the summed O, E and V (``n_per_group``:
    subjects per group, counted here when not given)."""
    obs, exp, var = sums
    chisq, df = _chisq(obs, exp, var)
    # scipy.special.chdtrc / ndtr are what scipy.stats.chi2.sf / norm.cdf evaluate
    p_value = float(special.chdtrc(df, chisq)) if df > 0 else 1.0  # as survdiff
    z = p_one = None
    if x.k == 2:
        other = 1 if x.levels[0] == x.reference else 0
        if var[other, other] > 0:
            z = float((obs[other] - exp[other]) / np.sqrt(var[other, other]))
            p_one = float(special.ndtr(z))
    return LogRankResult(
        groups=tuple(x.levels),
        n=np.bincount(x.codes, minlength=x.k) if n_per_group is None else n_per_group,
        observed=obs,
        expected=exp,
        variance=var,
        chisq=chisq,
        df=df,
        p_value=p_value,
        z=z,
        p_one_sided=p_one,
        reference=x.reference,
        rho=float(rho),
        gamma=float(gamma),
        strata=x.strata,
        conventions=conv,
    )


def group_codes(
    values: ArrayLike, name: str, n: int, min_levels: int
) -> tuple[tuple[Any, ...], np.ndarray]:
    """Sorted levels and integer codes of a grouping column (R factor order)."""
    arr = values if isinstance(values, np.ndarray) else None
    if arr is not None and arr.ndim == 1 and arr.dtype.kind in "biu" and arr.shape[0] == n:
        lo, hi = (int(arr.min()), int(arr.max())) if n else (0, -1)
        if n and hi - lo <= 1 and arr.dtype.kind != "b":
            levels = tuple(int(v) for v in range(lo, hi + 1))
            if len(levels) < min_levels:
                as_groups(arr, name=name, n=n, min_levels=min_levels)  # raises the shared error
            codes = arr.astype(np.int64, copy=False)
            return levels, codes - lo if lo else codes
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


JOINT_LABELS = 16
"""Up to this many (stratum, group) labels are counted in one table; more, stratum by stratum."""


def stratified_sums(
    t: np.ndarray,
    e: np.ndarray,
    codes: np.ndarray,
    k: int,
    s_codes: np.ndarray,
    n_strata: int,
    rho: float,
    gamma: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """O, E and V summed over strata (each stratum its own risk sets)."""
    obs, exp, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    if n_strata * k <= JOINT_LABELS:
        table = risk_table(t, e, s_codes * k + codes, n_strata * k)
        parts = [table.labels(s * k, k) for s in range(n_strata)]
    else:
        parts = []
        for s in range(n_strata):
            m = s_codes == s
            parts.append(risk_table(t[m], e[m], codes[m], k))
    for part in parts:
        o, x, v = stratum_sums(part, rho, gamma)
        obs += o
        exp += x
        var += v
    return obs, exp, var


def stratum_sums(
    table: RiskTable, rho: float, gamma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """O, E, V of one stratum from its label-major risk table.

    Times without events add exactly nothing, so they are kept unless some time has nobody
    of this stratum at risk (a joint table of several strata), where they are dropped.
    """
    n_risk, n_event = list(table.n_risk), list(table.n_event)
    n = _total(n_risk)
    if n.size and n.min() == 0:
        rows = np.flatnonzero(_total(n_event))
        n_risk = [a.take(rows) for a in n_risk]
        n_event = [a.take(rows) for a in n_event]
        n = n.take(rows)
    return weighted_sums(n_risk, n_event, n, rho, gamma)


def _total(rows: list[np.ndarray]) -> np.ndarray:
    """Element-wise sum of equally long count arrays, as float (exact below 2**53)."""
    if len(rows) == 1:
        return rows[0].astype(float)
    out = np.add(rows[0], rows[1], dtype=float)
    for row in rows[2:]:
        out += row
    return out


def _dot(*arrays: np.ndarray) -> float:
    # einsum, not BLAS: a threaded ddot is slower than one pass here (and contends for cores)
    return float(np.einsum(",".join("i" * len(arrays)) + "->", *arrays))


def weighted_sums(
    n_risk: list[np.ndarray],
    n_event: list[np.ndarray],
    n: np.ndarray,
    rho: float,
    gamma: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """O, E and V (module docstring) from per-group counts at each time (``n`` > 0)."""
    k = len(n_risk)
    if n.size == 0:
        return np.zeros(k), np.zeros(k), np.zeros((k, k))
    d = _total(n_event)
    if rho == 0 and gamma == 0:
        obs = np.array([float(died.sum()) for died in n_event])
        return (obs, *expected_variance(n_risk, d, n))
    nf = n.astype(float, copy=False)
    s_left = np.empty_like(nf)  # pooled Kaplan-Meier just before each time
    s_left[0] = 1.0
    np.cumprod(1.0 - d[:-1] / nf[:-1], out=s_left[1:])
    w = s_left**rho * (1.0 - s_left) ** gamma
    obs = np.array([_dot(died.astype(float), w) for died in n_event])
    return (obs, *expected_variance(n_risk, d, n, w))


def expected_variance(
    n_risk: list[np.ndarray], d: np.ndarray, n: np.ndarray, w: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """E and V from per-group numbers at risk, events ``d`` and ``n`` at risk (> 0) per time.

    With ``c_j = w_j^2 d_j (n_j - d_j) / (n_j - 1)`` (0 where ``n_j = 1``, where
    ``d_j (n_j - d_j) = 0``) and ``p_gj = n_gj / n_j``: ``E_g = sum_j w_j d_j p_gj``,
    ``V_gg = sum_j c_j p_gj (1 - p_gj)`` and ``V_gh = -sum_j c_j p_gj p_hj``.
    """
    k = len(n_risk)
    exp, var = np.zeros(k), np.zeros((k, k))
    if n.size == 0:
        return exp, var
    nf = n.astype(float, copy=False)
    df = d.astype(float, copy=False)
    c = nf - df
    c *= df
    below = nf - 1.0
    np.maximum(below, 1.0, out=below)
    c /= below
    del below
    d_w = df
    if w is not None:
        d_w = df * w
        c *= w * w
    share = [np.divide(risk, nf) for risk in n_risk]
    for g in range(k):
        exp[g] = _dot(share[g], d_w)
    if k == 2:  # V_00 = V_11 = -V_01 since p_0 + p_1 = 1
        v = _dot(c, share[0], share[1])
        var[:] = [[v, -v], [-v, v]]
        return exp, var
    for g in range(k):
        var[g, g] = _dot(c, share[g], 1.0 - share[g])
        for h in range(g + 1, k):
            var[g, h] = var[h, g] = -_dot(c, share[g], share[h])
    return exp, var


def _chisq(obs: np.ndarray, exp: np.ndarray, var: np.ndarray) -> tuple[float, int]:
    keep = np.flatnonzero(exp > 0)
    if keep.size < 2:
        return 0.0, 0
    last = keep[-1]
    if keep.size == 2 and var[last, last] > 0:  # one df: no system to solve
        diff1 = float(obs[last] - exp[last])
        return diff1 * (diff1 / float(var[last, last])), 1
    idx = keep[1:]
    diff = (obs - exp)[idx]
    sub = var[np.ix_(idx, idx)]
    try:
        sol = np.linalg.solve(sub, diff)
    except np.linalg.LinAlgError:
        sol = np.linalg.lstsq(sub, diff, rcond=None)[0]
    return float(diff @ sol), int(keep.size - 1)
