"""One subject's planned calendar: cycles, dosing days, assessments and their windows.

Conventions (docs/SPEC.md, "Calendar"):

* The start date is study day 1 and cycle 1 day 1 (CDISC study-day convention: there is no day 0;
  PALMIRA's "day 0 = random assignment" is the same date).
* Cycle ``c`` day ``d`` falls on ``start + (c - 1) * cycle_days + (d - 1)`` days.
* A time-based period (``every_weeks`` / ``every_days``) places visits at ``origin + k * interval``
  measured from the start date, while the visit is within ``until`` (months are 30.4375 days,
  so "up to 12 months" means study time <= 365.25 days). The next period continues from the last
  visit of the previous one: PALMIRA's "every 8 weeks up to month 12, then every 12 weeks" gives
  weeks 8, 16, ..., 48, then 60, 72, ...
* A cycle-based period places visits on ``cycle_day`` of cycles 1, 1 + k, ... up to
  ``until_cycle``; the next period continues k cycles after the last visited cycle.
* Each visit has a window ``[date - window_days, date + window_days]``; baseline visits have the
  window ``[start - baseline_window_days, start]``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.errors import InputError
from oncotrial.results import Result
from oncotrial.spec.models import Agent, Assessment, Period, TrialSpec


@dataclass(frozen=True)
class CalendarEntry:
    date: dt.date
    study_day: int
    cycle: int
    cycle_day: int
    kind: str  # "dosing" or the assessment kind
    name: str
    description: str
    window_start: dt.date
    window_end: dt.date


@dataclass(frozen=True)
class Calendar(Result):
    """A subject's planned calendar, sorted by date."""

    trial: str
    arm: str
    start: dt.date
    end: dt.date
    cycle_days: int
    entries: tuple[CalendarEntry, ...]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([e.__dict__ for e in self.entries])

    def summary(self) -> str:
        lines = [f"{self.trial}: planned calendar, arm {self.arm}, {self.start} to {self.end}"]
        for e in self.entries:
            window = (
                "" if e.window_start == e.window_end else f"  [{e.window_start} .. {e.window_end}]"
            )
            lines.append(
                f"  {e.date}  day {e.study_day:>4}  C{e.cycle}D{e.cycle_day:<3} "
                f"{e.name}: {e.description}{window}"
            )
        return "\n".join(lines)


def study_day(start: dt.date, date: dt.date) -> int:
    """CDISC study day: day 1 is the start date, the day before it is day -1."""
    delta = (date - start).days
    return delta + 1 if delta >= 0 else delta


def _cycle_of(offset_days: int, cycle_days: int) -> tuple[int, int]:
    return offset_days // cycle_days + 1, offset_days % cycle_days + 1


def _until_days(period: Period) -> float:
    if period.until_months is not None:
        return period.until_months * DAYS_PER_MONTH
    if period.until_weeks is not None:
        return period.until_weeks * 7
    return math.inf


def visit_offsets(assessment: Assessment, cycle_days: int, horizon_days: int) -> list[int]:
    """Day offsets from the start date (0 = study day 1) of an assessment's recurring visits."""
    offsets: list[int] = []
    last_time = 0.0  # time-based: origin of the next period
    last_cycle = 0  # cycle-based: last visited cycle
    for period in assessment.periods:
        if period.every_cycles is not None:
            cycle = last_cycle + period.every_cycles if last_cycle else 1
            limit = period.until_cycle or math.inf
            while cycle <= limit:
                offset = (cycle - 1) * cycle_days + period.cycle_day - 1
                if offset > horizon_days:
                    break
                offsets.append(offset)
                last_cycle = cycle
                cycle += period.every_cycles
            continue
        interval = period.every_weeks * 7 if period.every_weeks else float(period.every_days or 0)
        until = _until_days(period)
        time = last_time + interval
        while time <= until and time <= horizon_days:
            offsets.append(round(time))
            last_time = time
            time += interval
    offsets.extend(d - 1 for d in assessment.extra_study_days if d - 1 <= horizon_days)
    return sorted(set(offsets))


def _dosing_description(agent: Agent, days: list[int]) -> str:
    first, last = days[0], days[-1]
    span = (
        f"day {first}"
        if first == last
        else (
            f"days {first}-{last}"
            if days == list(range(first, last + 1))
            else "days " + ", ".join(map(str, days))
        )
    )
    return f"{agent.dose:g} {agent.unit} {agent.route} {agent.schedule.frequency}, {span}"


def planned_calendar(
    spec: TrialSpec,
    start: dt.date,
    *,
    arm: str | None = None,
    months: float = 12.0,
    include_optional: bool = True,
) -> Calendar:
    """Plan one subject's calendar from ``start`` (study day 1) for ``months`` months.

    Dosing appears as one entry per agent and cycle (the cycle days it is given); assessments
    as one entry per visit with its window. ``arm`` defaults to the first arm.
    """
    if months <= 0:
        raise InputError(f"months: {months!r} must be > 0", field="months", value=months)
    arm_name = arm or spec.arms[0].name
    try:
        chosen = spec.arm(arm_name)
    except KeyError:
        valid = ", ".join(a.name for a in spec.arms)
        raise InputError(
            f"arm: {arm_name!r} is not an arm of {spec.trial.id}; valid: {valid}",
            field="arm",
            value=arm_name,
            valid=[a.name for a in spec.arms],
        ) from None
    cycle_days = spec.treatment.cycle_days
    horizon = int(months * DAYS_PER_MONTH)
    end = start + dt.timedelta(days=horizon)
    entries: list[CalendarEntry] = []

    n_cycles = horizon // cycle_days + 1
    for cycle in range(1, n_cycles + 1):
        for agent in chosen.regimen:
            if agent.optional and not include_optional:
                continue
            sched = agent.schedule
            if (cycle - 1) % sched.every_cycles:
                continue
            days = sched.first_cycle_days if cycle == 1 and sched.first_cycle_days else sched.days
            offset0 = (cycle - 1) * cycle_days
            in_range = [d for d in days if offset0 + d - 1 <= horizon]
            if not in_range:
                continue
            date = start + dt.timedelta(days=offset0 + in_range[0] - 1)
            last = start + dt.timedelta(days=offset0 + in_range[-1] - 1)
            note = f" (optional: {agent.condition})" if agent.optional else ""
            name = agent.agent + ("*" if agent.optional else "")
            entries.append(
                CalendarEntry(
                    date,
                    study_day(start, date),
                    cycle,
                    in_range[0],
                    "dosing",
                    name,
                    _dosing_description(agent, in_range) + note,
                    date,
                    last,
                )
            )

    for assessment in spec.assessments:
        condition = f" (if {assessment.condition})" if assessment.condition else ""
        if assessment.baseline:
            entries.append(
                CalendarEntry(
                    start,
                    1,
                    1,
                    1,
                    assessment.kind,
                    f"{assessment.name} (baseline)",
                    assessment.description + condition,
                    start - dt.timedelta(days=assessment.baseline_window_days),
                    start,
                )
            )
        one_off_days = set(assessment.extra_study_days)
        for offset in visit_offsets(assessment, cycle_days, horizon):
            half_width = (
                0 if offset + 1 in one_off_days else _window_for(assessment, offset, cycle_days)
            )
            date = start + dt.timedelta(days=offset)
            cycle, cycle_day = _cycle_of(offset, cycle_days)
            entries.append(
                CalendarEntry(
                    date,
                    study_day(start, date),
                    cycle,
                    cycle_day,
                    assessment.kind,
                    assessment.name,
                    assessment.description + condition,
                    date - dt.timedelta(days=half_width),
                    date + dt.timedelta(days=half_width),
                )
            )
    entries.sort(key=lambda e: (e.date, e.kind != "dosing", e.name))
    return Calendar(spec.trial.id, chosen.name, start, end, cycle_days, tuple(entries))


def _window_for(assessment: Assessment, offset: int, cycle_days: int) -> int:
    """Window of the period that produced the visit at ``offset`` (first matching period)."""
    for period in assessment.periods:
        if period.every_cycles is not None:
            cycle, day = _cycle_of(offset, cycle_days)
            if day == period.cycle_day and (
                period.until_cycle is None or cycle <= period.until_cycle
            ):
                return period.window_days
        elif offset <= _until_days(period):
            return period.window_days
    return 0
