"""Checkers for two-arm time-to-event designs and group-sequential boundaries.

Kinds: ``rpact_group_sequential`` (rpact getDesignGroupSequential/getDesignCharacteristics),
``rpact_sample_size_survival`` (rpact getSampleSizeSurvival), ``rpact_power_survival``
(rpact getPowerSurvival) and ``seed_design`` (numbers published in the seed abstracts).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oncotrial.design.sequential import group_sequential
from oncotrial.design.tte import survival_design
from oncotrial.validation.registry import Case, Check, case_inputs, checker, compare

_GS_KEYS = (
    "fractions",
    "alpha",
    "power",
    "sides",
    "spending",
    "gamma",
    "futility",
    "beta_spending",
    "beta_gamma",
    "futility_bounds",
    "binding",
)


_LIST_KEYS = (
    "fractions",
    "futility_bounds",
    "looks",
    "accrual_starts",
    "accrual_rates",
    "hazards_control",
    "hazards_experimental",
    "starts",
)


def _compare(case: Case, key: str, expected: Any, observed: Any) -> Check:
    """:func:`compare` with the case's per-quantity tolerance when it gives one."""
    special = case.get("tolerance", {}).get("by_quantity", {}).get(key, {})
    return compare(case, key, expected, observed, rel=special.get("rel"), abs_=special.get("abs"))


def _sequential(spec: dict[str, Any]) -> Any:
    return group_sequential(**{k: spec[k] for k in _GS_KEYS if k in spec})


@checker("rpact_group_sequential")
def check_group_sequential(case: Case) -> list[Check]:
    design = _sequential(case_inputs(case, _LIST_KEYS))
    exp = case["expected"]
    observed = {
        "critical_values": design.critical_values,
        "inflation_factor": design.inflation_factor,
        "power_by_look": np.cumsum(design.rejection_h1),
        "alpha_spent": design.alpha_spent,
        # rpact lists futility bounds at the interim looks only
        "futility_bounds": design.futility_bounds[:-1],
        "beta_spent": design.beta_spent,
    }
    return [_compare(case, key, exp[key], observed[key]) for key in exp]


@checker("rpact_sample_size_survival")
def check_sample_size_survival(case: Case) -> list[Check]:
    result = survival_design(**case_inputs(case, _LIST_KEYS))
    exp = case["expected"]
    observed: dict[str, Any] = {
        "events_fixed": result.fixed.events_exact,
        "max_events": result.events_exact,
        "events_by_look": result.events_by_look_exact,
    }
    if result.patients is not None:
        observed["n"] = result.patients.n_exact
        observed["event_probability"] = result.patients.event_probability
        observed["analysis_time"] = result.analysis_times
    return [_compare(case, key, exp[key], observed[key]) for key in exp]


@checker("seed_design")
def check_seed_design(case: Case) -> list[Check]:
    result = survival_design(**case_inputs(case, _LIST_KEYS))
    exp = case["expected"]
    observed: dict[str, Any] = {
        "events_by_look": result.events_by_look,
        "max_events": result.events,
    }
    if result.patients is not None:
        observed["n"] = result.patients.n
        observed["n_per_arm"] = [result.patients.n_experimental, result.patients.n_control]
    return [_compare(case, key, exp[key], observed[key]) for key in exp]
