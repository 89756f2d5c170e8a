"""Subgroup analysis of a two-arm time-to-event comparison: the forest-plot table.

For each subgroup variable and each of its levels (and an "All patients" row): events / n
(%) and the Kaplan-Meier median with its CI per arm (:func:`oncotrial.stats.km.kaplan_meier`),
and the hazard ratio of the experimental arm vs the reference arm from a Cox model fitted
within the level (:func:`oncotrial.stats.cox.cox`). Per subgroup variable, the
treatment-by-subgroup interaction p-value is the Wald test of the arm x level terms in the
Cox model ``arm + subgroup + arm:subgroup`` (df = levels - 1), as R
``coxph(Surv(time, event) ~ arm * subgroup)`` and the ICH E9 / EMA guideline on subgroups
(EMA/CHMP/539146/2013) recommend: interaction tests, not per-level p-values.

With ``strata`` every Cox model (overall, per level, interaction) is stratified by those
factors; the "All patients" HR is then the stratified ("adjusted") HR that PALMIRA's
Figure 3 reports. A subgroup variable nested in the strata (e.g. a stratification factor
itself) has no main effect left to estimate within strata, so its main-effect terms are
dropped from the interaction model (its interaction terms remain estimable).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.conventions import Conventions, resolve, round_half_up
from oncotrial.errors import DataError, InputError, OncotrialWarning
from oncotrial.results import Result
from oncotrial.stats._inputs import ArrayLike, as_events, as_groups, as_times, check_rows
from oncotrial.stats.cox import cox
from oncotrial.stats.km import kaplan_meier

ALL_PATIENTS = "All patients"


@dataclass(frozen=True)
class InteractionTest(Result):
    """Wald test of the treatment-by-subgroup interaction terms (chi-square, df = levels-1)."""

    subgroup: str
    statistic: float
    df: int
    p: float
    levels: tuple[str, ...]
    level_hr: dict[str, float]
    ties: str
    stratified: bool
    note: str = ""


@dataclass(frozen=True)
class ArmSummary(Result):
    """Counts and Kaplan-Meier median of one arm within one subgroup level."""

    arm: str
    n: int
    events: int
    median: float
    median_lower: float
    median_upper: float

    @property
    def percent(self) -> float:
        return 100.0 * self.events / self.n if self.n else math.nan


@dataclass(frozen=True)
class SubgroupRow(Result):
    """One forest-plot row: a subgroup level (or all patients) with both arms and the HR."""

    subgroup: str
    level: str
    experimental: ArmSummary
    control: ArmSummary
    hr: float
    hr_lower: float
    hr_upper: float
    interaction_p: float | None
    note: str = ""


@dataclass(frozen=True)
class SubgroupTable(Result):
    """The forest-plot table (PALMIRA, J Clin Oncol 2025, Figure 3) and its interaction tests.

    ``to_frame()`` gives the numbers (one row per level, tidy); ``to_frame(formatted=True)``
    the display table with exactly Figure 3's columns.
    """

    experimental_arm: str
    control_arm: str
    rows: tuple[SubgroupRow, ...]
    interactions: tuple[InteractionTest, ...]
    strata: tuple[str, ...]
    conventions: Conventions
    notes: tuple[str, ...] = field(default=())
    endpoint: str = "PFS"

    def to_frame(self, formatted: bool = False, digits: int = 2) -> pd.DataFrame:
        if formatted:
            return self._display(digits)
        records = []
        for row in self.rows:
            rec: dict[str, Any] = {"subgroup": row.subgroup, "level": row.level}
            for label, arm in (("experimental", row.experimental), ("control", row.control)):
                rec.update(
                    {
                        f"{label}_events": arm.events,
                        f"{label}_n": arm.n,
                        f"{label}_percent": arm.percent,
                        f"{label}_median": arm.median,
                        f"{label}_median_lower": arm.median_lower,
                        f"{label}_median_upper": arm.median_upper,
                    }
                )
            rec.update(
                {
                    "hr": row.hr,
                    "hr_lower": row.hr_lower,
                    "hr_upper": row.hr_upper,
                    "interaction_p": row.interaction_p,
                    "note": row.note,
                }
            )
            records.append(rec)
        return pd.DataFrame(records)

    def _display(self, digits: int) -> pd.DataFrame:
        hr_title = "Adjusted HR (95% CI)" if self.strata else "HR (95% CI)"
        level = f"{self.conventions.conf_level:.0%}"
        hr_title = hr_title.replace("95%", level)
        exp, ctl = self.experimental_arm, self.control_arm
        out = []
        for row in self.rows:
            out.append(
                {
                    "Subgroup": row.subgroup,
                    "Level": row.level,
                    f"{exp} Events, No./No. (%)": _events(row.experimental),
                    f"{exp} Median {self.endpoint} ({level} CI)": _median(row.experimental),
                    f"{ctl} Events, No./No. (%)": _events(row.control),
                    f"{ctl} Median {self.endpoint} ({level} CI)": _median(row.control),
                    hr_title: _ci(row.hr, row.hr_lower, row.hr_upper, digits),
                    "Interaction P": _p(row.interaction_p),
                }
            )
        return pd.DataFrame(out)

    def summary(self) -> str:
        frame = self.to_frame(formatted=True)
        lines = [
            f"Subgroup analysis: {self.experimental_arm} vs {self.control_arm}",
            frame.to_string(index=False),
        ]
        lines.extend(f"note: {n}" for n in self.notes)
        lines.append(self.conventions.footnote())
        return "\n".join(lines)


def _num(value: float, digits: int = 1) -> str:
    if not math.isfinite(value):
        return "NA"
    text = str(round_half_up(value, digits))
    return text.rstrip("0").rstrip(".") if "." in text else text


def _events(arm: ArmSummary) -> str:
    return f"{arm.events} / {arm.n} ({_num(arm.percent)})" if arm.n else "0 / 0"


def _median(arm: ArmSummary) -> str:
    return f"{_num(arm.median)} ({_num(arm.median_lower)} to {_num(arm.median_upper)})"


def _ci(est: float, lo: float, hi: float, digits: int) -> str:
    if not math.isfinite(est) and math.isnan(est):
        return "NA"
    return f"{_num(est, digits)} ({_num(lo, digits)} to {_num(hi, digits)})"


def _p(p: float | None) -> str:
    if p is None or math.isnan(p):
        return ""
    if p < 0.001:
        return "<.001"
    return str(round_half_up(p, 3)).lstrip("0")


# ----------------------------------------------------------------------------- computation


def _levels(values: np.ndarray, series: pd.Series | None = None) -> list[Any]:
    if series is not None and isinstance(series.dtype, pd.CategoricalDtype):
        present = set(pd.unique(values))
        return [c for c in series.cat.categories if c in present]
    return sorted(pd.unique(pd.Series(values)), key=lambda v: (str(type(v)), v))


def _pick(levels: Sequence[Any], wanted: Any, name: str) -> Any:
    if wanted is None:
        return levels[0]
    for lvl in levels:
        if lvl == wanted or str(lvl) == str(wanted):
            return lvl
    raise InputError(
        f"{name}: level {wanted!r} does not occur; levels are {', '.join(map(str, levels))}",
        field=name,
        value=str(wanted),
        valid=[str(v) for v in levels],
    )


def interaction_test(
    time: ArrayLike,
    event: ArrayLike,
    arm: ArrayLike,
    subgroup: ArrayLike,
    *,
    arm_reference: Any = None,
    subgroup_reference: Any = None,
    strata: pd.DataFrame | ArrayLike | None = None,
    ties: str | None = None,
    profile: str = "r",
    name: str = "subgroup",
) -> InteractionTest:
    """Wald test of the interaction terms of ``cox(arm + subgroup + arm:subgroup)``.

    Columns: one indicator per non-reference arm (A), per non-reference level (S) and their
    products (A x S); the test is ``b' V^-1 b`` over the products, chi-square with
    (arms - 1) x (levels - 1) df. ``level_hr`` holds the HR of the arm within each level.
    """
    t = as_times(time)
    n = t.size
    e = as_events(event, n=n)
    a = as_groups(arm, name="arm", n=n, min_levels=2)
    s = as_groups(subgroup, name=name, n=n, min_levels=2)
    conv = resolve(profile, ties=ties)
    arm_levels = _levels(a)
    a_ref = _pick(arm_levels, arm_reference, "arm_reference")
    sub_levels = _levels(s, subgroup if isinstance(subgroup, pd.Series) else None)
    s_ref = _pick(sub_levels, subgroup_reference, "subgroup_reference")
    a_cols = {f"arm={v}": (a == v).astype(float) for v in arm_levels if v != a_ref}
    s_cols = {f"{name}={v}": (s == v).astype(float) for v in sub_levels if v != s_ref}
    x_cols = {f"{ak}:{sk}": av * sv for ak, av in a_cols.items() for sk, sv in s_cols.items()}
    strata_frame = _strata_frame(strata, n)
    main_s = {} if _nested(s, strata_frame) else s_cols
    design, aliased = _drop_aliased(pd.DataFrame({**a_cols, **main_s, **x_cols}))
    tested = [c for c in x_cols if c in design.columns]
    note = (
        f"not estimable (aliased, e.g. a level with one arm): {', '.join(aliased)}"
        if aliased
        else ""
    )
    if tested:
        fit = cox(t, e, design, strata=strata_frame, ties=conv.ties)
        test = fit.wald_test(tested, label=f"interaction arm x {name}")
        stat, df, p = test.statistic, test.df, test.p
    else:
        stat, df, p = math.nan, 0, math.nan
    level_hr = {}
    for lvl in sub_levels:
        mask = s == lvl
        sub_strata = strata_frame[mask] if strata_frame is not None else None
        level_hr[str(lvl)] = _level_hr(t[mask], e[mask], a[mask], a_ref, sub_strata, conv)[0]
    return InteractionTest(
        name,
        stat,
        df,
        p,
        tuple(str(v) for v in sub_levels),
        level_hr,
        conv.ties,
        strata_frame is not None,
        note,
    )


def _drop_aliased(design: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop columns that are linear combinations of earlier ones (R's aliased terms, NA)."""
    x = design.to_numpy(dtype=float)
    x = x - x.mean(axis=0)
    keep: list[int] = []
    for j in range(x.shape[1]):
        if np.linalg.matrix_rank(x[:, [*keep, j]]) == len(keep) + 1:
            keep.append(j)
    dropped = [str(c) for i, c in enumerate(design.columns) if i not in keep]
    return design.iloc[:, keep], dropped


def _strata_frame(strata: Any, n: int) -> pd.DataFrame | None:
    if strata is None:
        return None
    frame = (
        strata
        if isinstance(strata, pd.DataFrame)
        else pd.DataFrame(
            {str(getattr(strata, "name", None) or "strata"): np.asarray(strata, dtype=object)}
        )
    )
    frame = frame.reset_index(drop=True)
    check_rows("strata", len(frame), n)
    return frame


def _nested(s: np.ndarray, strata: pd.DataFrame | None) -> bool:
    """True when the subgroup is constant within every stratum."""
    if strata is None:
        return False
    keys = (
        pd.MultiIndex.from_frame(strata.astype(str))
        if strata.shape[1] > 1
        else strata.iloc[:, 0].astype(str)
    )
    per = pd.Series(s.astype(str)).groupby(np.asarray(pd.factorize(keys)[0])).nunique()
    return bool(per.max() == 1)


def _level_hr(
    t: np.ndarray,
    e: np.ndarray,
    a: np.ndarray,
    ref: Any,
    strata: pd.DataFrame | None,
    conv: Conventions,
) -> tuple[float, float, float, str]:
    """HR (CI) of the non-reference arm vs ``ref`` on these rows; NaN with a note if none."""
    others = [v for v in _levels(a) if v != ref]
    if not others or not (a == ref).any():
        return math.nan, math.nan, math.nan, "HR not estimable: only one arm in this level"
    if e.sum() == 0:
        return math.nan, math.nan, math.nan, "HR not estimable: no events in this level"
    if strata is not None:
        strata = strata.reset_index(drop=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OncotrialWarning)
        fit = cox(
            t,
            e,
            pd.DataFrame({"arm": a}),
            strata=strata,
            ties=conv.ties,
            conf_level=conv.conf_level,
            reference={"arm": ref},
        )
    term = fit.terms[0]
    note = "; ".join(str(w.message) for w in caught)
    return term.hr, term.hr_lower, term.hr_upper, note


def _arm_summary(t: np.ndarray, e: np.ndarray, label: str, conv: Conventions) -> ArmSummary:
    if t.size == 0:
        return ArmSummary(label, 0, 0, math.nan, math.nan, math.nan)
    km = kaplan_meier(t, e, conventions=conv)
    lo, hi = km.median_ci
    return ArmSummary(label, int(t.size), int(e.sum()), float(km.median), float(lo), float(hi))


def subgroup_analysis(
    df: pd.DataFrame,
    time: str,
    event: str,
    arm: str,
    subgroups: list[str],
    *,
    reference: Any = None,
    strata: Sequence[str] | None = None,
    profile: str = "r",
    conf_type: str | None = None,
    ties: str | None = None,
    conf_level: float | None = None,
    labels: dict[str, str] | None = None,
    endpoint: str = "PFS",
) -> SubgroupTable:
    """Forest-plot table of ``arm`` (two levels) across ``subgroups`` of ``df``.

    Args:
        df: one row per patient.
        time, event, arm: column names (time in the unit the medians should be shown in).
        subgroups: columns whose levels form the rows (numeric columns are used as levels;
            derive e.g. an age group column first). Rows with a missing subgroup value are
            left out of that subgroup's rows and interaction test (counted in ``notes``).
        reference: the control arm level (HR = other arm vs it); default the first level.
        strata: stratification columns for every Cox model (PALMIRA's adjusted HR).
        profile, conf_type, ties, conf_level: conventions (``conf_type``: the pointwise CI
            transform the median CIs are read from; ``ties``: Cox ties; ``conf_level``: the
            level of every CI), each overriding the profile.
        labels: display names of the subgroup columns, e.g. ``{"ecog": "ECOG PS"}``.
        endpoint: endpoint name in the display headers ("Median PFS (95% CI)").
    """
    for col in [time, event, arm, *subgroups, *(strata or [])]:
        if col not in df.columns:
            raise DataError(
                f"column {col!r} not found; columns are {', '.join(map(str, df.columns))}",
                column=col,
            )
    data = df.reset_index(drop=True)
    t = as_times(data[time], name=time)
    n = t.size
    e = as_events(data[event], name=event, n=n)
    a = as_groups(data[arm].to_numpy(dtype=object), name=arm, n=n, min_levels=2)
    arm_levels = _levels(a, data[arm])
    if len(arm_levels) != 2:
        raise DataError(
            f"column {arm!r}: has {len(arm_levels)} arms {arm_levels!r}; a forest plot "
            "compares exactly 2 (subset the data to the two arms to compare)",
            column=arm,
            levels=[str(v) for v in arm_levels],
        )
    ref = _pick(arm_levels, reference, "reference")
    exp_arm = next(v for v in arm_levels if v != ref)
    conv = resolve(profile, conf_type=conf_type, ties=ties, conf_level=conf_level)
    strata_frame = data[list(strata)] if strata else None
    labels = labels or {}
    notes: list[str] = []

    def row(sub: str, level: str, mask: np.ndarray, p: float | None) -> SubgroupRow:
        tm, em, am = t[mask], e[mask], a[mask]
        st = strata_frame[mask].reset_index(drop=True) if strata_frame is not None else None
        hr, lo, hi, note = _level_hr(tm, em, am, ref, st, conv)
        if note:
            notes.append(f"{sub} = {level}: {note}")
        return SubgroupRow(
            sub,
            level,
            _arm_summary(tm[am == exp_arm], em[am == exp_arm], str(exp_arm), conv),
            _arm_summary(tm[am == ref], em[am == ref], str(ref), conv),
            hr,
            lo,
            hi,
            p,
            note,
        )

    rows = [row(ALL_PATIENTS, "", np.ones(n, dtype=bool), None)]
    tests = []
    for sub in subgroups:
        series = data[sub]
        present = series.notna().to_numpy()
        if not present.all():
            notes.append(f"{sub}: {int((~present).sum())} row(s) with a missing value left out")
        values = series.to_numpy(dtype=object)
        levels = _levels(values[present], series[present])
        label = labels.get(sub, sub)
        p: float | None = None
        if len(levels) >= 2:
            test = interaction_test(
                t[present],
                e[present],
                a[present],
                series[present].reset_index(drop=True),
                arm_reference=ref,
                strata=strata_frame[present] if strata_frame is not None else None,
                ties=conv.ties,
                name=sub,
            )
            tests.append(test)
            p = test.p
            if test.note:
                notes.append(f"{sub} interaction: {test.note}")
        for i, lvl in enumerate(levels):
            rows.append(row(label, str(lvl), present & (values == lvl), p if i == 0 else None))
    return SubgroupTable(
        str(exp_arm),
        str(ref),
        tuple(rows),
        tuple(tests),
        tuple(strata or ()),
        conv,
        tuple(notes),
        endpoint,
    )
