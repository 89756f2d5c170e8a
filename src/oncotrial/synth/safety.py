"""Adverse events (AE) and laboratory results (LB) with arm-specific rates.

* Each TEAE term of ``SynthParams.ae_terms`` gets a per-subject maximum grade 0-5 drawn from
  its arm's grade probabilities (PALMIRA Table 2 where the term is listed).
* Laboratory tests (NEUT, WBC, PLAT, HGB, ALT, GGT) are drawn at the spec's safety visits
  (day 1 of each cycle for cycles 1-6, then every 2 cycles, on the actual cycle starts) and
  its day-14 blood counts (cycles 1-2); the cycle-1 day-1 sample is the baseline (``LBBLFL``).
  For a term tied to a test, the test's worst on-treatment value falls inside the CTCAE v5.0
  grade interval of the AE's maximum grade (away from the boundaries), other visits at that
  grade or below; without the AE the test stays normal. White cells are neutrophils plus
  1.7-3.0 x 10^9/L of other cells unless leukopenia sets them, so white-cell grades follow
  neutrophil grades only approximately, as in real data.
* An AE record is written for every on-treatment lab visit graded >= 2 (or the worst visit
  when the maximum is grade 1), so the maximum AE grade of a lab-based term equals the
  maximum CTCAE grade of its lab values. Other terms get one record with an onset drawn in
  the treatment period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from oncotrial.synth.draws import Draws
from oncotrial.synth.params import AeTerm

# test -> (unit, LLN, ULN, decimals, grade intervals 0..4 as (low, high))
LABS: dict[str, tuple[str, float, float, int, tuple[tuple[float, float], ...]]] = {
    "NEUT": (
        "10^9/L",
        1.8,
        7.5,
        2,
        ((2.2, 5.5), (1.52, 1.78), (1.02, 1.48), (0.52, 0.98), (0.12, 0.48)),
    ),
    "WBC": (
        "10^9/L",
        4.0,
        11.0,
        2,
        ((4.5, 9.0), (3.05, 3.95), (2.05, 2.95), (1.05, 1.95), (0.55, 0.95)),
    ),
    "PLAT": (
        "10^9/L",
        150.0,
        400.0,
        0,
        ((170.0, 380.0), (76.0, 148.0), (51.0, 74.0), (26.0, 49.0), (10.0, 24.0)),
    ),
    "HGB": (
        "g/dL",
        12.0,
        16.0,
        1,
        ((12.3, 15.2), (10.1, 11.9), (8.1, 9.9), (6.8, 7.9), (6.8, 7.9)),
    ),
    "ALT": (
        "U/L",
        7.0,
        35.0,
        0,
        ((10.0, 33.0), (37.0, 100.0), (110.0, 170.0), (180.0, 680.0), (720.0, 900.0)),
    ),
    "GGT": (
        "U/L",
        6.0,
        42.0,
        0,
        ((8.0, 40.0), (44.0, 100.0), (110.0, 205.0), (215.0, 820.0), (860.0, 1000.0)),
    ),
}


@dataclass
class LabVisit:
    day: int
    visit: str
    tests: tuple[str, ...]
    baseline: bool = False
    cycle: int = 1


def draw_max_grades(arm: str, terms: tuple[AeTerm, ...], draws: Draws) -> dict[str, int]:
    """Per term, the subject's maximum grade (0: no such TEAE)."""
    out = {}
    for term in terms:
        probs = term.grade_probs.get(arm, (0.0, 0.0, 0.0, 0.0, 0.0))
        out[term.decod] = draws.pick((max(0.0, 1.0 - sum(probs)), *probs))
    return out


def _value(test: str, grade: int, draws: Draws) -> float:
    _, _, _, decimals, intervals = LABS[test]
    low, high = intervals[min(grade, 4)]
    return round(low + (high - low) * draws.u(), decimals)


def lab_records(
    usubjid: str,
    randdt: dt.date,
    visits: list[LabVisit],
    grades: dict[str, int],
    terms: tuple[AeTerm, ...],
    draws: Draws,
    worst_cycle: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, list[tuple[int, int]]]]:
    """LB rows and, per lab-based AE term, its (day, grade) at each on-treatment visit."""
    lab_term = {t.lab: t.decod for t in terms if t.lab}
    on_visits = [v for v in visits if not v.baseline]
    plan: dict[str, list[int]] = {}
    for test in LABS:
        g = grades.get(lab_term.get(test, ""), 0) if test in lab_term else 0
        g = min(g, 4)
        eligible = [i for i, v in enumerate(on_visits) if test in v.tests]
        per_visit = [0] * len(on_visits)
        if g and eligible:
            worst = eligible[draws.integer(0, min(3, len(eligible) - 1))]
            hinted = [i for i in eligible if on_visits[i].cycle == worst_cycle]
            if test == "NEUT" and hinted:
                worst = hinted[-1]
            for i in eligible:
                per_visit[i] = g if i == worst else draws.integer(0, g)
        plan[test] = per_visit
    rows: list[dict[str, Any]] = []
    series: dict[str, list[tuple[int, int]]] = {}
    position = {id(v): i for i, v in enumerate(on_visits)}
    for visit in visits:
        neut = None
        for test in LABS:
            if test not in visit.tests:
                continue
            unit, lln, uln, decimals, _ = LABS[test]
            g = 0 if visit.baseline else plan[test][position[id(visit)]]
            value = _value(test, g, draws)
            if test == "NEUT":
                neut = value
            if test == "WBC" and neut is not None:
                floor_wbc = round(neut + 0.3, 2)
                if g == 0:
                    value = round(neut + 1.7 + 1.3 * draws.u(), 2)
                value = max(value, floor_wbc)
            rows.append(
                {
                    "USUBJID": usubjid,
                    "LBTESTCD": test,
                    "VISIT": visit.visit,
                    "LBDTC": (randdt + dt.timedelta(days=visit.day)).isoformat(),
                    "LBSTRESN": int(value) if decimals == 0 else value,
                    "LBSTRESU": unit,
                    "LBSTNRLO": int(lln) if decimals == 0 else lln,
                    "LBSTNRHI": int(uln) if decimals == 0 else uln,
                    "LBBLFL": "Y" if visit.baseline else "",
                }
            )
            if not visit.baseline and test in lab_term:
                series.setdefault(lab_term[test], []).append((visit.day, g))
    return rows, series


def ae_records(
    usubjid: str,
    randdt: dt.date,
    arm: str,
    grades: dict[str, int],
    terms: tuple[AeTerm, ...],
    lab_series: dict[str, list[tuple[int, int]]],
    first: int,
    end: int,
    horizon: int,
    fixed_onsets: dict[str, int],
    draws: Draws,
    death: float = float("inf"),
) -> list[dict[str, Any]]:
    """AE rows of one treated subject; onsets within ``[first, end + 28]``, before death and
    the cutoff; an AE still going on at death ends on the day of death."""
    rows: list[dict[str, Any]] = []
    death_day = int(death) if death != float("inf") else None
    last_onset = min(end + 28, horizon, death_day if death_day is not None else horizon)

    def add(term: AeTerm, grade: int, onset: int, stop: int | None) -> None:
        if onset > last_onset and term.decod not in fixed_onsets:
            return
        if death_day is not None and stop is not None:
            stop = min(stop, death_day)
        serious = grade == 5 or (grade >= 3 and draws.chance(term.serious_if_grade3))
        rows.append(
            {
                "USUBJID": usubjid,
                "AETERM": term.decod.lower(),
                "AEDECOD": term.decod,
                "AEBODSYS": term.bodsys,
                "AETOXGR": grade,
                "AESTDTC": (randdt + dt.timedelta(days=onset)).isoformat(),
                "AEENDTC": ""
                if stop is None or stop > horizon
                else (randdt + dt.timedelta(days=stop)).isoformat(),
                "AESER": "Y" if serious else "N",
                "AEREL": "Y" if draws.chance(term.related) else "N",
                "AEACN": "DOSE NOT CHANGED",
            }
        )

    for term in terms:
        g = grades.get(term.decod, 0)
        if not g:
            continue
        if term.lab and term.decod in lab_series:
            points = lab_series[term.decod]
            worst = max(gr for _, gr in points)
            for day, gr in points:
                if gr >= 2 or (gr == worst and gr >= 1):
                    add(term, gr, day, day + draws.integer(5, 14))
                    if gr == worst and gr == 1:
                        break
            continue
        if term.lab:  # no on-treatment lab visit (very short treatment): no lab-based AE
            continue
        if term.decod in fixed_onsets:
            onset = fixed_onsets[term.decod]
        else:
            onset = first + min(int(draws.exponential(70.0, 1)[0]), max(last_onset - first, 0))
        if onset > horizon:
            continue
        stop = onset + draws.integer(0, 10) if g == 5 else onset + draws.integer(3, 60)
        add(term, g, onset, stop)
    return rows
