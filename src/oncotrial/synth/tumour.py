"""Lesion measurements (TR) and investigator responses (RS) consistent with the true course.

RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-247):

* Measurable subjects have 1-5 target lesions (non-nodal: longest diameter >= 10 mm; nodal:
  short axis >= 15 mm, ``NODFL = Y``, measured as ``LPERP``) and 0-3 non-target lesions;
  non-measurable subjects have 1-4 non-target lesions only.
* Before documented progression the sum of diameters follows the subject's true course:
  responders reach >= 30% shrinkage from baseline (PR) at the first scan and keep it;
  others stay between 24% shrinkage and 15% growth of the baseline, never >= 20% and >= 5 mm
  above the nadir (no false progression).
* At the scan documenting progression, by the subject's progression mode: the sum grows
  >= 20% and >= 5 mm over the nadir; or a new lesion appears; or non-target disease
  progresses unequivocally.

Measurements are whole millimetres, so the RECIST thresholds are met or missed exactly; each
scan's intended response is checked with the same rules before it is written (the RS domain
carries it), and the tests re-derive every response from TR with :mod:`oncotrial.derive`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from oncotrial.synth.draws import Draws
from oncotrial.synth.outcomes import Course
from oncotrial.synth.params import SynthParams


@dataclass
class Lesion:
    lnkid: str
    group: str  # TARGET / NON-TARGET
    nodal: bool
    baseline: int  # mm (targets)


def target_response(total: int, baseline: int, nadir: int) -> str:
    """RECIST 1.1 target response of a sum (mm) given baseline and nadir sums (no CR here)."""
    if total * 5 >= nadir * 6 and total - nadir >= 5:  # >= 20% and >= 5 mm over the nadir
        return "PD"
    if total * 10 <= baseline * 7:  # >= 30% below baseline
        return "PR"
    return "SD"


def baseline_lesions(measurable: bool, sites: int, draws: Draws) -> list[Lesion]:
    lesions: list[Lesion] = []
    if measurable:
        n_t = int(min(5, max(1, sites + draws.integer(-1, 1))))
        for k in range(n_t):
            nodal = draws.chance(0.2)
            size = (
                draws.integer(15, 32)
                if nodal
                else int(np.round(draws.truncated_lognormal(22.0, 0.45, 10.0, 90.0, 1)[0]))
            )
            lesions.append(Lesion(f"T{k + 1:02d}", "TARGET", nodal, size))
        n_nt = draws.integer(0, 3)
    else:
        n_nt = draws.integer(1, 4)
    for k in range(n_nt):
        lesions.append(Lesion(f"NT{k + 1:02d}", "NON-TARGET", draws.chance(0.1), 0))
    return lesions


def _split(total: int, lesions: list[Lesion], draws: Draws) -> list[int]:
    """Whole-mm lesion sizes proportional to baseline (+/- 8% noise) summing to ``total``."""
    raw = np.array([t.baseline for t in lesions], dtype=float)
    raw *= 1.0 + 0.08 * (2 * draws.uniform(len(raw)) - 1)
    raw *= total / raw.sum()
    sizes = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - sizes), kind="stable")[: total - int(sizes.sum())]:
        sizes[k] += 1
    return [int(x) for x in sizes]


def _max_not_pd(nadir: int) -> int:
    """The largest whole-mm sum that is not progression against ``nadir``."""
    return max(nadir + 4, (6 * nadir - 1) // 5)


def _sums(course: Course, baseline: int, n_scans: int, draws: Draws) -> list[tuple[int, str]]:
    """(sum of diameters, target response) at each post-baseline scan of the true course."""
    out: list[tuple[int, str]] = []
    nadir = baseline
    pr_max = baseline * 7 // 10  # largest sum that is a >= 30% decrease
    level = (0.45 + 0.22 * draws.u()) if course.responder else (0.76 + 0.34 * draws.u())
    for k in range(n_scans):
        if k == n_scans - 1 and course.pd_day is not None and course.pd_mode == "TARGET":
            total = max(math.ceil(nadir * (1.2 + 0.25 * draws.u())), nadir + 5)
        else:
            wanted = round(baseline * level * (1 + 0.04 * k * draws.u()))
            if course.responder:
                total = min(wanted, pr_max, _max_not_pd(nadir))
            else:
                total = min(max(wanted, pr_max + 1), _max_not_pd(nadir))
        out.append((total, target_response(total, baseline, nadir)))
        nadir = min(nadir, total)
    return out


def tumour_records(
    usubjid: str,
    randdt: dt.date,
    course: Course,
    attrs: dict[str, Any],
    params: SynthParams,
    draws: Draws,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """TR rows, RS rows and the tumour truth of one randomized subject."""
    measurable = bool(attrs["measurable_disease"])
    lesions = baseline_lesions(measurable, int(attrs["metastatic_sites"]), draws)
    targets = [x for x in lesions if x.group == "TARGET"]
    non_targets = [x for x in lesions if x.group == "NON-TARGET"]
    if course.pd_day is not None:
        if measurable:
            course.pd_mode = ("TARGET", "NEW", "NON-TARGET")[draws.pick(params.pd_modes_measurable)]
            if course.pd_mode == "NON-TARGET" and not non_targets:
                course.pd_mode = "NEW"
        else:
            course.pd_mode = ("NEW", "NON-TARGET")[draws.pick(params.pd_modes_nonmeasurable)]
    base_day = -draws.integer(1, 27)
    tr: list[dict[str, Any]] = []
    rs: list[dict[str, Any]] = []

    def add(day: int, visit: str, lesion: Lesion | str, testcd: str, value: Any) -> None:
        lnk = lesion if isinstance(lesion, str) else lesion.lnkid
        group = "NEW" if isinstance(lesion, str) else lesion.group
        nodal = False if isinstance(lesion, str) else lesion.nodal
        tr.append(
            {
                "USUBJID": usubjid,
                "VISIT": visit,
                "TRDTC": (randdt + dt.timedelta(days=day)).isoformat(),
                "TRLNKID": lnk,
                "TRGRPID": group,
                "TRTESTCD": testcd,
                "TRSTRESN": value if isinstance(value, int) else None,
                "TRSTRESC": "" if isinstance(value, int) else str(value),
                "NODFL": "Y" if nodal else "",
            }
        )

    def add_scan(day: int, visit: str, sizes: list[int], nt_state: str, new: bool) -> None:
        for lesion, size in zip(targets, sizes, strict=True):
            add(day, visit, lesion, "LPERP" if lesion.nodal else "LDIAM", size)
        for lesion in non_targets:
            add(day, visit, lesion, "TUMSTATE", nt_state)
        if new:
            add(day, visit, "NEW01", "TUMSTATE", "PRESENT")

    add_scan(base_day, "BASELINE", [t.baseline for t in targets], "PRESENT", False)
    baseline = sum(t.baseline for t in targets)
    scans = course.assessments
    sums = _sums(course, baseline, len(scans), draws) if targets else []
    responses: list[str] = []
    for k, (day, visit) in enumerate(scans):
        is_pd_scan = course.pd_day is not None and k == len(scans) - 1
        nt_state = (
            "UNEQUIVOCAL PROGRESSION"
            if is_pd_scan and course.pd_mode == "NON-TARGET"
            else "PRESENT"
        )
        new = is_pd_scan and course.pd_mode == "NEW"
        sizes = _split(sums[k][0], targets, draws) if targets else []
        add_scan(day, visit, sizes, nt_state, new)
        if targets:
            response = "PD" if sums[k][1] == "PD" or new or nt_state != "PRESENT" else sums[k][1]
        else:
            response = "PD" if is_pd_scan else "NON-CR/NON-PD"
        if is_pd_scan and response != "PD":  # pragma: no cover - a generator bug
            raise AssertionError(f"synth: {usubjid} progression scan reads {response}")
        responses.append(response)
        rs.append(
            {
                "USUBJID": usubjid,
                "RSDTC": (randdt + dt.timedelta(days=day)).isoformat(),
                "RSTESTCD": "OVRLRESP",
                "RSSTRESC": response,
            }
        )
    truth = {
        "BASELINE_SUM": baseline if targets else None,
        "N_TARGET": len(targets),
        "N_NONTARGET": len(non_targets),
        "PD_MODE": course.pd_mode or "",
        "RESPONSES": responses,
        "BASE_DAY": base_day,
    }
    return tr, rs, truth
