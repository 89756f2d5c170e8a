"""Read a trial spec ``design:`` mapping into :func:`~oncotrial.design.tte.survival_design`.

Keys are the arguments of ``survival_design`` (docs/DESIGNS.md), plus aliases used in the
trial spec examples: ``hazard_ratio`` (hr), ``allocation_ratio`` (ratio), ``accrual_months``
(accrual_time), ``follow_up_months`` (follow_up), ``median_control_months`` /
``median_experimental_months``, and ``*_weeks`` medians, converted to months with
7 / 30.4375 months per week (the calendar convention of oncotrial.conventions).
``futility: non-binding`` / ``binding`` is read as the binding flag; the kind of bound then
comes from ``futility_bounds`` (fixed z bounds) or ``beta_spending``.
Keys describing, not parametrising, the design (``type``, ``summary``, ``published``,
``computed`` (the calculator's own numbers, recorded), ``n``, ``accrual_rate_per_month``) are
ignored.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.design.tte import SurvivalDesign, survival_design
from oncotrial.errors import OncotrialError, SpecError

SURVIVAL_TYPES: tuple[str, ...] = ("two-arm-survival", "group-sequential-survival")
MONTHS_PER_WEEK = 7.0 / DAYS_PER_MONTH
_ALIASES = {
    "hazard_ratio": "hr",
    "allocation_ratio": "ratio",
    "accrual_months": "accrual_time",
    "follow_up_months": "follow_up",
    "median_control_months": "median_control",
    "median_experimental_months": "median_experimental",
}
_WEEKS = {
    "median_control_weeks": "median_control",
    "median_experimental_weeks": "median_experimental",
}
_DESCRIPTIVE = {
    "type",
    "summary",
    "published",
    "computed",
    "n",
    "n_per_arm",
    "accrual_rate_per_month",
}
_ARGUMENTS = set(inspect.signature(survival_design).parameters)


def survival_arguments(block: Mapping[str, Any], where: str = "design") -> dict[str, Any]:
    """Translate a ``design:`` mapping into ``survival_design`` keyword arguments."""
    args: dict[str, Any] = {}
    for key, value in block.items():
        if key in _DESCRIPTIVE:
            continue
        if key in _WEEKS:
            args[_WEEKS[key]] = float(value) * MONTHS_PER_WEEK
        elif key == "futility" and value in ("binding", "non-binding"):
            args["binding"] = value == "binding"
        elif key in _ALIASES:
            args[_ALIASES[key]] = value
        elif key in _ARGUMENTS:
            args[key] = value
        else:
            raise SpecError(
                f"{where}.{key}: unknown design key; valid keys are "
                f"{', '.join(sorted(_ARGUMENTS | set(_ALIASES) | set(_WEEKS)))}",
                field=f"{where}.{key}",
                value=str(value),
            )
    if block.get("futility") in ("binding", "non-binding"):
        if args.get("futility_bounds") is not None:
            args["futility"] = "fixed"
        elif args.get("beta_spending") is not None:
            args["futility"] = "beta-spending"
        else:
            raise SpecError(
                f"{where}.futility: '{block['futility']}' says whether the futility bound "
                "binds, not where it is; add looks (e.g. [0.5, 1]) and futility_bounds "
                "(z values, e.g. [0] for the Wieand rule) or beta_spending",
                field=f"{where}.futility",
                value=str(block["futility"]),
            )
    return args


def design_from_block(block: Mapping[str, Any], where: str = "design") -> SurvivalDesign:
    """Run the survival calculator on a ``design:`` mapping; errors name the spec field."""
    kind = block.get("type", "two-arm-survival")
    if kind not in SURVIVAL_TYPES:
        raise SpecError(
            f"{where}.type: {kind!r} is not a two-arm survival design "
            f"({', '.join(SURVIVAL_TYPES)})",
            field=f"{where}.type",
            value=kind,
        )
    args = survival_arguments(block, where)
    try:
        return survival_design(**args)
    except OncotrialError as exc:
        raise SpecError(f"{where}: {exc.message}", field=where, **exc.details) from None
