"""Checkers for the proportions reference cases (oncotrial.stats.proportions).

Kinds: ``proportion_ci``, ``binomial_test``, ``risk_difference``, ``odds_ratio``,
``mantel_haenszel``, ``logistic_odds_ratio`` (numbers from R or a published table) and
``published_proportion`` (a proportion and CI exactly as a paper printed it).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from oncotrial.stats import proportions as prop
from oncotrial.validation.registry import Case, Check, checker, compare

_INTERVAL = ("estimate", "lower", "upper")


def _compare_fields(case: Case, result: Any, fields: tuple[str, ...]) -> list[Check]:
    """One check per expected field present in the case, named like the result attribute."""
    expected = case["expected"]
    with np.errstate(invalid="ignore"):  # inf - inf where both are infinite: a match
        return [
            compare(case, name, expected[name], getattr(result, name))
            for name in fields
            if name in expected
        ]


@checker("proportion_ci")
def check_proportion_ci(case: Case) -> list[Check]:
    i = case["input"]
    result = prop.proportion_ci(i["x"], i["n"], i["method"], i.get("conf_level", 0.95))
    return _compare_fields(case, result, _INTERVAL)


@checker("binomial_test")
def check_binomial_test(case: Case) -> list[Check]:
    i = case["input"]
    result = prop.binomial_test(i["x"], i["n"], i.get("p0", 0.5), i.get("alternative", "two-sided"))
    return _compare_fields(case, result, ("p_value",))


@checker("risk_difference")
def check_risk_difference(case: Case) -> list[Check]:
    i = case["input"]
    result = prop.risk_difference(
        i["x1"], i["n1"], i["x2"], i["n2"], i["method"], i.get("conf_level", 0.95)
    )
    return _compare_fields(case, result, _INTERVAL)


@checker("odds_ratio")
def check_odds_ratio(case: Case) -> list[Check]:
    i = case["input"]
    result = prop.odds_ratio(
        i["x1"],
        i["n1"],
        i["x2"],
        i["n2"],
        i["method"],
        i.get("conf_level", 0.95),
        haldane=bool(i.get("haldane", False)),
    )
    return _compare_fields(case, result, (*_INTERVAL, "p_value"))


@checker("mantel_haenszel")
def check_mantel_haenszel(case: Case) -> list[Check]:
    i = case["input"]
    result = prop.mantel_haenszel(
        i["x1"],
        i["n1"],
        i["x2"],
        i["n2"],
        i.get("conf_level", 0.95),
        correct=bool(i.get("correct", True)),
    )
    return _compare_fields(case, result, (*_INTERVAL, "statistic", "p_value"))


@checker("logistic_odds_ratio")
def check_logistic_odds_ratio(case: Case) -> list[Check]:
    i = case["input"]
    result = prop.logistic_odds_ratio(i["x1"], i["n1"], i["x2"], i["n2"], i.get("conf_level", 0.95))
    return _compare_fields(case, result, (*_INTERVAL, "p_value"))


@checker("published_proportion")
def check_published_proportion(case: Case) -> list[Check]:
    """The printed percentages, rounded half-up to the printed digits, must equal the paper's."""
    i, expected = case["input"], case["expected"]
    digits = int(i.get("digits", 1))
    result = prop.proportion_ci(
        i["x"], i["n"], i["method"], i.get("conf_level", 0.95), digits=digits
    )
    printed = {
        "estimate_pct": prop.round_half_up(Fraction(result.x * 100, result.n), digits),
        "lower_pct": prop.round_half_up(prop.Decimal(repr(result.lower)) * 100, digits),
        "upper_pct": prop.round_half_up(prop.Decimal(repr(result.upper)) * 100, digits),
    }
    checks = [
        compare(case, name, expected[name], float(printed[name]))
        for name in ("estimate_pct", "lower_pct", "upper_pct")
    ]
    text = result.formatted()
    checks.append(
        Check(
            case["name"],
            case["kind"],
            "printed",
            expected["printed"],
            text,
            "exact text",
            0.0 if text == expected["printed"] else None,
            text == expected["printed"],
            case.get("_source", ""),
        )
    )
    return checks
