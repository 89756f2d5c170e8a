"""ADEX: treatment duration, cumulative and planned dose, relative dose intensity, reductions
and interruptions per subject and agent.

Method (dose intensity as in Hryniuk W, Bush H. J Clin Oncol 1984;2:1281-1288 and the
relative dose intensity of Longo DL et al. J Clin Oncol 1991;9:2042-2051: delivered dose
over the dose planned for the same period):

* **EX rows** are dosing periods at a constant dose (DATA_MODEL.md): the agent was taken
  ``EXDOSE`` per administration on every day from EXSTDTC to EXENDTC inclusive, with the
  plan's administrations per day (QD 1, BID/Q12H 2). Scheduled off-days (palbociclib days
  22-28) are in no row. For agents given once per cycle day (ONCE, Q3W, Q4W) each row is one
  administration and must span one day. Periods of one agent must not overlap.
* **Treatment duration** ``TRTDURD`` = last day of the last period with dose > 0 - first day
  of the first period with dose > 0 + 1 (days).
* **Cumulative dose** ``CUMDOSE`` = sum over periods of EXDOSE x administrations per day x
  days in the period (held periods, EXDOSE 0, add nothing).
* **Planned dose** ``PLANDOSE`` = starting dose x administrations per day x the number of
  scheduled dosing days between the first and the last dose (inclusive), counting cycles
  from the first dose (cycle 1 day 1 = first dose; ``first_cycle_days`` in cycle 1, then
  ``days`` every ``every_cycles`` cycles). Delays therefore lower the intensity, as dose
  intensity intends; treatment after the last dose (e.g. the off-week of the last cycle) is
  not planned dose.
* ``planned_period="elapsed"`` instead plans the dose over the elapsed time (Hryniuk's dose
  per unit time): PLANDOSE = starting dose x administrations per day x (dosing days per
  cycle / cycle length) x (last dose - first dose + 1 + the rest days after the last
  scheduled dosing day of a cycle, 7 for days 1-21 of 28). Every delay then lowers the RDI
  (a 3-day delay too, which the schedule reading absorbs in the off-week); cycle-1 loading
  doses (``first_cycle_days``) are not counted.
* **Relative dose intensity** ``RDI`` = 100 x CUMDOSE / PLANDOSE (%).
* **Starting dose**: ``starting_dose="protocol"`` (default) uses the regimen's dose;
  ``"first"`` uses the subject's first administered dose (PALMIRA let patients start at the
  level they had reached before, 125, 100 or 75 mg). Both PLANDOSE and the reduction rule
  use it.
* **Dose reduction** ``DOSERED = Y``: a period with 0 < EXDOSE < starting dose, or EXADJ =
  ``DOSE REDUCED``.
* **Interruption** ``DOSEINT = Y``: a period with EXDOSE = 0, or EXADJ = ``DOSE
  INTERRUPTED``. Gaps between periods that are not recorded are not detected as
  interruptions (they lower the RDI through the planned days).
* **Summary** (:func:`exposure_summary`) per arm and agent over the subjects who received
  the agent: median RDI (the sample median, identical in SAS and R), % with a reduction,
  % with an interruption.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

from oncotrial.derive._columns import (
    bad_cell,
    code_cells,
    decimal_cells,
    fmt,
    is_missing,
    require_columns,
    text_cells,
    to_decimal,
)
from oncotrial.derive.populations import (
    SubjectTrace,
    TracedData,
    read_subjects,
    required_dates,
    unknown_subject,
)
from oncotrial.derive.safety import SafetyTable
from oncotrial.errors import InputError

REQUIRED = ("USUBJID", "EXTRT", "EXDOSE", "EXSTDTC", "EXENDTC")
EXADJ_VALUES = ("DOSE REDUCED", "DOSE INTERRUPTED", "")
ADMINISTRATIONS_PER_DAY = {"QD": 1, "BID": 2, "Q12H": 2, "ONCE": 1, "Q3W": 1, "Q4W": 1}
SINGLE_DAY = frozenset({"ONCE", "Q3W", "Q4W"})

PARAMS = {
    "TRTDURD": ("Treatment duration (days)", "DAYS"),
    "CUMDOSE": ("Cumulative dose", None),
    "PLANDOSE": ("Planned cumulative dose", None),
    "RDI": ("Relative dose intensity (%)", "%"),
    "DOSERED": ("Any dose reduction", None),
    "DOSEINT": ("Any dose interruption", None),
}


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class DosePlan:
    """How one agent is planned: ``dose`` per administration on each scheduled dosing day.

    ``days`` are 1-based cycle days; ``first_cycle_days`` replaces them in cycle 1;
    ``every_cycles = k`` doses in cycles 1, 1 + k, 1 + 2k, ... only.
    """

    agent: str
    dose: float
    unit: str
    cycle_days: int
    days: tuple[int, ...]
    administrations_per_day: int = 1
    first_cycle_days: tuple[int, ...] | None = None
    every_cycles: int = 1
    single_day_rows: bool = False
    dose_levels: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.cycle_days < 1:
            raise InputError(f"DosePlan {self.agent}: cycle_days {self.cycle_days} must be >= 1")
        for name, days in (("days", self.days), ("first_cycle_days", self.first_cycle_days)):
            for day in days or ():
                if not 1 <= day <= self.cycle_days:
                    raise InputError(
                        f"DosePlan {self.agent}: {name} contains day {day}, outside the "
                        f"{self.cycle_days}-day cycle (valid: 1-{self.cycle_days})"
                    )
        if self.dose <= 0 or self.administrations_per_day < 1 or self.every_cycles < 1:
            raise InputError(
                f"DosePlan {self.agent}: dose, administrations_per_day and every_cycles "
                f"must be positive"
            )

    @property
    def dose_per_day(self) -> Decimal:
        """Planned dose on a scheduled dosing day."""
        return to_decimal(self.dose) * self.administrations_per_day

    def dosing_days(self, first: dt.date, last: dt.date) -> int:
        """Scheduled dosing days from ``first`` (cycle 1 day 1) to ``last``, inclusive."""
        span = (last - first).days + 1
        if span <= 0:
            return 0
        count = 0
        cycle = 0
        while cycle * self.cycle_days < span:
            length = min(self.cycle_days, span - cycle * self.cycle_days)
            if cycle % self.every_cycles == 0:
                days = self.first_cycle_days if cycle == 0 and self.first_cycle_days else self.days
                count += sum(1 for d in days if d <= length)
            cycle += 1
        return count

    @property
    def dosing_share(self) -> Decimal:
        """Scheduled dosing days per day of treatment (21/28 for days 1-21 of 28)."""
        return Decimal(len(self.days)) / (self.cycle_days * self.every_cycles)

    @property
    def rest_after(self) -> int:
        """Scheduled rest days after the last dosing day of a cycle (7 for days 1-21 of 28)."""
        return self.cycle_days - max(self.days)

    def elapsed_days(self, first: dt.date, last: dt.date) -> int:
        """Days from ``first`` to ``last`` inclusive plus the rest after the last dose."""
        return (last - first).days + 1 + self.rest_after

    def describe(self) -> str:
        per = "" if self.administrations_per_day == 1 else f" x {self.administrations_per_day}/day"
        first = f" (cycle 1: {_days_text(self.first_cycle_days)})" if self.first_cycle_days else ""
        every = f", every {self.every_cycles} cycles" if self.every_cycles > 1 else ""
        return (
            f"{self.agent} {fmt(to_decimal(self.dose))} {self.unit}{per} on days "
            f"{_days_text(self.days)}{first} of {self.cycle_days}-day cycles{every}"
        )


def _days_text(days: Sequence[int] | None) -> str:
    days = sorted(days or ())
    pieces: list[str] = []
    start = prev = days[0] if days else 0
    for d in [*days[1:], None]:
        if d is not None and d == prev + 1:
            prev = d
            continue
        pieces.append(str(start) if start == prev else f"{start}-{prev}")
        if d is not None:
            start = prev = d
    return ",".join(pieces)


def dose_plans(spec: Any) -> dict[str, dict[str, DosePlan]]:
    """ARM -> agent -> :class:`DosePlan` from a :class:`~oncotrial.spec.models.TrialSpec`.

    Uses ``spec.treatment.cycle_days`` and each ``arms[i].regimen[j]``: dose, unit,
    schedule (frequency, days, first_cycle_days, every_cycles; ``continuous`` means every
    day of the cycle) and dose_levels.
    """
    cycle_days = int(spec.treatment.cycle_days)
    out: dict[str, dict[str, DosePlan]] = {}
    for arm in spec.arms:
        plans = {}
        for agent in arm.regimen:
            schedule = agent.schedule
            days = tuple(range(1, cycle_days + 1)) if schedule.continuous else tuple(schedule.days)
            plans[agent.agent] = DosePlan(
                agent=agent.agent,
                dose=float(agent.dose),
                unit=agent.unit,
                cycle_days=cycle_days,
                days=days,
                administrations_per_day=ADMINISTRATIONS_PER_DAY[schedule.frequency],
                first_cycle_days=(
                    tuple(schedule.first_cycle_days) if schedule.first_cycle_days else None
                ),
                every_cycles=schedule.every_cycles,
                single_day_rows=schedule.frequency in SINGLE_DAY,
                dose_levels=tuple(float(x) for x in agent.dose_levels),
            )
        out[arm.name] = plans
    return out


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Adex(TracedData):
    """ADEX parameters per subject and agent (``data``, long form) with their traces."""

    data: pd.DataFrame
    traces: tuple[SubjectTrace, ...]
    starting_dose: str
    arm_column: str = "ARMCD"

    def wide(self) -> pd.DataFrame:
        """One row per subject and agent, one column per PARAMCD."""
        return adex_wide(self.data, arm_column=self.arm_column)

    def summary(self) -> str:
        return exposure_summary(self.data, arm_column=self.arm_column).summary()


# --------------------------------------------------------------------------- ADEX


@dataclass(frozen=True)
class _Period:
    row: int
    start: dt.date
    end: dt.date
    dose: Decimal
    adj: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def derive_adex(
    ex: pd.DataFrame,
    adsl: pd.DataFrame,
    *,
    plans: Mapping[str, Mapping[str, DosePlan]],
    starting_dose: Literal["protocol", "first"] = "protocol",
    planned_period: Literal["schedule", "elapsed"] = "schedule",
    arm_column: str = "ARMCD",
    dataset: str = "EX",
    adsl_name: str = "ADSL",
) -> Adex:
    """ADEX from an EX-like frame, an ADSL-like frame and the plans (see :func:`dose_plans`).

    ``plans`` maps arm -> agent -> :class:`DosePlan`; the subject's arm is ADSL's
    ``arm_column`` (pass the actual arm, e.g. TRT01A, to plan by the treatment received).
    An agent in no arm's plan is a DataError; an agent planned only for another arm gets no
    PLANDOSE/RDI (the trace says why). See the module docstring for every definition.
    """
    if starting_dose not in ("protocol", "first"):
        raise InputError(
            f"starting_dose: {starting_dose!r} is not valid; valid: 'protocol', 'first'",
            argument="starting_dose",
        )
    if planned_period not in ("schedule", "elapsed"):
        raise InputError(
            f"planned_period: {planned_period!r} is not valid; valid: 'schedule', 'elapsed'",
            argument="planned_period",
        )
    subjects = read_subjects(adsl, arm_column=arm_column, dataset=adsl_name)
    require_columns(ex, REQUIRED, dataset)
    ex = ex.reset_index(drop=True)
    ids = text_cells(ex, "USUBJID", dataset)
    agents_named = text_cells(ex, "EXTRT", dataset)
    doses = decimal_cells(ex, "EXDOSE", dataset)
    starts = required_dates(ex, "EXSTDTC", dataset)
    ends = required_dates(ex, "EXENDTC", dataset)
    adjs = (
        code_cells(ex, "EXADJ", dataset, EXADJ_VALUES, missing="")
        if "EXADJ" in ex.columns
        else [""] * len(ex)
    )
    known = {name.lower(): name for arm in plans.values() for name in arm}
    groups: dict[tuple[str, str], list[_Period]] = {}
    for i, usubjid in enumerate(ids):
        if usubjid not in subjects:
            raise unknown_subject(dataset, i, usubjid, subjects, adsl_name)
        agent = known.get(agents_named[i].lower())
        if agent is None:
            raise bad_cell(
                dataset,
                "EXTRT",
                i,
                ex["EXTRT"].iloc[i],
                f"is not an agent of any arm's regimen; valid: {sorted(known.values())}",
            )
        dose = doses[i]
        if dose is None or dose < 0:
            raise bad_cell(
                dataset, "EXDOSE", i, ex["EXDOSE"].iloc[i], "is not a dose; valid: a number >= 0"
            )
        if ends[i] < starts[i]:
            raise bad_cell(
                dataset,
                "EXENDTC",
                i,
                ex["EXENDTC"].iloc[i],
                f"is before EXSTDTC {starts[i].isoformat()}",
            )
        groups.setdefault((usubjid, agent), []).append(
            _Period(i, starts[i], ends[i], dose, adjs[i])
        )
    _check_units(ex, ids, agents_named, known, plans, subjects, dataset)

    records: list[dict[str, object]] = []
    traces: list[SubjectTrace] = []
    for (usubjid, agent), periods in sorted(groups.items()):
        arm = subjects[usubjid].arm
        plan = plans.get(arm, {}).get(agent)
        any_plan = next(p[agent] for p in plans.values() if agent in p)
        periods.sort(key=lambda p: (p.start, p.row))
        _check_periods(periods, any_plan, ex, dataset)
        values, notes = _parameters(periods, plan, any_plan, arm, starting_dose, planned_period)
        for paramcd, (aval, avalc) in values.items():
            param, unit = PARAMS[paramcd]
            records.append(
                {
                    "USUBJID": usubjid,
                    arm_column: arm,
                    "EXTRT": agent,
                    "PARAMCD": paramcd,
                    "PARAM": param,
                    "AVAL": None if aval is None else float(aval),
                    "AVALC": avalc,
                    "AVALU": any_plan.unit if paramcd in ("CUMDOSE", "PLANDOSE") else unit,
                }
            )
            traces.append(
                SubjectTrace(usubjid, "ADEX", paramcd, agent, avalc or _show(aval), notes[paramcd])
            )
    columns = ["USUBJID", arm_column, "EXTRT", "PARAMCD", "PARAM", "AVAL", "AVALC", "AVALU"]
    data = pd.DataFrame(records, columns=columns)
    data["AVAL"] = data["AVAL"].astype("float64")
    return Adex(data, tuple(traces), starting_dose, arm_column)


def _show(value: Decimal | None) -> str:
    return "" if value is None else f"{float(value):.10g}"


def _check_units(
    ex: pd.DataFrame,
    ids: list[str],
    agents: list[str],
    known: dict[str, str],
    plans: Mapping[str, Mapping[str, DosePlan]],
    subjects: Mapping[str, Any],
    dataset: str,
) -> None:
    if "EXDOSU" not in ex.columns:
        return
    for i, value in enumerate(ex["EXDOSU"].tolist()):
        agent = known[agents[i].lower()]
        plan = plans.get(subjects[ids[i]].arm, {}).get(agent) or next(
            p[agent] for p in plans.values() if agent in p
        )
        if is_missing(value) or str(value).strip() != plan.unit:
            raise bad_cell(
                dataset,
                "EXDOSU",
                i,
                value,
                f"is not the regimen's unit of {agent}; valid: {plan.unit!r}",
            )


def _check_periods(periods: list[_Period], plan: DosePlan, ex: pd.DataFrame, dataset: str) -> None:
    for before, after in itertools.pairwise(periods):
        if after.start <= before.end:
            raise bad_cell(
                dataset,
                "EXSTDTC",
                after.row,
                ex["EXSTDTC"].iloc[after.row],
                f"overlaps the period of row {before.row + 1} "
                f"({before.start.isoformat()} to {before.end.isoformat()}) of the same agent",
            )
    if plan.single_day_rows:
        for p in periods:
            if p.days != 1:
                raise bad_cell(
                    dataset,
                    "EXENDTC",
                    p.row,
                    ex["EXENDTC"].iloc[p.row],
                    f"differs from EXSTDTC {p.start.isoformat()}: each {plan.agent} row is one "
                    f"administration (schedule once per dosing day)",
                )


def _parameters(
    periods: list[_Period],
    plan: DosePlan | None,
    any_plan: DosePlan,
    arm: str,
    starting_dose: str,
    planned_period: str,
) -> tuple[dict[str, tuple[Decimal | None, str | None]], dict[str, str]]:
    """PARAMCD -> (AVAL, AVALC) and PARAMCD -> trace for one subject and agent."""
    per_day = any_plan.administrations_per_day
    unit = any_plan.unit
    dosed = [p for p in periods if p.dose > 0]
    cum = sum((p.dose * per_day * p.days for p in periods), Decimal(0))
    pieces = " + ".join(f"{fmt(p.dose)} x {per_day} x {p.days} d" for p in periods if p.dose > 0)
    values: dict[str, tuple[Decimal | None, str | None]] = {}
    notes: dict[str, str] = {}
    values["CUMDOSE"] = (cum, None)
    notes["CUMDOSE"] = (
        f"sum of dose x administrations/day x days over the periods with dose > 0: "
        f"{pieces} = {fmt(cum)} {unit}"
        if dosed
        else f"no period with dose > 0 ({len(periods)} held period(s)) -> 0 {unit}"
    )
    first = min((p.start for p in dosed), default=periods[0].start)
    last = max((p.end for p in dosed), default=periods[0].end)
    if not dosed:
        for paramcd in ("TRTDURD", "PLANDOSE", "RDI"):
            values[paramcd] = (None, None)
            notes[paramcd] = "no dose > 0: not derived"
    else:
        duration = (last - first).days + 1
        values["TRTDURD"] = (Decimal(duration), None)
        notes["TRTDURD"] = (
            f"last dose {last.isoformat()} - first dose {first.isoformat()} + 1 = {duration} days"
        )
    start_dose, start_words = _starting_dose(dosed, plan, starting_dose)
    if dosed and plan is not None and start_dose is not None:
        if planned_period == "schedule":
            n_days = plan.dosing_days(first, last)
            planned = start_dose * plan.administrations_per_day * n_days
            notes["PLANDOSE"] = (
                f"{start_words} {fmt(start_dose)} {unit} x {plan.administrations_per_day}/day x "
                f"{n_days} scheduled dosing days from {first.isoformat()} to {last.isoformat()} "
                f"({plan.describe()}) = {fmt(planned)} {unit}"
            )
        else:
            span, share = plan.elapsed_days(first, last), plan.dosing_share
            planned = start_dose * plan.administrations_per_day * share * span
            notes["PLANDOSE"] = (
                f"{start_words} {fmt(start_dose)} {unit} x {plan.administrations_per_day}/day x "
                f"{len(plan.days)}/{plan.cycle_days * plan.every_cycles} dosing share x {span} "
                f"elapsed days ({last.isoformat()} - {first.isoformat()} + 1 + "
                f"{plan.rest_after} rest days) = {float(planned):.6g} {unit}"
            )
        values["PLANDOSE"] = (planned, None)
        if planned > 0:
            rdi = Decimal(100) * cum / planned
            values["RDI"] = (rdi, None)
            notes["RDI"] = f"100 x {fmt(cum)} / {fmt(planned)} = {float(rdi):.4f} %"
        else:
            values["RDI"] = (None, None)
            notes["RDI"] = "no scheduled dosing day between first and last dose: not derived"
    elif dosed:
        values["PLANDOSE"] = (None, None)
        values["RDI"] = (None, None)
        why = f"{any_plan.agent} is not in the regimen of arm {arm!r}: no planned dose"
        notes["PLANDOSE"] = notes["RDI"] = why
    values["DOSERED"], notes["DOSERED"] = _reduction(periods, start_dose, start_words, unit)
    values["DOSEINT"], notes["DOSEINT"] = _interruption(periods)
    order = ("TRTDURD", "CUMDOSE", "PLANDOSE", "RDI", "DOSERED", "DOSEINT")
    return {k: values[k] for k in order}, notes


def _starting_dose(
    dosed: list[_Period], plan: DosePlan | None, starting_dose: str
) -> tuple[Decimal | None, str]:
    first_given = dosed[0].dose if dosed else None
    if starting_dose == "protocol" and plan is not None:
        return to_decimal(plan.dose), "protocol starting dose"
    if first_given is None:
        return None, "no dose given"
    return first_given, "first dose given"


def _reduction(
    periods: list[_Period], start: Decimal | None, start_words: str, unit: str
) -> tuple[tuple[Decimal | None, str | None], str]:
    hits = []
    for p in periods:
        if start is not None and 0 < p.dose < start:
            hits.append(f"row {p.row + 1} {fmt(p.dose)} {unit} < {fmt(start)} from {p.start}")
        elif p.adj == "DOSE REDUCED":
            hits.append(f"row {p.row + 1} EXADJ = DOSE REDUCED from {p.start}")
    if hits:
        return (None, "Y"), "; ".join(hits)
    base = f"{start_words} {fmt(start)} {unit}" if start is not None else start_words
    return (None, "N"), f"no period with 0 < dose < {base} and no EXADJ = DOSE REDUCED"


def _interruption(periods: list[_Period]) -> tuple[tuple[Decimal | None, str | None], str]:
    hits = []
    for p in periods:
        if p.dose == 0:
            hits.append(f"row {p.row + 1} dose 0 from {p.start} to {p.end}")
        elif p.adj == "DOSE INTERRUPTED":
            hits.append(f"row {p.row + 1} EXADJ = DOSE INTERRUPTED from {p.start}")
    if hits:
        return (None, "Y"), "; ".join(hits)
    return (None, "N"), "no period with dose 0 and no EXADJ = DOSE INTERRUPTED"


# --------------------------------------------------------------------------- summaries


def adex_wide(adex: pd.DataFrame, *, arm_column: str = "ARMCD") -> pd.DataFrame:
    """ADEX long form -> one row per subject and agent with TRTDURD, ..., DOSEINT columns."""
    require_columns(adex, ("USUBJID", arm_column, "EXTRT", "PARAMCD", "AVAL", "AVALC"), "ADEX")
    rows: dict[tuple[str, str, str], dict[str, object]] = {}
    for record in adex.to_dict(orient="records"):
        key = (record["USUBJID"], record[arm_column], record["EXTRT"])
        row = rows.setdefault(key, {"USUBJID": key[0], arm_column: key[1], "EXTRT": key[2]})
        avalc = record["AVALC"]
        row[record["PARAMCD"]] = record["AVAL"] if is_missing(avalc) else avalc
    columns = ["USUBJID", arm_column, "EXTRT", *PARAMS]
    return pd.DataFrame(list(rows.values())).reindex(columns=columns)


def exposure_summary(adex: pd.DataFrame, *, arm_column: str = "ARMCD") -> SafetyTable:
    """Per arm and agent: N (subjects given the agent), MEDRDI, MEDDUR, N_RED, PCT_RED,
    N_INT, PCT_INT (percentages of N)."""
    wide = adex_wide(adex, arm_column=arm_column)
    rows = []
    denominators: dict[str, int] = {}
    for (arm, agent), group in wide.groupby([arm_column, "EXTRT"], sort=True):
        n = len(group)
        denominators[f"{arm}/{agent}"] = n
        rdi = [float(x) for x in group["RDI"] if not is_missing(x)]
        dur = [float(x) for x in group["TRTDURD"] if not is_missing(x)]
        red = int((group["DOSERED"] == "Y").sum())
        inter = int((group["DOSEINT"] == "Y").sum())
        rows.append(
            {
                arm_column: arm,
                "EXTRT": agent,
                "N": n,
                "MEDRDI": statistics.median(rdi) if rdi else float("nan"),
                "MEDDUR": statistics.median(dur) if dur else float("nan"),
                "N_RED": red,
                "PCT_RED": 100.0 * red / n,
                "N_INT": inter,
                "PCT_INT": 100.0 * inter / n,
            }
        )
    return SafetyTable(pd.DataFrame(rows), "subjects given the agent", arm_column, denominators)
