"""Disposition (DS), subsequent therapy (CM), ctDNA findings (GF), DM/SC and the truth table.

* DS: one END OF TREATMENT and one END OF STUDY row per randomized subject. A subject still
  on treatment / on study at the cutoff has ``DSDECOD = ONGOING`` dated at the last contact.
* Survival follow-up after treatment contacts the subject every 12 weeks (assumption); the
  last contact before the cutoff is the last date known alive.
* CM: after documented progression a subsequent anticancer therapy starts 1-6 weeks later
  with probability ``subsequent_therapy``; a therapy started before progression (after a stop
  for toxicity or physician decision) ends the scans.
* GF: ESR1 and PIK3CA in ctDNA at baseline and at month 3 (day 84 +/- 7); baseline mutations
  persist, ESR1 can be acquired (``esr1_acquired_3m``); 3% of samples fail (no row).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Any

import pandas as pd

from oncotrial.spec.models import Arm, TrialSpec
from oncotrial.synth.draws import Draws
from oncotrial.synth.outcomes import Course
from oncotrial.synth.params import SynthParams
from oncotrial.synth.population import Population, Site

SUBSEQUENT = (
    ("capecitabine", "CHEMOTHERAPY"),
    ("paclitaxel", "CHEMOTHERAPY"),
    ("everolimus + exemestane", "TARGETED THERAPY"),
    ("eribulin", "CHEMOTHERAPY"),
    ("abemaciclib + fulvestrant", "TARGETED THERAPY"),
)
CR_PR = ("CR", "PR")
CONTROL = ("CR", "PR", "SD", "NON-CR/NON-PD")


def sc_text(value: Any) -> str:
    """An attribute value as SC text: ``true``/``false``, ISO dates, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def true_bor(
    days: list[int], responses: list[str], min_sd_days: int = 42, confirmation_days: int = 28
) -> str:
    """Confirmed best overall response of the true scan responses (RECIST 1.1 4.4.3, 4.6.1)."""
    for i, r in enumerate(responses):
        if r == "PR" and any(
            responses[j] == "PR" and days[j] - days[i] >= confirmation_days
            for j in range(i + 1, len(responses))
        ):
            return "PR"
    controlled = [
        r for d, r in zip(days, responses, strict=True) if r in CONTROL and d >= min_sd_days
    ]
    if controlled:
        return "NON-CR/NON-PD" if all(r == "NON-CR/NON-PD" for r in controlled) else "SD"
    return "PD" if "PD" in responses else "NE"


def true_cbr(bor: str, days: list[int], responses: list[str], cbr_days: int = 168) -> bool:
    """Clinical benefit: confirmed CR/PR, or disease control at a scan on/after day 168."""
    return bor in CR_PR or any(
        r in CONTROL and d >= cbr_days for d, r in zip(days, responses, strict=True)
    )


class Builder:
    """Collects every subject's rows and truth, then makes the domain frames."""

    def __init__(
        self, spec: TrialSpec, params: SynthParams, pop: Population, sites: list[Site]
    ) -> None:
        self.spec = spec
        self.params = params
        self.pop = pop
        self.rows: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("dm", "sc", "ds", "ex", "tr", "rs", "ae", "lb", "gf", "cm", "mi")
        }
        self.dm_index: dict[int, dict[str, Any]] = {}
        self.truth: list[dict[str, Any]] = []
        names = [a.name for a in spec.subject_attributes]
        for j, usubjid in enumerate(pop.usubjid):
            attrs = pop.attributes[j]
            row = {
                "STUDYID": spec.trial.id,
                "USUBJID": usubjid,
                "SITEID": pop.siteid[j],
                "ARMCD": "",
                "ARM": "",
                "ACTARMCD": "",
                "RANDDT": "",
                "RFSTDTC": "",
                "RFENDTC": "",
                "DTHDTC": "",
                "AGE": attrs["age"],
                "SEX": "F",
            }
            self.rows["dm"].append(row)
            self.dm_index[j] = row
            for name in names:
                if attrs.get(name) is not None:
                    self.rows["sc"].append(
                        {"USUBJID": usubjid, "SCTESTCD": name, "SCORRES": sc_text(attrs[name])}
                    )
            if not pop.eligible[j]:
                self.truth.append(
                    {
                        "USUBJID": usubjid,
                        "RANDOMIZED": "N",
                        "SCREEN_FAILED": ";".join(pop.failed[j]),
                    }
                )
        self.truth_index: dict[str, dict[str, Any]] = {}

    def add_subject(
        self,
        j: int,
        randdt: dt.date,
        arm: Arm,
        course: Course,
        tr: list[dict[str, Any]],
        rs: list[dict[str, Any]],
        ex: list[dict[str, Any]],
        ae: list[dict[str, Any]],
        lb: list[dict[str, Any]],
        tumour_truth: dict[str, Any],
        ex_truth: dict[str, Any],
        horizon: int,
        draws: Draws,
    ) -> None:
        usubjid = self.pop.usubjid[j]
        day = lambda d: (randdt + dt.timedelta(days=int(d))).isoformat()  # noqa: E731
        death_day = (
            math.floor(course.t_death)
            if course.t_death <= horizon and course.t_death < course.stop_followup_day
            else None
        )
        dm = self.dm_index[j]
        dm.update(
            ARMCD=arm.name,
            ARM=arm.label,
            RANDDT=randdt.isoformat(),
            DTHDTC="" if death_day is None else day(death_day),
        )
        if course.treated:
            dm.update(
                ACTARMCD=arm.name,
                RFSTDTC=day(course.first_dose),
                RFENDTC=day(course.last_dose_day or course.first_dose),
            )
        for key, rows in (("tr", tr), ("rs", rs), ("ex", ex), ("ae", ae), ("lb", lb)):
            self.rows[key].extend(rows)
        # subsequent therapy
        cm_day = course.new_therapy_day
        if course.pd_day is not None and draws.chance(self.params.subsequent_therapy):
            start = course.pd_day + draws.integer(7, 42)
            if start <= horizon and (death_day is None or start < death_day):
                cm_day = start
        if cm_day is not None:
            therapy, category = SUBSEQUENT[draws.integer(0, len(SUBSEQUENT) - 1)]
            self.rows["cm"].append(
                {
                    "USUBJID": usubjid,
                    "CMTRT": therapy,
                    "CMCAT": "ANTICANCER THERAPY",
                    "CMSCAT": category,
                    "CMSTDTC": day(cm_day),
                }
            )
        # ctDNA
        gf = self._ctdna(usubjid, randdt, course, death_day, horizon, draws)
        # contacts and disposition
        known = [0] + [d for d, _ in course.assessments]
        if course.last_dose_day is not None:
            known.append(course.last_dose_day)
        known += [(dt.date.fromisoformat(r["LBDTC"]) - randdt).days for r in lb]
        if course.eot_day is not None:
            known.append(min(course.eot_day, horizon))
            contact = course.eot_day + 84
            while (
                contact <= horizon
                and contact < course.stop_followup_day
                and (death_day is None or contact < death_day)
            ):
                known.append(contact)
                contact += 84
        last_alive = max(k for k in known if k <= horizon)
        if death_day is not None:
            last_alive = death_day
        ds = self.rows["ds"]
        eot_reason = course.eot_reason if course.eot_day is not None else "ONGOING"
        eot_day = course.eot_day if course.eot_day is not None else last_alive
        if eot_reason == "DEATH" and death_day is not None:
            eot_day = death_day
        ds.append(
            {
                "USUBJID": usubjid,
                "DSSCAT": "END OF TREATMENT",
                "DSDECOD": eot_reason,
                "DSSTDTC": day(eot_day),
            }
        )
        if death_day is not None:
            eos, eos_day = "DEATH", death_day
        elif course.stop_followup_day <= horizon:
            eos = "WITHDRAWAL BY SUBJECT" if course.treated else eot_reason
            eos_day = int(course.stop_followup_day)
        else:
            eos, eos_day = "ONGOING", last_alive
        ds.append(
            {"USUBJID": usubjid, "DSSCAT": "END OF STUDY", "DSDECOD": eos, "DSSTDTC": day(eos_day)}
        )
        self._truth(
            j,
            randdt,
            arm,
            course,
            tumour_truth,
            ex_truth,
            death_day,
            cm_day,
            last_alive,
            ae,
            horizon,
            gf,
        )

    def _ctdna(
        self,
        usubjid: str,
        randdt: dt.date,
        course: Course,
        death_day: int | None,
        horizon: int,
        draws: Draws,
    ) -> dict[str, str]:
        p = self.params
        base = {"ESR1": draws.chance(p.esr1_baseline), "PIK3CA": draws.chance(p.pik3ca_baseline)}
        status = {"ESR1_BL": "", "PIK3CA_BL": "", "ESR1_M3": ""}
        bday = -draws.integer(0, 10)
        m3 = 84 + draws.integer(-7, 7)
        on_study = (
            course.treated
            and m3 <= horizon
            and m3 < course.stop_followup_day
            and (death_day is None or m3 < death_day)
        )
        acquired = draws.chance(p.esr1_acquired_3m)
        for gene, mutated in base.items():
            if draws.chance(0.97):
                self._gf(usubjid, gene, mutated, "BASELINE", randdt, bday)
                status[f"{gene}_BL"] = "MUTATED" if mutated else "NOT DETECTED"
            later = mutated or (gene == "ESR1" and acquired)
            if on_study and draws.chance(0.97):
                self._gf(usubjid, gene, later, "MONTH 3", randdt, m3)
                if gene == "ESR1":
                    status["ESR1_M3"] = "MUTATED" if later else "NOT DETECTED"
        return status

    def _gf(
        self, usubjid: str, gene: str, mutated: bool, visit: str, randdt: dt.date, day: int
    ) -> None:
        self.rows["gf"].append(
            {
                "USUBJID": usubjid,
                "GFGENSYM": gene,
                "GFSTRESC": "MUTATED" if mutated else "NOT DETECTED",
                "GFSPEC": "CTDNA",
                "VISIT": visit,
                "GFDTC": (randdt + dt.timedelta(days=day)).isoformat(),
            }
        )

    def _truth(
        self,
        j: int,
        randdt: dt.date,
        arm: Arm,
        course: Course,
        tumour_truth: dict[str, Any],
        ex_truth: dict[str, Any],
        death_day: int | None,
        cm_day: int | None,
        last_alive: int,
        ae: list[dict[str, Any]],
        horizon: int,
        gf: dict[str, str],
    ) -> None:
        iso = lambda d: "" if d is None else (randdt + dt.timedelta(days=int(d))).isoformat()  # noqa: E731
        days = [d for d, _ in course.assessments]
        responses = tumour_truth["RESPONSES"]
        bor = true_bor(days, responses) if days else "NE"
        new_before_pd = course.new_therapy_day
        if course.pd_day is not None and (death_day is None or course.pd_day <= death_day):
            pfs_day, cnsr = course.pd_day, 0
        elif death_day is not None and (new_before_pd is None or death_day < new_before_pd):
            pfs_day, cnsr = death_day, 0
        else:
            pfs_day, cnsr = (days[-1] if days else 0), 1
        grades = [int(r["AETOXGR"]) for r in ae]
        neut = [int(r["AETOXGR"]) for r in ae if r["AEDECOD"] == "Neutropenia"]
        self.truth.append(
            {
                "USUBJID": self.pop.usubjid[j],
                "RANDOMIZED": "Y",
                "SCREEN_FAILED": "",
                "ARMCD": arm.name,
                "RANDDT": randdt.isoformat(),
                "TREATED": "Y" if course.treated else "N",
                "TPROG_DAYS": round(course.t_prog, 2),
                "TPROGDT": iso(math.floor(course.t_prog)) if course.t_prog <= horizon else "",
                "PDDT": iso(course.pd_day),
                "PD_MODE": tumour_truth["PD_MODE"],
                "DTHDT": iso(death_day),
                "DTHCAUSE": course.death_cause if death_day is not None else "",
                "PFS_DT": iso(pfs_day),
                "PFS_DAYS": pfs_day + 1,
                "PFS_CNSR": cnsr,
                "BOR": bor,
                "CBR": "Y" if true_cbr(bor, days, responses) else "N",
                "RESPONDER": "Y" if course.responder else "N",
                "BASELINE_SUM": tumour_truth["BASELINE_SUM"],
                "N_TARGET": tumour_truth["N_TARGET"],
                "N_NONTARGET": tumour_truth["N_NONTARGET"],
                "N_SCANS": len(days),
                "EOTDT": iso(course.eot_day),
                "EOT_REASON": course.eot_reason,
                "LAST_DOSE_DT": iso(course.last_dose_day),
                "CDK_START_DOSE": ex_truth.get("CDK_START_DOSE"),
                "CDK_RDI": ex_truth.get("CDK_RDI"),
                "CDK_INTERRUPTED": _yn(ex_truth.get("CDK_INTERRUPTED")),
                "CDK_REDUCED": _yn(ex_truth.get("CDK_REDUCED")),
                "AE_MAXGR": max(grades) if grades else 0,
                "NEUT_AE_MAXGR": max(neut) if neut else 0,
                "NEWTHDT": iso(cm_day),
                "LSTALVDT": iso(last_alive),
                **gf,
            }
        )

    def frames(self, columns: dict[str, tuple[str, ...]]) -> dict[str, pd.DataFrame]:
        return {
            code: pd.DataFrame(self.rows[code], columns=list(cols))
            for code, cols in columns.items()
        }

    def truth_frame(self) -> pd.DataFrame:
        order = {u: k for k, u in enumerate(self.pop.usubjid)}
        frame = pd.DataFrame(self.truth)
        frame = frame.iloc[sorted(range(len(frame)), key=lambda k: order[frame["USUBJID"].iloc[k]])]
        return frame.reset_index(drop=True)

    def consort(self, arms: list[str]) -> dict[str, Any]:
        failed = [f for f, ok in zip(self.pop.failed, self.pop.eligible, strict=True) if not ok]
        treated = Counter(r["ACTARMCD"] for r in self.rows["dm"] if r["ACTARMCD"])
        return {
            "screened": len(self.pop.usubjid),
            "screen_failures": len(failed),
            "failures_by_first_criterion": dict(sorted(Counter(f[0] for f in failed).items())),
            "randomized": len(arms),
            "by_arm": {a.name: arms.count(a.name) for a in self.spec.arms},
            "treated": sum(treated.values()),
            "treated_by_arm": {a.name: treated.get(a.name, 0) for a in self.spec.arms},
        }


def _yn(value: Any) -> str:
    return "" if value is None else ("Y" if value else "N")
