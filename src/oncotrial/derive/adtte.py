"""ADTTE: time-to-event endpoints (PFS, OS, DOR, TTR, CFI) with censoring rules as data.

A censoring rule set (``src/oncotrial/spec/censoring_rules.yaml``; the spec endpoint's
``censoring``) is a list of rules in priority order; the first rule whose situation applies to
a subject decides event or censoring and the date. Situations and dates are codes
(``when``/``at``) evaluated by :func:`apply_rules` on a subject's :class:`SubjectFacts`:

==============================  ==========================================================
``no_baseline_assessment``      no baseline tumour assessment
``no_adequate_post_baseline``   no adequate assessment after the origin, and no death
``new_anticancer_therapy``      a new anticancer therapy (CM) started on/after the origin and
                                before progression or death
``event_after_missed_assessments``  progression or death after >= ``missed_assessments``
                                consecutive scheduled tumour assessments were missed
``progression``                 a time point with overall response PD
``death``                       death on or after the origin
``treatment_discontinued``      treatment ended (DS) for a reason other than PD or death
``chemotherapy``                a subsequent chemotherapy (CM CMSCAT CHEMOTHERAPY) started
``no_event``                    always applies (the last rule of a set)
==============================  ==========================================================

Source: FDA Guidance for Industry, Clinical Trial Endpoints for the Approval of Cancer Drugs
and Biologics (December 2018), Appendix table of PFS event and censoring dates. Definitions
(adequate assessment, missed assessment) are in docs/DERIVATIONS.md, "Censoring".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from oncotrial.derive.adrs import ADEQUATE, Responses
from oncotrial.errors import SpecError
from oncotrial.results import Result
from oncotrial.spec.calendar import _window_for, visit_offsets
from oncotrial.spec.censoring import resolve_censoring
from oncotrial.spec.models import CensoringRule, CensoringRules, Endpoint, TrialSpec

PARAMS = {
    "PFS": "Progression-Free Survival (days)",
    "OS": "Overall Survival (days)",
    "DOR": "Duration of Response (days)",
    "TTR": "Time to Response (days)",
    "CFI": "Chemotherapy-Free Interval (days)",
}
DEFAULT_RULES = {
    "PFS": "fda-2018",
    "DOR": "fda-2018",
    "OS": "last-known-alive",
    "CFI": "chemotherapy-free-interval",
}
DEFAULT_ORIGIN = {
    "PFS": "randomization",
    "OS": "randomization",
    "DOR": "first objective response",
    "TTR": "randomization",
    "CFI": "randomization",
}
EVENT_TEXT = {
    "progression": "DISEASE PROGRESSION",
    "death": "DEATH",
    "chemotherapy": "START OF CHEMOTHERAPY",
}
ORIGINS = {
    "randomization": "RANDDT",
    "random assignment": "RANDDT",
    "registration": "RANDDT",
    "first dose": "TRTSDT",
    "start of treatment": "TRTSDT",
    "first objective response": "RESPONSE",
}
STOPPED_WITHOUT_EVENT_EXCLUDES = ("PROGRESSIVE DISEASE", "DEATH")


@dataclass(frozen=True)
class SubjectFacts(Result):
    """What the censoring rules look at for one subject and endpoint."""

    usubjid: str
    origin: dt.date
    baseline_assessed: bool | None = True  # None: unknown (responses from RS only)
    assessments: tuple[tuple[dt.date, str], ...] = ()  # (date, overall response), any order
    death: dt.date | None = None
    new_therapy: dt.date | None = None
    chemotherapy: dt.date | None = None
    discontinued: str | None = None  # end-of-treatment reason other than PD/death
    last_known_alive: dt.date | None = None
    scheduled: tuple[tuple[dt.date, int], ...] = ()  # scheduled tumour visits, window days
    missed_limit: int = 2


@dataclass(frozen=True)
class TteOutcome(Result):
    """One ADTTE row: the decision of one rule, with the sentence that explains it."""

    usubjid: str
    paramcd: str
    startdt: dt.date
    adt: dt.date
    aval: int
    cnsr: int
    rule_id: str
    ruleset: str
    evntdesc: str
    cnsdtdsc: str | None
    trace: str


@dataclass(frozen=True)
class _Derived:
    post: list[tuple[dt.date, str]]
    adequate: list[dt.date]
    progression: dt.date | None
    death: dt.date | None
    event: dt.date | None


def _derived(facts: SubjectFacts) -> _Derived:
    post = sorted((d, r) for d, r in facts.assessments if d > facts.origin)
    adequate = [d for d, r in post if r in ADEQUATE]
    progression = next((d for d, r in post if r == "PD"), None)
    death = facts.death if facts.death is not None and facts.death >= facts.origin else None
    if progression is not None and death is not None and death < progression:
        progression = None  # a PD recorded after death cannot be the event
    candidates = [d for d in (progression, death) if d is not None]
    return _Derived(post, adequate, progression, death, min(candidates) if candidates else None)


def _last_adequate(
    d: _Derived, facts: SubjectFacts, before: dt.date | None, strict: bool
) -> dt.date:
    dates = [x for x in d.adequate if before is None or (x < before if strict else x <= before)]
    return dates[-1] if dates else facts.origin


def missed_visits(facts: SubjectFacts, since: dt.date, until: dt.date) -> list[dt.date]:
    """Scheduled tumour visits whose whole window lies strictly between ``since`` (the last
    adequate assessment) and ``until`` (the event): assessments that could have been done
    and were not."""
    return [
        day
        for day, window in facts.scheduled
        if day - dt.timedelta(days=window) > since and day + dt.timedelta(days=window) < until
    ]


def _applies(rule: CensoringRule, facts: SubjectFacts, d: _Derived) -> tuple[bool, str]:
    """Whether ``rule``'s situation applies, and the facts that say so."""
    when = rule.when
    if when == "no_baseline_assessment":
        return facts.baseline_assessed is False, "no baseline tumour assessment"
    if when == "no_adequate_post_baseline":
        return (not d.adequate and d.death is None), (
            f"no adequate tumour assessment after {facts.origin} and no death"
        )
    if when == "new_anticancer_therapy":
        start = facts.new_therapy
        applies = (
            start is not None and start >= facts.origin and (d.event is None or start < d.event)
        )
        after = "no progression or death" if d.event is None else f"before the event on {d.event}"
        return applies, f"new anticancer therapy started {start} ({after})"
    if when == "event_after_missed_assessments":
        if d.event is None:
            return False, ""
        last = _last_adequate(d, facts, d.event, strict=True)
        missed = missed_visits(facts, last, d.event)
        text = (
            f"event on {d.event}; last adequate assessment before it {last}; scheduled "
            f"assessments missed in between: {', '.join(map(str, missed)) or 'none'} "
            f"({len(missed)} {'>=' if len(missed) >= facts.missed_limit else '<'} "
            f"{facts.missed_limit})"
        )
        return len(missed) >= facts.missed_limit, text
    if when == "progression":
        return d.progression is not None, f"first PD time point {d.progression}"
    if when == "death":
        return d.death is not None, f"death on {d.death}"
    if when == "treatment_discontinued":
        return facts.discontinued is not None, (
            f"treatment discontinued ({facts.discontinued}) without documented progression"
        )
    if when == "chemotherapy":
        start = facts.chemotherapy
        return start is not None and start >= facts.origin, f"chemotherapy started {start}"
    if when == "no_event":
        return True, "no event observed"
    raise SpecError(
        f"censoring rule {rule.id!r} has no machine-readable situation ('when'); add one of "
        "the codes listed in docs/DERIVATIONS.md, Censoring",
        field="censoring.rules.when",
        value=rule.id,
    )


def _date_of(rule: CensoringRule, facts: SubjectFacts, d: _Derived) -> tuple[dt.date, str]:
    at = rule.at
    if at == "origin":
        return facts.origin, f"origin {facts.origin}"
    if at == "last_adequate_assessment":
        date = _last_adequate(d, facts, None, strict=False)
        return date, _adequate_text(date, facts)
    if at == "last_adequate_before_therapy":
        assert facts.new_therapy is not None
        date = _last_adequate(d, facts, facts.new_therapy, strict=False)
        return date, _adequate_text(date, facts, f" on or before {facts.new_therapy}")
    if at == "last_adequate_before_gap":
        assert d.event is not None
        date = _last_adequate(d, facts, d.event, strict=True)
        return date, _adequate_text(date, facts, " before the missed assessments")
    if at == "progression" and d.progression is not None:
        return d.progression, f"progression {d.progression}"
    if at == "death" and d.death is not None:
        return d.death, f"death {d.death}"
    if at == "chemotherapy" and facts.chemotherapy is not None:
        return facts.chemotherapy, f"chemotherapy start {facts.chemotherapy}"
    if at == "last_known_alive":
        alive = facts.last_known_alive
        if alive is None or alive < facts.origin:
            return facts.origin, f"origin {facts.origin} (no later contact)"
        return alive, f"last date known alive {alive}"
    raise SpecError(
        f"censoring rule {rule.id!r}: date code {at!r} cannot be used with situation "
        f"{rule.when!r} (no such date for subject {facts.usubjid})",
        field="censoring.rules.at",
        value=rule.id,
    )


def _adequate_text(date: dt.date, facts: SubjectFacts, qualifier: str = "") -> str:
    if date == facts.origin:
        return f"no adequate assessment{qualifier}: origin {date}"
    return f"last adequate assessment{qualifier} {date}"


def apply_rules(facts: SubjectFacts, rules: CensoringRules, paramcd: str = "PFS") -> TteOutcome:
    """The first rule of ``rules`` (in order) whose situation applies decides the outcome.

    ``CNSR`` is 0 for an event, else the 1-based position of the rule among the censoring
    rules of the set (so CNSR tells which rule censored the subject).
    """
    d = _derived(facts)
    censor_rank = 0
    for rule in rules.rules:
        if rule.outcome == "censored":
            censor_rank += 1
        applies, why = _applies(rule, facts, d)
        if not applies:
            continue
        date, date_text = _date_of(rule, facts, d)
        event = rule.outcome == "event"
        aval = (date - facts.origin).days
        verdict = "event" if event else "censored"
        trace = (
            f"{paramcd} {rules.name} {rule.id} ({rule.situation}): {why} -> {verdict} on "
            f"{date_text}; AVAL = {date} - {facts.origin} = {aval} days"
        )
        return TteOutcome(
            usubjid=facts.usubjid,
            paramcd=paramcd,
            startdt=facts.origin,
            adt=date,
            aval=aval,
            cnsr=0 if event else censor_rank,
            rule_id=rule.id,
            ruleset=rules.name,
            evntdesc=EVENT_TEXT.get(rule.when or "", rule.situation) if event else rule.situation,
            cnsdtdsc=None if event else rule.date,
            trace=trace,
        )
    raise SpecError(
        f"censoring rule set {rules.name!r}: no rule applies to subject {facts.usubjid} "
        "(end the set with a 'no_event' rule)",
        field="censoring",
        value=rules.name,
    )


# --------------------------------------------------------------------------- assembly


@dataclass(frozen=True)
class EndpointPlan:
    """How one ADTTE parameter is derived (from the spec endpoint or the defaults)."""

    paramcd: str
    origin: str  # an ORIGINS key
    origin_column: str  # RANDDT, TRTSDT or RESPONSE
    rules: CensoringRules | None  # None for TTR
    declared: bool  # the spec has this endpoint


def plan_endpoints(spec: TrialSpec) -> list[EndpointPlan]:
    """The plan of every ADTTE parameter, in PARAMS order."""
    plans = []
    for paramcd in PARAMS:
        endpoint: Endpoint | None
        try:
            endpoint = spec.endpoint(paramcd)
        except KeyError:
            endpoint = None
        origin = endpoint.origin if endpoint and endpoint.origin else DEFAULT_ORIGIN[paramcd]
        key = origin.strip().lower()
        if key not in ORIGINS:
            raise SpecError(
                f"endpoints {paramcd}: origin {origin!r} is not understood by the derivation; "
                f"valid: {', '.join(ORIGINS)}",
                field=f"endpoints.{paramcd}.origin",
                value=origin,
                valid=list(ORIGINS),
            )
        rules = None
        if paramcd != "TTR":
            chosen = (
                endpoint.censoring if endpoint and endpoint.censoring else DEFAULT_RULES[paramcd]
            )
            rules = resolve_censoring(chosen)
        plans.append(EndpointPlan(paramcd, key, ORIGINS[key], rules, endpoint is not None))
    return plans


def scheduled_visits(
    spec: TrialSpec, start: dt.date, horizon_days: int
) -> tuple[tuple[dt.date, int], ...]:
    """The protocol's tumour assessment dates (kind ``tumour``) from ``start``, with windows."""
    return tuple(
        (start + dt.timedelta(days=o), w) for o, w in _relative_schedule(spec, horizon_days)
    )


def _relative_schedule(spec: TrialSpec, horizon_days: int) -> tuple[tuple[int, int], ...]:
    """(day offset, window) of each tumour assessment of the protocol up to the horizon."""
    tumour = next((a for a in spec.assessments if a.kind == "tumour"), None)
    if tumour is None:
        return ()
    cycle = spec.treatment.cycle_days
    return tuple(
        (o, _window_for(tumour, o, cycle)) for o in visit_offsets(tumour, cycle, horizon_days)
    )


def _first_dates(cm: pd.DataFrame | None, subcategory: str | None) -> dict[str, dt.date]:
    if cm is None or cm.empty:
        return {}
    rows = cm if subcategory is None else cm.loc[cm["CMSCAT"] == subcategory]
    first = rows.groupby("USUBJID")["CMSTDTC"].min()
    return {str(k): pd.Timestamp(v).date() for k, v in first.items()}


def _date(value: Any) -> dt.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


@dataclass(frozen=True)
class Adtte:
    frame: pd.DataFrame
    outcomes: tuple[TteOutcome, ...]
    plans: tuple[EndpointPlan, ...]
    warnings: tuple[str, ...]


def derive_adtte(
    spec: TrialSpec,
    adsl: pd.DataFrame,
    responses: Responses,
    frames: dict[str, pd.DataFrame],
) -> Adtte:
    """ADTTE rows for every parameter and every subject with an origin date."""
    warnings: list[str] = []
    cm = frames.get("CM")
    if cm is None:
        warnings.append(
            "CM absent: the new-anticancer-therapy rule is not evaluated and CFI is not derived"
        )
    if responses.source == "RS":
        warnings.append("responses from RS: the no-baseline-assessment rule is not evaluated")
    therapy = _first_dates(cm, None)
    chemo = _first_dates(cm, "CHEMOTHERAPY")
    schedule_column = "RANDDT" if spec.treatment.start == "randomization" else "TRTSDT"
    horizon = 365 * 30
    relative = _relative_schedule(spec, horizon)
    chosen_bor = responses.bor_for_orr()
    response_dates = {
        s.usubjid: s.bor_date
        for s in (chosen_bor.subjects if chosen_bor else ())
        if s.bor in responses.settings.orr_responses and s.bor_date is not None
    }
    plans = plan_endpoints(spec)
    outcomes: list[TteOutcome] = []
    itt = adsl.loc[adsl["ITTFL"] == "Y"]
    for plan in plans:
        if plan.paramcd == "CFI" and cm is None:
            continue
        for rec in itt.to_dict(orient="records"):
            subject = str(rec["USUBJID"])
            origin = (
                response_dates.get(subject)
                if plan.origin_column == "RESPONSE"
                else _date(rec[plan.origin_column])
            )
            if origin is None:
                continue
            if plan.paramcd == "TTR":
                outcomes.extend(_ttr(subject, origin, response_dates.get(subject)))
                continue
            assert plan.rules is not None
            start = _date(rec[schedule_column])
            stopped = rec["DCTREAS"] if rec["EOTSTT"] == "DISCONTINUED" else None
            facts = SubjectFacts(
                usubjid=subject,
                origin=origin,
                baseline_assessed=(
                    None if responses.source == "RS" else subject in responses.baseline
                ),
                assessments=tuple(responses.timepoints.get(subject, ())),
                death=_date(rec["DTHDT"]),
                new_therapy=therapy.get(subject),
                chemotherapy=chemo.get(subject),
                discontinued=None if stopped in STOPPED_WITHOUT_EVENT_EXCLUDES else stopped,
                last_known_alive=_date(rec["LSTALVDT"]),
                scheduled=(
                    tuple((start + dt.timedelta(days=o), w) for o, w in relative) if start else ()
                ),
                missed_limit=spec.derivation.missed_assessments,
            )
            outcomes.append(apply_rules(facts, plan.rules, plan.paramcd))
    frame = _frame(outcomes, adsl, spec)
    return Adtte(frame, tuple(outcomes), tuple(plans), tuple(warnings))


def _ttr(subject: str, origin: dt.date, response: dt.date | None) -> list[TteOutcome]:
    if response is None:
        return []
    aval = (response - origin).days
    return [
        TteOutcome(
            subject,
            "TTR",
            origin,
            response,
            aval,
            0,
            "",
            "",
            "OBJECTIVE RESPONSE",
            None,
            f"TTR: first response (CR/PR) on {response}; AVAL = {response} - {origin} = "
            f"{aval} days (responders only)",
        )
    ]


def _frame(outcomes: list[TteOutcome], adsl: pd.DataFrame, spec: TrialSpec) -> pd.DataFrame:
    rows = [
        {
            "USUBJID": o.usubjid,
            "PARAMCD": o.paramcd,
            "PARAM": PARAMS[o.paramcd],
            "STARTDT": o.startdt,
            "ADT": o.adt,
            "AVAL": float(o.aval),
            "AVALU": "DAYS",
            "CNSR": o.cnsr,
            "EVNTDESC": o.evntdesc,
            "CNSDTDSC": o.cnsdtdsc,
            "SRCRULE": o.rule_id or None,
            "RULESET": o.ruleset or None,
        }
        for o in outcomes
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "USUBJID",
            "PARAMCD",
            "PARAM",
            "STARTDT",
            "ADT",
            "AVAL",
            "AVALU",
            "CNSR",
            "EVNTDESC",
            "CNSDTDSC",
            "SRCRULE",
            "RULESET",
        ],
    )
    for column in ("STARTDT", "ADT"):
        frame[column] = pd.to_datetime(frame[column].astype(object)).astype("datetime64[ns]")
    frame["CNSR"] = frame["CNSR"].astype("Int64")
    strata = [s.name for s in spec.stratification if s.name in adsl.columns]
    keep = adsl[["USUBJID", "STUDYID", "ARMCD", *strata]]
    frame = frame.merge(keep, on="USUBJID", how="left")
    ordered = ["STUDYID", "USUBJID", "ARMCD"] + [
        c for c in frame.columns if c not in ("STUDYID", "USUBJID", "ARMCD")
    ]
    return frame[ordered]
