"""Required events for a two-arm log-rank comparison, and the inverse problems.

Two normal approximations of the log-rank statistic are offered, with allocation ratio
``r = n_experimental / n_control`` and ``z = z_{1-alpha/sides} + z_{power}``:

* **Schoenfeld** (Biometrika 1981;68:316-319): ``D = z^2 (1 + r)^2 / (r ln(HR)^2)``.
* **Freedman** (Stat Med 1982;1:121-129): ``D = z^2 (1 + r HR)^2 / (r (1 - HR)^2)``.

Both match rpact ``getSampleSizeSurvival(typeOfComputation = "Schoenfeld" / "Freedman")``.
The inverses solve the same equation for power at ``D`` events, or for the hazard ratio
detectable at ``D`` events (the one below 1, i.e. a benefit of the experimental arm, unless
``benefit="above"``). Two-sided power counts the rejection region on the side of the effect
only, as the sample-size formulas do (the other tail adds < alpha/2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from scipy.stats import norm

from oncotrial.design import _tte_inputs as check
from oncotrial.errors import InputError
from oncotrial.results import Result

Method = Literal["schoenfeld", "freedman"]
METHODS: tuple[str, ...] = ("schoenfeld", "freedman")


def _test_words(alpha: float, sides: int) -> str:
    kind = "two-sided" if sides == 2 else "one-sided"
    return f"a {kind} log-rank test at alpha {alpha:g}"


def _ratio_words(ratio: float) -> str:
    if ratio == 1:
        return "With 1:1 allocation"
    as_int = round(ratio)
    text = f"{as_int}:1" if math.isclose(ratio, as_int) else f"{ratio:g}:1"
    return f"With a {text} allocation (experimental:control)"


def _effect_size(hr: float, ratio: float, method: str) -> float:
    """The standardised effect per sqrt(event): ``sqrt(D) * effect = z``."""
    if method == "schoenfeld":
        return abs(math.log(hr)) * math.sqrt(ratio) / (1.0 + ratio)
    return abs(1.0 - hr) * math.sqrt(ratio) / (1.0 + ratio * hr)


@dataclass(frozen=True)
class RequiredEvents(Result):
    """Events needed for a fixed-sample (single-analysis) log-rank test."""

    method: str
    hr: float
    alpha: float
    sides: int
    power: float
    ratio: float
    z_alpha: float
    z_beta: float
    events_exact: float
    events: int

    def protocol_text(self) -> str:
        name = "Schoenfeld" if self.method == "schoenfeld" else "Freedman"
        return (
            f"{_ratio_words(self.ratio)}, {self.events} events give {self.power:.0%} power to "
            f"detect a hazard ratio of {self.hr:g} with {_test_words(self.alpha, self.sides)} "
            f"({name} approximation; {self.events_exact:.2f} events before rounding up)."
        )

    def spec_block(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "hr": self.hr,
            "alpha": self.alpha,
            "sides": self.sides,
            "power": self.power,
            "ratio": self.ratio,
        }

    def summary(self) -> str:
        return (
            f"RequiredEvents: {self.events} events ({self.events_exact:.4f})\n"
            + self.protocol_text()
        )


def required_events(
    hr: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    sides: int = 2,
    ratio: float = 1.0,
    method: str = "schoenfeld",
) -> RequiredEvents:
    """Events for a log-rank test to detect ``hr`` (see module docstring for the formulas).

    ``events`` is ``events_exact`` rounded up (a design never rounds events down).
    """
    hr = check.hazard_ratio(hr)
    a, s, p = check.test_levels(alpha, sides, power)
    r = check.positive(ratio, "ratio")
    m = check.one_of(method, METHODS, "method", fold_case=True)
    z_a = float(norm.isf(a / s))
    z_b = float(norm.ppf(p))
    exact = ((z_a + z_b) / _effect_size(hr, r, m)) ** 2
    return RequiredEvents(m, hr, a, s, p, r, z_a, z_b, exact, math.ceil(exact - 1e-9))


@dataclass(frozen=True)
class PowerAtEvents(Result):
    """Power of the log-rank test after ``events`` events."""

    method: str
    hr: float
    alpha: float
    sides: int
    ratio: float
    events: float
    power: float

    def protocol_text(self) -> str:
        return (
            f"{_ratio_words(self.ratio)}, {self.events:g} events give {self.power:.1%} power "
            f"to detect a hazard ratio of {self.hr:g} with "
            f"{_test_words(self.alpha, self.sides)} ({self.method.capitalize()} "
            "approximation)."
        )

    def spec_block(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "hr": self.hr,
            "alpha": self.alpha,
            "sides": self.sides,
            "ratio": self.ratio,
            "events": self.events,
        }


def power_at_events(
    events: float,
    hr: float,
    *,
    alpha: float = 0.05,
    sides: int = 2,
    ratio: float = 1.0,
    method: str = "schoenfeld",
) -> PowerAtEvents:
    """``Phi(sqrt(D) * effect - z_{1-alpha/sides})``, the inverse of :func:`required_events`."""
    d = check.positive(events, "events")
    hr = check.hazard_ratio(hr)
    a = check.alpha(alpha)
    s = check.sides(sides)
    r = check.positive(ratio, "ratio")
    m = check.one_of(method, METHODS, "method", fold_case=True)
    pw = float(norm.cdf(math.sqrt(d) * _effect_size(hr, r, m) - norm.isf(a / s)))
    return PowerAtEvents(m, hr, a, s, r, d, pw)


@dataclass(frozen=True)
class DetectableHazardRatio(Result):
    """The hazard ratio detectable with the given power after ``events`` events."""

    method: str
    alpha: float
    sides: int
    power: float
    ratio: float
    events: float
    hr: float

    def protocol_text(self) -> str:
        return (
            f"{_ratio_words(self.ratio)}, {self.events:g} events give {self.power:.0%} "
            f"power to detect a hazard ratio of {self.hr:.3f} with "
            f"{_test_words(self.alpha, self.sides)} ({self.method.capitalize()} "
            "approximation)."
        )

    def spec_block(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "alpha": self.alpha,
            "sides": self.sides,
            "power": self.power,
            "ratio": self.ratio,
            "events": self.events,
        }


def detectable_hr(
    events: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    sides: int = 2,
    ratio: float = 1.0,
    method: str = "schoenfeld",
    benefit: Literal["below", "above"] = "below",
) -> DetectableHazardRatio:
    """Solve the events equation for HR (below 1 by default; ``benefit="above"`` for > 1)."""
    d = check.positive(events, "events")
    a, s, p = check.test_levels(alpha, sides, power)
    r = check.positive(ratio, "ratio")
    m = check.one_of(method, METHODS, "method", fold_case=True)
    check.one_of(benefit, ("below", "above"), "benefit")
    k = (float(norm.isf(a / s)) + float(norm.ppf(p))) / math.sqrt(d * r)
    if m == "schoenfeld":
        log_hr = k * (1.0 + r)
        hr = math.exp(-log_hr if benefit == "below" else log_hr)
    elif benefit == "below":
        hr = (1.0 - k) / (1.0 + r * k)  # sqrt(D r)(1 - HR) / (1 + r HR) = z
        if hr <= 0.0:
            raise InputError(
                f"events = {d:g} are too few: no hazard ratio > 0 reaches "
                f"{p:.0%} power with the Freedman formula",
                argument="events",
                value=d,
            )
    else:
        if r * k >= 1.0:
            raise InputError(
                f"events = {d:g} are too few: no hazard ratio above 1 reaches "
                f"{p:.0%} power with the Freedman formula",
                argument="events",
                value=d,
            )
        hr = (1.0 + k) / (1.0 - r * k)  # sqrt(D r)(HR - 1) / (1 + r HR) = z
    return DetectableHazardRatio(m, a, s, p, r, d, hr)
