"""Baseline pathology (MI): ER, PgR, HER2 (with ISH) and Ki-67 of each randomized subject.

PALMIRA enrolled HR-positive/HER2-negative advanced breast cancer (eligibility I2), so every
sample is ER >= 1% and HER2 IHC 0, 1+ or 2+ without ISH amplification. Distributions
(``SynthParams``; all assumptions, shaped by the HR+/HER2-negative population):

* ER: 1-10% ("ER low", ASCO/CAP 2020) 3%, 15-65% 12%, 70-100% 85% (multiples of 5 above 10%);
* PgR: positive 70% (1-4% for a tenth of them, else 5-95% by 5), else 0%;
* HER2 IHC 0 / 1+ / 2+: 40 / 40 / 20%; a 2+ sample has its ISH result (``NOT AMPLIFIED``)
  recorded 95% of the time (otherwise its HER2 status is equivocal in MI);
* Ki-67: log-normal, median 20%, log-scale sd 0.6, within [1, 90]%, whole percent; done on
  85% of samples.

Each subject has an archival sample 1-10 years before randomization; 30% also have a recent
metastatic biopsy 3-42 days before it (the derivation then reads the biopsy, the most recent
sample on or before randomization). Samples are drawn independently of each other and of
the outcomes (no prognostic effect is modelled). All draws come from the generator's own
``pathology`` stream, so adding MI moved no draw of any other domain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from oncotrial.synth.draws import Draws
from oncotrial.synth.params import SynthParams

HER2_SCORES = ("0", "1+", "2+")


def _er(params: SynthParams, draws: Draws) -> int:
    band = draws.pick(params.er_bands)
    if band == 0:
        return draws.integer(1, 10)
    if band == 1:
        return 5 * draws.integer(3, 13)
    return 5 * draws.integer(14, 20)


def _pgr(params: SynthParams, draws: Draws) -> int:
    if not draws.chance(params.pgr_positive):
        return 0
    if draws.chance(0.1):
        return draws.integer(1, 4)
    return 5 * draws.integer(1, 19)


def _row(usubjid: str, test: str, text: str, number: Any, date: dt.date) -> dict[str, Any]:
    return {
        "USUBJID": usubjid,
        "MITESTCD": test,
        "MISTRESC": text,
        "MISTRESN": number,
        "MISPEC": "TISSUE",
        "VISIT": "BASELINE",
        "MIDTC": date.isoformat(),
    }


def sample_records(
    usubjid: str, date: dt.date, params: SynthParams, draws: Draws
) -> list[dict[str, Any]]:
    """The MI rows of one tissue sample taken on ``date``."""
    er, pgr = _er(params, draws), _pgr(params, draws)
    her2 = HER2_SCORES[draws.pick(params.her2_probs)]
    rows = [
        _row(usubjid, "ER", str(er), er, date),
        _row(usubjid, "PGR", str(pgr), pgr, date),
        _row(usubjid, "HER2", her2, None, date),
    ]
    if her2 == "2+" and draws.chance(params.her2_ish_recorded):
        rows.append(_row(usubjid, "HER2ISH", "NOT AMPLIFIED", None, date))
    if draws.chance(params.ki67_done):
        ki67 = draws.truncated_lognormal(params.ki67_median, params.ki67_sigma, 1.0, 90.0, 1)
        value = round(float(ki67[0]))
        rows.append(_row(usubjid, "KI67", str(value), value, date))
    return rows


def mi_records(
    usubjid: str, randdt: dt.date, params: SynthParams, draws: Draws
) -> list[dict[str, Any]]:
    """An archival sample and, for some subjects, a recent metastatic biopsy."""
    archival = randdt - dt.timedelta(days=draws.integer(365, 3650))
    rows = sample_records(usubjid, archival, params, draws)
    if draws.chance(params.second_sample):
        biopsy = randdt - dt.timedelta(days=draws.integer(3, 42))
        rows += sample_records(usubjid, biopsy, params, draws)
    return rows
