"""Adjusted odds ratio of response by logistic regression on subject-level data.

Model (Agresti 2013, *Categorical Data Analysis*, ch. 5): for subject i,
``logit P(y_i = 1) = b0 + beta * [arm_i = experimental] + sum_k g_k x_ik + stratum effects``,
fitted by maximum likelihood (statsmodels GLM, binomial family, logit link, IRLS to a
relative parameter change below 1e-12). Numeric covariates enter linearly as given;
non-numeric covariates and every stratification factor enter as factors with treatment
(dummy) coding, the first level in sorted order as reference (R's default
``contr.treatment`` on a factor). Reported: the arm's odds ratio ``exp(beta)`` with Wald CI
``exp(beta +/- z se)`` and the two-sided Wald z test, and the same for every other term;
exactly R ``glm(y ~ arm + x1 + factor(x2) + factor(stratum), family = binomial)`` with
``confint.default`` (SAS PROC LOGISTIC with ``CLODDS=WALD`` gives the same numbers with
``PARAM=REF``). Profile-likelihood CIs (R ``confint`` on a glm via MASS, SAS ``CLODDS=PL``)
are not computed.

Separation (an arm or a factor level with all or no responders) makes the MLE infinite:
this is an :class:`~oncotrial.errors.InputError` naming the term, never a huge finite OR.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.conventions import Conventions, resolve
from oncotrial.errors import DataError, InputError, describe_value
from oncotrial.results import Result
from oncotrial.stats._inputs import as_events, as_groups, first_row, require_columns, row_error
from oncotrial.stats.normal import log_wald_interval

_SEPARATION_COEF = 25.0
"""|coefficient| beyond which a fit is treated as separated (OR beyond e**25 ~ 7e10)."""


@dataclass(frozen=True, eq=False)
class LogisticTerm(Result):
    """One model coefficient: log odds ratio, SE, OR with Wald CI, Wald z and p."""

    term: str
    coef: float
    se: float
    odds_ratio: float
    lower: float
    upper: float
    z: float
    p_value: float


@dataclass(frozen=True, eq=False)
class AdjustedOddsRatio(Result):
    """Odds ratio of ``experimental`` vs ``reference`` adjusted by logistic regression."""

    experimental: Any
    reference: Any
    estimate: float
    lower: float
    upper: float
    p_value: float
    n: int
    responders: int
    covariates: tuple[str, ...]
    strata: tuple[str, ...]
    terms: tuple[LogisticTerm, ...]
    conf_level: float
    method: str = "logistic regression (binomial GLM, ML), Wald CI and z test"
    conventions: Conventions = field(default_factory=Conventions)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([t.to_dict() for t in self.terms])

    def summary(self) -> str:
        adjusted = ", ".join([*self.covariates, *self.strata]) or "nothing"
        lines = [
            f"Adjusted odds ratio {self.experimental} vs {self.reference}: "
            f"{self.estimate:.3f} ({self.conf_level:.0%} CI {self.lower:.3f} to "
            f"{self.upper:.3f}), p = {self.p_value:.4g}; adjusted for {adjusted}; "
            f"n = {self.n}, responders = {self.responders}",
            f"  {self.method}",
        ]
        for t in self.terms:
            lines.append(
                f"  {t.term}: OR {t.odds_ratio:.3f} ({t.lower:.3f} to {t.upper:.3f}), "
                f"p = {t.p_value:.4g}"
            )
        return "\n".join(lines)


def adjusted_odds_ratio(
    data: pd.DataFrame,
    response: str,
    arm: str,
    *,
    covariates: Sequence[str] = (),
    strata: Sequence[str] = (),
    reference: Any = None,
    conf_level: float = 0.95,
    profile: str = "r",
) -> AdjustedOddsRatio:
    """Odds ratio of response for the non-reference arm, adjusted by logistic regression.

    Args:
        data: one row per subject.
        response: column coded 1 (responder) / 0 (non-responder); bool accepted.
        arm: treatment column with exactly two levels.
        covariates: columns adjusted for; numeric ones linearly, others as factors.
        strata: stratification columns, each entered as a factor.
        reference: control arm level (default the first level in sorted order).
        conf_level: two-sided confidence level of the Wald CIs.
        profile: conventions profile recorded on the result.
    """
    if not (isinstance(conf_level, (int, float)) and 0.0 < conf_level < 1.0):
        raise InputError(
            f"conf_level: {describe_value(conf_level)} is invalid; use a number in (0, 1), "
            "e.g. 0.95",
            field="conf_level",
            value=conf_level,
        )
    covariates, strata = tuple(covariates), tuple(strata)
    require_columns(
        data,
        {
            "response": [response],
            "arm": [arm],
            "covariates": list(covariates),
            "strata": list(strata),
        },
    )
    frame = data.reset_index(drop=True)
    y = as_events(frame[response].to_numpy(), name=response).astype(float)
    labels = as_groups(frame[arm].to_numpy(dtype=object), name=arm, n=y.size, min_levels=2)
    levels = _levels(labels)
    if len(levels) != 2:
        raise DataError(
            f"column {arm!r}: has {len(levels)} levels {levels!r}; the odds ratio compares "
            "exactly 2 arms",
            column=arm,
            levels=[str(v) for v in levels],
        )
    ref = levels[0] if reference is None else reference
    if ref not in levels:
        raise InputError(
            f"reference: {reference!r} is not a level of column {arm!r}; levels are {levels!r}",
            field="reference",
            value=str(reference),
            valid=[str(v) for v in levels],
        )
    experimental = levels[1] if ref == levels[0] else levels[0]
    names = ["(Intercept)", f"{arm}={experimental}"]
    columns = [np.ones(y.size), (labels == experimental).astype(float)]
    for col in covariates:
        _add_term(frame, col, columns, names, factor=False)
    for col in strata:
        _add_term(frame, col, columns, names, factor=True)
    design = np.column_stack(columns)
    _check_estimable(design, names, y)
    beta, se = _fit(y, design, names)
    terms = tuple(_term(name, b, s, conf_level) for name, b, s in zip(names, beta, se, strict=True))
    arm_term = terms[1]
    return AdjustedOddsRatio(
        experimental=experimental,
        reference=ref,
        estimate=arm_term.odds_ratio,
        lower=arm_term.lower,
        upper=arm_term.upper,
        p_value=arm_term.p_value,
        n=int(y.size),
        responders=int(y.sum()),
        covariates=covariates,
        strata=strata,
        terms=terms,
        conf_level=float(conf_level),
        conventions=resolve(profile, conf_level=conf_level),
    )


def _levels(values: np.ndarray) -> list[Any]:
    observed = list(pd.unique(pd.Series(values)))
    try:
        return sorted(observed)
    except TypeError:
        return sorted(observed, key=str)


def _add_term(
    frame: pd.DataFrame, col: str, columns: list[np.ndarray], names: list[str], *, factor: bool
) -> None:
    """Append a numeric column, or the treatment-coded dummies of a factor."""
    raw = frame[col]
    if not factor and pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            i = first_row(bad)
            problem = (
                f"value {describe_value(raw.iloc[i])} is invalid; a numeric covariate needs a "
                "finite number for every subject"
            )
            raise row_error(col, i, problem, None if pd.isna(raw.iloc[i]) else str(raw.iloc[i]))
        columns.append(values)
        names.append(col)
        return
    labels = as_groups(raw.to_numpy(dtype=object), name=col, n=len(raw), min_levels=1)
    for level in _levels(labels)[1:]:
        columns.append((labels == level).astype(float))
        names.append(f"{col}={level}")


def _check_estimable(design: np.ndarray, names: list[str], y: np.ndarray) -> None:
    if y.min() == y.max():
        raise DataError(
            "response: every subject has the same response; an odds ratio needs responders "
            "and non-responders",
            field="response",
            value=int(y[0]),
        )
    rank = np.linalg.matrix_rank(design)
    if rank < design.shape[1]:
        raise InputError(
            f"the model terms {names[1:]} are collinear (design rank {rank} < "
            f"{design.shape[1]} coefficients); drop a redundant covariate or stratum",
            field="covariates",
            value=names[1:],
        )


def _fit(y: np.ndarray, design: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    model = sm.GLM(y, design, family=sm.families.Binomial())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = model.fit(tol=1e-12, tol_criterion="params", maxiter=200)
    beta = np.asarray(fit.params, dtype=float)
    se = np.asarray(fit.bse, dtype=float)
    bad = ~np.isfinite(beta) | ~np.isfinite(se) | (np.abs(beta) > _SEPARATION_COEF)
    if bad.any():
        term = names[int(np.flatnonzero(bad)[0])]
        raise InputError(
            f"logistic regression did not converge to a finite coefficient for {term!r} "
            "(separation: a group with all or no responders); drop or merge that term, or "
            "use the exact odds ratio",
            field="covariates",
            value=term,
        )
    return beta, se


def _term(name: str, coef: float, se: float, conf_level: float) -> LogisticTerm:
    odds_ratio, lower, upper, p_value = log_wald_interval(coef, se, conf_level)
    z = float(coef / se)
    return LogisticTerm(name, float(coef), float(se), odds_ratio, lower, upper, z, p_value)
