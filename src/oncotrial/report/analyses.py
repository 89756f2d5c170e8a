"""The analyses a report shows, each computed by the statistics core (the report computes none).

* Time-to-event endpoints (PFS, OS) per analysis set: :func:`oncotrial.analysis.analyze_survival`
  on the ADTTE parameter (Kaplan-Meier medians with Brookmeyer-Crowley CIs, the log-rank test
  and the Cox hazard ratio stratified by the spec's ``analyses.primary.stratified_by``
  factors, landmark rates at the spec's ``landmarks_months`` and their differences with
  Greenwood SEs); the primary endpoint in the ITT set also gets the spec's subgroups
  (forest-plot table, :mod:`oncotrial.stats.subgroups`).
* Response rates (ORR, CBR) per analysis set: responders are ADRS ``ORR``/``CBR`` = ``Y``
  over the subjects of the set in the arm (a subject without a record is a non-responder,
  as PALMIRA counts), the proportion with its Clopper-Pearson exact CI
  (:func:`oncotrial.stats.proportions.proportion_ci`) and the odds ratio experimental vs
  reference with the exact conditional CI and Fisher p
  (:func:`oncotrial.stats.proportions.odds_ratio`, R ``fisher.test``).

The experimental arm is the spec's first arm, the reference arm its last (PALMIRA lists
Palbociclib + ET, then ET). Subgroup levels are assigned by the spec's subgroup rules
(:mod:`oncotrial.spec.rules`) evaluated on the typed subject attributes; a subject whose
attributes leave every rule false or undecided has no level (missing) for that subgroup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.analysis import SurvivalAnalysis, analyze_survival
from oncotrial.conventions import Conventions, resolve
from oncotrial.derive._columns import require_columns
from oncotrial.errors import DataError
from oncotrial.report.adam import AdamData
from oncotrial.results import Result, jsonable
from oncotrial.spec import TrialSpec
from oncotrial.spec.rules import parse_rule
from oncotrial.stats.proportions import OddsRatio, ProportionCI, odds_ratio, proportion_ci

SURVIVAL_ENDPOINTS = ("PFS", "OS")
RESPONSE_ENDPOINTS = ("ORR", "CBR")


@dataclass(frozen=True)
class AnalysisSet:
    """A population of the report: its name, a description and the ADSL flag rule."""

    name: str
    label: str
    flags: tuple[str, ...]

    def subjects(self, adsl: pd.DataFrame) -> pd.DataFrame:
        """ADSL rows of the set (every flag = Y)."""
        require_columns(adsl, self.flags, "ADSL")
        keep = np.ones(len(adsl), dtype=bool)
        for flag in self.flags:
            keep &= (adsl[flag] == "Y").to_numpy()
        return adsl[keep]


ITT = AnalysisSet("ITT", "Intention-to-treat population", ("ITTFL",))
MEASURABLE = AnalysisSet(
    "measurable", "Measurable disease at baseline (ITT subset)", ("ITTFL", "MEASFL")
)
SAFETY = AnalysisSet("safety", "Safety population (at least one dose)", ("SAFFL",))
EFFICACY_SETS = (ITT, MEASURABLE)


@dataclass(frozen=True, eq=False)
class SurvivalEndpoint(Result):
    """One time-to-event endpoint in one analysis set."""

    endpoint: str
    name: str
    population: str
    analysis: SurvivalAnalysis

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "name": self.name,
            "population": self.population,
            "analysis": self.analysis.to_dict(),
        }


@dataclass(frozen=True)
class ResponseEndpoint(Result):
    """A response rate by arm (exact CI) and the odds ratio, in one analysis set."""

    endpoint: str
    name: str
    population: str
    arms: dict[str, ProportionCI]
    odds_ratio: OddsRatio
    experimental: str
    reference: str


@dataclass(frozen=True, eq=False)
class ReportAnalyses(Result):
    """Every statistical result a report shows (``results.json`` is its ``to_dict()``)."""

    trial: str
    arms: dict[str, str]
    experimental: str
    reference: str
    survival: tuple[SurvivalEndpoint, ...]
    responses: tuple[ResponseEndpoint, ...]
    conventions: Conventions
    cutoff: str | None
    extras: dict[str, Any] = field(default_factory=dict)

    def survival_for(self, endpoint: str, population: str) -> SurvivalEndpoint | None:
        return next(
            (s for s in self.survival if (s.endpoint, s.population) == (endpoint, population)),
            None,
        )

    def response_for(self, endpoint: str, population: str) -> ResponseEndpoint | None:
        return next(
            (r for r in self.responses if (r.endpoint, r.population) == (endpoint, population)),
            None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "arms": self.arms,
            "experimental": self.experimental,
            "reference": self.reference,
            "cutoff": self.cutoff,
            "conventions": self.conventions.to_dict(),
            "survival": [s.to_dict() for s in self.survival],
            "responses": [jsonable(r) for r in self.responses],
            **{k: jsonable(v) for k, v in self.extras.items()},
        }


def arm_order(spec: TrialSpec) -> tuple[str, str]:
    """(experimental, reference): the spec's first and last arms."""
    return spec.arms[0].name, spec.arms[-1].name


def subgroup_columns(spec: TrialSpec, attributes: pd.DataFrame) -> pd.DataFrame:
    """USUBJID and one column per spec subgroup (named by its label, as the forest plot
    shows it) holding the level label of each subject."""
    out = pd.DataFrame({"USUBJID": attributes["USUBJID"]})
    records = attributes.to_dict(orient="records")
    for i, group in enumerate(spec.analyses.subgroups):
        rules = [
            (level.label, parse_rule(level.rule, where=f"analyses.subgroups[{i}].levels[{j}]"))
            for j, level in enumerate(group.levels)
        ]
        labels = []
        for record in records:
            hit = [label for label, rule in rules if rule.evaluate(record).value is True]
            labels.append(hit[0] if hit else None)
        out[group.label] = pd.Series(labels, dtype=object)
    return out


def convention_options(spec: TrialSpec, profile: str | None) -> dict[str, Any]:
    """The spec's conventions block, or another profile's defaults when one is asked for."""
    c = spec.conventions
    if profile is None or profile == c.profile:
        return {
            "profile": c.profile,
            "conf_type": c.conf_type,
            "ties": c.ties,
            "conf_level": c.conf_level,
        }
    return {"profile": profile, "conf_level": c.conf_level}


def _endpoint_name(spec: TrialSpec, endpoint: str) -> str:
    return next((e.name for e in spec.endpoints if e.id == endpoint), endpoint)


def survival_endpoint(
    spec: TrialSpec,
    adam: AdamData,
    endpoint: str,
    population: AnalysisSet,
    *,
    profile: str | None = None,
    with_subgroups: bool = False,
) -> SurvivalEndpoint | None:
    """``analyze_survival`` of one ADTTE parameter in one set (None if it has no records)."""
    adtte = adam["ADTTE"]
    exp, ref = arm_order(spec)
    strata = list(spec.analyses.primary.stratified_by)
    require_columns(adtte, ["USUBJID", "PARAMCD", "AVAL", "CNSR", "ARMCD", *strata], "ADTTE")
    ids = set(population.subjects(adam["ADSL"])["USUBJID"])
    rows = adtte[(adtte["PARAMCD"] == endpoint) & adtte["USUBJID"].isin(ids)]
    rows = rows[rows["ARMCD"].isin([exp, ref])]
    if rows.empty or rows["ARMCD"].nunique() < 2:
        return None
    subgroups: list[str] = []
    if with_subgroups and spec.analyses.subgroups:
        columns = subgroup_columns(spec, adam.attributes)
        subgroups = [c for c in columns.columns if c != "USUBJID"]
        clash = [c for c in subgroups if c in rows.columns]
        if clash:
            raise DataError(
                f"ADTTE: column {clash[0]!r} has the name of a spec subgroup label; rename "
                "the subgroup's label",
                dataset="ADTTE",
                column=clash[0],
            )
        rows = rows.merge(columns, on="USUBJID", how="left")
    analysis = analyze_survival(
        rows.reset_index(drop=True),
        time="AVAL",
        censor="CNSR",
        arm="ARMCD",
        strata=strata,
        subgroups=subgroups,
        landmarks=list(spec.analyses.landmarks_months),
        time_unit="days",
        reference=ref,
        **convention_options(spec, profile),
    )
    return SurvivalEndpoint(endpoint, _endpoint_name(spec, endpoint), population.name, analysis)


def response_endpoint(
    spec: TrialSpec, adam: AdamData, endpoint: str, population: AnalysisSet, *, profile: str
) -> ResponseEndpoint | None:
    """Responders / subjects per arm with exact CIs and the exact odds ratio."""
    adrs = adam["ADRS"]
    rows = adrs[adrs["PARAMCD"] == endpoint]
    if rows.empty:
        return None
    exp, ref = arm_order(spec)
    subjects = population.subjects(adam["ADSL"])
    responders = set(rows.loc[rows["AVALC"] == "Y", "USUBJID"])
    counts: dict[str, tuple[int, int]] = {}
    for arm in (exp, ref):
        ids = subjects.loc[subjects["ARMCD"] == arm, "USUBJID"]
        counts[arm] = (int(ids.isin(responders).sum()), len(ids))
    empty = [arm for arm, (_, n) in counts.items() if n == 0]
    if empty:
        raise DataError(
            f"ADSL: arm {empty[0]!r} has no subjects in the {population.name} set; the "
            f"{endpoint} rate needs both arms",
            dataset="ADSL",
            column="ARMCD",
            value=empty[0],
        )
    level = spec.conventions.conf_level
    arms = {
        arm: proportion_ci(x, n, "clopper-pearson", level, profile=profile)
        for arm, (x, n) in counts.items()
    }
    ratio = odds_ratio(*counts[exp], *counts[ref], "exact", level, profile=profile)
    return ResponseEndpoint(
        endpoint, _endpoint_name(spec, endpoint), population.name, arms, ratio, exp, ref
    )


def run_analyses(spec: TrialSpec, adam: AdamData, *, profile: str | None = None) -> ReportAnalyses:
    """Every survival and response analysis of the report, for the ITT and measurable sets."""
    chosen = profile or spec.conventions.profile
    options = convention_options(spec, profile)
    exp, ref = arm_order(spec)
    survival = []
    responses = []
    for population in EFFICACY_SETS:
        for endpoint in SURVIVAL_ENDPOINTS:
            primary = endpoint == spec.analyses.primary.endpoint and population is ITT
            result = survival_endpoint(
                spec, adam, endpoint, population, profile=profile, with_subgroups=primary
            )
            if result is not None:
                survival.append(result)
        for endpoint in RESPONSE_ENDPOINTS:
            rate = response_endpoint(spec, adam, endpoint, population, profile=chosen)
            if rate is not None:
                responses.append(rate)
    if not survival:
        raise DataError(
            "ADTTE: no PFS or OS records for the two arms; the report needs at least one "
            "time-to-event endpoint",
            dataset="ADTTE",
            column="PARAMCD",
            valid=list(SURVIVAL_ENDPOINTS),
        )
    return ReportAnalyses(
        trial=spec.trial.id,
        arms={a.name: a.label for a in spec.arms},
        experimental=exp,
        reference=ref,
        survival=tuple(survival),
        responses=tuple(responses),
        conventions=resolve(
            options["profile"],
            conf_type=options.get("conf_type"),
            ties=options.get("ties"),
            conf_level=options["conf_level"],
        ),
        cutoff=None if adam.cutoff is None else adam.cutoff.isoformat(),
    )
