"""Screened subjects: baseline attributes, sites, screening dates and real screen failures.

Eligible subjects are drawn from the baseline distributions of PALMIRA's Table 1 (see
:mod:`oncotrial.synth.params`). A screen failure starts as such a subject and has the
attributes read by one eligibility criterion re-drawn until that criterion fails when
evaluated by :mod:`oncotrial.screening` (the spec's own rules), so every failure fails for a
reason the spec states. The whole population is then screened with
:func:`oncotrial.screening.screen`; a mismatch with the intended verdicts is a generator bug
and raises.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.errors import SpecError
from oncotrial.screening import ELIGIBLE, NOT_ELIGIBLE, Criterion, compile_criteria, screen
from oncotrial.spec.models import TrialSpec
from oncotrial.synth.draws import Draws
from oncotrial.synth.params import SynthParams

MODELLED = (
    "age",
    "hr_positive",
    "her2_negative",
    "advanced_disease",
    "palbociclib_setting",
    "radiological_progression",
    "prior_best_response",
    "sd_duration_weeks",
    "palbociclib_start_date",
    "last_palbociclib_date",
    "progression_date",
    "screening_date",
    "visceral_crisis",
    "prior_chemo_advanced",
    "prior_other_cdk46i",
    "resistant_fulvestrant",
    "resistant_letrozole",
    "active_cns_metastases",
    "leptomeningeal_disease",
    "prior_et",
    "visceral_involvement",
    "study_et",
    "ecog",
    "metastatic_sites",
    "palbociclib_duration_months",
    "measurable_disease",
)
"""Subject attributes this population model draws (PALMIRA's spec names)."""


@dataclass(frozen=True)
class Site:
    siteid: str
    country: str
    weight: float


@dataclass
class Population:
    """All screened subjects, in screening order."""

    usubjid: list[str]
    siteid: list[str]
    attributes: list[dict[str, Any]]  # typed values under spec attribute names
    eligible: np.ndarray  # bool
    failed: list[tuple[str, ...]]  # failing criterion ids (empty when eligible)
    extra: list[dict[str, Any]]  # model-only traits (menopause, prior dose, liver...)
    rand_index: list[int | None]  # position in randomization order (None: screen failure)


def check_spec(spec: TrialSpec) -> None:
    """The spec's eligibility rules may read only attributes this model draws."""
    criteria = compile_criteria(spec.eligibility, spec.subject_attributes)
    needed = {name for c in criteria for name in c.rule.names}
    unknown = sorted(needed - set(MODELLED))
    if unknown:
        raise SpecError(
            f"synth: the eligibility rules of {spec.trial.id} read attribute(s) "
            f"{', '.join(unknown)} that the synthetic population does not model; it models "
            f"{', '.join(MODELLED)}",
            field="eligibility",
            value=unknown,
            valid=list(MODELLED),
        )


def make_sites(params: SynthParams, draws: Draws) -> list[Site]:
    """``n_sites`` sites spread over the countries; log-normal recruitment weights."""
    countries = draws.categorical(params.country_weights, params.n_sites)
    weights = np.exp(draws.normal(0.0, 0.8, params.n_sites))
    counters: dict[str, int] = {}
    sites = []
    for c, w in zip(countries, weights, strict=True):
        code = params.countries[int(c)]
        counters[code] = counters.get(code, 0) + 1
        sites.append(Site(f"{code}{counters[code]:02d}", code, float(w)))
    return sites


def _eligible_profile(
    params: SynthParams, draws: Draws, screening: dt.date
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One eligible subject's attributes (Table 1 distributions) and model-only traits."""
    age_draw = draws.truncated_normal(params.age_mean, params.age_sd, *params.age_range, 1)
    age = int(np.round(age_draw[0]))
    visceral = draws.chance(params.visceral)
    p3 = params.sites3_if_visceral if visceral else params.sites3_if_not_visceral
    many = draws.chance(p3)
    sites = 3 + draws.pick((0.6, 0.28, 0.12)) if many else 1 + draws.pick((0.4, 0.6))
    prior_ai = draws.chance(params.prior_et_ai)
    adjuvant = draws.chance(params.adjuvant_setting)
    last_pal = screening - dt.timedelta(days=draws.integer(8, 50))
    progression = last_pal - dt.timedelta(days=draws.integer(0, 10))
    if adjuvant:
        months = 24.0 + 10.0 * draws.u()
        start = progression - dt.timedelta(days=round(months * DAYS_PER_MONTH))
        last_pal = start + dt.timedelta(days=round(24 * DAYS_PER_MONTH))
        response, sd_weeks = None, None
    else:
        months = float(
            draws.truncated_lognormal(
                params.pal_duration_median,
                params.pal_duration_sigma,
                *params.pal_duration_range,
                1,
            )[0]
        )
        start = progression - dt.timedelta(days=round(months * DAYS_PER_MONTH))
        response = ("CR", "PR", "SD")[draws.pick(params.prior_response_probs)]
        sd_weeks = float((round(months * DAYS_PER_MONTH) - 14) // 7) if response == "SD" else None
    attrs: dict[str, Any] = {
        "age": age,
        "hr_positive": True,
        "her2_negative": True,
        "advanced_disease": True,
        "palbociclib_setting": "adjuvant" if adjuvant else "advanced_first_line",
        "radiological_progression": True,
        "prior_best_response": response,
        "sd_duration_weeks": sd_weeks,
        "palbociclib_start_date": start,
        "last_palbociclib_date": last_pal,
        "progression_date": progression,
        "screening_date": screening,
        "visceral_crisis": False,
        "prior_chemo_advanced": False,
        "prior_other_cdk46i": False,
        "resistant_fulvestrant": False,
        "resistant_letrozole": False,
        "active_cns_metastases": False,
        "leptomeningeal_disease": False,
        "prior_et": "aromatase_inhibitor" if prior_ai else "fulvestrant",
        "visceral_involvement": visceral,
        "study_et": "fulvestrant" if prior_ai else "letrozole",
        "ecog": int(draws.pick(params.ecog_probs)),
        "metastatic_sites": int(sites),
        "palbociclib_duration_months": round(months, 1),
        "measurable_disease": draws.chance(params.measurable),
    }
    extra = {
        "premenopausal": draws.chance(params.premenopausal) and age < 56,
        "prior_dose": (125, 100, 75)[draws.pick(params.prior_dose_probs)],
        "liver": visceral and draws.chance(0.389 / 0.611),  # Table 1: liver 38.9% of all
        "bone": draws.chance(0.70),  # assumption
    }
    return attrs, extra


def _mutate(value: Any, attribute: Any, draws: Draws) -> Any:
    """A re-drawn value of one attribute, of its spec type."""
    kind = attribute.type
    if kind == "boolean":
        return not bool(value) if value is not None else draws.chance(0.5)
    if kind == "category":
        levels = [lv for lv in attribute.levels if lv != value]
        return levels[draws.integer(0, len(levels) - 1)]
    if kind in ("number", "integer"):
        base = float(value) if value is not None else 20.0
        new = base * (0.2 + 0.75 * draws.u())
        return round(new) if kind == "integer" else round(new, 1)
    if kind == "date":
        start: dt.date = value if value is not None else dt.date(2020, 1, 1)
        return start - dt.timedelta(days=draws.integer(30, 400))
    return value


def _fail(
    attrs: dict[str, Any], criterion: Criterion, spec: TrialSpec, draws: Draws
) -> dict[str, Any]:
    """Re-draw the attributes ``criterion`` reads until it fails (at most 200 tries)."""
    for _ in range(200):
        trial = dict(attrs)
        names = criterion.rule.names
        for name in names:
            if draws.chance(0.6) or len(names) == 1:
                trial[name] = _mutate(trial[name], spec.attribute(name), draws)
        if criterion.fails(criterion.rule.evaluate(trial).value):
            return trial
    raise SpecError(  # pragma: no cover - every PALMIRA criterion fails within a few tries
        f"synth: could not draw a subject failing criterion {criterion.id}",
        field="eligibility",
        value=criterion.id,
    )


def screened_population(
    spec: TrialSpec,
    params: SynthParams,
    draws: Draws,
    rand_dates: list[dt.date],
    sites: list[Site],
) -> Population:
    """Randomized subjects (one per ``rand_dates``) plus screen failures, screened by the spec."""
    check_spec(spec)
    criteria = {c.id: c for c in compile_criteria(spec.eligibility, spec.subject_attributes)}
    n = len(rand_dates)
    n_fail = round(n * params.screen_failure_fraction / (1 - params.screen_failure_fraction))
    span = (params.accrual_end - params.accrual_start).days
    screening_dates = [d - dt.timedelta(days=draws.integer(2, 21)) for d in rand_dates]
    fail_dates = [
        params.accrual_start + dt.timedelta(days=int(x)) for x in draws.integers(0, span, n_fail)
    ]
    fail_ids = [cid for cid in params.failure_criteria if cid in criteria]
    fail_probs = [params.failure_criteria[c] for c in fail_ids]
    rows: list[tuple[dt.date, int, dict[str, Any], dict[str, Any], str | None]] = []
    for i, day in enumerate(screening_dates):
        attrs, extra = _eligible_profile(params, draws, day)
        rows.append((day, i, attrs, extra, None))
    for j, day in enumerate(fail_dates):
        attrs, extra = _eligible_profile(params, draws, day)
        target = fail_ids[draws.pick(fail_probs)] if fail_ids else None
        if target is not None:
            attrs = _fail(attrs, criteria[target], spec, draws)
        rows.append((day, n + j, attrs, extra, target))
    rows.sort(key=lambda r: (r[0], r[1]))
    weights = np.array([s.weight for s in sites])
    site_of = draws.categorical(weights.tolist(), len(rows))
    counters: dict[str, int] = {}
    usubjid, siteid = [], []
    for k in site_of:
        site = sites[int(k)].siteid
        counters[site] = counters.get(site, 0) + 1
        usubjid.append(f"{spec.trial.id}-{site}-{counters[site]:03d}")
        siteid.append(site)
    attributes = [r[2] for r in rows]
    intended = np.array([r[4] is None for r in rows])
    result = screen(
        spec.eligibility,
        spec.subject_attributes,
        pd.DataFrame([{"subject_id": u, **a} for u, a in zip(usubjid, attributes, strict=True)]),
    )
    verdicts = result.subjects["verdict"].to_numpy()
    expected = np.where(intended, ELIGIBLE, NOT_ELIGIBLE)
    if not (verdicts == expected).all():  # pragma: no cover - a generator bug
        bad = int(np.flatnonzero(verdicts != expected)[0])
        raise AssertionError(
            f"synth: subject {usubjid[bad]} screened {verdicts[bad]}, intended {expected[bad]}: "
            f"{result.subjects['reasons'].iloc[bad]}"
        )
    failed = [tuple(f) for f in result.subjects["failed"]]
    rand_index = [r[1] if r[1] < n else None for r in rows]
    return Population(
        usubjid, siteid, attributes, intended, failed, [r[3] for r in rows], rand_index
    )
