"""Proportions: one-sample intervals and tests, two-sample differences and odds ratios.

Every function takes counts (responders ``x`` out of ``n``), returns a frozen result
dataclass that carries the method name, confidence level, sidedness and display rounding
rule, and follows a named reference implementation:

* one sample: Clopper-Pearson (as R ``binom.test``), Wilson score with and without
  continuity correction (as R ``prop.test``), Jeffreys (Brown, Cai & DasGupta 2001);
  exact binomial test (as R ``binom.test``);
* difference of two proportions: Newcombe hybrid score (Newcombe 1998, methods 10 and 11),
  Miettinen-Nurminen score (Miettinen & Nurminen 1985) and Mee (1984);
* odds ratio: Wald (log scale), exact conditional (as R ``fisher.test``), Mantel-Haenszel
  across strata with the Robins-Breslow-Greenland variance (as R ``mantelhaen.test``), and
  adjusted by logistic regression (statsmodels GLM, as R ``glm(family = binomial)``).

Group 1 is the experimental arm: differences are ``p1 - p2`` and odds ratios are
``odds1 / odds2``. See docs/CONVENTIONS.md, section "Proportions".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy import optimize, stats

from oncotrial.conventions import Conventions, check_choice, resolve, round_half_up
from oncotrial.errors import InputError, describe_value
from oncotrial.results import Result
from oncotrial.stats.normal import log_wald_interval, normal_quantile

ONE_SAMPLE_METHODS: tuple[str, ...] = ("clopper-pearson", "wilson", "wilson-cc", "jeffreys")
DIFFERENCE_METHODS: tuple[str, ...] = ("newcombe", "newcombe-cc", "miettinen-nurminen", "mee")
ODDS_RATIO_METHODS: tuple[str, ...] = ("wald", "exact")
ALTERNATIVES: tuple[str, ...] = ("two-sided", "less", "greater")

R_RELATIVE_TOLERANCE = 1 + 1e-7
"""R's ``relErr``: a probability within this factor of the observed one counts as "<=" it."""

_ROOT_XTOL = 1e-14


# --------------------------------------------------------------------------- display rounding


def format_percent_ci(
    estimate: float | Fraction, lower: float, upper: float, digits: int = 1
) -> str:
    """A proportion and its CI as percentages, as PALMIRA prints them: ``4.4% (1.6 to 9.4)``."""

    def pct(v: float | Fraction) -> str:
        scaled = v * 100 if isinstance(v, Fraction) else Decimal(repr(float(v))) * 100
        return str(round_half_up(scaled, digits))

    return f"{pct(estimate)}% ({pct(lower)} to {pct(upper)})"


def format_ratio_ci(estimate: float, lower: float, upper: float, digits: int = 2) -> str:
    """A ratio and its CI, rounded half-up: ``0.52 (0.27 to 1.01)``."""

    def fmt(v: float) -> str:
        return "inf" if math.isinf(v) else str(round_half_up(v, digits))

    return f"{fmt(estimate)} ({fmt(lower)} to {fmt(upper)})"


# --------------------------------------------------------------------------- input checks


def _count(name: str, value: Any, minimum: int = 0) -> int:
    """``value`` as a non-negative whole number, else :class:`InputError` naming it."""
    ok = isinstance(value, Integral) and not isinstance(value, bool)
    if not ok and isinstance(value, Real) and not isinstance(value, bool):
        ok = math.isfinite(float(value)) and float(value).is_integer()
    if not ok:
        raise InputError(
            f"{name}: {describe_value(value)} is not a whole number; counts must be integers "
            f">= {minimum}",
            field=name,
            value=str(value),
            valid=f"integer >= {minimum}",
        )
    count = int(value)
    if count < minimum:
        raise InputError(
            f"{name}: {count} is invalid; it must be an integer >= {minimum}",
            field=name,
            value=count,
            valid=f"integer >= {minimum}",
        )
    return count


def _counts(x_name: str, x: Any, n_name: str, n: Any, min_n: int = 1) -> tuple[int, int]:
    xi, ni = _count(x_name, x), _count(n_name, n, minimum=min_n)
    if xi > ni:
        raise InputError(
            f"{x_name}: {xi} responders out of {n_name} = {ni} is impossible; {x_name} must be "
            f"between 0 and {ni}",
            field=x_name,
            value=xi,
            valid=f"0 <= {x_name} <= {ni}",
        )
    return xi, ni


def _conf_level(conf_level: Any) -> float:
    ok = isinstance(conf_level, Real) and not isinstance(conf_level, bool)
    if not ok or not 0.0 < float(conf_level) < 1.0:
        raise InputError(
            f"conf_level: {describe_value(conf_level)} is outside (0, 1); use e.g. 0.95",
            field="conf_level",
            value=str(conf_level),
            valid="0 < conf_level < 1",
        )
    return float(conf_level)


def _reporting(conf_level: float, digits: int, profile: str) -> dict[str, Any]:
    """The fields every two-sided interval result carries besides its numbers."""
    return {
        "conf_level": conf_level,
        "sides": 2,
        "rounding": "half-up",
        "digits": digits,
        "conventions": resolve(profile, conf_level=conf_level, sides=2),
    }


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ProportionCI(Result):
    """A binomial proportion ``x / n`` with a two-sided confidence interval."""

    x: int
    n: int
    estimate: float
    lower: float
    upper: float
    method: str
    conf_level: float
    sides: int
    rounding: str
    digits: int
    conventions: Conventions

    def formatted(self) -> str:
        """``4.4% (1.6 to 9.4)``: percent, ``digits`` decimals, rounded half-up."""
        return format_percent_ci(Fraction(self.x, self.n), self.lower, self.upper, self.digits)

    def summary(self) -> str:
        return (
            f"{self.x}/{self.n} = {self.formatted()}\n"
            f"  {self.conf_level:.0%} CI, {self.method} ({METHOD_TITLES[self.method]}); "
            f"display rounded {self.rounding}"
        )


@dataclass(frozen=True)
class BinomialTest(Result):
    """Exact binomial test of ``H0: p = p0`` (as R ``binom.test``)."""

    x: int
    n: int
    p0: float
    estimate: float
    p_value: float
    alternative: str
    method: str
    sides: int

    def summary(self) -> str:
        return (
            f"Exact binomial test: {self.x}/{self.n} = {self.estimate:.4f} vs p0 = {self.p0:g}\n"
            f"  {self.alternative} p = {self.p_value:.4g}"
        )


@dataclass(frozen=True)
class RiskDifference(Result):
    """Difference of two independent proportions ``p1 - p2`` with a two-sided CI."""

    x1: int
    n1: int
    x2: int
    n2: int
    p1: float
    p2: float
    estimate: float
    lower: float
    upper: float
    method: str
    conf_level: float
    sides: int
    rounding: str
    digits: int
    conventions: Conventions

    def formatted(self) -> str:
        """Difference in percentage points: ``14.5 (0.9 to 27.0)``, rounded half-up."""
        exact = Fraction(self.x1, self.n1) - Fraction(self.x2, self.n2)
        return format_percent_ci(exact, self.lower, self.upper, self.digits).replace("%", "", 1)

    def summary(self) -> str:
        return (
            f"Difference {self.x1}/{self.n1} - {self.x2}/{self.n2}: {self.formatted()} "
            f"percentage points\n  {self.conf_level:.0%} CI, {METHOD_TITLES[self.method]}"
        )


@dataclass(frozen=True)
class OddsRatio(Result):
    """Odds ratio ``odds1 / odds2`` of two proportions (one table or stratified)."""

    x1: tuple[int, ...]
    n1: tuple[int, ...]
    x2: tuple[int, ...]
    n2: tuple[int, ...]
    estimate: float
    lower: float
    upper: float
    p_value: float
    test: str
    method: str
    conf_level: float
    sides: int
    rounding: str
    digits: int
    conventions: Conventions
    statistic: float | None = None

    def formatted(self) -> str:
        """``0.52 (0.27 to 1.01)``, rounded half-up."""
        return format_ratio_ci(self.estimate, self.lower, self.upper, self.digits)

    def summary(self) -> str:
        strata = "" if len(self.x1) == 1 else f" over {len(self.x1)} strata"
        return (
            f"Odds ratio{strata}: {self.formatted()}, p = {self.p_value:.4g}\n"
            f"  {self.conf_level:.0%} CI, {METHOD_TITLES[self.method]}; test: {self.test}"
        )


METHOD_TITLES: dict[str, str] = {
    "clopper-pearson": "Clopper-Pearson exact",
    "wilson": "Wilson score",
    "wilson-cc": "Wilson score with continuity correction (R prop.test)",
    "jeffreys": "Jeffreys equal-tailed Beta(x + 1/2, n - x + 1/2)",
    "newcombe": "Newcombe hybrid score (1998, method 10)",
    "newcombe-cc": "Newcombe hybrid score with continuity correction (1998, method 11)",
    "miettinen-nurminen": "Miettinen-Nurminen score (1985)",
    "mee": "Mee score (1984)",
    "wald": "Wald, log scale",
    "exact": "exact conditional (R fisher.test)",
    "mantel-haenszel": "Mantel-Haenszel, Robins-Breslow-Greenland variance",
    "logistic": "logistic regression, Wald",
}


# --------------------------------------------------------------------------- one sample


def clopper_pearson_limits(x: int, n: int, conf_level: float) -> tuple[float, float]:
    """Clopper & Pearson (1934) exact limits as Beta quantiles (R ``binom.test``)."""
    alpha = (1.0 - conf_level) / 2.0
    lower = 0.0 if x == 0 else float(stats.beta.ppf(alpha, x, n - x + 1))
    upper = 1.0 if x == n else float(stats.beta.ppf(1.0 - alpha, x + 1, n - x))
    return lower, upper


def wilson_limits(x: int, n: int, conf_level: float, yates: float = 0.0) -> tuple[float, float]:
    """Wilson (1927) score limits, optionally continuity-corrected by ``yates / n``.

    The algebra is R ``prop.test``'s (one sample); with ``yates = 0.5`` it equals Newcombe
    (1998, single-proportion method 4).
    """
    z = normal_quantile(conf_level)
    estimate = x / n
    z22n = z * z / (2.0 * n)
    pc = estimate + yates / n
    upper = (
        1.0
        if pc >= 1
        else ((pc + z22n + z * math.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n))
    )
    pc = estimate - yates / n
    lower = (
        0.0
        if pc <= 0
        else ((pc + z22n - z * math.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n))
    )
    return lower, upper


def jeffreys_limits(x: int, n: int, conf_level: float) -> tuple[float, float]:
    """Jeffreys equal-tailed limits, Beta(x + 1/2, n - x + 1/2) quantiles.

    As Brown, Cai & DasGupta (2001, Stat Sci 16:101) recommend, the lower limit is 0 when
    ``x = 0`` and the upper limit is 1 when ``x = n``.
    """
    alpha = (1.0 - conf_level) / 2.0
    lower = 0.0 if x == 0 else float(stats.beta.ppf(alpha, x + 0.5, n - x + 0.5))
    upper = 1.0 if x == n else float(stats.beta.ppf(1.0 - alpha, x + 0.5, n - x + 0.5))
    return lower, upper


def proportion_ci(
    x: int,
    n: int,
    method: str = "clopper-pearson",
    conf_level: float = 0.95,
    *,
    p0: float = 0.5,
    digits: int = 1,
    profile: str = "r",
) -> ProportionCI:
    """Two-sided confidence interval of the proportion ``x / n``.

    Methods: ``clopper-pearson`` (exact, R ``binom.test``; the default, and what PALMIRA
    reports), ``wilson`` (R ``prop.test(correct = FALSE)``), ``wilson-cc`` (R
    ``prop.test(correct = TRUE)``: the correction is ``min(0.5, |x - n p0|) / n``, so it
    vanishes when ``x = n p0``, a quirk of R kept for agreement), ``jeffreys``.
    """
    x, n = _counts("x", x, "n", n)
    conf_level = _conf_level(conf_level)
    check_choice("method", method, ONE_SAMPLE_METHODS)
    if method == "clopper-pearson":
        lower, upper = clopper_pearson_limits(x, n, conf_level)
    elif method == "wilson":
        lower, upper = wilson_limits(x, n, conf_level)
    elif method == "wilson-cc":
        lower, upper = wilson_limits(x, n, conf_level, yates=min(0.5, abs(x - n * p0)))
    else:
        lower, upper = jeffreys_limits(x, n, conf_level)
    return ProportionCI(
        x=x,
        n=n,
        estimate=x / n,
        lower=lower,
        upper=upper,
        method=method,
        **_reporting(conf_level, digits, profile),
    )


def binomial_test(x: int, n: int, p0: float = 0.5, alternative: str = "two-sided") -> BinomialTest:
    """Exact binomial test (R ``binom.test``).

    Two-sided p sums the probabilities of all outcomes no more likely than the observed one,
    "no more likely" meaning ``P(i) <= P(x) * (1 + 1e-7)`` as in R.
    """
    x, n = _counts("x", x, "n", n)
    check_choice("alternative", alternative, ALTERNATIVES)
    if not (isinstance(p0, Real) and 0.0 <= float(p0) <= 1.0):
        raise InputError(
            f"p0: {describe_value(p0)} is outside [0, 1]",
            field="p0",
            value=str(p0),
            valid="0 <= p0 <= 1",
        )
    p0 = float(p0)
    dist = stats.binom(n, p0)
    if alternative == "less":
        p_value = float(dist.cdf(x))
    elif alternative == "greater":
        p_value = float(dist.sf(x - 1))
    else:
        p_value = _binomial_two_sided(x, n, p0)
    return BinomialTest(
        x=x,
        n=n,
        p0=p0,
        estimate=x / n,
        p_value=p_value,
        alternative=alternative,
        method="exact binomial",
        sides=2 if alternative == "two-sided" else 1,
    )


def _binomial_two_sided(x: int, n: int, p0: float) -> float:
    dist = stats.binom(n, p0)
    observed = float(dist.pmf(x))
    mode = n * p0
    if x == mode:
        return 1.0
    if x < mode:
        others = np.arange(math.ceil(mode), n + 1)
        y = int(np.sum(dist.pmf(others) <= observed * R_RELATIVE_TOLERANCE))
        p_value = float(dist.cdf(x) + dist.sf(n - y))
    else:
        others = np.arange(0, math.floor(mode) + 1)
        y = int(np.sum(dist.pmf(others) <= observed * R_RELATIVE_TOLERANCE))
        p_value = float(dist.cdf(y - 1) + dist.sf(x - 1))
    return min(1.0, p_value)


# --------------------------------------------------------------------------- differences


def risk_difference(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    method: str = "newcombe",
    conf_level: float = 0.95,
    *,
    digits: int = 1,
    profile: str = "r",
) -> RiskDifference:
    """Difference ``x1/n1 - x2/n2`` with a two-sided CI.

    * ``newcombe``: hybrid score, Wilson limits of each arm combined by square-and-add
      (Newcombe 1998, Stat Med 17:873, method 10); ``newcombe-cc`` uses continuity-corrected
      Wilson limits (method 11).
    * ``miettinen-nurminen``: inverts the score test of ``p1 - p2 = delta`` with the
      restricted MLE of Farrington & Manning (1990, Stat Med 9:1447) and the variance
      factor ``N / (N - 1)`` (Miettinen & Nurminen 1985, Stat Med 4:213); ``mee`` is the
      same without that factor (Mee 1984, Biometrics 40:1175).
    """
    x1, n1 = _counts("x1", x1, "n1", n1)
    x2, n2 = _counts("x2", x2, "n2", n2)
    conf_level = _conf_level(conf_level)
    check_choice("method", method, DIFFERENCE_METHODS)
    if method in ("newcombe", "newcombe-cc"):
        lower, upper = _newcombe(x1, n1, x2, n2, conf_level, 0.5 if method == "newcombe-cc" else 0)
    else:
        lower, upper = _score_interval(x1, n1, x2, n2, conf_level, method == "miettinen-nurminen")
    return RiskDifference(
        x1=x1,
        n1=n1,
        x2=x2,
        n2=n2,
        p1=x1 / n1,
        p2=x2 / n2,
        estimate=x1 / n1 - x2 / n2,
        lower=lower,
        upper=upper,
        method=method,
        **_reporting(conf_level, digits, profile),
    )


def _newcombe(
    x1: int, n1: int, x2: int, n2: int, conf_level: float, yates: float
) -> tuple[float, float]:
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_limits(x1, n1, conf_level, yates)
    l2, u2 = wilson_limits(x2, n2, conf_level, yates)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def restricted_mle(x1: int, n1: int, x2: int, n2: int, delta: float) -> tuple[float, float]:
    """MLE of ``(p1, p2)`` under ``p1 - p2 = delta``: the closed-form root of the cubic
    score equation (Farrington & Manning 1990, eq. 13-14; Miettinen & Nurminen 1985)."""
    p1, p2 = x1 / n1, x2 / n2
    theta = n2 / n1
    a = 1.0 + theta
    b = -(1.0 + theta + p1 + theta * p2 + delta * (theta + 2.0))
    c = delta * delta + delta * (2.0 * p1 + theta + 1.0) + p1 + theta * p2
    d = -p1 * delta * (1.0 + delta)
    v = b**3 / (3 * a) ** 3 - b * c / (6 * a * a) + d / (2 * a)
    u = math.copysign(math.sqrt(max(b * b / (3 * a) ** 2 - c / (3 * a), 0.0)), v)
    cos_arg = 0.0 if u == 0 else max(-1.0, min(1.0, v / u**3))
    w = (math.pi + math.acos(cos_arg)) / 3.0
    p1t = 2.0 * u * math.cos(w) - b / (3 * a)
    p1t = min(max(p1t, max(0.0, delta)), min(1.0, 1.0 + delta))
    return p1t, p1t - delta


def score_statistic(
    x1: int, n1: int, x2: int, n2: int, delta: float, miettinen_nurminen: bool = True
) -> float:
    """Score z of ``H0: p1 - p2 = delta`` (positive when the observed difference is larger)."""
    diff = x1 / n1 - x2 / n2 - delta
    if diff == 0:
        return 0.0
    p1t, p2t = restricted_mle(x1, n1, x2, n2, delta)
    variance = p1t * (1 - p1t) / n1 + p2t * (1 - p2t) / n2
    if miettinen_nurminen:
        total = n1 + n2
        variance *= total / (total - 1)
    if variance <= 0:
        return math.copysign(math.inf, diff)
    return diff / math.sqrt(variance)


def _score_interval(
    x1: int, n1: int, x2: int, n2: int, conf_level: float, miettinen_nurminen: bool
) -> tuple[float, float]:
    z = normal_quantile(conf_level)
    d = x1 / n1 - x2 / n2

    def excess(delta: float) -> float:
        return score_statistic(x1, n1, x2, n2, delta, miettinen_nurminen)

    return (
        _score_root(lambda t: excess(t) - z, -1.0, d),
        _score_root(lambda t: excess(t) + z, d, 1.0),
    )


def _score_root(func: Callable[[float], float], low: float, high: float) -> float:
    """The root of the monotone ``func`` in ``[low, high]``; the bound itself if it has none.

    At ``delta = +/-1`` the restricted variance is 0 and the statistic infinite, so the
    search starts just inside; a limit indistinguishable from the bound is the bound.
    """
    eps = 1e-12
    a, b = (low + eps if low == -1.0 else low), (high - eps if high == 1.0 else high)
    fa, fb = func(a), func(b)
    if fa == 0:
        return a
    if fb == 0:
        return b
    if np.sign(fa) == np.sign(fb):
        return low if low == -1.0 else high
    return float(optimize.brentq(func, a, b, xtol=_ROOT_XTOL, rtol=4 * np.finfo(float).eps))


# --------------------------------------------------------------------------- odds ratios


def _tables(
    x1: Sequence[Any], n1: Sequence[Any], x2: Sequence[Any], n2: Sequence[Any]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    lengths = {len(x1), len(n1), len(x2), len(n2)}
    if len(lengths) != 1 or 0 in lengths:
        raise InputError(
            "x1, n1, x2, n2: need one count per stratum in each, of equal non-zero lengths; "
            f"got lengths {len(x1)}, {len(n1)}, {len(x2)}, {len(n2)}",
            field="x1, n1, x2, n2",
            value=[len(x1), len(n1), len(x2), len(n2)],
        )
    a: list[int] = []
    m1: list[int] = []
    c: list[int] = []
    m2: list[int] = []
    for k in range(len(x1)):
        s = f"[stratum {k + 1}]" if len(x1) > 1 else ""
        xa, na = _counts(f"x1{s}", x1[k], f"n1{s}", n1[k], min_n=0)
        xc, nc = _counts(f"x2{s}", x2[k], f"n2{s}", n2[k], min_n=0)
        a.append(xa)
        m1.append(na)
        c.append(xc)
        m2.append(nc)
    return tuple(a), tuple(m1), tuple(c), tuple(m2)


def odds_ratio(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    method: str = "exact",
    conf_level: float = 0.95,
    *,
    haldane: bool = False,
    digits: int = 2,
    profile: str = "r",
) -> OddsRatio:
    """Odds ratio of responding, arm 1 versus arm 2, from one 2x2 table.

    * ``exact`` (default): conditional MLE, CI by inverting the noncentral hypergeometric
      tails, two-sided p by the "probabilities <= observed" rule: R ``fisher.test``
      (Fisher 1935; Agresti 2013, section 16.6). Zero cells are fine.
    * ``wald``: ``exp(log OR +/- z sqrt(1/a + 1/b + 1/c + 1/d))`` and the Wald z test (as
      R ``glm`` on one binary covariate). A zero cell makes it undefined; ``haldane=True``
      adds 1/2 to every cell (Haldane 1956).
    """
    x1, n1 = _counts("x1", x1, "n1", n1)
    x2, n2 = _counts("x2", x2, "n2", n2)
    conf_level = _conf_level(conf_level)
    check_choice("method", method, ODDS_RATIO_METHODS)
    if method == "exact":
        estimate, lower, upper, p_value = _fisher(x1, n1, x2, n2, conf_level)
        test = "Fisher exact, two-sided (R rule)"
    else:
        estimate, lower, upper, p_value = _wald_or(x1, n1, x2, n2, conf_level, haldane)
        test = "Wald z on log OR" + (" (Haldane +1/2)" if haldane else "")
    return OddsRatio(
        x1=(x1,),
        n1=(n1,),
        x2=(x2,),
        n2=(n2,),
        estimate=estimate,
        lower=lower,
        upper=upper,
        p_value=p_value,
        test=test,
        method=method,
        **_reporting(conf_level, digits, profile),
    )


def _wald_or(
    x1: int, n1: int, x2: int, n2: int, conf_level: float, haldane: bool
) -> tuple[float, float, float, float]:
    cells = np.array([x1, n1 - x1, x2, n2 - x2], dtype=float)
    if haldane:
        cells += 0.5
    elif (cells == 0).any():
        raise InputError(
            f"table x1={x1}/n1={n1}, x2={x2}/n2={n2} has a zero cell, so the Wald odds ratio "
            "is undefined; use method='exact' or haldane=True",
            field="x1, n1, x2, n2",
            value=[x1, n1, x2, n2],
        )
    a, b, c, d = cells
    se = math.sqrt(float(np.sum(1.0 / cells)))
    return log_wald_interval(math.log(a * d / (b * c)), se, conf_level)


@dataclass(frozen=True)
class _NoncentralHypergeometric:
    """Distribution of the (1,1) cell given all margins, odds ratio ``psi`` (R fisher.test)."""

    support: np.ndarray
    log_central: np.ndarray

    @classmethod
    def of(cls, x1: int, n1: int, x2: int, n2: int) -> _NoncentralHypergeometric:
        responders = x1 + x2
        lo, hi = max(0, n1 - (n1 + n2 - responders)), min(n1, responders)
        support = np.arange(lo, hi + 1)
        log_central = stats.hypergeom.logpmf(support, n1 + n2, responders, n1)
        return cls(support, log_central)

    def pmf(self, log_psi: float) -> np.ndarray:
        log_d = self.log_central + log_psi * self.support
        d = np.exp(log_d - log_d.max())
        return np.asarray(d / d.sum())

    def mean(self, log_psi: float) -> float:
        return float(np.sum(self.support * self.pmf(log_psi)))

    def tail(self, x: int, log_psi: float, upper: bool) -> float:
        mask = self.support >= x if upper else self.support <= x
        return float(np.sum(self.pmf(log_psi)[mask]))


def _solve_log_psi(func: Callable[[float], float]) -> float:
    """Root in log(psi) of a monotone function, bracketing outward from 0."""
    low, high = -1.0, 1.0
    while func(low) * func(high) > 0 and high < 800:
        low, high = 2 * low, 2 * high
    return float(optimize.brentq(func, low, high, xtol=_ROOT_XTOL, rtol=4 * np.finfo(float).eps))


def _fisher(
    x1: int, n1: int, x2: int, n2: int, conf_level: float
) -> tuple[float, float, float, float]:
    dist = _NoncentralHypergeometric.of(x1, n1, x2, n2)
    lo, hi = int(dist.support[0]), int(dist.support[-1])
    alpha = (1.0 - conf_level) / 2.0
    central = dist.pmf(0.0)
    p_value = float(min(1.0, central[central <= central[x1 - lo] * R_RELATIVE_TOLERANCE].sum()))
    if lo == hi:
        return math.nan, 0.0, math.inf, p_value
    if x1 == lo:
        estimate = 0.0
    elif x1 == hi:
        estimate = math.inf
    else:
        estimate = math.exp(_solve_log_psi(lambda t: dist.mean(t) - x1))
    lower = (
        0.0
        if x1 == lo
        else math.exp(_solve_log_psi(lambda t: dist.tail(x1, t, upper=True) - alpha))
    )
    upper = (
        math.inf
        if x1 == hi
        else math.exp(_solve_log_psi(lambda t: dist.tail(x1, t, upper=False) - alpha))
    )
    return estimate, lower, upper, p_value


def mantel_haenszel(
    x1: Sequence[int],
    n1: Sequence[int],
    x2: Sequence[int],
    n2: Sequence[int],
    conf_level: float = 0.95,
    *,
    correct: bool = True,
    digits: int = 2,
    profile: str = "r",
) -> OddsRatio:
    """Common odds ratio over strata (one count per stratum in each argument), as R
    ``mantelhaen.test`` for 2 x 2 x K tables.

    Estimate: Mantel & Haenszel (1959). CI: log scale with the Robins, Breslow & Greenland
    (1986, Biometrics 42:311) variance. Test: Cochran-Mantel-Haenszel chi-square on 1 df,
    with the continuity correction 1/2 when ``correct`` (R's default) and ``|sum(a - E a)|
    >= 1/2``.
    """
    a_, m1_, c_, m2_ = _tables(x1, n1, x2, n2)
    conf_level = _conf_level(conf_level)
    a, c = np.array(a_, dtype=float), np.array(c_, dtype=float)
    b, d = np.array(m1_, dtype=float) - a, np.array(m2_, dtype=float) - c
    total = a + b + c + d
    small = np.flatnonzero(total < 2)
    if small.size:
        k = int(small[0])
        raise InputError(
            f"stratum {k + 1}: {int(total[k])} subject(s); every stratum needs at least 2",
            field="strata",
            row=k + 1,
            value=int(total[k]),
        )
    row1, col1 = a + b, a + c
    delta = float(np.sum(a - row1 * col1 / total))
    yates = 0.5 if correct and abs(delta) >= 0.5 else 0.0
    var = np.sum(row1 * (total - row1) * col1 * (total - col1) / (total**2 * (total - 1)))
    statistic = (abs(delta) - yates) ** 2 / float(var)
    p_value = float(stats.chi2.sf(statistic, 1))
    s_diag, s_offd = float(np.sum(a * d / total)), float(np.sum(b * c / total))
    if s_diag == 0 or s_offd == 0:
        raise InputError(
            "the Mantel-Haenszel odds ratio is 0 or infinite (no discordant products a*d or "
            "b*c in any stratum); use the exact odds ratio per stratum",
            field="x1, n1, x2, n2",
            value=[list(a_), list(m1_), list(c_), list(m2_)],
        )
    estimate = s_diag / s_offd
    se = math.sqrt(
        float(np.sum((a + d) * a * d / total**2)) / (2 * s_diag**2)
        + float(np.sum(((a + d) * b * c + (b + c) * a * d) / total**2)) / (2 * s_diag * s_offd)
        + float(np.sum((b + c) * b * c / total**2)) / (2 * s_offd**2)
    )
    z = normal_quantile(conf_level)
    return OddsRatio(
        x1=a_,
        n1=m1_,
        x2=c_,
        n2=m2_,
        estimate=estimate,
        lower=estimate * math.exp(-z * se),
        upper=estimate * math.exp(z * se),
        p_value=p_value,
        test="Cochran-Mantel-Haenszel chi-square" + (" (continuity corrected)" if correct else ""),
        method="mantel-haenszel",
        **_reporting(conf_level, digits, profile),
        statistic=statistic,
    )


def logistic_odds_ratio(
    x1: Sequence[int],
    n1: Sequence[int],
    x2: Sequence[int],
    n2: Sequence[int],
    conf_level: float = 0.95,
    *,
    digits: int = 2,
    profile: str = "r",
) -> OddsRatio:
    """Odds ratio of arm 1 versus arm 2 adjusted for strata by logistic regression.

    Model: ``logit P(response) = intercept + beta * arm1 + stratum effects`` (stratum as a
    factor, main effects only), fitted by maximum likelihood (statsmodels GLM, binomial,
    IRLS) on the grouped counts; OR ``exp(beta)``, Wald CI and Wald z test, as R
    ``glm(cbind(x, n - x) ~ arm + stratum, family = binomial)`` with ``confint.default``.
    With one stratum it equals the Wald odds ratio.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    a_, m1_, c_, m2_ = _tables(x1, n1, x2, n2)
    conf_level = _conf_level(conf_level)
    strata = len(a_)
    successes = np.array(a_ + c_, dtype=float)
    trials = np.array(m1_ + m2_, dtype=float)
    arm = np.r_[np.ones(strata), np.zeros(strata)]
    stratum = np.r_[np.arange(strata), np.arange(strata)]
    dummies = (stratum[:, None] == np.arange(1, strata)[None, :]).astype(float)
    design = np.column_stack([np.ones(2 * strata), arm, dummies])
    keep = trials > 0
    responders, failures = successes[keep].sum(), (trials - successes)[keep].sum()
    arm1 = keep & (arm == 1)
    arm2 = keep & (arm == 0)
    if responders == 0 or failures == 0 or not arm1.any() or not arm2.any():
        raise InputError(
            "logistic odds ratio needs responders and non-responders, and subjects in both "
            f"arms; got x1={list(a_)}, n1={list(m1_)}, x2={list(c_)}, n2={list(m2_)}",
            field="x1, n1, x2, n2",
            value=[list(a_), list(m1_), list(c_), list(m2_)],
        )
    endog = np.column_stack([successes, trials - successes])[keep]
    model = sm.GLM(endog, design[keep], family=sm.families.Binomial())
    with warnings.catch_warnings():
        # a saturated model (one stratum) fits the observed proportions exactly, which
        # statsmodels flags as "perfect prediction"; true separation is caught below
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = model.fit(tol=1e-12, tol_criterion="params", maxiter=200)
    beta, se = float(fit.params[1]), float(fit.bse[1])
    if not (math.isfinite(beta) and math.isfinite(se)) or abs(beta) > 30:
        raise InputError(
            "logistic regression did not converge to a finite arm effect (separation: an arm "
            "with all or no responders); use the exact odds ratio",
            field="x1, n1, x2, n2",
            value=[list(a_), list(m1_), list(c_), list(m2_)],
        )
    estimate, lower, upper, p_value = log_wald_interval(beta, se, conf_level)
    return OddsRatio(
        x1=a_,
        n1=m1_,
        x2=c_,
        n2=m2_,
        estimate=estimate,
        lower=lower,
        upper=upper,
        p_value=p_value,
        test="Wald z on the arm coefficient",
        method="logistic",
        **_reporting(conf_level, digits, profile),
        statistic=beta / se,
    )
