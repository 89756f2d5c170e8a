"""``generate_trial``: a whole synthetic trial (raw SDTM-like domains and its truth) from a spec.

The generator runs the trial forward, subject by subject, from independent random streams
(:mod:`oncotrial.synth.draws`): sites and accrual; screening (real failures, checked with
:mod:`oncotrial.screening`); allocation by a stratified permuted-block list
(:mod:`oncotrial.randomize`); true progression, death and withdrawal
(:mod:`oncotrial.synth.outcomes`); scans on the spec's tumour schedule
(:mod:`oncotrial.spec.calendar`) with lesion measurements (:mod:`oncotrial.synth.tumour`);
dosing (:mod:`oncotrial.synth.exposure`); adverse events and labs
(:mod:`oncotrial.synth.safety`); disposition, subsequent therapy and ctDNA
(:mod:`oncotrial.synth.followup`); baseline pathology, MI (:mod:`oncotrial.synth.pathology`).
Nothing after the data cutoff is written.
The column contract is docs/DATA_MODEL.md; the model and its calibration docs/SYNTHETIC_TRIAL.md.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.errors import InputError, SpecError
from oncotrial.results import Result
from oncotrial.spec.calendar import visit_offsets
from oncotrial.spec.models import Assessment, TrialSpec
from oncotrial.synth import exposure, followup, outcomes, pathology, safety, tumour
from oncotrial.synth.allocation import accrual_dates, allocate
from oncotrial.synth.draws import Draws
from oncotrial.synth.params import PALMIRA, SynthParams
from oncotrial.synth.population import make_sites, screened_population

GENERATOR = "oncotrial-synth-v2"
"""Version of the generating algorithm: the same spec, seed, n and version give the same files."""

COLUMNS: dict[str, tuple[str, ...]] = {
    "dm": (
        "STUDYID",
        "USUBJID",
        "SITEID",
        "ARMCD",
        "ARM",
        "ACTARMCD",
        "RANDDT",
        "RFSTDTC",
        "RFENDTC",
        "DTHDTC",
        "AGE",
        "SEX",
    ),
    "sc": ("USUBJID", "SCTESTCD", "SCORRES"),
    "ds": ("USUBJID", "DSSCAT", "DSDECOD", "DSSTDTC"),
    "ex": ("USUBJID", "EXTRT", "EXDOSE", "EXDOSU", "EXSTDTC", "EXENDTC", "EXADJ"),
    "tr": (
        "USUBJID",
        "VISIT",
        "TRDTC",
        "TRLNKID",
        "TRGRPID",
        "TRTESTCD",
        "TRSTRESN",
        "TRSTRESC",
        "NODFL",
    ),
    "rs": ("USUBJID", "RSDTC", "RSTESTCD", "RSSTRESC"),
    "ae": (
        "USUBJID",
        "AETERM",
        "AEDECOD",
        "AEBODSYS",
        "AETOXGR",
        "AESTDTC",
        "AEENDTC",
        "AESER",
        "AEREL",
        "AEACN",
    ),
    "lb": (
        "USUBJID",
        "LBTESTCD",
        "VISIT",
        "LBDTC",
        "LBSTRESN",
        "LBSTRESU",
        "LBSTNRLO",
        "LBSTNRHI",
        "LBBLFL",
    ),
    "gf": ("USUBJID", "GFGENSYM", "GFSTRESC", "GFSPEC", "VISIT", "GFDTC"),
    "cm": ("USUBJID", "CMTRT", "CMCAT", "CMSCAT", "CMSTDTC"),
    "mi": ("USUBJID", "MITESTCD", "MISTRESC", "MISTRESN", "MISPEC", "VISIT", "MIDTC"),
}
"""Raw domains and their columns, in file order (docs/DATA_MODEL.md)."""

STREAMS = {
    "sites": 0,
    "accrual": 1,
    "population": 2,
    "treated": 3,
    "outcomes": 4,
    "course": 5,
    "tumour": 6,
    "safety": 7,
    "exposure": 8,
    "followup": 9,
    "pathology": 10,
}


@dataclass(frozen=True)
class SyntheticTrial(Result):
    """A generated trial: raw domains (``domains[code]``), per-subject truth and counts."""

    trial: str
    seed: int
    n: int
    generator: str
    data_cutoff: dt.date
    allocation_fingerprint: str
    consort: dict[str, Any]
    domains: dict[str, pd.DataFrame] = field(repr=False)
    truth: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "seed": self.seed,
            "n": self.n,
            "generator": self.generator,
            "data_cutoff": self.data_cutoff.isoformat(),
            "allocation_fingerprint": self.allocation_fingerprint,
            "consort": self.consort,
            "rows": {code: len(frame) for code, frame in self.domains.items()},
            "truth": truth_summary(self.truth),
        }

    def to_frame(self) -> pd.DataFrame:
        return self.truth.copy()

    def summary(self) -> str:
        c = self.consort
        s = truth_summary(self.truth)
        arms = ", ".join(f"{k} {v}" for k, v in c["by_arm"].items())
        lines = [
            f"Synthetic {self.trial} trial: seed {self.seed}, {self.n} randomized, "
            f"data cutoff {self.data_cutoff} ({self.generator})",
            f"  screened {c['screened']}, screen failures {c['screen_failures']}, "
            f"randomized {c['randomized']} ({arms}), "
            f"treated {c['treated']}",
        ]
        for arm, row in s["by_arm"].items():
            lines.append(
                f"  {arm}: true PFS median {row['pfs_median_months']} months, "
                f"ORR {row['orr']:.1%}, CBR {row['cbr']:.1%}, grade>=3 TEAE "
                f"{row['teae_grade3plus']:.1%}"
            )
        lines.append("  rows: " + ", ".join(f"{k} {len(v)}" for k, v in self.domains.items()))
        return "\n".join(lines)


def truth_summary(truth: pd.DataFrame) -> dict[str, Any]:
    """Per arm: KM median of the truth PFS, ORR, CBR and grade >= 3 TEAE rates."""
    from oncotrial.conventions import DAYS_PER_MONTH
    from oncotrial.stats.km import kaplan_meier

    rand = truth[truth["RANDOMIZED"] == "Y"]
    out: dict[str, Any] = {"by_arm": {}}
    for arm, group in rand.groupby("ARMCD", sort=False):
        km = kaplan_meier(group["PFS_DAYS"].to_numpy(float), 1 - group["PFS_CNSR"].to_numpy(int))
        treated = group[group["TREATED"] == "Y"]
        out["by_arm"][str(arm)] = {
            "n": len(group),
            "pfs_median_months": None
            if math.isnan(km.median)
            else round(km.median / DAYS_PER_MONTH, 2),
            "pfs_events": int((group["PFS_CNSR"] == 0).sum()),
            "orr": float(group["BOR"].isin(["CR", "PR"]).mean()),
            "cbr": float((group["CBR"] == "Y").mean()),
            "teae_grade3plus": float((treated["AE_MAXGR"] >= 3).mean()) if len(treated) else 0.0,
        }
    return out


def _tumour_assessment(spec: TrialSpec) -> Assessment:
    for assessment in spec.assessments:
        if assessment.kind == "tumour":
            return assessment
    raise SpecError(
        f"synth: {spec.trial.id} has no assessment of kind 'tumour'; the generator places "
        "scans on it",
        field="assessments",
    )


def _days(a: dt.date, b: dt.date) -> int:
    return (b - a).days


def generate_trial(
    spec: TrialSpec, seed: int, n: int | None = None, params: SynthParams = PALMIRA
) -> SyntheticTrial:
    """Generate the raw data of a whole trial of ``n`` randomized subjects (default: the spec's
    ``design.n``) from ``spec`` and ``seed``; the same arguments always give the same data.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(
            f"seed: {seed!r} must be a non-negative integer", argument="seed", value=repr(seed)
        )
    seed = int(seed)
    n = n if n is not None else getattr(spec.design, "n", None)
    if n is None or isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise InputError(
            f"n: {n!r} is not a valid number of randomized subjects; give an integer >= 2 "
            "(or a spec with design.n)",
            argument="n",
            value=repr(n),
        )
    draws = {name: Draws(seed, key) for name, key in STREAMS.items()}
    tumour_plan = _tumour_assessment(spec)
    cycle_days = spec.treatment.cycle_days if spec.treatment else 28
    sites = make_sites(params, draws["sites"])
    rand_dates = accrual_dates(params, n, draws["accrual"])
    pop = screened_population(spec, params, draws["population"], rand_dates, sites)
    order = sorted((i, j) for j, i in enumerate(pop.rand_index) if i is not None)
    rand_rows = [j for _, j in order]
    rand_attrs = [pop.attributes[j] for j in rand_rows]
    arms, alloc = allocate(spec, seed, rand_attrs)
    n_untreated = round(n * params.not_treated_fraction)
    treated = np.ones(n, dtype=bool)
    treated[draws["treated"].sample(n, n_untreated)] = False
    courses = outcomes.draw_courses(arms, rand_attrs, treated, params, draws["outcomes"])

    builder = followup.Builder(spec, params, pop, sites)
    for i, j in enumerate(rand_rows):
        _simulate_subject(
            spec,
            params,
            builder,
            pop,
            j,
            rand_dates[i],
            arms[i],
            courses[i],
            tumour_plan,
            cycle_days,
            draws,
        )
        builder.rows["mi"].extend(
            pathology.mi_records(pop.usubjid[j], rand_dates[i], params, draws["pathology"])
        )
    domains = builder.frames(COLUMNS)
    consort = builder.consort(arms)
    return SyntheticTrial(
        trial=spec.trial.id,
        seed=seed,
        n=n,
        generator=GENERATOR,
        data_cutoff=params.data_cutoff,
        allocation_fingerprint=alloc.fingerprint,
        consort=consort,
        domains=domains,
        truth=builder.truth_frame(),
    )


def _simulate_subject(
    spec: TrialSpec,
    params: SynthParams,
    builder: followup.Builder,
    pop: Any,
    j: int,
    randdt: dt.date,
    arm_name: str,
    course: outcomes.Course,
    tumour_plan: Assessment,
    cycle_days: int,
    draws: dict[str, Draws],
) -> None:
    """Run one randomized subject's trial and hand its records to the builder."""
    usubjid = pop.usubjid[j]
    attrs = pop.attributes[j]
    extra = pop.extra[j]
    arm = spec.arm(arm_name)
    horizon = _days(randdt, params.data_cutoff)
    grades: dict[str, int] = {}
    fixed: dict[str, int] = {}
    if course.treated:
        grades = safety.draw_max_grades(arm_name, params.ae_terms, draws["safety"])
        for term, g in grades.items():
            if g == 5:
                onset = course.first_dose + draws["safety"].integer(20, 150)
                fixed[term] = onset
                death = onset + draws["safety"].integer(0, 7)
                if death < course.t_death:
                    course.t_death, course.death_cause = float(death), "ADVERSE EVENT"
    offsets = visit_offsets(tumour_plan, cycle_days, horizon + 30)
    window = tumour_plan.periods[0].window_days if tumour_plan.periods else 0
    schedule = outcomes.scan_schedule(offsets, window, horizon, draws["course"])
    outcomes.run_course(course, schedule, horizon, params, draws["course"])
    tr, rs, tumour_truth = tumour.tumour_records(
        usubjid, randdt, course, attrs, params, draws["tumour"]
    )
    ex_rows: list[dict[str, Any]] = []
    lb_rows: list[dict[str, Any]] = []
    ae_rows: list[dict[str, Any]] = []
    ex_truth: dict[str, Any] = {}
    if course.treated:
        first = course.first_dose
        end = course.eot_day if course.eot_day is not None else horizon + 1
        end = max(end, first + 1)
        cdk = next((a for a in arm.regimen if a.agent == exposure.CDK), None)
        levels = [int(x) for x in (cdk.dose_levels or [cdk.dose])] if cdk is not None else []
        start_dose = (
            extra["prior_dose"]
            if extra["prior_dose"] in levels
            else (int(cdk.dose) if cdk is not None else 0)
        )
        dx = draws["exposure"]
        worst_cycle = dx.integer(1, 3)
        interrupt: set[int] = set()
        reduce: set[int] = set()
        neut = grades.get("Neutropenia", 0)
        if neut >= 3 and dx.chance(0.95):
            interrupt.add(worst_cycle + 1)
            if neut >= 4 or dx.chance(params.reduce_on_grade3):
                reduce.add(worst_cycle + 1)
        other3 = any(g >= 3 for t, g in grades.items() if t != "Neutropenia")
        if (other3 and dx.chance(0.6)) or dx.chance(params.interrupt_other):
            interrupt.add(dx.integer(2, 5))
        plan = exposure.plan_cycles(
            first, end, start_dose, cdk is not None, levels, interrupt, reduce, params, dx
        )
        ex_rows, ex_truth = exposure.ex_records(
            usubjid, randdt, arm, plan, attrs["study_et"], extra["premenopausal"], first, end
        )
        course.last_dose_day = ex_truth["LAST_DOSE_DAY"]
        visits = _lab_visits(spec, plan, end, cycle_days, draws["safety"])
        lb_rows, series = safety.lab_records(
            usubjid, randdt, visits, grades, params.ae_terms, draws["safety"], worst_cycle
        )
        ae_rows = safety.ae_records(
            usubjid,
            randdt,
            arm_name,
            grades,
            params.ae_terms,
            series,
            first,
            course.last_dose_day,
            horizon,
            fixed,
            draws["safety"],
            course.t_death,
        )
        _actions(ae_rows, course, ex_truth, randdt)
    builder.add_subject(
        j,
        randdt,
        arm,
        course,
        tr,
        rs,
        ex_rows,
        ae_rows,
        lb_rows,
        tumour_truth,
        ex_truth,
        horizon,
        draws["followup"],
    )


def _actions(
    ae_rows: list[dict[str, Any]],
    course: outcomes.Course,
    ex_truth: dict[str, Any],
    randdt: dt.date,
) -> None:
    """Action taken: interruption/reduction on grade >= 3 neutropenia; withdrawal on the AE
    that ended treatment."""
    for row in ae_rows:
        if row["AEDECOD"] == "Neutropenia" and row["AETOXGR"] >= 3:
            if ex_truth.get("CDK_REDUCED"):
                row["AEACN"] = "DOSE REDUCED"
            elif ex_truth.get("CDK_INTERRUPTED"):
                row["AEACN"] = "DRUG INTERRUPTED"
    if course.eot_reason == "ADVERSE EVENT" and course.eot_day is not None:
        eot = (randdt + dt.timedelta(days=course.eot_day)).isoformat()
        before = [r for r in ae_rows if r["AESTDTC"] <= eot]
        if before:
            worst = max(before, key=lambda r: (r["AETOXGR"], r["AESTDTC"]))
            worst["AEACN"] = "DRUG WITHDRAWN"


def _lab_visits(
    spec: TrialSpec, plan: exposure.DosePlan, end: int, cycle_days: int, draws: Draws
) -> list[safety.LabVisit]:
    """Safety-visit and day-14 blood-count days on the subject's actual cycle starts."""
    counts = ("NEUT", "WBC", "PLAT", "HGB")
    found: dict[int, safety.LabVisit] = {}
    for assessment in spec.assessments:
        if assessment.kind not in ("safety", "lab"):
            continue
        tests = tuple(safety.LABS) if assessment.kind == "safety" else counts
        horizon = len(plan.cycles) * cycle_days
        for offset in visit_offsets(assessment, cycle_days, horizon):
            cycle, cday = offset // cycle_days + 1, offset % cycle_days + 1
            if cycle > len(plan.cycles):
                continue
            day = plan.cycles[cycle - 1].start + cday - 1
            if cday > 1:
                day += draws.integer(-1, 1)
            if day >= end:
                continue
            baseline = cycle == 1 and cday == 1
            visit = found.get(day)
            merged = tuple(dict.fromkeys((*(visit.tests if visit else ()), *tests)))
            found[day] = safety.LabVisit(
                day,
                "CYCLE 1 DAY 1" if baseline else f"CYCLE {cycle} DAY {cday}",
                merged,
                baseline,
                cycle,
            )
    return [found[d] for d in sorted(found)]
