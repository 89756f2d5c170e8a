"""Dosing (EX): 28-day cycles, cycle delays, palbociclib interruptions and reductions.

* Palbociclib (arms whose regimen has it) starts at the subject's last dose level of the
  previous palbociclib line (PALMIRA: 125, 100 or 75 mg, Table 1), days 1-21 of each cycle.
  Cycle ``k + 1`` starts 28 days after cycle ``k`` plus a scheduling delay of 0-3 days, plus
  7 days when the dose is interrupted (a zero-dose period, ``EXADJ = DOSE INTERRUPTED``); a
  reduction lowers the dose one level from that cycle on (``EXADJ = DOSE REDUCED``); a
  reduction below the lowest level stops palbociclib (ET continues, as PALMIRA allowed).
* Endocrine therapy never changes (PALMIRA: 100% RDI for ET): fulvestrant 500 mg on days 1
  and 15 of cycle 1 then day 1 of every 28 days; letrozole 2.5 mg daily; goserelin 3.6 mg
  every 28 days for premenopausal subjects.
* True relative dose intensity (truth ``RDI``): ``100 * CUMDOSE / (start dose * 21/28 * D)``
  with ``D = last dose date - first dose date + 8`` days (through the rest week after the last
  dose: 100% for a subject who takes every planned dose on time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from oncotrial.spec.models import Arm
from oncotrial.synth.draws import Draws
from oncotrial.synth.params import SynthParams

CDK = "palbociclib"


@dataclass
class Cycle:
    start: int  # day offset from randomization
    dose: int  # palbociclib dose of the cycle (0: not given)
    interrupted: int = 0  # zero-dose days before the cycle started
    reduced: bool = False


@dataclass
class DosePlan:
    cycles: list[Cycle] = field(default_factory=list)
    start_dose: int = 0
    has_cdk: bool = False


def plan_cycles(
    first: int,
    end: int,
    start_dose: int,
    has_cdk: bool,
    levels: list[int],
    interrupt_before: set[int],
    reduce_from: set[int],
    params: SynthParams,
    draws: Draws,
) -> DosePlan:
    """Actual cycle starts (day offsets) from ``first`` while before ``end`` (exclusive)."""
    plan = DosePlan(start_dose=start_dose, has_cdk=has_cdk)
    day, dose, k = first, start_dose, 1
    while day < end:
        cycle = Cycle(day, dose if has_cdk else 0)
        if k in interrupt_before and has_cdk and dose:
            cycle.interrupted = 7
            cycle.start = day + 7
        if k in reduce_from and has_cdk and dose:
            lower = [lv for lv in levels if lv < dose]
            dose = lower[0] if lower else 0
            cycle.dose = dose
            cycle.reduced = bool(dose)
        if cycle.start >= end:
            break
        plan.cycles.append(cycle)
        delay = int(draws.pick(params.cycle_delay_days)) if has_cdk else 0
        day = cycle.start + 28 + delay
        k += 1
    return plan


def ex_records(
    usubjid: str,
    randdt: dt.date,
    arm: Arm,
    plan: DosePlan,
    study_et: str,
    premenopausal: bool,
    first: int,
    end: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """EX rows of one treated subject and the exposure truth (last dose day, RDI...)."""
    rows: list[dict[str, Any]] = []
    agents = {a.agent: a for a in arm.regimen}

    def add(agent: str, dose: float, unit: str, a: int, b: int, adj: str = "") -> None:
        rows.append(
            {
                "USUBJID": usubjid,
                "EXTRT": agent,
                "EXDOSE": dose,
                "EXDOSU": unit,
                "EXSTDTC": (randdt + dt.timedelta(days=a)).isoformat(),
                "EXENDTC": (randdt + dt.timedelta(days=b)).isoformat(),
                "EXADJ": adj,
            }
        )

    last = first
    cum = 0
    previous = plan.start_dose
    first_cdk = last_cdk = None
    interrupted = reduced = False
    if plan.has_cdk:
        for cycle in plan.cycles:
            if cycle.interrupted:
                add(
                    CDK,
                    0,
                    "mg",
                    cycle.start - cycle.interrupted,
                    cycle.start - 1,
                    "DOSE INTERRUPTED",
                )
                interrupted = True
            if not cycle.dose:
                break
            stop = min(cycle.start + 20, end - 1)
            if stop < cycle.start:
                break
            adj = "DOSE REDUCED" if cycle.dose < previous else ""
            reduced = reduced or bool(adj)
            add(CDK, cycle.dose, "mg", cycle.start, stop, adj)
            previous = cycle.dose
            cum += cycle.dose * (stop - cycle.start + 1)
            first_cdk = cycle.start if first_cdk is None else first_cdk
            last_cdk = stop
            last = max(last, stop)
    et = agents.get(study_et)
    if et is not None:
        if study_et == "letrozole":
            day = first
            while day < end:
                stop = min(day + 27, end - 1)
                add(et.agent, et.dose, et.unit, day, stop)
                last = max(last, stop)
                day += 28
        else:
            days = [first, first + 14] + [first + 28 * k for k in range(1, 200)]
            for day in days:
                if day >= end:
                    break
                add(et.agent, et.dose, et.unit, day, day)
                last = max(last, day)
    gnrh = agents.get("goserelin")
    if premenopausal and gnrh is not None:
        day = first
        while day < end:
            add(gnrh.agent, gnrh.dose, gnrh.unit, day, day)
            last = max(last, day)
            day += 28
    rows.sort(key=lambda r: (r["EXTRT"], r["EXSTDTC"]))
    rdi = None
    if first_cdk is not None and last_cdk is not None:
        span = last_cdk - first_cdk + 8
        rdi = 100.0 * cum / (plan.start_dose * 21 / 28 * span)
    truth = {
        "LAST_DOSE_DAY": last,
        "CDK_CUMDOSE": cum if plan.has_cdk else None,
        "CDK_START_DOSE": plan.start_dose if plan.has_cdk else None,
        "CDK_RDI": None if rdi is None else round(rdi, 2),
        "CDK_INTERRUPTED": interrupted if plan.has_cdk else None,
        "CDK_REDUCED": reduced if plan.has_cdk else None,
    }
    return rows, truth
