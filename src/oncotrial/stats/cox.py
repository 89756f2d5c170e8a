"""Cox proportional hazards regression, matching R ``survival::coxph``.

Method (Therneau & Grambsch, *Modeling Survival Data*, 2000, ch. 3; the algorithm of
``coxph.fit`` / ``coxfit6.c`` in R survival 3.x):

* Partial likelihood with Efron (R default) or Breslow (SAS PROC PHREG default) handling of
  tied event times; strata get separate baseline hazards. The risk set at time t is every
  subject of the stratum with time >= t (a subject censored at t is at risk at t).
* Newton-Raphson from beta = 0 on mean-centred covariates scaled by ``n / sum|x - mean|``
  (as ``coxfit6``), with step halving whenever the log-likelihood decreases; converged when
  ``|1 - loglik_old / loglik_new| <= 1e-9`` at a full (not halved) step; at most 20
  iterations. Linear predictors are clipped to [-200, 22] before ``exp`` (``coxsafe``).
  A pivot of the information below ``machine_eps**0.75 * max(diag)`` is treated as zero
  (``cholesky2``) so a degenerate direction is not stepped into.
* Risk-set sums are cumulative sums over times sorted in decreasing order within each
  stratum; the Efron correction is vectorised over all tied deaths at once. The information
  matrix is one weighted Gram matrix ``X' diag(w) X`` instead of a per-time p x p sum.
* Tests: Wald ``b' V^-1 b``; score (log-rank when the only covariate is the arm)
  ``U(0)' I(0)^-1 U(0)``; likelihood ratio ``2 (l(b) - l(0))``; all chi-square on p df.
* Robust variance (Lin & Wei, JASA 1989): ``D'D`` where ``D`` are the dfbeta residuals
  (score residuals times the model variance), summed within ``cluster`` when given, as
  ``coxph(robust = TRUE)`` / ``cluster()``; the robust score test is ``coxph``'s ``rscore``.
* Monotone likelihood (e.g. no events in one arm): the coefficient diverges. A coefficient
  is flagged infinite when the fit converged but ``|U V| > eps`` and
  ``> sqrt(eps) * |b|`` (``coxph.fit``'s rule, which warns "Loglik converged before
  variable ...; coefficient may be infinite"); oncotrial then reports the coefficient as
  +/-inf, the HR as inf/0 and emits :class:`MonotoneLikelihoodWarning`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from oncotrial.conventions import Conventions, resolve
from oncotrial.errors import DataError, InputError, OncotrialWarning, describe_value
from oncotrial.results import Result
from oncotrial.stats._inputs import (
    ArrayLike,
    as_events,
    as_groups,
    as_times,
    check_rows,
    first_row,
    row_error,
)
from oncotrial.stats.normal import log_wald_interval

EPS = 1e-9
"""Convergence criterion on the relative change of the log partial likelihood (coxph)."""
TOLER_CHOL = float(np.finfo(float).eps) ** 0.75
"""Relative pivot tolerance of the Cholesky step (coxph.control: .Machine$double.eps^0.75)."""
TOLER_INF = math.sqrt(EPS)
"""Relative tolerance of the infinite-coefficient check (``coxph.control``)."""
MAX_ITER = 20
"""Maximum Newton-Raphson iterations (``coxph.control(iter.max = 20)``)."""
ETA_MIN, ETA_MAX = -200.0, 22.0
"""Clipping range of centred linear predictors before exp (``coxsafe`` in coxfit6.c)."""


class MonotoneLikelihoodWarning(OncotrialWarning):
    """A Cox coefficient is infinite: the likelihood keeps increasing along a direction."""


class ConvergenceWarning(OncotrialWarning):
    """Newton-Raphson ran out of iterations before the log-likelihood converged."""


class NotEstimableWarning(OncotrialWarning):
    """A coefficient has no information in the data (coxph reports it as NA)."""


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CoxTerm(Result):
    """One coefficient: log hazard ratio of ``name`` (a level vs its reference, or per unit)."""

    name: str
    coef: float
    hr: float
    se: float
    robust_se: float | None
    z: float
    p: float
    hr_lower: float
    hr_upper: float
    infinite: bool = False


@dataclass(frozen=True)
class ModelTest(Result):
    """A chi-square test of the model (or of a subset of its coefficients)."""

    name: str
    statistic: float
    df: int
    p: float


@dataclass(frozen=True)
class CoxResult(Result):
    """A fitted Cox model: coefficients, variance, model tests and the conventions used.

    ``variance`` is the variance matrix the tests and CIs use (robust when requested);
    ``naive_variance`` is the inverse information. ``references`` maps each categorical
    covariate to its reference level; ``coef_at_stop`` is the last iterate (finite even
    when a coefficient is reported infinite).
    """

    terms: tuple[CoxTerm, ...]
    variance: tuple[tuple[float, ...], ...]
    naive_variance: tuple[tuple[float, ...], ...]
    coef_at_stop: tuple[float, ...]
    loglik_null: float
    loglik: float
    wald: ModelTest
    score: ModelTest
    lr: ModelTest
    robust_score: ModelTest | None
    n: int
    events: int
    iterations: int
    converged: bool
    ties: str
    robust: bool
    strata: tuple[str, ...]
    n_strata: int
    covariates: tuple[str, ...]
    references: dict[str, str]
    conventions: Conventions
    warnings: tuple[str, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.terms]

    def term(self, name: str) -> CoxTerm:
        """The coefficient called ``name`` (see :attr:`names`)."""
        for t in self.terms:
            if t.name == name:
                return t
        raise InputError(
            f"term: {name!r} is not a coefficient of this model; valid: {', '.join(self.names)}",
            field="term",
            value=name,
            valid=self.names,
        )

    def wald_test(self, names: Sequence[str], label: str = "Wald") -> ModelTest:
        """Wald chi-square ``b_S' V_SS^-1 b_S`` for the coefficients ``names`` (df = len)."""
        idx = [self.names.index(self.term(n).name) for n in names]
        b = np.asarray(self.coef_at_stop)[idx]
        v = np.asarray(self.variance)[np.ix_(idx, idx)]
        stat = float(b @ np.linalg.solve(v, b))
        return ModelTest(label, stat, len(idx), _chi2_p(stat, len(idx)))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([t.to_dict() for t in self.terms])

    def summary(self) -> str:
        level = f"{self.conventions.conf_level:.0%}"
        lines = [
            f"Cox proportional hazards: n={self.n}, events={self.events}, ties={self.ties}"
            + (f", strata={'+'.join(self.strata)} ({self.n_strata})" if self.strata else "")
            + (", robust variance" if self.robust else ""),
            f"{'term':<24}{'coef':>10}{'HR':>10}{'se':>10}{'z':>9}{'p':>10}   HR {level} CI",
        ]
        for t in self.terms:
            lines.append(
                f"{t.name:<24}{t.coef:>10.4g}{t.hr:>10.4g}"
                f"{(t.robust_se if t.robust_se is not None else t.se):>10.4g}{t.z:>9.3f}"
                f"{t.p:>10.4g}   {t.hr_lower:.4g} to {t.hr_upper:.4g}"
                + ("  (infinite)" if t.infinite else "")
            )
        for test in (self.lr, self.wald, self.score, self.robust_score):
            if test is not None:
                lines.append(f"{test.name}: {test.statistic:.4g} on {test.df} df, p={test.p:.4g}")
        lines.append(
            f"loglik(0)={self.loglik_null:.6g}, loglik={self.loglik:.6g}, "
            f"iterations={self.iterations}, converged={self.converged}"
        )
        lines.extend(f"warning: {w}" for w in self.warnings)
        lines.append(self.conventions.footnote())
        return "\n".join(lines)


# ----------------------------------------------------------------------------- design


@dataclass(frozen=True)
class Design:
    """Numeric design matrix built from a covariate frame (treatment contrasts)."""

    matrix: np.ndarray
    names: list[str]
    covariates: list[str]
    references: dict[str, str]


def design_matrix(
    covariates: pd.DataFrame | Mapping[str, ArrayLike] | ArrayLike,
    n: int,
    *,
    reference: Mapping[str, Any] | None = None,
    categorical: Sequence[str] = (),
) -> Design:
    """Numeric columns enter as they are; categorical ones as 0/1 indicators per level.

    A column is categorical when its dtype is ``category``, string/object, or it is listed
    in ``categorical``. Levels are the pandas category order, else sorted; the reference is
    the first level unless ``reference={"ARM": "ET"}`` says otherwise. Indicator columns are
    named ``"ARM=P+ET"`` (that level vs the reference), like R's treatment contrasts.
    """
    frame = _as_frame(covariates, n)
    reference = dict(reference or {})
    unknown = sorted(set(reference) - set(frame.columns))
    if unknown:
        raise InputError(
            f"reference: {unknown[0]!r} is not a covariate; covariates are "
            f"{', '.join(map(str, frame.columns))}",
            field="reference",
            value=unknown[0],
            valid=[str(c) for c in frame.columns],
        )
    for col in categorical:
        if col not in frame.columns:
            raise InputError(
                f"categorical: {col!r} is not a covariate",
                field="categorical",
                value=col,
                valid=[str(c) for c in frame.columns],
            )
    blocks: list[np.ndarray] = []
    names: list[str] = []
    refs: dict[str, str] = {}
    for col in frame.columns:
        series = frame[col]
        name = str(col)
        if col in categorical or col in reference or _is_categorical(series):
            levels, ref, block = _indicators(series, name, reference.get(col))
            refs[name] = str(ref)
            blocks.append(block)
            names.extend(f"{name}={lvl}" for lvl in levels if lvl != ref)
        else:
            blocks.append(_numeric(series, name)[:, None])
            names.append(name)
    if not blocks:
        raise InputError(
            "covariates: no columns; a Cox model needs at least one covariate", field="covariates"
        )
    return Design(np.hstack(blocks).astype(float), names, [str(c) for c in frame.columns], refs)


def _as_frame(covariates: Any, n: int) -> pd.DataFrame:
    if isinstance(covariates, pd.DataFrame):
        frame = covariates.reset_index(drop=True)
    elif isinstance(covariates, pd.Series):
        frame = covariates.reset_index(drop=True).to_frame(name=covariates.name or "x")
    elif isinstance(covariates, Mapping):
        frame = pd.DataFrame(
            {k: list(v) if not isinstance(v, np.ndarray) else v for k, v in covariates.items()}
        )
    else:
        frame = pd.DataFrame({"x": np.asarray(covariates)})
    check_rows("covariates", len(frame), n)
    return frame


def _is_categorical(series: pd.Series) -> bool:
    """Category dtype, string dtype, or an object column whose values are all strings."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return True
    if series.dtype == object:
        values = series.dropna()
        return bool(len(values)) and all(isinstance(v, str) for v in values)
    return bool(pd.api.types.is_string_dtype(series))


def _numeric(series: pd.Series, name: str) -> np.ndarray:
    raw = series.to_numpy()
    if raw.dtype == bool:
        return raw.astype(float)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & series.notna().to_numpy()
    if bad.any():
        i = first_row(bad)
        problem = (
            f"value {describe_value(raw[i])} is not a number; a numeric covariate needs numbers "
            "(pass categorical=[...] to treat it as levels)"
        )
        raise row_error(name, i, problem, str(raw[i]))
    bad = ~np.isfinite(values)
    if bad.any():
        i = first_row(bad)
        missing = np.isnan(values[i])
        what = "missing value" if missing else f"value {describe_value(values[i])}"
        problem = (
            f"{what}; covariates must be finite numbers (drop or impute incomplete rows first)"
        )
        raise row_error(name, i, problem, None if missing else float(values[i]))
    if values.size and np.all(values == values[0]):
        raise DataError(
            f"column {name!r}: constant (every row is {values[0]!r}); a constant covariate "
            "has no estimable effect, drop it",
            column=name,
            value=float(values[0]),
        )
    return values


def _indicators(series: pd.Series, name: str, ref: Any) -> tuple[list[Any], Any, np.ndarray]:
    raw = as_groups(series.to_numpy(dtype=object), name=name)
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(pd.unique(series))
        levels = [c for c in series.cat.categories if c in present]
    else:
        levels = sorted(pd.unique(pd.Series(raw)), key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        raise DataError(
            f"column {name!r}: constant (every row is {describe_value(levels[0])}); a "
            "categorical covariate needs at least 2 levels",
            column=name,
            levels=[str(v) for v in levels],
        )
    if ref is None:
        ref = levels[0]
    elif ref not in levels:
        matches = [lvl for lvl in levels if str(lvl) == str(ref)]
        if not matches:
            raise InputError(
                f"reference[{name!r}]: level {ref!r} does not occur; levels are "
                f"{', '.join(map(str, levels))}",
                field=f"reference.{name}",
                value=str(ref),
                valid=[str(v) for v in levels],
            )
        ref = matches[0]
    others = [lvl for lvl in levels if lvl != ref]
    block = np.column_stack([(raw == lvl).astype(float) for lvl in others])
    return levels, ref, block


# ----------------------------------------------------------------------------- risk sets


class _RiskSets:
    """Sorted data and tie structure, fixed across Newton-Raphson iterations.

    Rows are sorted by stratum, then time *decreasing*, so that the cumulative sum up to
    the end of a tie group is the sum over its risk set. A *group* is a run of equal
    (stratum, time); *terms* are the Efron sub-terms, one per death (k = 0..d-1 of a group
    with d deaths, downweighting the tied deaths by k/d; Breslow: k/d := 0).
    """

    def __init__(
        self, time: np.ndarray, status: np.ndarray, strata: np.ndarray, efron: bool
    ) -> None:
        order = np.lexsort((-time, strata))
        self.order = order
        t, s = time[order], strata[order]
        self.d = status[order].astype(float)
        n = t.size
        new = np.ones(n, dtype=bool)
        new[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
        self.starts = np.flatnonzero(new)
        self.group = np.cumsum(new) - 1
        gs = s[self.starts]
        newseg = np.ones(gs.size, dtype=bool)
        newseg[1:] = gs[1:] != gs[:-1]
        bounds = np.flatnonzero(newseg)
        self.segments = list(zip(bounds.tolist(), [*bounds[1:].tolist(), gs.size], strict=True))
        ndead = np.add.reduceat(self.d, self.starts).astype(np.int64)
        self.event_groups = np.flatnonzero(ndead > 0)
        nd = ndead[self.event_groups]
        self.term_group = np.repeat(self.event_groups, nd)
        first = np.repeat(np.cumsum(nd) - nd, nd)
        k = np.arange(self.term_group.size) - first
        self.frac = k / np.repeat(nd, nd) if efron else np.zeros(k.size)
        self.n_groups = gs.size

    def cumsum(self, a: np.ndarray) -> np.ndarray:
        """Within-stratum cumulative sum over groups (risk-set sums)."""
        out = np.empty_like(a)
        for lo, hi in self.segments:
            np.cumsum(a[lo:hi], axis=0, out=out[lo:hi])
        return out

    def revcumsum(self, a: np.ndarray) -> np.ndarray:
        """Within-stratum sum over this and all later-indexed (earlier-time) groups."""
        out = np.empty_like(a)
        for lo, hi in self.segments:
            out[lo:hi] = np.cumsum(a[lo:hi][::-1], axis=0)[::-1]
        return out

    def bygroup(self, weights: np.ndarray) -> np.ndarray:
        """Sum per group of ``weights`` (one value per term) -> array over all groups."""
        return np.bincount(self.term_group, weights=weights, minlength=self.n_groups)


@dataclass
class _Eval:
    loglik: float
    u: np.ndarray
    imat: np.ndarray
    eta: np.ndarray
    r: np.ndarray
    den: np.ndarray
    xbar: np.ndarray


def _evaluate(rs: _RiskSets, x: np.ndarray, beta: np.ndarray, want_info: bool = True) -> _Eval:
    """Log partial likelihood, score and information at ``beta`` (x sorted and scaled)."""
    eta = np.clip(x @ beta, ETA_MIN, ETA_MAX)
    r = np.exp(eta)
    rd = r * rs.d
    g0 = rs.cumsum(np.add.reduceat(r, rs.starts))
    g0d = np.add.reduceat(rd, rs.starts)
    g1 = rs.cumsum(np.add.reduceat(r[:, None] * x, rs.starts, axis=0))
    g1d = np.add.reduceat(rd[:, None] * x, rs.starts, axis=0)
    tg, f = rs.term_group, rs.frac
    den = g0[tg] - f * g0d[tg]
    xbar = (g1[tg] - f[:, None] * g1d[tg]) / den[:, None]
    loglik = float(rs.d @ eta - np.log(den).sum())
    u = rs.d @ x - xbar.sum(axis=0)
    p = x.shape[1]
    imat = np.zeros((p, p))
    if want_info:
        w0 = rs.revcumsum(rs.bygroup(1.0 / den))[rs.group]
        w1 = rs.bygroup(f / den)[rs.group]
        w = r * w0 - rd * w1
        imat = (x * w[:, None]).T @ x - xbar.T @ xbar
    return _Eval(loglik, u, imat, eta, r, den, xbar)


# ----------------------------------------------------------------------------- linear algebra


def _cholesky2(imat: np.ndarray, toler: float) -> tuple[np.ndarray, int]:
    """LDL' decomposition with coxph's rule: pivots below toler * max(diag) are zeroed.

    Returns the factor (unit lower triangle, D on the diagonal) and the rank.
    """
    m = np.array(imat, dtype=float)
    p = m.shape[0]
    eps = toler * max(float(np.max(np.diag(m))), 0.0) if p else 0.0
    rank = 0
    for i in range(p):
        pivot = m[i, i]
        if pivot < eps or pivot <= 0:
            m[i, i] = 0.0
            continue
        rank += 1
        for j in range(i + 1, p):
            temp = m[j, i] / pivot
            m[j, i] = temp
            m[j, j] -= temp * temp * pivot
            m[j + 1 :, j] -= temp * m[j + 1 :, i]
    return m, rank


def _chsolve2(fac: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Solve with a :func:`_cholesky2` factor; zero pivots give a zero component."""
    p = fac.shape[0]
    z = np.array(y, dtype=float)
    for i in range(p):
        z[i] -= z[:i] @ fac[i, :i]
    for i in range(p - 1, -1, -1):
        z[i] = 0.0 if fac[i, i] == 0 else z[i] / fac[i, i] - z[i + 1 :] @ fac[i + 1 :, i]
    return z


def _chinv(fac: np.ndarray) -> np.ndarray:
    """Generalised inverse from a :func:`_cholesky2` factor (zero rows for zero pivots)."""
    p = fac.shape[0]
    inv = np.column_stack([_chsolve2(fac, e) for e in np.eye(p)]) if p else fac.copy()
    singular = np.diag(fac) == 0
    inv[singular, :] = 0.0
    inv[:, singular] = 0.0
    return inv


# ----------------------------------------------------------------------------- fit


@dataclass
class _Fit:
    beta: np.ndarray
    var: np.ndarray
    u: np.ndarray
    loglik0: float
    loglik: float
    score: float
    iterations: int
    converged: bool
    rank: int
    last: _Eval


def _newton(rs: _RiskSets, x: np.ndarray, max_iter: int = MAX_ITER) -> _Fit:
    """coxfit6's Newton-Raphson with step halving (x is sorted, centred and scaled)."""
    p = x.shape[1]
    beta = np.zeros(p)
    ev = _evaluate(rs, x, beta)
    loglik0 = ev.loglik
    fac, rank = _cholesky2(ev.imat, TOLER_CHOL)
    step = _chsolve2(fac, ev.u)
    score = float(ev.u @ step)
    newbeta = beta + step
    best = loglik0
    halving = False
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):
        ev = _evaluate(rs, x, newbeta)
        fac, rank = _cholesky2(ev.imat, TOLER_CHOL)
        if _relative_change(best, ev.loglik) <= EPS and not halving:
            converged = True
            break
        if iteration == max_iter:
            break
        if not ev.loglik >= best:  # also catches NaN
            halving = True
            newbeta = (newbeta + beta) / 2.0
        else:
            halving = False
            best = ev.loglik
            beta = newbeta
            newbeta = newbeta + _chsolve2(fac, ev.u)
    return _Fit(
        newbeta, _chinv(fac), ev.u, loglik0, ev.loglik, score, iteration, converged, rank, ev
    )


def _relative_change(old: float, new: float) -> float:
    """``|1 - old / new|`` with IEEE semantics as in C (0/0 is NaN, x/0 is inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.abs(1.0 - np.float64(old) / np.float64(new)))


def _score_residuals(rs: _RiskSets, x: np.ndarray, ev: _Eval) -> np.ndarray:
    """Score residuals (sorted order), Efron-weighted for tied deaths as coxph's.

    For subject i in tie group g: ``d_i (x_i - mean_k xbar_k(g)) - r_i sum_{s<=t_i, k}
    w_ik (x_i - xbar_k(s)) / den_k(s)`` with w_ik = 1 - k/d for tied deaths at their own
    time and 1 otherwise. They sum to the score vector.
    """
    h = 1.0 / ev.den
    f = rs.frac
    hz = rs.revcumsum(rs.bygroup(h))[rs.group]
    xhz = rs.revcumsum(_bygroup_cols(rs, ev.xbar * h[:, None]))[rs.group]
    hd = rs.bygroup(f * h)[rs.group]
    xhd = _bygroup_cols(rs, ev.xbar * (f * h)[:, None])[rs.group]
    ndead = np.maximum(rs.bygroup(np.ones_like(h)), 1.0)
    xmean = (_bygroup_cols(rs, ev.xbar) / ndead[:, None])[rs.group]
    r, d = ev.r[:, None], rs.d[:, None]
    return d * (x - xmean) - r * (x * hz[:, None] - xhz) + d * r * (x * hd[:, None] - xhd)


def _bygroup_cols(rs: _RiskSets, a: np.ndarray) -> np.ndarray:
    return np.column_stack([rs.bygroup(a[:, j]) for j in range(a.shape[1])])


def _chi2_p(stat: float, df: int) -> float:
    return float(sps.chi2.sf(stat, df)) if math.isfinite(stat) else math.nan


def _quad(v: np.ndarray, b: np.ndarray) -> float:
    """``b' V^-1 b`` with coxph.wtest's generalised inverse."""
    fac, _ = _cholesky2(v, TOLER_CHOL)
    return float(b @ _chsolve2(fac, b))


def _strata_codes(strata: Any, n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer stratum per row; several columns give one stratum per observed combination."""
    if strata is None:
        return np.zeros(n, dtype=np.int64), ()
    if isinstance(strata, pd.DataFrame):
        names = tuple(str(c) for c in strata.columns)
        columns = [strata[c].to_numpy() for c in strata.columns]
    else:
        names = (str(getattr(strata, "name", None) or "strata"),)
        columns = [strata]
    codes = np.zeros(n, dtype=np.int64)
    for name, column in zip(names, columns, strict=True):
        part, k = _factor(column, name, n)
        codes = codes * k + part
    return np.unique(codes, return_inverse=True)[1].astype(np.int64), names


def _factor(values: Any, name: str, n: int) -> tuple[np.ndarray, int]:
    """Integer codes of a grouping column (fast path of ``as_groups``: same errors)."""
    raw = (
        values if isinstance(values, (np.ndarray, pd.Series)) else np.asarray(values, dtype=object)
    )
    if len(raw) != n:
        as_groups(raw, name=name, n=n)
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    if (codes < 0).any():
        as_groups(raw, name=name, n=n)  # raises the row-naming missing-value error
    return np.asarray(codes, dtype=np.int64), max(len(uniques), 1)


def _cluster_codes(cluster: Any, n: int) -> np.ndarray:
    return _factor(cluster, str(getattr(cluster, "name", None) or "cluster"), n)[0]


def cox(
    time: ArrayLike,
    event: ArrayLike,
    covariates: pd.DataFrame | Mapping[str, ArrayLike] | ArrayLike,
    *,
    strata: ArrayLike | pd.DataFrame | None = None,
    ties: str | None = None,
    profile: str = "r",
    robust: bool = False,
    cluster: ArrayLike | None = None,
    conf_level: float | None = None,
    reference: Mapping[str, Any] | None = None,
    categorical: Sequence[str] = (),
) -> CoxResult:
    """Fit a Cox proportional hazards model (see the module docstring for the method).

    Args:
        time, event: follow-up time (>= 0) and event indicator (1 event, 0 censored).
        covariates: a DataFrame (or mapping / one array) of covariates; string or category
            columns, and columns named in ``categorical``, get treatment contrasts against
            the first level or ``reference[column]``.
        strata: one array or a DataFrame of stratification factors (every combination is
            a stratum with its own baseline hazard), as ``coxph(... + strata(a, b))``.
        ties: ``"efron"`` or ``"breslow"``; default from ``profile`` (r: Efron, sas: Breslow).
        robust: add the Lin-Wei sandwich variance; used for SEs, CIs, z and Wald test.
        cluster: cluster ids for the robust variance (implies ``robust``).
        conf_level: HR confidence level; default from the profile (0.95).

    Warns:
        MonotoneLikelihoodWarning: a coefficient is infinite (e.g. no events in an arm).
        ConvergenceWarning: no convergence within 20 iterations.
    """
    times = as_times(time)
    n = times.size
    status = as_events(event, n=n)
    if status.sum() == 0:
        raise DataError(
            "column 'event': no events; a Cox model needs at least one event",
            column="event",
            events=0,
        )
    conv = resolve(profile, ties=ties, conf_level=conf_level)
    design = design_matrix(covariates, n, reference=reference, categorical=categorical)
    codes, strata_names = _strata_codes(strata, n)
    clusters = _cluster_codes(cluster, n) if cluster is not None else None
    robust = robust or clusters is not None
    _check_collinear(design)

    means = design.matrix.mean(axis=0)
    centred = design.matrix - means
    mad = np.abs(centred).sum(axis=0)
    scale = np.where(mad > 0, n / np.where(mad > 0, mad, 1.0), 1.0)
    rs = _RiskSets(times, status, codes, efron=conv.ties == "efron")
    x = (centred * scale)[rs.order]
    fit = _newton(rs, x)

    beta = fit.beta * scale
    naive = fit.var * np.outer(scale, scale)
    u = fit.u / scale
    messages: list[str] = []
    infinite = np.zeros(beta.size, dtype=bool)
    step = u @ naive
    outward = (np.abs(step) > EPS) & (np.abs(step) > TOLER_INF * np.abs(beta))
    singular = (np.diag(naive) == 0) & (fit.rank < beta.size)
    if fit.converged:
        infinite = (~np.isfinite(u) | outward) & ~singular
    else:
        # Beyond coxph, which only warns here: a coefficient still stepping away from zero
        # after 20 Newton steps is diverging (monotone likelihood), not slowly converging.
        infinite = outward & (np.sign(step) == np.sign(beta)) & ~singular
        messages.append(f"Ran out of iterations ({MAX_ITER}) and did not converge")
        warnings.warn(messages[-1], ConvergenceWarning, stacklevel=2)
    if infinite.any():
        which = ", ".join(design.names[i] for i in np.flatnonzero(infinite))
        lead = (
            f"Loglik converged before variable(s) {which}"
            if fit.converged
            else f"Variable(s) {which} still diverging after {MAX_ITER} iterations"
        )
        messages.append(
            f"{lead}; coefficient may be infinite (monotone likelihood, e.g. no "
            "events in a group); HR reported as 0 or inf"
        )
        warnings.warn(messages[-1], MonotoneLikelihoodWarning, stacklevel=2)
    if singular.any():
        which = ", ".join(design.names[i] for i in np.flatnonzero(singular))
        messages.append(
            f"no information on {which} (e.g. its only events are alone in their "
            "risk sets); coefficient not estimable, reported as NaN"
        )
        warnings.warn(messages[-1], NotEstimableWarning, stacklevel=2)

    var = naive
    robust_score: ModelTest | None = None
    if robust:
        var, robust_score = _robust(rs, x, fit, naive, scale, clusters)
    # The Wald test is undefined with an infinite coefficient (Hauck & Donner 1977).
    estimable = ~singular
    wald_stat = math.nan
    if estimable.any() and not infinite.any():
        wald_stat = _quad(var[np.ix_(estimable, estimable)], beta[estimable])
    p = int(estimable.sum())
    lr_stat = 2.0 * (fit.loglik - fit.loglik0)
    terms = _terms(design.names, beta, naive, var if robust else None, infinite, singular, conv)
    return CoxResult(
        terms=terms,
        variance=_tuples(var),
        naive_variance=_tuples(naive),
        coef_at_stop=tuple(float(b) for b in beta),
        loglik_null=fit.loglik0,
        loglik=fit.loglik,
        wald=ModelTest("Wald test", wald_stat, p, _chi2_p(wald_stat, p)),
        score=ModelTest("Score (log-rank) test", fit.score, p, _chi2_p(fit.score, p)),
        lr=ModelTest("Likelihood ratio test", lr_stat, p, _chi2_p(lr_stat, p)),
        robust_score=robust_score,
        n=n,
        events=int(status.sum()),
        iterations=fit.iterations,
        converged=fit.converged,
        ties=conv.ties,
        robust=robust,
        strata=strata_names,
        n_strata=int(codes.max()) + 1,
        covariates=tuple(design.covariates),
        references=design.references,
        conventions=conv,
        warnings=tuple(messages),
    )


def _check_collinear(design: Design) -> None:
    x = design.matrix - design.matrix.mean(axis=0)
    x = x / np.maximum(np.abs(x).max(axis=0), 1e-300)
    for j in range(1, x.shape[1]):
        if np.linalg.matrix_rank(x[:, : j + 1]) <= j:
            raise DataError(
                f"covariates: column {design.names[j]!r} is a linear combination of "
                f"{', '.join(design.names[:j])}; drop one of them",
                column=design.names[j],
                collinear_with=design.names[:j],
            )


def _robust(
    rs: _RiskSets,
    x: np.ndarray,
    fit: _Fit,
    naive: np.ndarray,
    scale: np.ndarray,
    clusters: np.ndarray | None,
) -> tuple[np.ndarray, ModelTest]:
    """Lin-Wei sandwich ``D'D`` and coxph's robust score test (``rscore``)."""
    resid = _score_residuals(rs, x, fit.last) / scale
    dfbeta = resid @ naive
    ev0 = _evaluate(rs, x, np.zeros(x.shape[1]), want_info=False)
    resid0 = _score_residuals(rs, x, ev0) / scale
    if clusters is not None:
        sorted_clusters = clusters[rs.order]
        dfbeta = _rowsum(dfbeta, sorted_clusters)
        resid0 = _rowsum(resid0, sorted_clusters)
    var = dfbeta.T @ dfbeta
    u0 = resid0.sum(axis=0)
    stat = _quad(resid0.T @ resid0, u0)
    df = x.shape[1]
    return var, ModelTest("Robust score test", stat, df, _chi2_p(stat, df))


def _rowsum(a: np.ndarray, codes: np.ndarray) -> np.ndarray:
    k = int(codes.max()) + 1
    return np.column_stack(
        [np.bincount(codes, weights=a[:, j], minlength=k) for j in range(a.shape[1])]
    )


def _terms(
    names: list[str],
    beta: np.ndarray,
    naive: np.ndarray,
    rvar: np.ndarray | None,
    infinite: np.ndarray,
    singular: np.ndarray,
    conv: Conventions,
) -> tuple[CoxTerm, ...]:
    out = []
    nan = math.nan
    for i, name in enumerate(names):
        if singular[i]:
            out.append(
                CoxTerm(name, nan, nan, nan, None if rvar is None else nan, nan, nan, nan, nan)
            )
            continue
        se = math.sqrt(naive[i, i])
        rse = math.sqrt(rvar[i, i]) if rvar is not None else None
        if infinite[i]:
            coef = math.copysign(math.inf, beta[i])
            out.append(
                CoxTerm(
                    name,
                    coef,
                    math.exp(coef),
                    math.nan,
                    None if rse is None else math.nan,
                    math.nan,
                    math.nan,
                    math.nan,
                    math.nan,
                    True,
                )
            )
            continue
        use = rse if rse is not None else se
        z = float(beta[i]) / use if use > 0 else nan
        hr, lower, upper, p = log_wald_interval(beta[i], use, conv.conf_level)
        out.append(CoxTerm(name, float(beta[i]), hr, se, rse, z, p, lower, upper))
    return tuple(out)


def _tuples(m: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in m)
