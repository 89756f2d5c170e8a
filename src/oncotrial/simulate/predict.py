"""Event prediction for an ongoing event-driven trial: when will the k-th event happen?

From the subject-level interim data (:mod:`oncotrial.simulate.predict_data`), the planned
sample size and the remaining accrual, predict the calendar date of the ``target``-th event
with a simulation-based prediction interval -- the proposed data-cut date of an event-driven
analysis.

Model (Bagiella & Heitjan, Stat Med 2001;20:2055-2063, "Predicting analysis times in
randomized clinical trials"; see also Ying, Heitjan & Chen, Clin Trials 2004;1:352-361 for the
same enrolment + event prediction problem with other survival models):

* event times are (piecewise-)exponential per arm (or pooled), with assumed rates or rates
  fitted to the interim data (:mod:`oncotrial.simulate.predict_rates`);
* parameter uncertainty: each simulated trial first draws its rates from their gamma
  posteriors (event hazards, dropout hazard, accrual rate), so the prediction interval
  includes the uncertainty of the fitted rates -- not only the randomness of future events;
* subjects still ongoing are event-free through their last-contact date and continue from
  there; dropout is an exponential competing risk (a dropped-out subject never has the event);
* the ``n_planned - n_current`` subjects not yet enrolled enter after the cut-off as a
  Poisson process (exponential gaps) and are randomized independently with the allocation
  probabilities;
* the target is reached at the ``target - events_observed``-th future event; if too few
  subjects can still have an event (or they all drop out), it is never reached, which the
  result reports as a probability.

Simulations run in blocks of :data:`BLOCK` trials, block ``b`` drawing from
``SeedSequence(seed).spawn(n_blocks)[b]``: the result depends only on ``seed`` and ``n_sim``.
A future event at ``c`` days after the end of the cut-off day falls on calendar date
``cut_date + ceil(c)``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.errors import InputError, describe_value
from oncotrial.results import Result
from oncotrial.simulate.predict_data import InterimData, PredictColumns, as_date, read_interim
from oncotrial.simulate.predict_draw import event_calendar_times, kth_smallest
from oncotrial.simulate.predict_rates import (
    GammaRate,
    HazardModel,
    assumed_hazards,
    fit_hazards,
    fitted_rate,
    fixed_rate,
)

BLOCK = 1000
"""Simulated trials per random-number block (fixed so results do not depend on chunking)."""

QUANTILES: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


@dataclass(frozen=True)
class PredictionModel:
    """Everything the simulation needs, resolved from the inputs."""

    data: InterimData
    target: int
    needed: int
    n_planned: int
    hazards: HazardModel
    dropout: GammaRate
    accrual: GammaRate | None
    allocation: np.ndarray


@dataclass(frozen=True)
class EventPrediction(Result):
    """Predicted calendar date of the ``target``-th event (see module docstring).

    Dates are ``None`` where the simulated quantile is "never" (the target not reached).
    ``*_days`` are days after the end of the cut-off day; ``mean_*`` are over the simulated
    trials that reach the target; ``*_se`` are Monte Carlo standard errors.
    """

    target: int
    cut_date: dt.date
    events_observed: int
    events_needed: int
    n_current: int
    n_ongoing: int
    n_censored: int
    n_planned: int
    n_remaining: int
    arms: tuple[str, ...]
    allocation: dict[str, float]
    hazards: list[dict[str, Any]]
    dropout: dict[str, Any]
    accrual: dict[str, Any] | None
    parameter_uncertainty: bool
    n_sim: int
    seed: int
    level: float
    median_date: dt.date | None
    mean_date: dt.date | None
    lower_date: dt.date | None
    upper_date: dt.date | None
    median_days: float
    mean_days: float
    mean_days_se: float
    lower_days: float
    upper_days: float
    quantiles: tuple[tuple[float, float, dt.date | None], ...]
    prob_never: float
    prob_never_se: float
    by_date: dt.date | None
    prob_by_date: float | None
    prob_by_date_se: float | None
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """Quantiles of the predicted date: probability, days after the cut-off, date."""
        return pd.DataFrame(
            [{"probability": p, "days_after_cut": d, "date": day} for p, d, day in self.quantiles]
        )

    def summary(self) -> str:
        def show(day: dt.date | None) -> str:
            return "never" if day is None else day.isoformat()

        lines = [
            f"Event prediction: {self.target} events ({self.events_observed} observed at the "
            f"cut-off {self.cut_date}, {self.events_needed} more needed)",
            f"  subjects: {self.n_current} entered ({self.n_ongoing} ongoing, "
            f"{self.n_censored} censored), {self.n_remaining} still to enter of {self.n_planned}",
        ]
        piecewise = len(self.hazards) > len({r["arm"] for r in self.hazards})
        for row in self.hazards:
            rate = f"{row['per_month']:.4g}/month"
            if piecewise:
                where = f"months {row['from_month']:g}-{row['to_month']:g}, {row['source']}"
            else:
                where = row["source"]
                if row["per_month"] > 0:
                    rate += f" (median {math.log(2) / row['per_month']:.3g} months)"
            if row["events"] is not None:
                rate += f", {row['events']} events / {row['exposure_months']:.4g} months at risk"
            lines.append(f"  hazard {row['arm']} ({where}): {rate}")
        lines.append(f"  dropout hazard: {self.dropout['per_month']:.4g}/month")
        if self.accrual is not None:
            lines.append(f"  accrual: {self.accrual['per_month']:.4g} subjects/month")
        uncertainty = "with" if self.parameter_uncertainty else "without"
        lines += [
            f"  {self.n_sim} simulated trials (seed {self.seed}), "
            f"{uncertainty} parameter uncertainty",
            f"  median date: {show(self.median_date)}  "
            f"({self.level:.0%} prediction interval {show(self.lower_date)} "
            f"to {show(self.upper_date)})",
            f"  mean date (trials reaching the target): {show(self.mean_date)}",
            f"  P(target never reached): {self.prob_never:.4f}",
        ]
        if self.by_date is not None and self.prob_by_date is not None:
            lines.append(f"  P(reached by {self.by_date}): {self.prob_by_date:.4f}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _allocation(allocation: Mapping[str, float] | None, data: InterimData) -> np.ndarray:
    """Allocation probabilities over ``data.arms``: given ratios, or the observed shares."""
    if allocation is None:
        counts = np.bincount(data.arm_index, minlength=len(data.arms)).astype(float)
        return counts / counts.sum()
    unknown = [a for a in allocation if a not in data.arms]
    if unknown:
        raise InputError(
            f"allocation names arm(s) {', '.join(map(repr, unknown))} not in the data; arms are "
            f"{', '.join(map(repr, data.arms))}",
            argument="allocation",
            value=[str(a) for a in unknown],
            valid=list(data.arms),
        )
    ratio = np.array([float(allocation.get(a, 0.0)) for a in data.arms])
    if not np.all(np.isfinite(ratio)) or np.any(ratio < 0) or ratio.sum() <= 0:
        raise InputError(
            f"allocation {dict(allocation)!r} is invalid; ratios must be >= 0 with a positive sum",
            argument="allocation",
            value={str(k): str(v) for k, v in allocation.items()},
        )
    return ratio / ratio.sum()


def _int_arg(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(
            f"{name} = {describe_value(value)} is invalid; use an integer >= {minimum}",
            argument=name,
            value=str(value),
        )
    return int(value)


def build_model(
    data: InterimData,
    target: int,
    *,
    n_planned: int | None = None,
    accrual_rate: float | None = None,
    accrual_start: dt.date | str | None = None,
    hazards: float | Sequence[float] | Mapping[str, Any] | None = None,
    medians: float | Mapping[str, float] | None = None,
    pooled: bool = False,
    cuts: Sequence[float] = (),
    dropout: float | str = "fit",
    allocation: Mapping[str, float] | None = None,
    parameter_uncertainty: bool = True,
    prior: tuple[float, float] = (0.0, 0.0),
) -> PredictionModel:
    """Resolve rates (assumed or fitted) and the accrual still to come into a model."""
    target = _int_arg(target, "target", 1)
    needed = target - data.events
    if needed <= 0:
        days = np.sort(data.last_day[data.status == 0])[target - 1]
        reached = data.cut_date + dt.timedelta(days=int(days))
        raise InputError(
            f"target {target} events is already reached: {data.events} events observed, "
            f"the {target}th on {reached}",
            argument="target",
            value=target,
            events_observed=data.events,
        )
    n_planned = data.n if n_planned is None else _int_arg(n_planned, "n_planned", 1)
    if n_planned < data.n:
        raise InputError(
            f"n_planned = {n_planned} is below the {data.n} subjects already in the data",
            argument="n_planned",
            value=n_planned,
            valid=f">= {data.n}",
        )
    for name, value in (("prior shape", prior[0]), ("prior rate", prior[1])):
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"{name} = {value!r} is invalid; use a number >= 0", argument="prior")
    prior = (prior[0], prior[1] * DAYS_PER_MONTH)  # pseudo-exposure months -> days
    time, event = data.time, (data.status == 0).astype(np.int8)
    if hazards is None and medians is None:
        model = fit_hazards(
            time,
            event,
            data.arm_index,
            data.arms,
            cuts_months=cuts,
            pooled=pooled,
            uncertainty=parameter_uncertainty,
            prior=prior,
        )
    else:
        model = assumed_hazards(data.arms, hazards=hazards, medians=medians, cuts_months=cuts)
    if isinstance(dropout, str):
        if dropout != "fit":
            raise InputError(
                f"dropout = {dropout!r} is invalid; use 'fit' or a hazard per month >= 0",
                argument="dropout",
                value=dropout,
            )
        drop = (
            GammaRate(0.0, 0, float(time.sum()))
            if data.censored == 0
            else fitted_rate(
                data.censored,
                float(time.sum()),
                what="dropout hazard",
                uncertainty=parameter_uncertainty,
                prior=prior,
            )
        )
    else:
        drop = fixed_rate(dropout, "dropout")
    remaining = n_planned - data.n
    accrual = None
    if remaining > 0:
        if accrual_rate is not None:
            accrual = fixed_rate(accrual_rate, "accrual_rate")
            if accrual.value_per_day <= 0:
                raise InputError(
                    f"accrual_rate = {accrual_rate!r} is invalid: {remaining} subjects are still "
                    "to enter, so the rate must be > 0 per month",
                    argument="accrual_rate",
                    value=accrual_rate,
                )
        else:
            start = (
                int(data.entry_day.min())
                if accrual_start is None
                else (as_date(accrual_start, "accrual_start") - data.cut_date).days
            )
            span = float(-start + 1)  # days from the start through the end of the cut-off day
            if span <= 0 or start > int(data.entry_day.min()):
                raise InputError(
                    f"accrual_start {accrual_start} must be on or before the first entry date",
                    argument="accrual_start",
                    value=str(accrual_start),
                )
            accrual = fitted_rate(
                data.n, span, what="accrual rate", uncertainty=parameter_uncertainty, prior=prior
            )
    return PredictionModel(
        data, target, needed, n_planned, model, drop, accrual, _allocation(allocation, data)
    )


def simulate_event_days(model: PredictionModel, n_sim: int, seed: int) -> np.ndarray:
    """Days after the cut-off of the target event in each of ``n_sim`` simulated trials
    (``inf`` where it is never reached); vectorized in blocks of :data:`BLOCK` trials."""
    data = model.data
    ongoing = data.status == 2
    u = data.time[ongoing]
    last = data.last_day[ongoing].astype(float)
    arm_o = data.arm_index[ongoing]
    n_new = model.n_planned - data.n
    n_blocks = -(-n_sim // BLOCK)
    out = np.empty(n_sim)
    for b, child in enumerate(np.random.SeedSequence(seed).spawn(n_blocks)):
        rng = np.random.default_rng(child)
        size = min(BLOCK, n_sim - b * BLOCK)
        hz = model.hazards.draw(rng, size)
        drop = model.dropout.draw(rng, size)
        acc = model.accrual.draw(rng, size) if model.accrual is not None else np.zeros(size)
        times = event_calendar_times(
            rng,
            hazards=hz,
            cuts=model.hazards.cuts_days,
            dropout=drop,
            accrual=acc,
            ongoing_u=u,
            ongoing_last=last,
            ongoing_arm=arm_o,
            n_new=n_new,
            allocation=model.allocation,
        )
        out[b * BLOCK : b * BLOCK + size] = kth_smallest(times, model.needed)
    return out


def _date(cut: dt.date, days: float) -> dt.date | None:
    if not math.isfinite(days):
        return None
    return cut + dt.timedelta(days=math.ceil(days))


def _quantile(days: np.ndarray, p: float) -> float:
    # inverted-CDF (type 1) quantile: well defined when some trials never reach the target
    return float(np.quantile(days, p, method="inverted_cdf"))


def predict_events(
    data: str | Path | pd.DataFrame | InterimData,
    target: int,
    *,
    n_planned: int | None = None,
    accrual_rate: float | None = None,
    accrual_start: dt.date | str | None = None,
    hazards: float | Sequence[float] | Mapping[str, Any] | None = None,
    medians: float | Mapping[str, float] | None = None,
    pooled: bool = False,
    cuts: Sequence[float] = (),
    dropout: float | str = "fit",
    allocation: Mapping[str, float] | None = None,
    parameter_uncertainty: bool = True,
    prior: tuple[float, float] = (0.0, 0.0),
    cut_date: dt.date | str | None = None,
    by_date: dt.date | str | None = None,
    level: float = 0.9,
    n_sim: int = 10_000,
    seed: int | None = None,
    columns: PredictColumns | None = None,
    status_codes: Mapping[str, str] | None = None,
) -> EventPrediction:
    """Predict the calendar date of the ``target``-th event (see module docstring).

    Args:
        data: interim data (CSV/Parquet path, data frame, or :class:`InterimData`).
        target: total number of events that triggers the analysis (e.g. 127).
        n_planned: planned total number of subjects (default: no further accrual).
        accrual_rate: subjects per month still entering; default fitted from the data
            (subjects entered / days from ``accrual_start``, default the first entry, to the
            cut-off).
        hazards, medians: assumed event hazards per month (one value, one per piece, or a
            mapping arm -> either) or exponential medians in months; default fitted.
        pooled: fit one hazard for all arms instead of one per arm.
        cuts: piece boundaries in months since entry for piecewise-exponential hazards.
        dropout: dropout hazard per month, or ``"fit"`` (censored subjects / time at risk).
        allocation: randomization ratios of the subjects still to enter (default: the
            observed shares).
        parameter_uncertainty: draw fitted rates from their gamma posteriors (Bagiella &
            Heitjan 2001); ``False`` keeps them at the MLE.
        prior: gamma prior of fitted rates as (pseudo-events, pseudo-exposure in months);
            (0, 0), the default, is non-informative.
        cut_date: data cut-off (default: the latest date in the data).
        by_date: also report the probability that the target is reached by this date.
        level: two-sided level of the prediction interval.
        n_sim, seed: number of simulated trials and master seed (drawn and reported if None).
        columns, status_codes: column names and status coding of the data.
    """
    if not isinstance(data, InterimData):
        data = read_interim(data, columns=columns, status_codes=status_codes, cut_date=cut_date)
    n_sim = _int_arg(n_sim, "n_sim", 1)
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise InputError(
            f"level = {describe_value(level)} is invalid; use a number in (0, 1), e.g. 0.9",
            argument="level",
            value=str(level),
        )
    if seed is None:
        seed = int(np.random.SeedSequence().entropy) % 2**63  # type: ignore[arg-type]
    seed = _int_arg(seed, "seed", 0)
    model = build_model(
        data,
        target,
        n_planned=n_planned,
        accrual_rate=accrual_rate,
        accrual_start=accrual_start,
        hazards=hazards,
        medians=medians,
        pooled=pooled,
        cuts=cuts,
        dropout=dropout,
        allocation=allocation,
        parameter_uncertainty=parameter_uncertainty,
        prior=prior,
    )
    days = simulate_event_days(model, n_sim, seed)
    return summarize(
        model,
        days,
        seed=seed,
        level=float(level),
        by_date=by_date,
        parameter_uncertainty=parameter_uncertainty,
    )


def summarize(
    model: PredictionModel,
    days: np.ndarray,
    *,
    seed: int,
    level: float,
    by_date: dt.date | str | None,
    parameter_uncertainty: bool,
) -> EventPrediction:
    """Turn simulated target-event days into an :class:`EventPrediction`."""
    data, n_sim = model.data, days.size
    cut = data.cut_date
    reached = np.isfinite(days)
    prob_never = 1.0 - reached.mean()
    if reached.any():
        mean = float(days[reached].mean())
        mean_se = (
            float(days[reached].std(ddof=1) / math.sqrt(reached.sum()))
            if reached.sum() > 1
            else math.nan
        )
    else:
        mean, mean_se = math.inf, math.nan
    lo_p, hi_p = (1 - level) / 2, 1 - (1 - level) / 2
    lower, median, upper = (_quantile(days, p) for p in (lo_p, 0.5, hi_p))
    quantiles = tuple((p, q, _date(cut, q)) for p in QUANTILES for q in [_quantile(days, p)])
    notes: list[str] = []
    can_have_event = data.ongoing + model.n_planned - data.n
    if can_have_event < model.needed:
        notes.append(
            f"only {can_have_event} subjects can still have an event but {model.needed} more "
            "events are needed: the target cannot be reached"
        )
    prob_by = prob_by_se = None
    by = None
    if by_date is not None:
        by = as_date(by_date, "by_date")
        horizon = (by - cut).days  # events on day `by` count: continuous time <= horizon
        prob_by = float(np.mean(days <= horizon))
        prob_by_se = math.sqrt(prob_by * (1 - prob_by) / n_sim)
    arms = data.arms
    return EventPrediction(
        target=model.target,
        cut_date=cut,
        events_observed=data.events,
        events_needed=model.needed,
        n_current=data.n,
        n_ongoing=data.ongoing,
        n_censored=data.censored,
        n_planned=model.n_planned,
        n_remaining=model.n_planned - data.n,
        arms=arms,
        allocation={a: float(p) for a, p in zip(arms, model.allocation, strict=True)},
        hazards=model.hazards.describe(),
        dropout={
            "source": "assumed" if model.dropout.events is None else "fitted",
            **model.dropout.describe(),
        },
        accrual=None
        if model.accrual is None
        else {
            "source": "assumed" if model.accrual.events is None else "fitted",
            **model.accrual.describe(),
        },
        parameter_uncertainty=parameter_uncertainty,
        n_sim=n_sim,
        seed=seed,
        level=level,
        median_date=_date(cut, median),
        mean_date=_date(cut, mean),
        lower_date=_date(cut, lower),
        upper_date=_date(cut, upper),
        median_days=median,
        mean_days=mean,
        mean_days_se=mean_se,
        lower_days=lower,
        upper_days=upper,
        quantiles=quantiles,
        prob_never=float(prob_never),
        prob_never_se=math.sqrt(prob_never * (1 - prob_never) / n_sim),
        by_date=by,
        prob_by_date=prob_by,
        prob_by_date_se=prob_by_se,
        notes=tuple(notes),
    )


__all__ = [
    "BLOCK",
    "DAYS_PER_MONTH",
    "EventPrediction",
    "PredictColumns",
    "PredictionModel",
    "build_model",
    "predict_events",
    "read_interim",
    "simulate_event_days",
]
