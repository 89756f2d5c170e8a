"""True event processes: progression, death, withdrawal, and each subject's course.

Times are days after randomization (randomization date = study day 1, PALMIRA's "day 0").

* Progression: piecewise-exponential hazard per arm (``SynthParams.hazards`` on the month
  intervals ``hazard_breaks``), multiplied by ``exp(lp)`` with ``lp`` the covariate effects
  (visceral involvement, >= 3 metastatic sites, ECOG >= 1, first-line palbociclib < 12 months).
  The arm hazards are not proportional: PALMIRA's curves separate by month 6 (42.1% vs 29.1%
  progression-free) and meet by month 12 (12.4% vs 12.3%). A time is drawn by inverting the
  cumulative hazard at a unit exponential.
* Death: before progression at a constant hazard; after progression an exponential
  post-progression survival (median ``post_pd_survival_median``, visceral effect).
* Withdrawal of consent / loss to follow-up: constant hazard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.synth.draws import Draws
from oncotrial.synth.params import SynthParams


def piecewise_exponential_times(
    rates: tuple[float, ...], breaks: tuple[float, ...], multipliers: np.ndarray, draws: Draws
) -> np.ndarray:
    """Event times (months) with hazard ``rates[k] * m`` on ``[breaks[k-1], breaks[k])``.

    Inversion of the cumulative hazard at unit-exponential draws (Cox & Oakes 1984, ch. 2).
    """
    targets = draws.exponential(1.0, len(multipliers)) / multipliers
    edges = (0.0, *breaks, math.inf)
    out = np.empty(len(targets))
    for i, target in enumerate(targets):
        cum = 0.0
        for k, rate in enumerate(rates):
            width = edges[k + 1] - edges[k]
            if cum + rate * width >= target:
                out[i] = edges[k] + (target - cum) / rate
                break
            cum += rate * width
    return out


@dataclass
class Course:
    """One randomized subject's true course (days after randomization unless stated)."""

    arm: str
    lp: float
    t_prog: float  # latent progression (continuous days)
    t_death: float  # death (inf: beyond the horizon)
    t_withdraw: float
    responder: bool
    treated: bool
    first_dose: int = 0  # day offset of first dose
    death_cause: str = "DISEASE PROGRESSION"
    # filled by the tumour and treatment models
    assessments: list[tuple[int, str]] = field(default_factory=list)  # (day, visit)
    pd_day: int | None = None  # assessment documenting progression
    pd_mode: str | None = None
    eot_day: int | None = None
    eot_reason: str = "ONGOING"
    last_dose_day: int | None = None
    new_therapy_day: int | None = None
    new_therapy: str | None = None
    stop_followup_day: float = math.inf  # withdrawal / lost to follow-up


def covariate_lp(attrs: dict[str, Any], params: SynthParams) -> float:
    """``lp = sum(beta * x)`` over visceral, >= 3 sites, ECOG >= 1, palbociclib < 12 months."""
    return (
        params.loghr_visceral * bool(attrs["visceral_involvement"])
        + params.loghr_sites3 * (attrs["metastatic_sites"] >= 3)
        + params.loghr_ecog1 * (attrs["ecog"] >= 1)
        + params.loghr_short_pal * (attrs["palbociclib_duration_months"] < 12)
    )


def draw_courses(
    arms: list[str],
    attrs: list[dict[str, Any]],
    treated: np.ndarray,
    params: SynthParams,
    draws: Draws,
) -> list[Course]:
    """Latent progression, death and withdrawal times of every randomized subject."""
    n = len(arms)
    lp = np.array([covariate_lp(a, params) for a in attrs])
    t_prog = np.empty(n)
    for arm, rates in params.hazards.items():
        idx = np.flatnonzero(np.array(arms) == arm)
        if len(idx):
            t_prog[idx] = piecewise_exponential_times(
                rates, params.hazard_breaks, np.exp(lp[idx]), draws
            )
    t_prog *= DAYS_PER_MONTH
    measurable = np.array([bool(a["measurable_disease"]) for a in attrs])
    p_resp = np.array([params.response.get(a, 0.0) for a in arms])
    responder = (draws.uniform(n) < p_resp) & measurable
    # a confirmed response needs two scans before progression: responders progress later
    late = 120.0 + draws.exponential(90.0, n)
    t_prog = np.where(responder, np.maximum(t_prog, late), t_prog)
    visceral = np.array([bool(a["visceral_involvement"]) for a in attrs])
    death_lp = params.loghr_death_visceral * visceral
    pre = draws.exponential(1.0 / (params.death_hazard_pre_pd * np.exp(death_lp)), n)
    post_scale = params.post_pd_survival_median / math.log(2) / np.exp(death_lp)
    post = draws.exponential(post_scale, n)
    t_death = np.minimum(pre, t_prog / DAYS_PER_MONTH + post) * DAYS_PER_MONTH
    t_withdraw = draws.exponential(1.0 / params.withdrawal_hazard, n) * DAYS_PER_MONTH
    first = draws.categorical((0.7, 0.15, 0.1, 0.05), n)
    return [
        Course(
            arm=arms[i],
            lp=float(lp[i]),
            t_prog=float(t_prog[i]),
            t_death=float(t_death[i]),
            t_withdraw=float(t_withdraw[i]),
            responder=bool(responder[i]),
            treated=bool(treated[i]),
            first_dose=int(first[i]),
        )
        for i in range(n)
    ]


def scan_schedule(
    offsets: list[int], window: int, horizon: int, draws: Draws
) -> list[tuple[int, str]]:
    """Scheduled scan days (offset from study day 1 in days, window jitter) up to ``horizon``.

    A scan falls on ``offset + j`` with ``j`` the mean of two uniform integers in
    ``[-window // 3, window]`` rounded toward zero: visits cluster near the planned day and
    run late more often than early (assumption: scheduling delays), inside the window.
    """
    out = []
    for offset in offsets:
        lo = -(window // 3)
        j = int((draws.integer(lo, window) + draws.integer(lo, window)) / 2)
        day = offset + j
        if day > horizon:
            break
        out.append((day, f"WEEK {round(offset / 7)}"))
    return out


def run_course(
    course: Course,
    schedule: list[tuple[int, str]],
    horizon: int,
    params: SynthParams,
    draws: Draws,
) -> None:
    """Scans until progression is documented, death, withdrawal, new therapy or the cutoff.

    Progression is documented at the first scan on or after the latent progression day; with
    probability ``symptomatic_pd`` symptoms prompt an unscheduled scan 3-21 days after it when
    that comes before the next scheduled one. A scheduled scan is missed with probability
    ``missed_visit``. Treatment stops at documented progression, death, withdrawal, toxicity
    or physician decision (``ae_discontinuation``; 2% physician decision), or continues past
    the cutoff; after a stop without progression, a new anticancer therapy starts with
    probability ``new_therapy_before_pd`` and ends the scans.
    """
    if not course.treated:
        course.eot_day = draws.integer(1, 10)
        course.eot_reason = ("PHYSICIAN DECISION", "WITHDRAWAL BY SUBJECT", "OTHER")[
            draws.integer(0, 2)
        ]
        course.stop_followup_day = course.eot_day  # never treated: off study (CONSORT)
        return
    disc_day = math.inf
    disc_reason = ""
    if draws.chance(params.ae_discontinuation.get(course.arm, 0.0)):
        disc_day, disc_reason = 20.0 + draws.exponential(90.0, 1)[0], "ADVERSE EVENT"
    elif draws.chance(0.02):
        disc_day, disc_reason = 30.0 + draws.exponential(120.0, 1)[0], "PHYSICIAN DECISION"
    if course.t_withdraw < disc_day:
        disc_day, disc_reason = course.t_withdraw, "WITHDRAWAL BY SUBJECT"
    new_therapy = math.inf
    if disc_reason in ("ADVERSE EVENT", "PHYSICIAN DECISION") and draws.chance(
        params.new_therapy_before_pd
    ):
        new_therapy = disc_day + draws.integer(10, 42)
    if disc_reason == "WITHDRAWAL BY SUBJECT":
        course.stop_followup_day = disc_day
    symptomatic = draws.chance(params.symptomatic_pd)
    unscheduled = course.t_prog + draws.integer(3, 21)
    stop = min(course.t_death, course.stop_followup_day, new_therapy, horizon + 0.5)
    for k, (day, visit) in enumerate(schedule):
        if symptomatic and course.t_prog <= day and unscheduled < day and unscheduled < stop:
            course.assessments.append((math.ceil(unscheduled), "UNSCHEDULED"))
            course.pd_day = math.ceil(unscheduled)
            break
        if day >= stop:
            break
        if draws.chance(params.missed_visit) and k + 1 < len(schedule):
            continue
        course.assessments.append((day, visit))
        if day >= course.t_prog:
            course.pd_day = day
            break
    ends = [
        (
            course.pd_day + draws.integer(0, 3) if course.pd_day is not None else math.inf,
            "PROGRESSIVE DISEASE",
        ),
        (disc_day, disc_reason),
        (course.t_death, "DEATH"),
    ]
    end_day, reason = min(ends, key=lambda e: e[0])
    if end_day <= horizon:
        course.eot_day = math.floor(end_day)
        course.eot_reason = reason
    if new_therapy <= horizon and (course.pd_day is None) and new_therapy < course.t_death:
        course.new_therapy_day = int(new_therapy)
