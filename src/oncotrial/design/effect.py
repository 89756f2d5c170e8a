"""The effect a time-to-event design targets, and the survival model behind it.

A two-arm design needs a hazard ratio (experimental : control); to turn events into
patients it also needs the control arm's survival distribution. Both come from one of:

* a hazard ratio (and, for patients, a control median);
* two medians, under exponential survival: ``hazard = ln 2 / median``, so
  ``HR = median_control / median_experimental``;
* two landmark rates ``S(t0)``, under exponential survival: ``hazard = -ln S(t0) / t0``;
* piecewise-exponential hazards for each arm on common intervals, under proportional
  hazards (the ratio must be the same on every interval).

Source: Collett, *Modelling Survival Data in Medical Research*, 3rd ed., sec. 5.1 (exponential
and piecewise-exponential models); rpact ``getPiecewiseSurvivalTime`` uses the same model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from oncotrial.design import _tte_inputs as check
from oncotrial.errors import InputError
from oncotrial.results import Result

LN2 = math.log(2.0)


@dataclass(frozen=True)
class PiecewiseExponential(Result):
    """Survival with hazard ``hazards[j]`` on ``[starts[j], starts[j+1])`` (last open-ended)."""

    starts: tuple[float, ...]
    hazards: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.starts) != len(self.hazards) or not self.starts:
            raise InputError(
                "piecewise hazards: give one start time per hazard",
                argument="hazards",
                valid="as many start times as hazards",
            )
        if self.starts[0] != 0.0:
            raise InputError(
                f"piecewise hazards: the first interval must start at 0, not {self.starts[0]!r}",
                argument="starts",
                value=self.starts[0],
            )
        if any(b <= a for a, b in zip(self.starts, self.starts[1:], strict=False)):
            raise InputError(
                "piecewise hazards: interval starts must be strictly increasing",
                argument="starts",
                value=list(self.starts),
            )
        for j, h in enumerate(self.hazards):
            check.non_negative(h, f"hazards[{j}]")

    @classmethod
    def exponential(cls, hazard: float) -> PiecewiseExponential:
        return cls((0.0,), (check.positive(hazard, "hazard"),))

    @property
    def is_exponential(self) -> bool:
        return len(self.hazards) == 1

    def cumulative_hazard(self, t: Any) -> np.ndarray:
        """``H(t) = sum_j hazards[j] * |[starts[j], starts[j+1]) ∩ [0, t)|``."""
        t = np.asarray(t, dtype=float)
        starts = np.asarray(self.starts)
        ends = np.append(starts[1:], np.inf)
        exposure = np.clip(t[..., None] - starts, 0.0, ends - starts)
        return np.asarray(exposure @ np.asarray(self.hazards))

    def survival(self, t: Any) -> np.ndarray:
        return np.exp(-self.cumulative_hazard(t))

    def hazard(self, t: Any) -> np.ndarray:
        idx = np.searchsorted(np.asarray(self.starts), np.asarray(t, dtype=float), side="right")
        return np.asarray(self.hazards)[idx - 1]

    def median(self) -> float:
        """Time at which ``S(t) = 0.5`` (inf if the hazards never reach ln 2)."""
        target = LN2
        cum = 0.0
        ends = [*self.starts[1:], math.inf]
        for start, end, h in zip(self.starts, ends, self.hazards, strict=True):
            gain = h * (end - start)
            if cum + gain >= target:
                return start + (target - cum) / h
            cum += gain
        return math.inf

    def scaled(self, hr: float) -> PiecewiseExponential:
        """The same model with every hazard multiplied by ``hr`` (proportional hazards)."""
        return PiecewiseExponential(self.starts, tuple(h * hr for h in self.hazards))


def hazard_from_median(median: float, name: str = "median") -> float:
    """Exponential hazard with this median: ``ln 2 / median``."""
    return LN2 / check.positive(median, name)


def hazard_from_rate(rate: float, landmark: float, name: str = "rate") -> float:
    """Exponential hazard with ``S(landmark) = rate``: ``-ln(rate) / landmark``."""
    return -math.log(check.probability_open(rate, name)) / check.positive(landmark, "landmark")


@dataclass(frozen=True)
class Effect(Result):
    """The targeted hazard ratio and, when known, the control arm's survival model."""

    hr: float
    source: str
    control: PiecewiseExponential | None = None
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def experimental(self) -> PiecewiseExponential | None:
        return None if self.control is None else self.control.scaled(self.hr)


def effect_from(
    *,
    hr: float | None = None,
    median_control: float | None = None,
    median_experimental: float | None = None,
    rate_control: float | None = None,
    rate_experimental: float | None = None,
    landmark: float | None = None,
    hazards_control: Sequence[float] | None = None,
    hazards_experimental: Sequence[float] | None = None,
    starts: Sequence[float] | None = None,
) -> Effect:
    """Build the :class:`Effect` from exactly one way of stating it (see module docstring).

    ``hr`` may be combined with ``median_control`` (or ``rate_control`` and ``landmark``, or
    ``hazards_control``) to give the control model for converting events into patients.
    """
    inputs = {
        k: v
        for k, v in {
            "hr": hr,
            "median_control": median_control,
            "median_experimental": median_experimental,
            "rate_control": rate_control,
            "rate_experimental": rate_experimental,
            "landmark": landmark,
            "hazards_control": hazards_control,
            "hazards_experimental": hazards_experimental,
            "starts": starts,
        }.items()
        if v is not None
    }
    control = _control_model(median_control, rate_control, landmark, hazards_control, starts)
    if hr is not None:
        if (
            median_experimental is not None
            or rate_experimental is not None
            or hazards_experimental is not None
        ):
            raise InputError(
                "give the hazard ratio (hr) or the experimental arm's median/rate/"
                "hazards, not both",
                argument="hr",
                value=hr,
            )
        return Effect(check.hazard_ratio(hr), "hazard ratio", control, inputs)
    if median_experimental is not None:
        if median_control is None:
            raise InputError("median_experimental needs median_control", argument="median_control")
        ratio = check.positive(median_control, "median_control") / check.positive(
            median_experimental, "median_experimental"
        )
        return Effect(
            check.hazard_ratio(ratio, "hr (median_control / median_experimental)"),
            "medians (exponential)",
            control,
            inputs,
        )
    if rate_experimental is not None:
        if rate_control is None or landmark is None:
            raise InputError(
                "rate_experimental needs rate_control and landmark", argument="rate_control"
            )
        ratio = hazard_from_rate(
            rate_experimental, landmark, "rate_experimental"
        ) / hazard_from_rate(rate_control, landmark, "rate_control")
        return Effect(
            check.hazard_ratio(ratio, "hr (from landmark rates)"),
            "landmark rates (exponential)",
            control,
            inputs,
        )
    if hazards_experimental is not None:
        assert control is not None or hazards_control is None
        if control is None:
            raise InputError(
                "hazards_experimental needs hazards_control", argument="hazards_control"
            )
        experimental = PiecewiseExponential(
            control.starts,
            tuple(
                check.positive(h, f"hazards_experimental[{j}]")
                for j, h in enumerate(hazards_experimental)
            ),
        )
        return Effect(_constant_ratio(control, experimental), "piecewise hazards", control, inputs)
    raise InputError(
        "no effect given: give hr, or median_control and median_experimental, or rate_control, "
        "rate_experimental and landmark, or hazards_control and hazards_experimental",
        argument="hr",
    )


def _control_model(
    median: float | None,
    rate: float | None,
    landmark: float | None,
    hazards: Sequence[float] | None,
    starts: Sequence[float] | None,
) -> PiecewiseExponential | None:
    given = [x is not None for x in (median, rate, hazards)]
    if sum(given) > 1:
        raise InputError(
            "give the control arm once: median_control, rate_control or hazards_control",
            argument="median_control",
        )
    if median is not None:
        return PiecewiseExponential.exponential(hazard_from_median(median, "median_control"))
    if rate is not None:
        if landmark is None:
            raise InputError(
                "rate_control needs landmark (the time of the rate)", argument="landmark"
            )
        return PiecewiseExponential.exponential(hazard_from_rate(rate, landmark, "rate_control"))
    if hazards is not None:
        hs = tuple(check.positive(h, f"hazards_control[{j}]") for j, h in enumerate(hazards))
        st = (0.0,) if starts is None and len(hs) == 1 else starts
        if st is None:
            raise InputError(
                "piecewise hazards need starts (the start time of each interval)", argument="starts"
            )
        return PiecewiseExponential(tuple(float(s) for s in st), hs)
    return None


def _constant_ratio(control: PiecewiseExponential, experimental: PiecewiseExponential) -> float:
    if len(experimental.hazards) != len(control.hazards):
        raise InputError(
            "hazards_experimental must have one hazard per control interval",
            argument="hazards_experimental",
            valid=f"{len(control.hazards)} values",
        )
    ratios = [e / c for e, c in zip(experimental.hazards, control.hazards, strict=True)]
    if max(ratios) - min(ratios) > 1e-9 * max(ratios):
        raise InputError(
            f"piecewise hazards give hazard ratios {[round(r, 4) for r in ratios]} that change "
            "over time; the Schoenfeld and Freedman formulas assume proportional hazards",
            argument="hazards_experimental",
            value=list(experimental.hazards),
            valid="hazards proportional to hazards_control",
        )
    return check.hazard_ratio(ratios[0], "hr (from piecewise hazards)")
