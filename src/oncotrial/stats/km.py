"""Kaplan-Meier estimate, Greenwood standard errors, pointwise CIs, quantiles and landmarks.

Method (Kaplan & Meier 1958; Greenwood 1926), as R ``survival::survfit`` and SAS PROC
LIFETEST METHOD=KM compute it. At each distinct time ``t_j`` (events and censorings):
``n_risk`` = subjects with time >= t_j (censored at t_j are still at risk at t_j),
``S(t_j) = prod_{i<=j} (1 - d_i / n_i)``, and Greenwood's variance of the cumulative hazard
``var(-log S) = sum_{i<=j} d_i / (n_i (n_i - d_i))``.

Two standard errors are kept, by name, because software reports different ones:

* ``std_err_cumhaz``: ``sqrt(var(-log S))``, what R's ``survfit(...)$std.err`` holds;
* ``std_err``: Greenwood SE of S itself, ``S * std_err_cumhaz``, what SAS LIFETEST prints
  ("Standard Error") and R's ``summary(fit)$std.err`` holds.

Pointwise CIs follow R ``survival:::survfit_confint`` (conf.type log, log-log, plain, logit,
arcsin); logit and arcsin are the SAS LIFETEST CONFTYPE=LOGIT and CONFTYPE=ASINSQRT formulas
(SAS/STAT User's Guide, LIFETEST "Pointwise Confidence Limits"), which R implements with the
same algebra. With ``z`` the normal quantile and ``s = std_err_cumhaz``:

* plain:   ``S -/+ z s S``, clipped to [0, 1];
* log:     ``exp(log S -/+ z s)``, upper clipped at 1, computed as ``S / e`` and ``S e``
  with ``e = exp(z s)`` (the same numbers to rounding, one transcendental call a time
  instead of three);
* log-log: ``exp(-exp(log(-log S) +/- z s / |log S|))`` (undefined at S = 0 and S = 1);
* logit:   ``expit(logit S -/+ z s / (1 - S))``;
* arcsin:  ``sin^2(asin(sqrt S) -/+ z s sqrt(S / (1 - S)) / 2)``, clipped to [0, pi/2].

A limit that does not exist (e.g. any log-type limit where S = 0) is NaN, never a guess.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from math import isnan
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.conventions import Conventions, resolve
from oncotrial.errors import InputError
from oncotrial.results import Result
from oncotrial.stats._inputs import ArrayLike, as_events, as_times, times_and_range
from oncotrial.stats.km_scan import log_band_lookup, quantile_bisect, quantile_lookup, scan_arms
from oncotrial.stats.normal import normal_quantile, wald_interval
from oncotrial.stats.risk_table import RiskTable, risk_table

QUANTILE_TOLERANCE = float(np.sqrt(np.finfo(float).eps))
"""Two survival values closer than this are equal (R ``quantile.survfit`` ``tolerance``)."""

# --------------------------------------------------------------------------- intervals


def greenwood_cumhaz_variance(n_risk: np.ndarray, n_event: np.ndarray) -> np.ndarray:
    """Cumulative Greenwood sum ``sum d / (n (n - d))``; +inf once every subject at risk died.

    Every row must have someone at risk (``n >= 1``), as every row of a Kaplan-Meier table
    does; a row without events adds exactly 0.
    """
    d = np.asarray(n_event, dtype=float)
    at_risk = np.asarray(n_risk, dtype=float)
    denominator = at_risk - d
    denominator *= at_risk
    with np.errstate(divide="ignore"):
        term = np.divide(d, denominator)
    return np.cumsum(term, out=term)


def pointwise_ci(
    surv: np.ndarray,
    se_cumhaz: np.ndarray,
    conf_type: str,
    conf_level: float,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of a Kaplan-Meier curve ``surv`` (never rising, so that its zeros are
    its tail) given the SE of -log S (formulas in the module docstring).

    ``out``: two float arrays shaped like ``surv`` to write the bounds into (the log and
    plain transforms then allocate no other array).
    """
    z = normal_quantile(conf_level)
    p = np.asarray(surv, dtype=float)
    se = np.asarray(se_cumhaz, dtype=float)
    lower, upper = out if out is not None else (np.empty_like(p), np.empty_like(p))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = np.multiply(se, p, out=upper)
            half *= z
            np.subtract(p, half, out=lower)
            np.maximum(lower, 0.0, out=lower)
            np.add(p, half, out=upper)
            return lower, np.minimum(upper, 1.0, out=upper)
        zero = _tail_start(p, lambda v: v == 0.0)
        if conf_type == "log":
            factor = np.multiply(se, z, out=upper)
            np.exp(factor, out=factor)
            np.divide(p, factor, out=lower)
            np.multiply(p, factor, out=upper)
            np.minimum(upper, 1.0, out=upper)
            lower[zero:] = upper[zero:] = np.nan  # undefined where S = 0, as in R
            return lower, upper
        xx = p if zero == p.size else np.where(p == 0, np.nan, p)
        bounds = _transformed_ci(p, xx, se, z, conf_type)
        np.copyto(lower, bounds[0])
        np.copyto(upper, bounds[1])
        return lower, upper


def _transformed_ci(
    p: np.ndarray, xx: np.ndarray, se: np.ndarray, z: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the log-log, logit and arcsin pointwise CIs (``xx``: S, NaN where 0)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "log-log":
            xx = np.where(p == 1, np.nan, xx)
            log_s = np.log(xx)
            shift = z * se / np.abs(log_s)
            ll = np.log(-log_s)
            return np.exp(-np.exp(ll + shift)), np.exp(-np.exp(ll - shift))
        if conf_type == "logit":
            shift = z * se * (1.0 + xx / (1.0 - xx))
            logit = np.log(p / (1.0 - p))
            return (
                1.0 - 1.0 / (1.0 + np.exp(logit - shift)),
                1.0 - 1.0 / (1.0 + np.exp(logit + shift)),
            )
        if conf_type == "arcsin":
            shift = 0.5 * z * se * np.sqrt(xx / (1.0 - xx))
            angle = np.arcsin(np.sqrt(xx))
            lo = np.where(np.isnan(angle - shift), np.nan, np.maximum(0.0, angle - shift))
            hi = np.where(np.isnan(angle + shift), np.nan, np.minimum(np.pi / 2, angle + shift))
            return np.sin(lo) ** 2, np.sin(hi) ** 2
    raise InputError(f"conf_type: unknown value {conf_type!r}", field="conf_type", value=conf_type)


# --------------------------------------------------------------------------- quantiles


def _findq_r(x: np.ndarray, y: np.ndarray, p: float, tol: float) -> float:
    """R ``survival:::findq`` (survival 3.5): time at which cumulative failure ``y`` reaches p.

    ``x`` starts with the origin and ``y`` with 0. Where ``y`` equals ``p`` (within ``tol``)
    over a stretch, the result is the midpoint of that stretch (to the next time ``y``
    rises, or to the last follow-up time if it never does). R drops repeated values of
    ``y`` (first occurrence kept) and then looks values up in ``y`` sorted ascending; this
    gives the same answers for non-monotone confidence bands too, in linear time
    (:func:`_lookup_r`), and needs R's de-duplicated last value only when some ``y`` is
    within ``tol`` of ``p``.
    """
    top = float(np.fmax.reduce(y))  # NaN only if every y is NaN
    if not top >= p:
        return float("nan")
    bottom = float(np.fmin.reduce(y))
    i1 = _lookup_r(y, p, tol, bottom, top)
    i2 = _lookup_r(y, p, -tol, bottom, top)
    last_y = float("nan")
    if i1 is not None and bool((np.abs(y - p) < tol).any()):
        last_y = _last_distinct(y)
    x1 = None if i1 is None else float(x[i1])
    x2 = None if i2 is None else float(x[i2])
    return _findq_r_finish(x1, x2, last_y, p, tol, float(x[-1]))


def _last_distinct(y: np.ndarray) -> float:
    """The last value of R's de-duplicated ``y`` (``y[!duplicated(y)]``)."""
    _, first = np.unique(y, return_index=True)  # NaNs collapse to one, as R duplicated()
    return float(y[first.max()])


def _last_distinct_if_near(y: np.ndarray, p: float, tol: float) -> float:
    """:func:`_last_distinct` if it may be within ``tol`` of ``p``, else NaN (which
    :func:`_findq_r_finish` reads the same way), without its sort in the usual case.

    The last de-duplicated value first occurs at or after the first occurrence of ``y``'s
    last value; if no value from there on is within ``tol`` of ``p``, it is not either.
    """
    last = y[-1]
    first = int(np.argmax(np.isnan(y) if np.isnan(last) else y == last))
    if not bool((np.abs(y[first:] - p) < tol).any()):
        return float("nan")
    return _last_distinct(y)


def _findq_r_curve(time: np.ndarray, curve: np.ndarray, p: float, tol: float) -> float:
    """:func:`_findq_r` on ``x = (0, time)`` and ``y = (0, 1 - curve)``, its lookups made
    in one compiled pass where the extension is built (:func:`~oncotrial.stats.km_scan.
    quantile_lookup`)."""
    found = quantile_lookup(curve, p, tol)
    if found is None:
        x = np.concatenate(([0.0], time))
        return _findq_r(x, np.concatenate(([0.0], 1.0 - curve)), p, tol)
    return _findq_r_looked_up(time, curve, p, tol, found)


def _findq_r_looked_up(
    time: np.ndarray, curve: np.ndarray, p: float, tol: float, found: tuple[float, int, int, bool]
) -> float:
    """:func:`_findq_r_curve` from the result of its compiled lookup."""
    top, i1, i2, near = found
    if not top >= p:
        return float("nan")
    last_y = float("nan")
    if i1 >= 0 and near:
        last_y = _last_distinct_if_near(np.concatenate(([0.0], 1.0 - curve)), p, tol)

    def x_at(i: int) -> float | None:
        return None if i < 0 else 0.0 if i == 0 else float(time[i - 1])

    xmax = float(time[-1]) if time.size else 0.0
    return _findq_r_finish(x_at(i1), x_at(i2), last_y, p, tol, xmax)


def _lookup_r(y: np.ndarray, p: float, shift: float, bottom: float, top: float) -> int | None:
    """R's ``approx(y + shift, seq_along(y), p, method="constant", f=1)`` on de-duplicated
    ``y`` sorted ascending, as an index into the original ``y``.

    That is the smallest ``y`` value with ``y + shift >= p`` (None if ``p`` lies outside
    ``[min y + shift, max y + shift]``), at its first occurrence, which is the occurrence
    R's ``duplicated()`` keeps; NaN values are never chosen.
    """
    if p < bottom + shift or p > top + shift:
        return None
    grid = y + shift
    candidates = np.where(grid >= p, y, np.inf)
    return int(np.argmin(candidates))


def _non_increasing(curve: np.ndarray) -> bool:
    """True if the curve has no NaN and never rises (then ``1 - curve`` is sorted)."""
    if curve.size == 0 or isnan(curve[0]) or isnan(curve[-1]):
        return False  # the last test spares a pass over a log-type band that reaches S = 0
    return bool((curve[1:] <= curve[:-1]).all())  # False at any NaN


def _before_nan_tail(curve: np.ndarray) -> int | None:
    """The length of the curve's head if it never rises there and is NaN from there to the
    end (a log-type band where S reaches 0), else None."""
    if curve.size < 2 or not isnan(curve[-1]):
        return None
    head = _tail_start(curve, isnan)
    if head == 0 or not np.isnan(curve[head:]).all() or not _non_increasing(curve[:head]):
        return None
    return head


def _tail_start(values: np.ndarray, inside: Callable[[Any], bool]) -> int:
    """Where the values for which ``inside`` holds start, if they are all at the end of
    ``values`` (as the zeros of a curve that never rises, or the NaN of its log-type band;
    callers that do not know it check): the length if the last value is not inside.

    Probes 1, 2, 4, ... values back from the end until one is not inside, then bisects
    that last stride: a one-row tail (a Kaplan-Meier curve reaches 0 only on its last
    row) costs two reads, a tail of length m about 2 log2(m).
    """
    start, stride = values.size, 1  # values[start:] are inside
    while start - stride >= 0 and inside(values[start - stride]):
        start, stride = start - stride, 2 * stride
    outside = max(start - stride, -1)  # values[outside] is not inside (or -1: none)
    first = bisect.bisect_left(range(outside + 1, start), True, key=lambda j: inside(values[j]))
    return outside + 1 + first


def _findq_r_sorted(
    time: np.ndarray, curve: np.ndarray, p: float, tol: float, whole: bool = True
) -> float:
    """:func:`_findq_r` for a curve without NaN that never rises, by bisection.

    Same comparisons as the array version on ``x = (0, time)`` and ``y = (0, 1 - curve)``,
    evaluated only at the O(log n) points a binary search visits. ``whole=False``: the
    curve is the head of one that is NaN after it (:func:`_before_nan_tail`); NaN is then
    R's last de-duplicated value, so a curve level with ``1 - p`` to its end does not give
    the midpoint to the last time.
    """
    found = quantile_bisect(curve, p, tol)
    last, i1, i2 = _bisect_r(curve, p, tol) if found is None else found
    if last < p:
        return float("nan")

    def x(i: int) -> float:
        return 0.0 if i == 0 else float(time[i - 1])

    xmax = x(curve.size)
    if whole and i1 >= 0 and abs(p - last) < tol:
        return (x(i1) + xmax) / 2.0
    if i1 < 0 or i2 < 0:
        return float("nan")
    return (x(i1) + x(i2)) / 2.0


def _bisect_r(curve: np.ndarray, p: float, tol: float) -> tuple[float, int, int]:
    """``(last y, i1, i2)`` of :func:`_findq_r_sorted` by bisection in Python (where the
    extension is not built; :func:`oncotrial.stats._scan.quantile_bisect` otherwise):
    ``i1``, ``i2`` the first indices of ``y = (0, 1 - curve)`` with ``y + tol >= p`` and
    ``y - tol >= p``, -1 if ``p`` lies outside ``[0 +/- tol, last y +/- tol]``."""

    def y(i: int) -> float:
        return 0.0 if i == 0 else 1.0 - float(curve[i - 1])

    last = y(curve.size)

    def lookup(shift: float) -> int:
        if p < y(0) + shift or p > last + shift:
            return -1
        return bisect.bisect_left(range(curve.size + 1), p, key=lambda i: y(i) + shift)

    return last, lookup(tol), lookup(-tol)


def _findq_r_above(
    time: np.ndarray, surv: np.ndarray, band: np.ndarray, p: float, tol: float
) -> float:
    """:func:`_findq_r` of a band that lies on or above the survival curve (an upper
    confidence band), reading only the rows where the curve can reach ``1 - p``.

    ``_findq_r`` picks rows with ``1 - band + tol >= p``, which (band >= S, S never
    rising) all come at or after the first row with ``S <= 1 - p + tol``: the rows before
    it are skipped (with a margin of another ``tol`` for rounding). Where the band never
    rises on the rows read (usual past the first rows, where the cap at 1 and the growing
    standard error can lift it), they are bisected (:func:`_findq_r_sorted`): the skipped
    rows have ``1 - band < p - 2 tol``, so R's de-duplicated last value is the last row's.
    Otherwise the one answer that depends on the skipped rows, R's de-duplicated last value
    when some ``1 - band`` is within ``tol`` of ``p``, is computed on the whole band.
    """
    limit = 1.0 - p + 2.0 * tol
    start = bisect.bisect_left(range(surv.size), True, key=lambda j: bool(surv[j] <= limit))
    if _non_increasing(band[start:]):
        return _findq_r_sorted(time[start:], band[start:], p, tol)
    found = quantile_lookup(band[start:], p, tol)
    if found is not None:
        if found[3]:  # some 1 - band within tol of p: read it whole
            return _findq_r_curve(time, band, p, tol)
        return _findq_r_looked_up(time[start:], band[start:], p, tol, found)
    y = 1.0 - band[start:]
    if bool((np.abs(y - p) < tol).any()):
        start, y = 0, 1.0 - band
    return _findq_r(np.concatenate(([0.0], time[start:])), np.concatenate(([0.0], y)), p, tol)


def _findq_r_log_band(km: KaplanMeier, upper: bool, p: float, tol: float) -> float | None:
    """:func:`_findq_r` of the curve's log-transform band (``upper`` or lower), as written by
    :func:`pointwise_ci`, its lookups reading only the blocks of rows whose bounds (from S,
    which never rises, and ``std_err_cumhaz``, which never falls) let them change the
    answer (:func:`oncotrial.stats._scan.log_band_lookup`): a few blocks around where the
    band crosses ``1 - p``, instead of every row. None if the extension is missing."""
    band = km.upper if upper else km.lower
    z = normal_quantile(km.conventions.conf_level)
    found = log_band_lookup(band, km.survival, km.std_err_cumhaz, z, upper, p, tol)
    return None if found is None else _findq_r_looked_up(km.time, band, p, tol, found)


def _findq_r_finish(
    x1: float | None, x2: float | None, last_y: float, p: float, tol: float, xmax: float
) -> float:
    """R ``findq``'s answer from the times of its two lookups (None: not found)."""
    if x1 is not None and not np.isnan(last_y) and abs(p - last_y) < tol:
        return (x1 + xmax) / 2.0
    if x1 is None or x2 is None:
        return float("nan")
    return (x1 + x2) / 2.0


def _findq_sas(x: np.ndarray, y: np.ndarray, p: float, tol: float) -> float:
    """SAS PROC LIFETEST quantile: ``q_p = min{t_j : S(t_j) < 1 - p}``.

    If S equals 1 - p exactly from ``t_j`` up to the next event time ``t_{j+1}`` the
    quantile is ``(t_j + t_{j+1}) / 2`` (SAS/STAT User's Guide, LIFETEST, "Breslow,
    Fleming-Harrington, and Kaplan-Meier Methods"). If S stays at 1 - p to the end of
    follow-up, no ``t_j`` qualifies and the quantile is missing. Times where the curve
    (or band) is undefined are skipped.
    """
    ok = ~np.isnan(y)
    reached = np.flatnonzero(ok & (y >= p - tol))
    if reached.size == 0:
        return float("nan")
    j = int(reached[0])
    if y[j] > p + tol:
        return float(x[j])
    beyond = np.flatnonzero(ok & (y > p + tol))
    beyond = beyond[beyond > j]
    if beyond.size == 0:
        return float("nan")
    return float((x[j] + x[int(beyond[0])]) / 2.0)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class Landmarks(Result):
    """Survival estimates read off a Kaplan-Meier curve at requested times."""

    times: np.ndarray
    n_risk: np.ndarray
    survival: np.ndarray
    std_err: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    conventions: Conventions

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "time": self.times,
                "n_risk": self.n_risk,
                "survival": self.survival,
                "std_err": self.std_err,
                "lower": self.lower,
                "upper": self.upper,
            }
        )

    def summary(self) -> str:
        lines = [
            f"Survival at landmarks ({self.conventions.conf_level:.0%} CI, "
            f"{self.conventions.conf_type})"
        ]
        for row in self.to_frame().itertuples(index=False):
            lines.append(
                f"  t={row.time:g}: n at risk {row.n_risk}, S {row.survival:.4f} "
                f"({row.lower:.4f} to {row.upper:.4f})"
            )
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class KaplanMeier(Result):
    """A Kaplan-Meier curve: per-time table, median with CI, and the conventions used.

    ``median`` and ``median_ci`` are NaN where not reached. The table lists every distinct
    time (events and censorings), as R ``survfit`` does.
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    survival: np.ndarray
    std_err: np.ndarray
    std_err_cumhaz: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n: int
    events: int
    median: float
    median_ci: tuple[float, float]
    conventions: Conventions = field(default_factory=Conventions)

    def quantile(self, p: float) -> tuple[float, float, float]:
        """Time by which a fraction ``p`` has had the event, with its CI.

        Brookmeyer & Crowley (1982): the CI is read off the pointwise confidence band
        (lower limit where the lower band reaches 1 - p, upper limit where the upper band
        does), so it follows ``conf_type``. Profile ``"r"`` reads each curve as R
        ``quantile.survfit`` does, profile ``"sas"`` as PROC LIFETEST does (see
        :func:`_findq_r`, :func:`_findq_sas` and docs/CONVENTIONS.md).
        """
        return self._quantile(p, own_bands=False)

    def _quantile(self, p: float, own_bands: bool) -> tuple[float, float, float]:
        """:meth:`quantile`; ``own_bands``: ``lower`` and ``upper`` are the bands that
        :func:`pointwise_ci` has just written for this curve (:func:`from_columns`), so a
        log-transform band can be read by blocks (:func:`_findq_r_log_band`)."""
        if not 0.0 < p < 1.0:
            raise InputError(
                f"p: {p!r} is outside (0, 1); e.g. 0.5 for the median", field="p", value=p
            )
        tol = QUANTILE_TOLERANCE
        conv = self.conventions
        by_blocks = own_bands and conv.quantile_rule == "r" and conv.conf_type == "log"
        out = []
        for curve in (self.survival, self.lower, self.upper):
            found = None
            if by_blocks and curve is not self.survival:
                found = _findq_r_log_band(self, curve is self.upper, p, tol)
            if found is not None:
                out.append(found)
            elif conv.quantile_rule == "sas":
                x = np.concatenate(([0.0], self.time))
                out.append(_findq_sas(x, np.concatenate(([0.0], 1.0 - curve)), p, tol))
            elif curve is self.upper:
                out.append(_findq_r_above(self.time, self.survival, curve, p, tol))
            elif curve is self.survival or _non_increasing(curve):
                # S never rises: each factor 1 - d/n lies in [0, 1] and rounding is monotone
                out.append(_findq_r_sorted(self.time, curve, p, tol))
            elif (head := _before_nan_tail(curve)) is not None:
                out.append(_findq_r_sorted(self.time[:head], curve[:head], p, tol, False))
            else:
                out.append(_findq_r_curve(self.time, curve, p, tol))
        return out[0], out[1], out[2]

    def survival_at(self, times: ArrayLike) -> Landmarks:
        """S(t) with SE and CI at each requested time (R ``summary(fit, times, extend=TRUE)``).

        Before the first observed time S = 1 with SE 0 and CI (1, 1); otherwise the values
        of the last tabulated time <= t. Past the last observation the curve is carried
        forward (n at risk 0): it is NaN only where the curve itself is undefined there
        (e.g. a CI at S = 0).
        """
        t = as_times(times, name="times")
        idx = np.searchsorted(self.time, t, "right") - 1
        before = idx < 0
        j = np.where(before, 0, idx)

        def pick(values: np.ndarray, start: float) -> np.ndarray:
            return np.where(before, start, values[j]).astype(float)

        n_total = self.n_risk[0] if self.n_risk.size else 0
        later = np.searchsorted(self.time, t, "left")
        at_risk = np.where(
            later < self.time.size, self.n_risk[np.minimum(later, self.time.size - 1)], 0
        )
        at_risk = np.where(before, n_total, at_risk).astype(np.int64)
        return Landmarks(
            t,
            at_risk,
            pick(self.survival, 1.0),
            pick(self.std_err, 0.0),
            pick(self.lower, 1.0),
            pick(self.upper, 1.0),
            self.conventions,
        )

    def variance_at(self, t: float) -> float:
        """Greenwood variance of S(t) (0 before the first event)."""
        return float(self.survival_at([t]).std_err[0] ** 2)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "n_censor": self.n_censor,
                "survival": self.survival,
                "std_err": self.std_err,
                "std_err_cumhaz": self.std_err_cumhaz,
                "lower": self.lower,
                "upper": self.upper,
            }
        )

    def summary(self) -> str:
        lo, hi = self.median_ci
        c = self.conventions
        return (
            f"Kaplan-Meier: n={self.n}, events={self.events}; median {_fmt(self.median)} "
            f"({c.conf_level:.0%} CI {_fmt(lo)} to {_fmt(hi)}; {c.conf_type} transform, "
            f"{c.quantile_rule} quantile rule)"
        )

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["median_ci"] = [None if np.isnan(v) else float(v) for v in self.median_ci]
        return out


def _fmt(value: float) -> str:
    return "NR" if np.isnan(value) else f"{value:g}"


def kaplan_meier(
    time: ArrayLike,
    event: ArrayLike,
    *,
    profile: str = "r",
    conf_type: str | None = None,
    conf_level: float | None = None,
    conventions: Conventions | None = None,
) -> KaplanMeier:
    """Kaplan-Meier estimate with Greenwood SEs, pointwise CIs and the median.

    Args:
        time: follow-up times (>= 0).
        event: 1 event, 0 censored (bool accepted).
        profile: ``"r"`` (log CI, R quantile rule) or ``"sas"`` (log-log CI, SAS rule).
        conf_type, conf_level: override the profile's CI transform / level.
        conventions: a resolved :class:`Conventions` (wins over the other arguments).
    """
    conv = conventions or resolve(profile, conf_type=conf_type, conf_level=conf_level)
    t, low, high = times_and_range(time)
    e = as_events(event, n=t.shape[0])
    scanned = scan_arms(t, e, np.zeros(t.shape[0], dtype=np.int64), 1, (low, high))
    if scanned is not None:
        return from_columns(scanned.tables[0], conv, scanned.events[0])
    return from_risk_table(risk_table(t, e).columns([0]), conv)


def from_risk_table(table: RiskTable, conv: Conventions) -> KaplanMeier:
    """Kaplan-Meier curve of a one-column :class:`RiskTable` (every row an observed time)."""
    n_risk, n_event = table.n_risk[0], table.n_event[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.divide(n_event, n_risk, dtype=float)
        np.subtract(1.0, surv, out=surv)
        np.cumprod(surv, out=surv)
        se_cumhaz = np.sqrt(greenwood_cumhaz_variance(n_risk, n_event))
        se_surv = surv * se_cumhaz
    columns = (table.time, n_risk, n_event, table.n_censor[0], surv, se_surv, se_cumhaz)
    return from_columns((*columns, np.empty_like(surv), np.empty_like(surv)), conv)


def from_columns(
    columns: tuple[np.ndarray, ...], conv: Conventions, events: int | None = None
) -> KaplanMeier:
    """Kaplan-Meier curve from its columns ``(time, n_risk, n_event, n_censor, survival,
    std_err, std_err_cumhaz, lower, upper)``, the last two arrays to write the pointwise CI
    into: that CI and the median. ``events``: the sum of ``n_event`` if known."""
    uniq, n_risk, n_event, n_censor, surv, se_surv, se_cumhaz, lower, upper = columns
    pointwise_ci(surv, se_cumhaz, conv.conf_type, conv.conf_level, out=(lower, upper))
    km = KaplanMeier(
        time=uniq,
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        survival=surv,
        std_err=se_surv,
        std_err_cumhaz=se_cumhaz,
        lower=lower,
        upper=upper,
        n=int(n_risk[0]) if n_risk.size else 0,
        events=int(n_event.sum()) if events is None else events,
        median=float("nan"),
        median_ci=(float("nan"), float("nan")),
        conventions=conv,
    )
    med, lo, hi = km._quantile(0.5, own_bands=True)
    object.__setattr__(km, "median", med)
    object.__setattr__(km, "median_ci", (lo, hi))
    return km


# --------------------------------------------------------------------------- two arms


@dataclass(frozen=True, eq=False)
class LandmarkDifference(Result):
    """Difference in Kaplan-Meier survival at a landmark time between two arms."""

    time: float
    survival_a: float
    survival_b: float
    difference: float
    std_err: float
    lower: float
    upper: float
    p_value: float
    conventions: Conventions = field(default_factory=Conventions)

    def summary(self) -> str:
        return (
            f"S(t={self.time:g}): {self.survival_a:.1%} vs {self.survival_b:.1%}, "
            f"difference {self.difference:.1%} ({self.conventions.conf_level:.0%} CI "
            f"{self.lower:.1%} to {self.upper:.1%}), p = {self.p_value:.4g}"
        )


def landmark_difference(km_a: KaplanMeier, km_b: KaplanMeier, t: float) -> LandmarkDifference:
    """``S_a(t) - S_b(t)`` with a Wald CI and two-sided p from Greenwood variances.

    ``se = sqrt(var_a + var_b)`` (independent arms, Greenwood variance of each S(t); Klein &
    Moeschberger 1997, sec. 7.8), CI ``diff +/- z se`` and ``p = 2 (1 - Phi(|diff| / se))``,
    the usual report "6-month PFS 42.1% vs 29.1%, difference 13.1% (-1.6 to 27.7)". The CI
    level is that of ``km_a``'s conventions.
    """
    conv = km_a.conventions
    a = km_a.survival_at([t])
    b = km_b.survival_at([t])
    diff = float(a.survival[0] - b.survival[0])
    se = float(np.hypot(a.std_err[0], b.std_err[0]))
    lower, upper, p = wald_interval(diff, se, conv.conf_level)
    return LandmarkDifference(
        float(t), float(a.survival[0]), float(b.survival[0]), diff, se, lower, upper, p, conv
    )
