"""Event, dropout and accrual rates for event prediction: assumed, or fitted with a gamma posterior.

Fitted hazards are (piecewise-)exponential maximum-likelihood estimates, ``d_j / T_j`` per arm
(or pooled) and per piece ``j`` of time since entry, where ``d_j`` counts events in the piece
and ``T_j`` the time at risk spent in it (the piecewise-exponential MLE; equal to the Poisson
GLM with log time-at-risk offset on data split at the cuts, R ``survival::survSplit`` +
``glm(family = poisson)``, which tests/conformance/r/simulate_predict_rates.R checks).

Parameter uncertainty follows Bagiella & Heitjan (Stat Med 2001;20:2055-2063): with a
Gamma(a, b) prior on an exponential rate, the posterior after ``d`` events in exposure ``T``
is Gamma(a + d, b + T) (shape, rate); the default prior a = b = 0 is their non-informative
choice, so the posterior mean is the MLE ``d / T``. Each simulated trial first draws its
rates from these posteriors, then its future data -- the predictive distribution then
carries both the randomness of future events and the uncertainty of the rates.
The accrual rate is treated the same way: ``n`` subjects entered over ``L`` days of a
Poisson accrual process give the posterior Gamma(a + n, b + L) (Bagiella & Heitjan 2001).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.errors import InputError, describe_value


@dataclass(frozen=True)
class GammaRate:
    """One rate (per day): fixed, or a Gamma(shape, rate) posterior to draw from.

    ``events`` and ``exposure_days`` are the data behind a fitted rate (``None`` when the
    rate was assumed); ``shape``/``rate`` the posterior parameters (``None`` when fixed).
    """

    value_per_day: float
    events: int | None = None
    exposure_days: float | None = None
    shape: float | None = None
    rate: float | None = None

    @property
    def per_month(self) -> float:
        return self.value_per_day * DAYS_PER_MONTH

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws from the posterior (or the fixed value repeated), per day."""
        if self.shape is None or self.rate is None:
            return np.full(size, self.value_per_day)
        return rng.gamma(self.shape, 1.0 / self.rate, size)

    def describe(self) -> dict[str, float | int | None]:
        return {
            "per_month": self.per_month,
            "events": self.events,
            "exposure_months": None
            if self.exposure_days is None
            else self.exposure_days / DAYS_PER_MONTH,
            "posterior_shape": self.shape,
            "posterior_rate_per_month": None if self.rate is None else self.rate / DAYS_PER_MONTH,
        }


def fitted_rate(
    events: int, exposure_days: float, *, what: str, uncertainty: bool, prior: tuple[float, float]
) -> GammaRate:
    """MLE ``events / exposure`` with the Gamma(prior + data) posterior when ``uncertainty``."""
    a, b = prior
    if exposure_days <= 0 or a + events <= 0:
        raise InputError(
            f"cannot fit the {what}: {events} events in {exposure_days / DAYS_PER_MONTH:.3g} "
            "months at risk; give the rate instead, pool the arms, merge time pieces, or use a "
            "proper prior (prior shape > 0)",
            argument=what,
            events=events,
            exposure_days=exposure_days,
        )
    shape, rate = a + events, b + exposure_days
    mle = events / exposure_days if events > 0 else shape / rate
    if not uncertainty:
        return GammaRate(mle, events, exposure_days)
    return GammaRate(mle, events, exposure_days, shape, rate)


def fixed_rate(per_month: object, what: str) -> GammaRate:
    """An assumed rate given per month (finite, >= 0)."""
    value = _number(per_month, what)
    if value < 0:
        raise InputError(
            f"{what} = {describe_value(per_month)} is invalid; a rate must be >= 0 (per month)",
            argument=what,
            value=value,
        )
    return GammaRate(value / DAYS_PER_MONTH)


def _number(value: object, what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number):
        raise InputError(
            f"{what} = {describe_value(value)} is not a finite number",
            argument=what,
            value=str(value),
        )
    return number


def cuts_days(cuts_months: Sequence[float]) -> np.ndarray:
    """Piece boundaries in days (strictly increasing, > 0) from boundaries in months."""
    cuts = np.array([_number(c, "cuts") for c in cuts_months], dtype=float)
    if cuts.size and (cuts[0] <= 0 or np.any(np.diff(cuts) <= 0)):
        raise InputError(
            f"cuts = {list(cuts_months)!r} are invalid; piece boundaries (months since entry) "
            "must be > 0 and strictly increasing",
            argument="cuts",
            value=[float(c) for c in cuts],
        )
    return cuts * DAYS_PER_MONTH


def piece_counts(
    time: np.ndarray, event: np.ndarray, cuts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Events and time at risk (days) in each piece ``(0, c1], (c1, c2], ..., (cK, inf)``."""
    lower = np.concatenate([[0.0], cuts])
    upper = np.concatenate([cuts, [np.inf]])
    exposure = np.clip(time[:, None], lower, upper) - lower
    piece = np.searchsorted(cuts, time, side="left")  # an event exactly at c_j is in piece j
    events = np.bincount(piece[event.astype(bool)], minlength=lower.size)
    return events.astype(np.int64), exposure.sum(axis=0)


@dataclass(frozen=True)
class HazardModel:
    """Piecewise-exponential event hazards for every arm of the data.

    ``rates[a][j]`` is the rate of arm ``arms[a]`` in piece ``j``; with ``pooled`` every arm
    shares the same :class:`GammaRate` objects (one draw per simulated trial for all arms).
    """

    arms: tuple[str, ...]
    cuts_days: np.ndarray
    rates: tuple[tuple[GammaRate, ...], ...]
    source: str  # "fitted" or "assumed"
    pooled: bool

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Hazards per day, shape ``(size, n_arms, n_pieces)``."""
        if self.pooled:
            one = np.stack([r.draw(rng, size) for r in self.rates[0]], axis=-1)
            return np.repeat(one[:, None, :], len(self.arms), axis=1)
        return np.stack(
            [np.stack([r.draw(rng, size) for r in row], axis=-1) for row in self.rates], axis=1
        )

    def describe(self) -> list[dict[str, object]]:
        lower = np.concatenate([[0.0], self.cuts_days]) / DAYS_PER_MONTH
        upper = np.concatenate([self.cuts_days / DAYS_PER_MONTH, [np.inf]])
        names = ("all arms",) if self.pooled else self.arms
        rows: list[dict[str, object]] = []
        for name, row in zip(names, self.rates, strict=False):
            for j, rate in enumerate(row):
                rows.append(
                    {
                        "arm": name,
                        "from_month": float(lower[j]),
                        "to_month": float(upper[j]),
                        "source": self.source,
                        **rate.describe(),
                    }
                )
        return rows


def fit_hazards(
    time: np.ndarray,
    event: np.ndarray,
    arm_index: np.ndarray,
    arms: tuple[str, ...],
    *,
    cuts_months: Sequence[float] = (),
    pooled: bool = False,
    uncertainty: bool = True,
    prior: tuple[float, float] = (0.0, 0.0),
) -> HazardModel:
    """Fit piecewise-exponential hazards per arm (or pooled) with gamma posteriors."""
    cuts = cuts_days(cuts_months)
    groups = (
        [np.ones(time.size, dtype=bool)] if pooled else [arm_index == a for a in range(len(arms))]
    )
    names = ("all arms",) if pooled else arms
    rows = []
    for name, mask in zip(names, groups, strict=True):
        events, exposure = piece_counts(time[mask], event[mask], cuts)
        rows.append(
            tuple(
                fitted_rate(
                    int(d),
                    float(t),
                    what=f"event hazard of {name}" + (f", piece {j + 1}" if cuts.size else ""),
                    uncertainty=uncertainty,
                    prior=prior,
                )
                for j, (d, t) in enumerate(zip(events, exposure, strict=True))
            )
        )
    return HazardModel(arms, cuts, tuple(rows), "fitted", pooled)


def assumed_hazards(
    arms: tuple[str, ...],
    *,
    hazards: float | Sequence[float] | Mapping[str, float | Sequence[float]] | None = None,
    medians: float | Mapping[str, float] | None = None,
    cuts_months: Sequence[float] = (),
) -> HazardModel:
    """Hazards given per month (one value, one per piece, or a mapping arm -> either), or
    exponential medians in months (hazard ``log 2 / median``; no pieces)."""
    cuts = cuts_days(cuts_months)
    n_pieces = cuts.size + 1
    if (hazards is None) == (medians is None):
        raise InputError(
            "give either hazards or medians (not both) for assumed rates",
            argument="hazards",
        )
    if medians is not None:
        if cuts.size:
            raise InputError(
                "medians define exponential (single-piece) hazards; use hazards with cuts",
                argument="medians",
            )
        per_arm: dict[str, object] = {}
        for arm, median in _per_arm(medians, arms, "medians").items():
            m = _number(median, f"medians[{arm!r}]")
            if m <= 0:
                raise InputError(
                    f"medians[{arm!r}] = {describe_value(median)} is invalid; "
                    "a median must be > 0 months",
                    argument="medians",
                    value=m,
                )
            per_arm[arm] = float(np.log(2.0)) / m
    else:
        per_arm = _per_arm(hazards, arms, "hazards")
    rows = []
    for arm in arms:
        value = per_arm[arm]
        pieces = (
            list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        )
        if len(pieces) != n_pieces:
            raise InputError(
                f"hazards[{arm!r}] has {len(pieces)} value(s) "
                f"but the cuts make {n_pieces} piece(s)",
                argument="hazards",
                value=[str(p) for p in pieces],
            )
        rows.append(tuple(fixed_rate(p, f"hazards[{arm!r}]") for p in pieces))
    return HazardModel(arms, cuts, tuple(rows), "assumed", False)


def _per_arm(value: object, arms: tuple[str, ...], what: str) -> dict[str, object]:
    """A mapping arm -> value covering every arm, from a mapping or one shared value."""
    if not isinstance(value, Mapping):
        return dict.fromkeys(arms, value)
    out = {str(k): v for k, v in value.items()}
    missing = [a for a in arms if a not in out]
    if missing:
        raise InputError(
            f"{what} has no value for arm(s) {', '.join(map(repr, missing))}; arms are "
            f"{', '.join(map(repr, arms))}",
            argument=what,
            value=missing,
            valid=list(arms),
        )
    return out
