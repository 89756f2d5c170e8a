"""ADRS: RECIST 1.1 time-point responses, best overall response, ORR and CBR.

* ``OVR``: the overall response at each assessment, from lesions (TR, via
  :func:`oncotrial.derive.recist.timepoint_responses`, ``TRDTC`` read as ``ADT``) or, when TR
  holds no rows, from the investigator's responses (RS ``OVRLRESP``).
* ``BOR`` (confirmed, RECIST 1.1 section 4.6.1) and ``BORU`` (unconfirmed, section 4.4.3):
  :func:`oncotrial.derive.best_response.best_overall_response`, reference date the
  randomization date (spec ``treatment.start: randomization``) or the first dose.
* ``ORR``: ``Y`` when the BOR is one of the ORR endpoint's responses (CR, PR). The confirmed
  BOR is used when the ORR endpoint gives ``confirmation_weeks``, else the unconfirmed one.
* ``CBR``: :func:`oncotrial.derive.best_response.clinical_benefit` with the CBR endpoint's
  ``min_sd_weeks`` (24 weeks = 168 days when absent), on the same BOR as ORR.

Every ITT subject gets BOR/BORU/ORR/CBR rows; one without any post-baseline assessment has
BOR ``NE`` (RECIST 1.1 section 4.4.3: not evaluable).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from oncotrial.derive.best_response import (
    BestOverallResponse,
    ClinicalBenefit,
    best_overall_response,
    clinical_benefit,
)
from oncotrial.derive.recist import RecistTimepoints, timepoint_responses
from oncotrial.spec.models import Endpoint, TrialSpec

PARAMS = {
    "OVR": "Overall Response by Investigator (RECIST 1.1)",
    "BOR": "Best Confirmed Overall Response (RECIST 1.1)",
    "BORU": "Best Unconfirmed Overall Response (RECIST 1.1)",
    "ORR": "Objective Response (CR or PR)",
    "CBR": "Clinical Benefit (CR, PR or SD >= {weeks:g} weeks)",
}
ADEQUATE = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD")


@dataclass(frozen=True)
class ResponseSettings:
    """The response rules taken from the spec (documented in the derivation log)."""

    reference: str  # "RANDDT" or "TRTSDT"
    confirmation_days: int
    min_sd_days: int
    orr_confirmed: bool
    orr_responses: tuple[str, ...]
    cbr_days: int

    @classmethod
    def from_spec(cls, spec: TrialSpec) -> ResponseSettings:
        orr = _endpoint(spec, "ORR")
        cbr = _endpoint(spec, "CBR")
        weeks = orr.confirmation_weeks if orr is not None else None
        confirmation_days = (
            round(weeks * 7) if weeks is not None else spec.derivation.confirmation_days
        )
        min_sd_weeks = cbr.min_sd_weeks if cbr is not None else None
        return cls(
            reference="RANDDT" if spec.treatment.start == "randomization" else "TRTSDT",
            confirmation_days=confirmation_days,
            min_sd_days=spec.derivation.sd_min_days,
            orr_confirmed=weeks is not None,
            orr_responses=tuple(orr.responses)
            if orr is not None and orr.responses
            else ("CR", "PR"),
            cbr_days=round((min_sd_weeks if min_sd_weeks is not None else 24) * 7),
        )


def _endpoint(spec: TrialSpec, endpoint_id: str) -> Endpoint | None:
    try:
        return spec.endpoint(endpoint_id)
    except KeyError:
        return None


@dataclass(frozen=True)
class Responses:
    """Everything ADRS and the endpoints need: time points, both BORs, CBR, traces."""

    settings: ResponseSettings
    source: str  # "TR" or "RS"
    timepoints: dict[str, list[tuple[dt.date, str]]]  # USUBJID -> (ADT, OVR) post-baseline
    baseline: dict[str, dt.date]  # USUBJID -> baseline scan date (TR only)
    measurable: dict[str, bool]  # USUBJID -> target disease at baseline (TR only)
    confirmed: BestOverallResponse | None
    unconfirmed: BestOverallResponse | None
    benefit: ClinicalBenefit | None
    ovr_traces: dict[str, list[str]] = field(default_factory=dict)
    visits: dict[tuple[str, dt.date], str | None] = field(default_factory=dict)
    recist: RecistTimepoints | None = None  # the lesion-based results (source TR), for ADTR

    def bor_for_orr(self) -> BestOverallResponse | None:
        return self.confirmed if self.settings.orr_confirmed else self.unconfirmed


def derive_responses(
    frames: dict[str, pd.DataFrame], adsl: pd.DataFrame, settings: ResponseSettings
) -> Responses:
    """Time-point responses and best responses of the subjects of ``adsl`` with a reference
    date (subjects without TR rows simply have no time points)."""
    refs = {
        str(s): pd.Timestamp(d).date()
        for s, d in zip(adsl["USUBJID"], adsl[settings.reference], strict=True)
        if not pd.isna(d)
    }
    tr = frames.get("TR")
    rs = frames.get("RS")
    timepoints: dict[str, list[tuple[dt.date, str]]] = {}
    baseline: dict[str, dt.date] = {}
    measurable: dict[str, bool] = {}
    traces: dict[str, list[str]] = {}
    visits: dict[tuple[str, dt.date], str | None] = {}
    assessed: RecistTimepoints | pd.DataFrame | None = None
    if tr is not None and not tr.empty:
        source = "TR"
        lesions = tr.loc[tr["USUBJID"].isin(refs)].rename(columns={"TRDTC": "ADT"})
        if not lesions.empty:
            result = timepoint_responses(lesions, dataset="TR")
            assessed = result
            labels = _baseline_visits(lesions)
            for b in result.baselines:
                baseline[b.usubjid] = b.adt
                visits[(b.usubjid, b.adt)] = labels.get((b.usubjid, b.adt))
                measurable[b.usubjid] = b.target_disease
                timepoints.setdefault(b.usubjid, [])
            for r in result.responses:
                timepoints[r.usubjid].append((r.adt, r.overall_response))
                traces.setdefault(r.usubjid, []).append(
                    f"OVR {r.adt} {r.overall_response}: {r.trace}"
                )
                visits[(r.usubjid, r.adt)] = r.visit
    elif rs is not None and not rs.empty:
        source = "RS"
        reported = rs.loc[rs["USUBJID"].isin(refs)]
        frame = pd.DataFrame(
            {
                "USUBJID": reported["USUBJID"],
                "ADT": reported["RSDTC"],
                "AVALC": reported["RSSTRESC"],
            }
        )
        if not frame.empty:
            assessed = frame
        for subject, date, value in zip(
            frame["USUBJID"], frame["ADT"], frame["AVALC"], strict=True
        ):
            day = pd.Timestamp(date).date()
            timepoints.setdefault(str(subject), []).append((day, str(value)))
            traces.setdefault(str(subject), []).append(f"OVR {day} {value}: reported in RS")
    else:
        source = "none"
    for points in timepoints.values():
        points.sort()
    confirmed = unconfirmed = None
    benefit = None
    if assessed is not None:
        common: dict[str, Any] = {
            "confirmation_days": settings.confirmation_days,
            "min_sd_days": settings.min_sd_days,
            "reference_dates": {s: refs[s] for s in timepoints if s in refs},
            "dataset": source,
        }
        confirmed = best_overall_response(assessed, confirm=True, **common)
        unconfirmed = best_overall_response(assessed, confirm=False, **common)
        chosen = confirmed if settings.orr_confirmed else unconfirmed
        benefit = clinical_benefit(chosen, cbr_days=settings.cbr_days)
    return Responses(
        settings,
        source,
        timepoints,
        baseline,
        measurable,
        confirmed,
        unconfirmed,
        benefit,
        traces,
        visits,
        assessed if isinstance(assessed, RecistTimepoints) else None,
    )


def _baseline_visits(lesions: pd.DataFrame) -> dict[tuple[str, dt.date], str | None]:
    """(USUBJID, date) -> the first non-empty VISIT label of the TR rows of that date."""
    if "VISIT" not in lesions.columns:
        return {}
    out: dict[tuple[str, dt.date], str | None] = {}
    for subject, date, visit in zip(
        lesions["USUBJID"], lesions["ADT"], lesions["VISIT"], strict=True
    ):
        key = (str(subject), pd.Timestamp(date).date())
        if out.get(key) is None and isinstance(visit, str) and visit.strip():
            out[key] = visit.strip()
    return out


def derive_adrs(responses: Responses, adsl: pd.DataFrame) -> pd.DataFrame:
    """The ADRS frame: OVR rows per assessment, then BOR, BORU, ORR, CBR per ITT subject."""
    settings = responses.settings
    itt = adsl.loc[adsl["ITTFL"] == "Y"]
    arms = dict(zip(adsl["USUBJID"], adsl["ARMCD"], strict=True))
    params = {**PARAMS, "CBR": PARAMS["CBR"].format(weeks=settings.cbr_days / 7)}
    rows: list[dict[str, Any]] = []
    for subject, points in responses.timepoints.items():
        if subject not in arms:
            continue
        for date, value in points:
            rows.append(
                _row(
                    subject,
                    arms[subject],
                    "OVR",
                    date,
                    value,
                    responses.visits.get((subject, date)),
                )
            )
    bor_c = _by_subject(responses.confirmed)
    bor_u = _by_subject(responses.unconfirmed)
    cbr = {s.usubjid: s for s in responses.benefit.subjects} if responses.benefit else {}
    for subject in itt["USUBJID"]:
        arm = arms[subject]
        c, u = bor_c.get(subject), bor_u.get(subject)
        rows.append(_row(subject, arm, "BOR", c.bor_date if c else None, c.bor if c else "NE"))
        rows.append(_row(subject, arm, "BORU", u.bor_date if u else None, u.bor if u else "NE"))
        chosen = c if settings.orr_confirmed else u
        responded = chosen is not None and chosen.bor in settings.orr_responses
        rows.append(
            _row(
                subject,
                arm,
                "ORR",
                chosen.bor_date if responded and chosen else None,
                "Y" if responded else "N",
            )
        )
        benefit = cbr.get(subject)
        rows.append(
            _row(
                subject,
                arm,
                "CBR",
                None,
                "Y" if benefit and benefit.benefit else "N",
                param=params["CBR"],
            )
        )
    frame = pd.DataFrame(
        rows, columns=["USUBJID", "ARMCD", "PARAMCD", "PARAM", "ADT", "AVALC", "VISIT"]
    )
    frame["ADT"] = pd.to_datetime(frame["ADT"].astype(object)).astype("datetime64[ns]")
    return frame


def _row(
    subject: str,
    arm: Any,
    paramcd: str,
    date: dt.date | None,
    value: str,
    visit: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    return {
        "USUBJID": subject,
        "ARMCD": arm,
        "PARAMCD": paramcd,
        "PARAM": param or PARAMS[paramcd],
        "ADT": date,
        "AVALC": value,
        "VISIT": visit,
    }


def _by_subject(bor: BestOverallResponse | None) -> dict[str, Any]:
    return {s.usubjid: s for s in bor.subjects} if bor is not None else {}
