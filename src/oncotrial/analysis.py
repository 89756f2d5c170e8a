"""Two-arm time-to-event analysis: one call from a data frame to the primary-endpoint report.

:func:`analyze_survival` runs, on columns of a data frame, what a randomized trial reports
for a time-to-event endpoint (ICH E9; CONSORT 2010 item 17a), each by the statistics core:

* Kaplan-Meier per arm with the median and its Brookmeyer-Crowley CI
  (:func:`oncotrial.stats.km.kaplan_meier`) and survival at landmark times
  (``KaplanMeier.survival_at``, R ``summary(fit, times, extend = TRUE)``);
* the log-rank test, stratified when strata are given (:func:`oncotrial.stats.logrank.logrank`,
  R ``survdiff(... + strata(...))``);
* the hazard ratio of the experimental arm against the reference arm from a Cox model with
  the arm as only covariate, stratified by the same factors (:func:`oncotrial.stats.cox.cox`,
  R ``coxph(Surv ~ arm + strata(...))``); its p-value is the Wald test of the arm term;
* landmark differences with Greenwood SEs (:func:`oncotrial.stats.km.landmark_difference`),
  median follow-up by reverse Kaplan-Meier (Schemper & Smith 1996), optional RMST;
* optionally the subgroup (forest-plot) table (:func:`oncotrial.stats.subgroups.subgroup_analysis`).

Time units: statistics are computed on the data as given (every method is invariant to
rescaling time); reported times (medians, landmarks, follow-up, RMST) are in months. Data
in days are divided by 30.4375 days/month (365.25 / 12), and landmark times, which are given
in months, are multiplied by it before reading the curves (docs/CONVENTIONS.md,
"analyze survival").
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.conventions import DAYS_PER_MONTH, Conventions, resolve, round_half_up
from oncotrial.data.io import read_table as _read_table
from oncotrial.errors import DataError, InputError, OncotrialWarning, describe_value
from oncotrial.results import Result, jsonable
from oncotrial.stats._inputs import (
    as_events,
    as_groups,
    as_times,
    first_row,
    require_columns,
    row_error,
)
from oncotrial.stats.cox import CoxResult, cox
from oncotrial.stats.km import KaplanMeier, kaplan_meier, landmark_difference
from oncotrial.stats.logrank import LogRankResult, logrank
from oncotrial.stats.rmst import median_followup, rmst, rmst_difference
from oncotrial.stats.subgroups import SubgroupTable, subgroup_analysis

TIME_UNITS: tuple[str, ...] = ("days", "months")
"""Units the time column may be in; reported times are always in months."""

DISPLAY_UNIT = "months"


# ----------------------------------------------------------------------------- results


class _Record(Result):
    """A :class:`Result` whose fields marked ``metadata={"json": False}`` (whole curves,
    fitted models) stay on the object but out of ``to_dict()`` and the JSON."""

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: jsonable(getattr(self, f.name))
            for f in fields(self)  # type: ignore[arg-type]
            if f.metadata.get("json", True)
        }


@dataclass(frozen=True, eq=False)
class LandmarkEstimate(_Record):
    """Kaplan-Meier survival of one arm at a landmark time (in months)."""

    time: float
    n_risk: int
    survival: float
    std_err: float
    ci: tuple[float, float]


@dataclass(frozen=True, eq=False)
class ArmEstimate(_Record):
    """One arm: counts, median (months) with CI, landmark survival, the curve itself."""

    arm: str
    n: int
    events: int
    median: float
    median_ci: tuple[float, float]
    landmarks: tuple[LandmarkEstimate, ...]
    km: KaplanMeier = field(metadata={"json": False})


@dataclass(frozen=True, eq=False)
class LogRankSummary(_Record):
    """The (stratified) log-rank test of the arms; ``z < 0`` favours the experimental arm."""

    chisq: float
    df: int
    p: float
    strata: tuple[str, ...]
    n_strata: int
    z: float | None
    p_one_sided: float | None
    observed: dict[str, float]
    expected: dict[str, float]
    test: LogRankResult = field(metadata={"json": False})


@dataclass(frozen=True, eq=False)
class HazardRatio(_Record):
    """Cox HR of ``experimental`` vs ``reference`` with Wald CI and p (stratified if strata)."""

    experimental: str
    reference: str
    hr: float
    ci: tuple[float, float]
    p: float
    coef: float
    se: float
    z: float
    ties: str
    strata: tuple[str, ...]
    score_p: float
    lr_p: float
    fit: CoxResult = field(metadata={"json": False})


@dataclass(frozen=True, eq=False)
class LandmarkComparison(_Record):
    """Experimental minus reference survival at a landmark (months): Wald CI, two-sided p."""

    time: float
    difference: float
    std_err: float
    ci: tuple[float, float]
    p: float


@dataclass(frozen=True, eq=False)
class FollowUpSummary(_Record):
    """Median follow-up (months) of all patients by reverse Kaplan-Meier."""

    median: float
    ci: tuple[float, float]
    method: str = "reverse Kaplan-Meier (Schemper & Smith 1996)"


@dataclass(frozen=True, eq=False)
class RMSTSummary(_Record):
    """Restricted mean survival time to ``tau`` (months) per arm and their difference."""

    tau: float
    arms: dict[str, dict[str, Any]]
    difference: float
    std_err: float
    ci: tuple[float, float]
    p: float


@dataclass(frozen=True, eq=False)
class SurvivalAnalysis(_Record):
    """Everything :func:`analyze_survival` computed, with the inputs and conventions used.

    Times (medians, landmarks, follow-up, RMST) are in months whatever ``time_unit`` (the
    unit of the data column) is. ``arms`` lists the experimental arm first.
    """

    data: dict[str, Any]
    arms: tuple[ArmEstimate, ...]
    logrank: LogRankSummary
    cox: HazardRatio
    landmark_differences: tuple[LandmarkComparison, ...]
    followup: FollowUpSummary
    rmst: RMSTSummary | None
    subgroups: SubgroupTable | None
    notes: tuple[str, ...]
    conventions: Conventions

    @property
    def experimental(self) -> ArmEstimate:
        return self.arms[0]

    @property
    def reference(self) -> ArmEstimate:
        return self.arms[1]

    def to_frame(self) -> pd.DataFrame:
        """One row per arm: counts, median with CI, and survival at each landmark."""
        rows = []
        for a in self.arms:
            row: dict[str, Any] = {
                "arm": a.arm,
                "n": a.n,
                "events": a.events,
                "median": a.median,
                "median_lower": a.median_ci[0],
                "median_upper": a.median_ci[1],
            }
            for mark in a.landmarks:
                row[f"survival_{mark.time:g}"] = mark.survival
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> str:
        return "\n".join(report_lines(self))


# ----------------------------------------------------------------------------- formatting


def fmt_number(value: float | None, digits: int) -> str:
    """``value`` rounded half-up to ``digits`` decimals; ``NR`` where it does not exist."""
    if value is None or not math.isfinite(value):
        return "NR" if value is None or math.isnan(value) else ("inf" if value > 0 else "-inf")
    return str(round_half_up(value, digits))


def fmt_ci(est: float | None, ci: tuple[float, float], digits: int) -> str:
    return f"{fmt_number(est, digits)} ({fmt_number(ci[0], digits)} to {fmt_number(ci[1], digits)})"


def fmt_pct_ci(est: float, ci: tuple[float, float]) -> str:
    def pct(v: float) -> str:
        return fmt_number(v * 100.0, 1) if math.isfinite(v) else "NR"

    return f"{pct(est)}% ({pct(ci[0])} to {pct(ci[1])})"


def fmt_p(p: float | None) -> str:
    """p rounded half-up to 3 decimals (4 below 0.01), ``<0.001`` below 0.001."""
    if p is None or not math.isfinite(p):
        return "NA"
    if p < 0.001:
        return "<0.001"
    digits = 3 if p >= 0.01 else 4
    return str(round_half_up(p, digits))


def time_footnote(result: SurvivalAnalysis) -> str:
    """Time unit, event coding and strata, for a footnote."""
    d = result.data
    unit = (
        f"Times in months = {d['time']} (days) / {DAYS_PER_MONTH:g}"
        if d["time_unit"] == "days"
        else f"Times in months ({d['time']} in months)"
    )
    coding = (
        f"event: {d['censor']} = 0 (CDISC: 0 event, > 0 censored)"
        if d.get("censor")
        else f"event: {d['event']} = 1 (0 censored)"
    )
    strata = (
        f"strata: {' x '.join(d['strata'])} ({result.logrank.n_strata} strata)"
        if d["strata"]
        else "no strata"
    )
    return f"{unit}; {coding}; {strata}."


def methods_footnote(result: SurvivalAnalysis) -> str:
    """Which test and model produced the p-values and the HR, for a footnote."""
    hr = result.cox
    model = f"{'stratified ' if hr.strata else ''}Cox model, {hr.ties} ties, Wald CI and p"
    text = f"HR: {hr.experimental} vs {hr.reference}, {model}."
    if result.landmark_differences:
        text += (
            f" Landmark differences: {hr.experimental} minus {hr.reference}, Greenwood "
            "SEs, Wald CI and p."
        )
    return text


def report_lines(result: SurvivalAnalysis) -> list[str]:
    """Plain-text report (``summary()``); the CLI draws the same content as rich tables."""
    c = result.conventions
    level = f"{c.conf_level:.0%}"
    lines = [
        f"Survival analysis: {result.experimental.arm} vs {result.reference.arm} "
        f"(reference), n={result.data['n']}"
    ]
    for a in result.arms:
        marks = "; ".join(f"{m.time:g} mo {fmt_pct_ci(m.survival, m.ci)}" for m in a.landmarks)
        median = fmt_ci(a.median, a.median_ci, 1)
        lines.append(
            f"  {a.arm}: n {a.n}, events {a.events}, median {median} months"
            + (f"; {marks}" if marks else "")
        )
    for d in result.landmark_differences:
        lines.append(
            f"  Difference at {d.time:g} mo: {fmt_pct_ci(d.difference, d.ci)}, p = {fmt_p(d.p)}"
        )
    hr = result.cox
    kind = "stratified Cox" if hr.strata else "Cox"
    lines.append(f"  HR ({kind}, {hr.ties} ties): {fmt_ci(hr.hr, hr.ci, 2)}, p = {fmt_p(hr.p)}")
    lr = result.logrank
    lines.append(
        f"  {'Stratified log-rank' if lr.strata else 'Log-rank'}: chisq "
        f"{fmt_number(lr.chisq, 3)} on {lr.df} df, p = {fmt_p(lr.p)}"
    )
    f = result.followup
    lines.append(f"  Median follow-up (reverse KM): {fmt_ci(f.median, f.ci, 1)} months")
    lines.append(f"  {level} CIs. {time_footnote(result)}")
    lines.append(f"  {methods_footnote(result)}")
    lines.extend(f"  note: {n}" for n in result.notes)
    lines.append("  " + c.footnote())
    return lines


# ----------------------------------------------------------------------------- input


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet analysis file, one row per patient (see :mod:`oncotrial.data.io`)."""
    return _read_table(path)


def censor_to_event(values: pd.Series, name: str) -> np.ndarray:
    """CDISC ADaM ``CNSR`` to an event indicator: 0 is an event, a positive integer censored.

    ADaM BDS for time-to-event analyses: ``CNSR = 0`` for an event, positive integers for
    censored records (several values may code censoring reasons).
    """
    raw = values.to_numpy(dtype=object)
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numeric) | (numeric < 0) | (numeric != np.floor(numeric))
    if bad.any():
        i = first_row(bad)
        missing = pd.isna(raw[i])
        problem = (
            f"censoring code {'missing' if missing else describe_value(raw[i])} is invalid; "
            "CDISC CNSR is 0 for an event and 1 (or another positive integer) for censored"
        )
        valid = "0 (event) or integer > 0 (censored)"
        raise row_error(name, i, problem, None if missing else str(raw[i]), valid=valid)
    return (numeric == 0).astype(np.int8)


def _labels(values: pd.Series, name: str) -> np.ndarray:
    """Group labels as strings; missing or blank cells are a :class:`DataError`."""
    raw = as_groups(values.to_numpy(dtype=object), name=name)
    text = np.array([str(v).strip() for v in raw], dtype=object)
    blank = text == ""
    if blank.any():
        i = first_row(blank)
        raise row_error(name, i, f"blank value; every subject needs a {name}", str(raw[i]))
    return np.array([_label(v) for v in raw], dtype=object)


def _label(value: Any) -> str:
    """A level as text: 1.0 -> "1" so that numeric codes read as typed."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _landmarks_in_months(landmarks: Any) -> tuple[float, ...]:
    out = []
    for value in landmarks or ():
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and number > 0):
            raise InputError(
                f"landmarks: {describe_value(value)} is invalid; landmark times are "
                "months > 0, e.g. 6,12",
                field="landmarks",
                value=str(value),
            )
        out.append(number)
    return tuple(out)


# ----------------------------------------------------------------------------- analysis


def analyze_survival(
    df: pd.DataFrame,
    *,
    time: str,
    arm: str,
    event: str | None = None,
    censor: str | None = None,
    strata: list[str] | tuple[str, ...] = (),
    subgroups: list[str] | tuple[str, ...] = (),
    landmarks: list[float] | tuple[float, ...] = (),
    time_unit: str = "days",
    reference: Any = None,
    profile: str = "r",
    conf_type: str | None = None,
    ties: str | None = None,
    conf_level: float | None = None,
    rmst_tau: float | None = None,
) -> SurvivalAnalysis:
    """Analyse a two-arm time-to-event endpoint (see the module docstring for the methods).

    Args:
        df: one row per patient.
        time: column of follow-up times (>= 0) in ``time_unit`` ("days", as CDISC ``AVAL``,
            or "months").
        arm: treatment column with exactly two levels.
        event: event indicator column (1 event, 0 censored) -- or, instead,
        censor: CDISC ``CNSR`` column (0 event, positive integer censored).
        strata: stratification columns for the log-rank test and the Cox model.
        subgroups: columns for the forest-plot table (optional).
        landmarks: landmark times in months.
        reference: the control arm level (default the first level in sorted order).
        profile, conf_type, ties, conf_level: conventions (see docs/CONVENTIONS.md).
        rmst_tau: restriction time in months for RMST (optional).
    """
    if (event is None) == (censor is None):
        raise InputError(
            "event/censor: give exactly one of an event column (1 = event) or a "
            "censoring column (CDISC CNSR, 0 = event)",
            field="event",
            value=None if event is None else event,
        )
    if time_unit not in TIME_UNITS:
        raise InputError(
            f"time_unit: unknown value {time_unit!r}; valid: {', '.join(TIME_UNITS)}",
            field="time_unit",
            value=time_unit,
            valid=list(TIME_UNITS),
        )
    strata, subgroups = list(strata), list(subgroups)
    require_columns(
        df,
        {
            "time": [time],
            "arm": [arm],
            "event": [event] if event else [],
            "censor": [censor] if censor else [],
            "strata": strata,
            "subgroups": subgroups,
        },
    )
    conv = resolve(profile, conf_type=conf_type, ties=ties, conf_level=conf_level)
    marks = _landmarks_in_months(landmarks)
    scale = DAYS_PER_MONTH if time_unit == "days" else 1.0

    data = df.reset_index(drop=True)
    t = as_times(data[time].to_numpy(), name=time)
    e = (
        as_events(data[event].to_numpy(), name=event, n=t.size)
        if event is not None
        else censor_to_event(data[censor], str(censor))
    )
    a = _labels(data[arm], arm)
    levels = sorted(set(a))
    if len(levels) != 2:
        what = "level" if len(levels) == 1 else "levels"
        raise DataError(
            f"column {arm!r}: has {len(levels)} {what} {levels!r}; the analysis "
            "compares exactly 2 arms (subset the data to the two arms first)",
            column=arm,
            levels=levels,
        )
    ref = levels[0] if reference is None else _label(reference)
    if ref not in levels:
        raise InputError(
            f"reference: level {reference!r} does not occur in column {arm!r}; "
            f"levels are {', '.join(levels)}",
            field="reference",
            column=arm,
            value=str(reference),
            valid=levels,
        )
    exp = next(v for v in levels if v != ref)
    strata_frame = pd.DataFrame({s: _labels(data[s], s) for s in strata}) if strata else None
    stratum = _stratum_keys(strata_frame)
    notes = _stratum_notes(stratum, a)

    curves = {lvl: kaplan_meier(t[a == lvl], e[a == lvl], conventions=conv) for lvl in (exp, ref)}
    arms = tuple(_arm(lvl, curves[lvl], marks, scale) for lvl in (exp, ref))
    notes += _beyond_followup_notes(curves, marks, scale)
    lr = _logrank(t, e, a, stratum, exp, ref, strata, conv)
    hr, cox_notes = _hazard_ratio(t, e, a, strata_frame, exp, ref, arm, strata, conv, profile)
    diffs = tuple(_difference(curves[exp], curves[ref], m, scale) for m in marks)
    fu = median_followup(t, e, conventions=conv)
    followup = FollowUpSummary(fu.median / scale, (fu.lower / scale, fu.upper / scale))
    rmst_summary = _rmst(curves, exp, ref, rmst_tau, scale) if rmst_tau is not None else None
    table = None
    if subgroups:
        table, sub_notes = _subgroups(
            data, t, e, a, arm, subgroups, ref, strata_frame, scale, conv, profile
        )
        notes += sub_notes
    inputs = {
        "n": int(t.size),
        "time": time,
        "time_unit": time_unit,
        "display_unit": DISPLAY_UNIT,
        "days_per_month": DAYS_PER_MONTH,
        "event": event,
        "censor": censor,
        "arm": arm,
        "experimental": exp,
        "reference": ref,
        "strata": strata,
        "subgroups": subgroups,
        "landmarks": list(marks),
        "landmarks_in_data_unit": [m * scale for m in marks],
    }
    return SurvivalAnalysis(
        inputs, arms, lr, hr, diffs, followup, rmst_summary, table, tuple(notes + cox_notes), conv
    )


def _stratum_keys(strata: pd.DataFrame | None) -> np.ndarray | None:
    """One label per patient for the combination of stratification factors."""
    if strata is None:
        return None
    parts = [strata[c].map(lambda v, c=c: f"{c}={v}") for c in strata.columns]
    keys = parts[0]
    for p in parts[1:]:
        keys = keys + "|" + p
    return keys.to_numpy(dtype=object)


def _stratum_notes(stratum: np.ndarray | None, a: np.ndarray) -> list[str]:
    """Strata holding one arm only add nothing to the stratified tests: say which."""
    if stratum is None:
        return []
    out = []
    for key in sorted(set(stratum)):
        present = set(a[stratum == key])
        if len(present) < 2:
            out.append(
                f"stratum {key} has patients of one arm only ({next(iter(present))}); it "
                "does not contribute to the stratified log-rank test or Cox model"
            )
    return out


def _arm(level: str, km: KaplanMeier, marks: tuple[float, ...], scale: float) -> ArmEstimate:
    at = km.survival_at([m * scale for m in marks]) if marks else None
    landmarks = (
        tuple(
            LandmarkEstimate(
                m,
                int(at.n_risk[i]),
                float(at.survival[i]),
                float(at.std_err[i]),
                (float(at.lower[i]), float(at.upper[i])),
            )
            for i, m in enumerate(marks)
        )
        if at is not None
        else ()
    )
    lo, hi = km.median_ci
    return ArmEstimate(
        level, km.n, km.events, km.median / scale, (lo / scale, hi / scale), landmarks, km
    )


def _beyond_followup_notes(
    curves: dict[str, KaplanMeier], marks: tuple[float, ...], scale: float
) -> list[str]:
    out = []
    for level, km in curves.items():
        last = float(km.time[-1]) if km.time.size else 0.0
        for m in marks:
            if m * scale > last:
                out.append(
                    f"landmark {m:g} months is beyond the last follow-up in {level} "
                    f"({last / scale:.1f} months); S(t) is carried forward"
                )
    return out


def _logrank(
    t: np.ndarray,
    e: np.ndarray,
    a: np.ndarray,
    stratum: np.ndarray | None,
    exp: str,
    ref: str,
    strata: list[str],
    conv: Conventions,
) -> LogRankSummary:
    res = logrank(t, e, a, strata=stratum, reference=ref, conventions=conv)
    groups = [str(g) for g in res.groups]
    return LogRankSummary(
        chisq=res.chisq,
        df=res.df,
        p=res.p_value,
        strata=tuple(strata),
        n_strata=len(res.strata) if res.strata else 1,
        z=res.z,
        p_one_sided=res.p_one_sided,
        observed=dict(zip(groups, map(float, res.observed), strict=True)),
        expected=dict(zip(groups, map(float, res.expected), strict=True)),
        test=res,
    )


def _hazard_ratio(
    t: np.ndarray,
    e: np.ndarray,
    a: np.ndarray,
    strata: pd.DataFrame | None,
    exp: str,
    ref: str,
    arm: str,
    names: list[str],
    conv: Conventions,
    profile: str,
) -> tuple[HazardRatio, list[str]]:
    if e.sum() == 0:
        raise DataError(
            "no events in either arm; a hazard ratio needs at least one event", column=arm, events=0
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OncotrialWarning)
        fit = cox(
            t,
            e,
            pd.DataFrame({arm: a}),
            strata=strata,
            ties=conv.ties,
            profile=profile,
            conf_level=conv.conf_level,
            reference={arm: ref},
        )
    term = fit.term(f"{arm}={exp}")
    notes = [f"Cox model: {w.message}" for w in caught]
    return HazardRatio(
        exp,
        ref,
        term.hr,
        (term.hr_lower, term.hr_upper),
        term.p,
        term.coef,
        term.se,
        term.z,
        fit.ties,
        tuple(names),
        fit.score.p,
        fit.lr.p,
        fit,
    ), notes


def _difference(
    km_exp: KaplanMeier, km_ref: KaplanMeier, month: float, scale: float
) -> LandmarkComparison:
    d = landmark_difference(km_exp, km_ref, month * scale)
    return LandmarkComparison(month, d.difference, d.std_err, (d.lower, d.upper), d.p_value)


def _rmst(
    curves: dict[str, KaplanMeier], exp: str, ref: str, tau: float, scale: float
) -> RMSTSummary:
    if not (math.isfinite(tau) and tau > 0):
        raise InputError(
            f"rmst_tau: {tau!r} is invalid; use months > 0", field="rmst_tau", value=tau
        )
    per = {}
    for level in (exp, ref):
        r = rmst(curves[level], tau * scale)
        per[level] = {
            "rmst": r.estimate / scale,
            "std_err": r.std_err / scale,
            "ci": [r.lower / scale, r.upper / scale],
        }
    d = rmst_difference(curves[exp], curves[ref], tau * scale)
    return RMSTSummary(
        tau,
        per,
        d.estimate / scale,
        d.std_err / scale,
        (d.lower / scale, d.upper / scale),
        d.p_value,
    )


def _subgroups(
    data: pd.DataFrame,
    t: np.ndarray,
    e: np.ndarray,
    a: np.ndarray,
    arm: str,
    subgroups: list[str],
    ref: str,
    strata: pd.DataFrame | None,
    scale: float,
    conv: Conventions,
    profile: str,
) -> tuple[SubgroupTable, list[str]]:
    """Forest-plot table on the validated columns, times in months."""
    time_col, event_col = "__time_months", "__event"
    frame = pd.DataFrame({time_col: t / scale, event_col: e, arm: a})
    for s in subgroups:
        frame[s] = data[s].to_numpy()
    names = list(strata.columns) if strata is not None else []
    for s in names:
        if s not in frame.columns:
            frame[s] = strata[s].to_numpy()  # type: ignore[index]
    notes: list[str] = []
    table = subgroup_analysis(
        frame,
        time_col,
        event_col,
        arm,
        subgroups,
        reference=ref,
        strata=names or None,
        profile=profile,
        conf_type=conv.conf_type,
        ties=conv.ties,
        conf_level=conv.conf_level,
    )
    return table, notes
