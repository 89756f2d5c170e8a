"""Single-arm time-to-event designs against a historical control: sample size and power.

The experimental arm's survival is compared with a fixed historical curve. Both curves are
Weibull with a common shape ``k`` (exponential when ``k = 1``) and are given by their medians
``median0`` (historical, null) and ``median1`` (alternative); the hazard ratio
(alternative / null) is ``hr = (median0 / median1) ** k``. Patients enter uniformly over
``[0, accrual]`` and the analysis is at ``accrual + follow_up``, so a patient entering at
``s`` is administratively censored at ``accrual + follow_up - s``; the censoring survival
function is
``G(u) = 1`` for ``u <= follow_up`` and ``(accrual + follow_up - u) / accrual`` after.

Methods (``method=``):

* ``"exponential_normal"``: Wald test of the log exponential hazard; with ``d`` events
  ``log(lambda_hat)`` is approximately normal with variance ``1/d``, so
  ``d = (z_a + z_b)^2 / log(hr)^2`` and ``n = d / P(event | alternative)``
  (Lawless, *Statistical Models and Methods for Lifetime Data*, 2nd ed. 2003, sec. 2.2).
* ``"exponential_exact"``: the exact test on the total time on study ``T``: given ``d``
  events ``2 lambda T`` is chi-square with ``2d`` degrees of freedom (Epstein & Sobel 1953;
  Lawless 2003, sec. 2.2.1); ``d`` is the smallest number of events whose exact power reaches
  the target, and ``n = d / P(event | alternative)``.
* ``"one_sample_logrank"``: the one-sample log-rank test (Finkelstein, Muzikansky &
  Schoenfeld, *J Natl Cancer Inst* 2003;95:1434-1439) with the sample size formula of Wu
  (*Pharm Stat* 2015;14:26-33): ``n = (sqrt(p0) z_a + sigma z_b)^2 / (p1 - p0)^2``.
* ``"km_landmark"``: the test of the Kaplan-Meier survival rate at a landmark time, on the
  identity, log, log-log, logit or arcsine-square-root scale, with the large-sample
  variance ``S(t)^2 * int_0^t lambda(u) / (S(u) G(u)) du / n`` (Fleming & Harrington 1991,
  Example 6.3.1) and the sample size formula of Nagashima, Noma, Sato & Gosho
  (*Pharm Stat* 2021;20:499-511): ``n = (z_a sigma0 + z_b sigma1)^2 / (g(S1) - g(S0))^2``
  (``variance="null_alt"``), or the simpler ``(z_a + z_b)^2 sigma0^2 / (g(S1) - g(S0))^2``
  (``variance="null"``).

``z_a`` is ``z_{1 - alpha/2}`` for a two-sided test (``sides=2``) and ``z_{1 - alpha}`` for a
one-sided test; power is that of the test in the direction of the alternative.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import integrate, stats

from oncotrial.design import _tte_inputs as check
from oncotrial.design.accrual import inflate
from oncotrial.errors import InputError
from oncotrial.results import Result

Method = Literal["exponential_normal", "exponential_exact", "one_sample_logrank", "km_landmark"]
Transform = Literal["identity", "log", "loglog", "logit", "arcsine"]
METHODS: tuple[str, ...] = (
    "exponential_normal",
    "exponential_exact",
    "one_sample_logrank",
    "km_landmark",
)
TRANSFORMS: tuple[str, ...] = ("identity", "log", "loglog", "logit", "arcsine")
VARIANCES: tuple[str, ...] = ("null_alt", "null")

_METHOD_TEXT = {
    "exponential_normal": "the Wald test of the exponential hazard on the log scale (Lawless 2003)",
    "exponential_exact": "the exact chi-square test of the exponential hazard based on the total "
    "time on study (Epstein & Sobel 1953; Lawless 2003)",
    "one_sample_logrank": "the one-sample log-rank test (Finkelstein et al. 2003) with the sample "
    "size formula of Wu (2015)",
    "km_landmark": "the test of the Kaplan-Meier survival rate at {landmark:g} months on the "
    "{transform} scale (sample size formula of Nagashima et al. 2021)",
}


@dataclass(frozen=True)
class Scenario:
    """The survival model of a single-arm design (see the module docstring)."""

    median0: float
    median1: float
    accrual: float
    follow_up: float
    shape: float = 1.0

    @property
    def hazard_ratio(self) -> float:
        return (self.median0 / self.median1) ** self.shape

    @property
    def study_end(self) -> float:
        return self.accrual + self.follow_up

    def cumulative_hazard(self, t: Any, median: float) -> Any:
        return math.log(2.0) * (np.asarray(t, dtype=float) / median) ** self.shape

    def hazard(self, t: float, median: float) -> float:
        if t <= 0.0:
            return (
                math.log(2.0) / median
                if self.shape == 1.0
                else (0.0 if self.shape > 1.0 else math.inf)
            )
        return float(self.shape * math.log(2.0) * t ** (self.shape - 1.0) / median**self.shape)

    def survival(self, t: Any, median: float) -> Any:
        return np.exp(-self.cumulative_hazard(t, median))

    def censoring_survival(self, u: float) -> float:
        if u <= self.follow_up:
            return 1.0
        if self.accrual == 0.0:
            return 0.0
        return max(0.0, (self.study_end - u) / self.accrual)

    def _average(self, integrand: Any) -> float:
        """``int_0^end G(u) * integrand(u) du``, split at the follow-up kink of ``G``."""
        first = (
            integrate.quad(integrand, 0.0, self.follow_up, limit=200)[0]
            if self.follow_up > 0
            else 0.0
        )
        second = 0.0
        if self.accrual > 0:
            second = integrate.quad(
                lambda u: self.censoring_survival(u) * integrand(u),
                self.follow_up,
                self.study_end,
                limit=200,
            )[0]
        return first + second

    def event_probability(self, median: float) -> float:
        """P(an enrolled patient has an observed event by the analysis) under ``median``."""
        return self._average(lambda u: self.hazard(u, median) * float(self.survival(u, median)))


def _z_alpha(alpha: float, sides: int) -> float:
    return float(stats.norm.ppf(1.0 - alpha / sides))


def _wu_moments(sc: Scenario) -> tuple[float, float, float]:
    """Wu (2015): ``p0 = E[Lambda0(X)]``, ``p1 = E[delta]`` and the alternative SD ``sigma``.

    Expectations are under the alternative with the design's censoring; ``p0`` is the
    expected null cumulative hazard (the log-rank "expected" count per patient), ``p1`` the
    probability of an observed event, ``p00 = E[int Lambda0 dLambda0]`` and ``p01`` its
    analogue under the alternative hazard.
    """
    m0, m1 = sc.median0, sc.median1

    def s1(u: float) -> float:
        return float(sc.survival(u, m1))

    p0 = sc._average(lambda u: s1(u) * sc.hazard(u, m0))
    p00 = sc._average(lambda u: s1(u) * float(sc.cumulative_hazard(u, m0)) * sc.hazard(u, m0))
    delta = sc.hazard_ratio  # alternative hazard / null hazard
    p1, p01 = delta * p0, delta * p00
    var = p1 - p1**2 + 2.0 * p00 - p0**2 - 2.0 * p01 + 2.0 * p0 * p1
    return p0, p1, math.sqrt(var)


def _km_variance(sc: Scenario, landmark: float, median: float) -> float:
    """``n Var(S_hat(t))``: ``S(t)^2 int_0^t lambda(u) / (S(u) G(u)) du`` (Fleming-Harrington)."""

    def integrand(u: float) -> float:
        return sc.hazard(u, median) / (float(sc.survival(u, median)) * sc.censoring_survival(u))

    points = [sc.follow_up] if 0 < sc.follow_up < landmark else None
    value = integrate.quad(integrand, 0.0, landmark, points=points, limit=200)[0]
    return float(sc.survival(landmark, median)) ** 2 * value


def transform_value(s: float, transform: str) -> tuple[float, float]:
    """``g(S)`` and ``g'(S)`` for the KM transforms (log-log: ``log(-log S)``)."""
    check.one_of(transform, TRANSFORMS, "transform")
    if transform == "identity":
        return s, 1.0
    if transform == "log":
        return math.log(s), 1.0 / s
    if transform == "loglog":
        return math.log(-math.log(s)), 1.0 / (s * math.log(s))
    if transform == "logit":
        return math.log(s / (1.0 - s)), 1.0 / (s * (1.0 - s))
    return math.asin(math.sqrt(s)), 0.5 / math.sqrt(s * (1.0 - s))  # arcsine


def _km_terms(sc: Scenario, landmark: float, transform: str) -> tuple[float, float, float]:
    """Effect ``|g(S1) - g(S0)|`` and the SDs ``sigma0``, ``sigma1`` of ``sqrt(n) g(S_hat)``."""
    g0, d0 = transform_value(float(sc.survival(landmark, sc.median0)), transform)
    g1, d1 = transform_value(float(sc.survival(landmark, sc.median1)), transform)
    sigma0 = abs(d0) * math.sqrt(_km_variance(sc, landmark, sc.median0))
    sigma1 = abs(d1) * math.sqrt(_km_variance(sc, landmark, sc.median1))
    return abs(g1 - g0), sigma0, sigma1


def _exact_events(hr: float, alpha: float, sides: int, power: float) -> tuple[int, float]:
    """Smallest events ``d`` whose exact chi-square test has the power; and that power."""
    for d in range(1, 100_000):
        achieved = _exact_power(d, hr, alpha, sides)
        if achieved >= power:
            return d, achieved
    raise InputError(
        "no number of events up to 100000 reaches the requested power",
        argument="power",
        value=power,
    )


def _exact_power(d: int, hr: float, alpha: float, sides: int) -> float:
    """Power of the exact test with ``d`` events: ``2 lambda T ~ chi2(2d)``.

    ``hr`` is alternative hazard / null hazard (< 1 when the experimental arm lives longer).
    Longer survival means a larger total time ``T``: reject when ``2 lambda0 T`` exceeds its
    upper ``alpha/sides`` quantile; under the alternative ``2 lambda0 T = chi2(2d) / hr``.
    """
    a = alpha / sides
    if hr < 1.0:
        return float(stats.chi2.sf(stats.chi2.isf(a, 2 * d) * hr, 2 * d))
    return float(stats.chi2.cdf(stats.chi2.ppf(a, 2 * d) * hr, 2 * d))


@dataclass(frozen=True)
class SingleArmSurvivalDesign(Result):
    """Sample size of a single-arm time-to-event design against a historical control.

    ``n`` is the number of evaluable patients (``n_exact`` before rounding up); ``events`` the
    expected number of events under the alternative (for the exponential methods, the required
    events); ``n_enrolled`` the patients to enrol after inflating ``n`` for ``dropout``.
    """

    method: str
    median0: float
    median1: float
    hazard_ratio: float
    alpha: float
    sides: int
    power: float
    accrual: float
    follow_up: float
    shape: float
    landmark: float | None
    transform: str | None
    variance: str | None
    n_exact: float
    n: int
    events: float
    event_probability: float
    achieved_power: float
    dropout: float
    inflation: str
    n_enrolled: int

    def protocol_text(self) -> str:
        """The sample-size paragraph for a protocol."""
        method = _METHOD_TEXT[self.method].format(
            landmark=self.landmark or 0.0, transform=self.transform
        )
        dist = "exponential" if self.shape == 1.0 else f"Weibull (shape {self.shape:g})"
        text = (
            f"Assuming {dist} survival, a median of {self.median0:g} months with the historical "
            f"control and {self.median1:g} months with the study treatment (hazard ratio "
            f"{self.hazard_ratio:.3f}), uniform accrual over {self.accrual:g} months and "
            f"{self.follow_up:g} months of follow-up after the last patient is enrolled, "
            f"{self.n} evaluable patients (about {self.events:.1f} events) give "
            f"{100 * self.power:g}% power (achieved {100 * self.achieved_power:.1f}%) at a "
            f"{'two' if self.sides == 2 else 'one'}-sided significance level of "
            f"{100 * self.alpha:g}% using {method}."
        )
        if self.dropout > 0:
            rule = (
                f"{self.n} x {1 + self.dropout:g}"
                if self.inflation == "multiply"
                else f"{self.n} / {1 - self.dropout:g}"
            )
            text += (
                f" Allowing {100 * self.dropout:g}% of patients to be inevaluable, "
                f"{self.n_enrolled} patients will be enrolled ({rule}, rounded up)."
            )
        return text

    def spec_block(self) -> dict[str, Any]:
        """The inputs as a trial spec ``design:`` block."""
        block: dict[str, Any] = {
            "type": "single-arm-survival",
            "method": self.method,
            "median_control_months": self.median0,
            "median_experimental_months": self.median1,
            "alpha": self.alpha,
            "sides": self.sides,
            "power": self.power,
            "accrual_months": self.accrual,
            "follow_up_months": self.follow_up,
            "shape": self.shape,
            "inevaluable_fraction": self.dropout,
            "inflation": self.inflation,
        }
        if self.method == "km_landmark":
            block.update(
                landmark_months=self.landmark, transform=self.transform, variance=self.variance
            )
        return block

    def summary(self) -> str:
        return (
            f"Single-arm survival design ({self.method}): n = {self.n} evaluable "
            f"(n exact {self.n_exact:.3f}), enrol {self.n_enrolled}; expected events "
            f"{self.events:.2f}, achieved power {self.achieved_power:.4f}\n" + self.protocol_text()
        )


def _scenario(
    median0: object, median1: object, accrual: object, follow_up: object, shape: object
) -> Scenario:
    m0 = check.positive(median0, "median0")
    m1 = check.positive(median1, "median1")
    if m0 == m1:
        raise InputError(
            f"median1 = {m1!r} equals median0; the alternative median must differ "
            "from the historical one",
            argument="median1",
            value=m1,
            valid="median1 != median0",
        )
    acc = check.non_negative(accrual, "accrual")
    fu = check.non_negative(follow_up, "follow_up")
    if acc + fu <= 0:
        raise InputError(
            "accrual + follow_up must be > 0",
            argument="follow_up",
            value=fu,
            valid="accrual + follow_up > 0",
        )
    return Scenario(m0, m1, acc, fu, check.positive(shape, "shape"))


def _landmark(value: object, sc: Scenario) -> float:
    if value is None:
        raise InputError(
            "landmark is required for method 'km_landmark'",
            argument="landmark",
            value=None,
            valid=f"0 < landmark < {sc.study_end:g}",
        )
    t = check.positive(value, "landmark")
    if t >= sc.study_end:
        raise InputError(
            f"landmark = {t!r} is invalid; it must be before the end of the study "
            f"(accrual + follow_up = {sc.study_end:g})",
            argument="landmark",
            value=t,
            valid=f"0 < landmark < {sc.study_end:g}",
        )
    return t


def _power_at(
    n: float,
    method: str,
    sc: Scenario,
    alpha: float,
    sides: int,
    landmark: float | None,
    transform: str,
    variance: str,
) -> float:
    """Power of ``method`` with ``n`` evaluable patients."""
    za = _z_alpha(alpha, sides)
    if method == "exponential_normal":
        d = n * sc.event_probability(sc.median1)
        return float(stats.norm.cdf(math.sqrt(d) * abs(math.log(sc.hazard_ratio)) - za))
    if method == "exponential_exact":
        d = math.floor(n * sc.event_probability(sc.median1) + 1e-9)
        return _exact_power(d, sc.hazard_ratio, alpha, sides) if d >= 1 else 0.0
    if method == "one_sample_logrank":
        p0, p1, sigma = _wu_moments(sc)
        return float(stats.norm.cdf((math.sqrt(n) * abs(p1 - p0) - math.sqrt(p0) * za) / sigma))
    assert landmark is not None
    effect, s0, s1 = _km_terms(sc, landmark, transform)
    if variance == "null":
        return float(stats.norm.cdf(math.sqrt(n) * effect / s0 - za))
    return float(stats.norm.cdf((math.sqrt(n) * effect - za * s0) / s1))


def _n_exact(
    method: str,
    sc: Scenario,
    alpha: float,
    sides: int,
    power: float,
    landmark: float | None,
    transform: str,
    variance: str,
) -> tuple[float, float]:
    """Unrounded sample size and the expected (or required) number of events."""
    za, zb = _z_alpha(alpha, sides), float(stats.norm.ppf(power))
    p_event = sc.event_probability(sc.median1)
    if method == "exponential_normal":
        d = (za + zb) ** 2 / math.log(sc.hazard_ratio) ** 2
        return d / p_event, d
    if method == "exponential_exact":
        d_int, _ = _exact_events(sc.hazard_ratio, alpha, sides, power)
        return d_int / p_event, float(d_int)
    if method == "one_sample_logrank":
        p0, p1, sigma = _wu_moments(sc)
        n = (math.sqrt(p0) * za + sigma * zb) ** 2 / (p1 - p0) ** 2
        return n, n * p1
    assert landmark is not None
    effect, s0, s1 = _km_terms(sc, landmark, transform)
    n = (
        ((za + zb) * s0 / effect) ** 2
        if variance == "null"
        else ((za * s0 + zb * s1) / effect) ** 2
    )
    return n, n * p_event


def _check_choices(method: object, transform: object, variance: object) -> None:
    check.one_of(method, METHODS, "method")
    check.one_of(transform, TRANSFORMS, "transform")
    check.one_of(variance, VARIANCES, "variance")


def single_arm_survival(
    median0: float,
    median1: float,
    *,
    accrual: float,
    follow_up: float,
    alpha: float = 0.05,
    power: float = 0.8,
    sides: int = 2,
    method: str = "one_sample_logrank",
    shape: float = 1.0,
    landmark: float | None = None,
    transform: str = "arcsine",
    variance: str = "null_alt",
    dropout: float = 0.0,
    inflation: str = "multiply",
) -> SingleArmSurvivalDesign:
    """Evaluable patients for a single-arm time-to-event design (see the module docstring).

    Args:
        median0, median1: historical (null) and expected (alternative) medians, same unit as
            ``accrual``, ``follow_up`` and ``landmark`` (months in the protocol text).
        accrual, follow_up: uniform accrual duration and follow-up after the last entry.
        alpha, sides: significance level and 1- or 2-sided test.
        power: target power, above ``alpha / sides``.
        method: ``exponential_normal``, ``exponential_exact``, ``one_sample_logrank`` or
            ``km_landmark``.
        shape: Weibull shape (1 = exponential); only ``one_sample_logrank`` and
            ``km_landmark`` allow shapes other than 1.
        landmark, transform, variance: for ``km_landmark`` only.
        dropout, inflation: fraction inevaluable and how ``n`` is inflated for it.
    """
    a, s, pw = check.test_levels(alpha, sides, power)
    _check_choices(method, transform, variance)
    sc = _scenario(median0, median1, accrual, follow_up, shape)
    if method.startswith("exponential") and sc.shape != 1.0:
        raise InputError(
            f"shape = {sc.shape!r} is invalid for method {method!r}; the "
            "exponential tests need shape 1",
            argument="shape",
            value=sc.shape,
            valid="1",
        )
    t = _landmark(landmark, sc) if method == "km_landmark" else None
    n_raw, events = _n_exact(method, sc, a, s, pw, t, transform, variance)
    n = math.ceil(n_raw - 1e-9)
    achieved = _power_at(n, method, sc, a, s, t, transform, variance)
    if method == "one_sample_logrank" or method == "km_landmark":
        events = n * sc.event_probability(sc.median1)
    n_enrolled = inflate(n, dropout, inflation, "dropout")
    is_km = method == "km_landmark"
    return SingleArmSurvivalDesign(
        method=method,
        median0=sc.median0,
        median1=sc.median1,
        hazard_ratio=sc.hazard_ratio,
        alpha=a,
        sides=s,
        power=pw,
        accrual=sc.accrual,
        follow_up=sc.follow_up,
        shape=sc.shape,
        landmark=t,
        transform=transform if is_km else None,
        variance=variance if is_km else None,
        n_exact=n_raw,
        n=n,
        events=events,
        event_probability=sc.event_probability(sc.median1),
        achieved_power=achieved,
        dropout=float(dropout),
        inflation=inflation,
        n_enrolled=n_enrolled,
    )


def single_arm_survival_power(
    n: int,
    median0: float,
    median1: float,
    *,
    accrual: float,
    follow_up: float,
    alpha: float = 0.05,
    sides: int = 2,
    method: str = "one_sample_logrank",
    shape: float = 1.0,
    landmark: float | None = None,
    transform: str = "arcsine",
    variance: str = "null_alt",
) -> float:
    """Power of a single-arm time-to-event design with ``n`` evaluable patients."""
    a = check.alpha(alpha)
    s = check.sides(sides)
    _check_choices(method, transform, variance)
    whole = check.whole_number(n, "n", 1)
    sc = _scenario(median0, median1, accrual, follow_up, shape)
    t = _landmark(landmark, sc) if method == "km_landmark" else None
    return _power_at(whole, method, sc, a, s, t, transform, variance)


def compare_methods(
    median0: float,
    median1: float,
    *,
    accrual: float,
    follow_up: float,
    alpha: float = 0.05,
    power: float = 0.8,
    sides: int = 2,
    landmark: float | None = None,
) -> list[SingleArmSurvivalDesign]:
    """The same scenario under every method (and every KM transform when ``landmark`` given)."""
    design = functools.partial(
        single_arm_survival,
        median0,
        median1,
        accrual=accrual,
        follow_up=follow_up,
        alpha=alpha,
        power=power,
        sides=sides,
    )
    out = [
        design(method=m) for m in ("exponential_normal", "exponential_exact", "one_sample_logrank")
    ]
    if landmark is not None:
        out += [design(method="km_landmark", landmark=landmark, transform=tr) for tr in TRANSFORMS]
    return out


def from_spec_block(block: dict[str, Any]) -> SingleArmSurvivalDesign:
    """A design from a trial spec ``design:`` block of type ``single-arm-survival``."""

    def get(key: str, default: Any = None) -> Any:
        if key not in block and default is None:
            raise InputError(
                f"design block: {key!r} is required for single-arm-survival", argument=key
            )
        return block.get(key, default)

    return single_arm_survival(
        get("median_control_months"),
        get("median_experimental_months"),
        accrual=get("accrual_months"),
        follow_up=get("follow_up_months"),
        alpha=get("alpha", 0.05),
        power=get("power", 0.8),
        sides=get("sides", 2),
        method=get("method", "one_sample_logrank"),
        shape=get("shape", 1.0),
        landmark=block.get("landmark_months"),
        transform=get("transform", "arcsine"),
        variance=get("variance", "null_alt"),
        dropout=get("inevaluable_fraction", 0.0),
        inflation=get("inflation", "multiply"),
    )
