"""Scenarios from a trial spec's design blocks (two-arm survival designs).

The design block is run through :func:`oncotrial.design.spec_block.design_from_block`, so the
simulated trial has exactly the designed events per look and group-sequential bounds. What a
spec does not state is filled with the defaults below, each recorded in
``Scenario.assumptions`` and overridable with ``assume={...}``:

* ``median_control`` (months; default 6) when the block gives no control survival;
* ``accrual_months`` (default 24) when the block gives none: uniform accrual;
* ``n`` when the block gives neither ``n`` nor accrual and follow-up to compute it;
* ``prevalences`` ({factor: [..]}; default equal across levels), ``hazard_multipliers``
  ({factor: [..]}; default 1: strata do not change the hazards);
* ``block_sizes`` (default 2 and 3 times the allocation's sum, permuted blocks within the
  strata of all stratification factors);
* ``dropout_rate`` / ``dropout_time`` (default none unless the block gives them);
* ``test`` (default from ``analyses.primary.test``);
* ``look_times`` (calendar times, one per look of the design): analyse at these calendar
  times instead of the designed event counts, with the design's bounds (computed at the
  planned information fractions; at a calendar look the information is random).

Supported ``design.type``: ``two-arm-survival`` and ``group-sequential-survival``, and
``single-arm-survival`` with ``method: km_landmark`` (the Kaplan-Meier rate at a landmark
against a historical rate): a :class:`~oncotrial.simulate.single_arm.SingleArmScenario` with
the design's evaluable ``n``, medians, Weibull shape, accrual, follow-up, landmark, transform,
alpha and sides; patients who are not evaluable (``inevaluable_fraction``) do not enter the
analysis and are not simulated. Other single-arm methods say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from oncotrial.design import accrual as acc
from oncotrial.design.effect import PiecewiseExponential, hazard_from_median
from oncotrial.design.single_arm import from_spec_block as single_arm_design
from oncotrial.design.spec_block import SURVIVAL_TYPES, design_from_block
from oncotrial.errors import InputError, SpecError
from oncotrial.simulate.scenario import (
    Accrual,
    AnalysisPlan,
    Look,
    Randomization,
    Scenario,
    Statistic,
    StratumFactor,
)
from oncotrial.simulate.single_arm import SingleArmScenario
from oncotrial.spec import TrialSpec, load_spec

SINGLE_ARM_TYPE = "single-arm-survival"

SUPPORTED_TYPES: tuple[str, ...] = (*SURVIVAL_TYPES, "single-arm-survival")
DEFAULT_MEDIAN_CONTROL = 6.0
DEFAULT_ACCRUAL_MONTHS = 24.0
ASSUMABLE: tuple[str, ...] = (
    "median_control",
    "accrual_months",
    "n",
    "prevalences",
    "hazard_multipliers",
    "block_sizes",
    "dropout_rate",
    "dropout_time",
    "test",
    "look_times",
)
_TESTS = {
    "log-rank": "logrank",
    "stratified log-rank": "stratified-logrank",
    "Cox Wald": "cox-wald",
}


def _design_blocks(spec: TrialSpec) -> list[tuple[str, str, dict[str, Any]]]:
    """(where, label, block) of the top-level design and each cohort's design."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if spec.design is not None:
        out.append(("design", spec.trial.id, spec.design.model_dump()))
    for i, cohort in enumerate(spec.cohorts):
        out.append(
            (f"cohorts[{i}].design", f"{spec.trial.id} {cohort.id}", cohort.design.model_dump())
        )
    return out


def _as_spec(spec: TrialSpec | str | Path) -> TrialSpec:
    return spec if isinstance(spec, TrialSpec) else load_spec(spec)


def _allocation(ratio: float, where: str) -> tuple[int, int]:
    frac = Fraction(float(ratio)).limit_denominator(20)
    if abs(float(frac) - float(ratio)) > 1e-9:
        raise SpecError(
            f"{where}.allocation_ratio = {ratio!r} is not a ratio of small integers "
            "(e.g. 2 for 2:1, 1.5 for 3:2); permuted blocks need integer shares",
            field=f"{where}.allocation_ratio",
            value=ratio,
        )
    return frac.numerator, frac.denominator


def _strata(
    spec: TrialSpec, assume: Mapping[str, Any], notes: list[str]
) -> tuple[StratumFactor, ...]:
    prev_given = dict(assume.get("prevalences") or {})
    mult_given = dict(assume.get("hazard_multipliers") or {})
    factors = []
    for f in spec.stratification:
        prev = prev_given.get(f.name)
        if prev is None:
            prev = [1.0 / len(f.levels)] * len(f.levels)
            notes.append(f"stratum {f.name}: levels {f.levels} assumed equally prevalent")
        mult = mult_given.get(f.name)
        if mult is None:
            notes.append(f"stratum {f.name}: no effect on the hazards assumed")
        factors.append(StratumFactor(f.name, tuple(f.levels), tuple(prev), mult))
    return tuple(factors)


def _statistic(spec: TrialSpec, assume: Mapping[str, Any], has_strata: bool) -> Statistic:
    if "test" in assume:
        t = assume["test"]
        return t if isinstance(t, Statistic) else Statistic(str(t))
    name = spec.analyses.primary.test
    kind = _TESTS.get(name)
    if kind is None:
        raise SpecError(
            f"analyses.primary.test = {name!r} is not a two-arm time-to-event test; the "
            f"simulator runs {', '.join(_TESTS)}",
            field="analyses.primary.test",
            value=name,
        )
    if kind == "stratified-logrank" and not has_strata:
        kind = "logrank"
    stratified = kind == "stratified-logrank" or (
        kind == "cox-wald" and bool(spec.analyses.primary.stratified_by)
    )
    return Statistic(kind, stratified=stratified)


def single_arm_scenario_from_block(
    block: Mapping[str, Any], where: str, name: str, assume: Mapping[str, Any]
) -> SingleArmScenario:
    """A ``single-arm-survival`` block with ``method: km_landmark`` (module docstring)."""
    method = block.get("method", "one_sample_logrank")
    if method != "km_landmark":
        raise SpecError(
            f"{where}.method: {method!r} cannot be simulated; single-arm designs are "
            "simulated for method 'km_landmark' (Kaplan-Meier rate at a landmark)",
            field=f"{where}.method",
            value=method,
            valid=["km_landmark"],
        )
    unknown = set(assume) - {"dropout_hazard"}
    if unknown:
        raise SpecError(
            f"assume: unknown key(s) {sorted(unknown)} for a single-arm design; valid: "
            "dropout_hazard",
            field="assume",
            value=sorted(unknown),
        )
    try:
        d = single_arm_design(dict(block))
    except InputError as err:
        raise SpecError(f"{where}: {err.message}", field=where) from err
    notes = [
        f"{d.n} evaluable patients simulated (the design's n; {d.n_enrolled} enrolled "
        f"include {d.dropout:.0%} inevaluable, who do not enter the analysis)",
        "entry times: ordered uniforms over the accrual period (Poisson entry given n)",
    ]
    assert d.landmark is not None and d.transform is not None and d.variance is not None
    return SingleArmScenario(
        n=d.n,
        median0=d.median0,
        median1=d.median1,
        accrual_months=d.accrual,
        follow_up_months=d.follow_up,
        landmark=d.landmark,
        transform=d.transform,
        alpha=d.alpha,
        sides=d.sides,
        shape=d.shape,
        dropout_hazard=float(assume.get("dropout_hazard", 0.0)),
        formula_variance=d.variance,
        name=name,
        assumptions=tuple(notes),
    )


def _calendar_plan(plan: AnalysisPlan, times: Any) -> AnalysisPlan:
    """``plan`` with its looks at calendar ``times`` (one per look), bounds unchanged."""
    values = list(times) if isinstance(times, (list, tuple)) else [times]
    if len(values) != len(plan.looks):
        raise SpecError(
            f"assume.look_times = {values!r}: the design has {len(plan.looks)} look(s); give "
            "one calendar time per look",
            field="assume.look_times",
            value=values,
        )
    try:
        looks = tuple(Look(time=float(t)) for t in values)
        return replace(plan, looks=looks, source=f"{plan.source}; calendar looks")
    except (TypeError, ValueError, InputError) as err:
        raise SpecError(
            f"assume.look_times = {values!r} is invalid; give increasing positive times",
            field="assume.look_times",
            value=str(values),
        ) from err


def scenario_from_block(
    spec: TrialSpec, block: Mapping[str, Any], where: str, name: str, assume: Mapping[str, Any]
) -> Scenario | SingleArmScenario:
    """One design block of ``spec`` as a :class:`Scenario` (module docstring)."""
    kind = block.get("type", "two-arm-survival")
    if kind not in SUPPORTED_TYPES:
        raise SpecError(
            f"{where}.type: {kind!r} cannot be simulated; the simulator supports "
            f"{', '.join(SUPPORTED_TYPES)} (single-arm: method km_landmark).",
            field=f"{where}.type",
            value=kind,
            valid=list(SUPPORTED_TYPES),
        )
    if kind == SINGLE_ARM_TYPE:
        return single_arm_scenario_from_block(block, where, name, assume)
    unknown = set(assume) - set(ASSUMABLE)
    if unknown:
        raise SpecError(
            f"assume: unknown key(s) {sorted(unknown)}; valid keys are {', '.join(ASSUMABLE)}",
            field="assume",
            value=sorted(unknown),
        )
    design = design_from_block(block, where)
    notes: list[str] = []
    inputs = design.inputs
    control = design.effect.control
    if control is None:
        median = float(assume.get("median_control", DEFAULT_MEDIAN_CONTROL))
        control = PiecewiseExponential.exponential(hazard_from_median(median, "median_control"))
        notes.append(f"control arm exponential with median {median:g} months (not in the spec)")
    experimental = control.scaled(design.effect.hr)
    n = assume.get("n", block.get("n"))
    if n is None and design.patients is not None:
        n = design.patients.n
    if n is None:
        raise SpecError(
            f"{where}: the number of patients is not given (n, or accrual_months with "
            "follow_up_months); pass assume={'n': ...}",
            field=f"{where}.n",
        )
    months = inputs.get("accrual_time") or assume.get("accrual_months")
    if months is None:
        months = DEFAULT_ACCRUAL_MONTHS
        notes.append(f"uniform accrual over {months:g} months (not in the spec)")
    allocation = _allocation(inputs.get("ratio", 1.0), where)
    strata = _strata(spec, assume, notes)
    total = sum(allocation)
    sizes = assume.get("block_sizes")
    if sizes is None:
        sizes = (2 * total, 3 * total)
        notes.append(f"permuted blocks of sizes {list(sizes)} within strata (not in the spec)")
    drop_rate = float(assume.get("dropout_rate", inputs.get("dropout_rate") or 0.0))
    drop_time = float(assume.get("dropout_time", inputs.get("dropout_time") or 12.0))
    if design.sequential is not None:
        plan = AnalysisPlan.from_sequential(design.sequential, list(design.events_by_look))
    else:
        plan = AnalysisPlan.fixed(design.events, alpha=design.fixed.alpha, sides=design.fixed.sides)
    if "look_times" in assume:
        plan = _calendar_plan(plan, assume["look_times"])
    return Scenario(
        n=int(n),
        accrual=Accrual.uniform(float(months), int(n)),
        control=control,
        experimental=experimental,
        plan=plan,
        allocation=allocation,
        test=_statistic(spec, assume, bool(strata)),
        strata=strata,
        randomization=Randomization("blocks", tuple(int(b) for b in sizes)),
        dropout_hazard=acc.dropout_hazard(drop_rate, drop_time),
        arms=(spec.arms[-1].name, spec.arms[0].name)
        if len(spec.arms) == 2
        else ("control", "experimental"),
        name=name,
        assumptions=tuple(notes),
    )


def scenarios_from_spec(
    spec: TrialSpec | str | Path, *, assume: Mapping[str, Any] | None = None
) -> dict[str, Scenario | SingleArmScenario]:
    """Every simulatable design block of a spec, keyed by its path (``design``,
    ``cohorts[0].design``...). Raises :class:`SpecError` when there is none."""
    trial = _as_spec(spec)
    blocks = _design_blocks(trial)
    out = {
        where: scenario_from_block(trial, block, where, label, assume or {})
        for where, label, block in blocks
        if block.get("type", "two-arm-survival") in SUPPORTED_TYPES
    }
    if not out:
        kinds = sorted({str(b.get("type")) for _, _, b in blocks})
        raise SpecError(
            f"{trial.trial.id}: no design block can be simulated (types {kinds}); the "
            f"simulator supports {', '.join(SUPPORTED_TYPES)} (single-arm: method km_landmark).",
            field="design.type",
            value=kinds,
            valid=list(SUPPORTED_TYPES),
        )
    return out


def scenario_from_spec(
    spec: TrialSpec | str | Path,
    *,
    cohort: str | None = None,
    assume: Mapping[str, Any] | None = None,
) -> Scenario | SingleArmScenario:
    """The scenario of a spec's design (or of the cohort with id ``cohort``).

    ``spec`` is a :class:`TrialSpec`, a YAML path or a shipped example name (``palmira``).
    """
    trial = _as_spec(spec)
    if cohort is not None:
        ids = [c.id for c in trial.cohorts]
        if cohort not in ids:
            raise SpecError(
                f"cohort = {cohort!r} is not a cohort of {trial.trial.id}; cohorts are {ids}",
                field="cohort",
                value=cohort,
                valid=ids,
            )
        i = ids.index(cohort)
        label = f"{trial.trial.id} {cohort}"
        return scenario_from_block(
            trial, trial.cohorts[i].design.model_dump(), f"cohorts[{i}].design", label, assume or {}
        )
    if trial.design is not None:
        return scenario_from_block(
            trial, trial.design.model_dump(), "design", trial.trial.id, assume or {}
        )
    found = scenarios_from_spec(trial, assume=assume)
    if len(found) > 1:
        ids = [c.id for c in trial.cohorts]
        raise SpecError(
            f"{trial.trial.id} has {len(found)} designs (cohorts {ids}); choose one with cohort=",
            field="cohort",
            valid=ids,
        )
    return next(iter(found.values()))
