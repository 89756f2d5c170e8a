"""Argument checks shared by the design calculators (time-to-event, group-sequential,
single-arm).

Each check raises :class:`~oncotrial.errors.InputError` naming the argument, the bad value
and what would be valid, and returns the value as a float/int on success.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from oncotrial.errors import InputError, describe_value


def _number(name: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(
            f"{name} = {describe_value(value)} is not a number", argument=name, value=str(value)
        ) from None
    if not math.isfinite(number):
        raise InputError(
            f"{name} = {number!r} must be a finite number", argument=name, value=str(number)
        )
    return number


def alpha(value: object, name: str = "alpha") -> float:
    """A significance level strictly between 0 and 1."""
    a = _number(name, value)
    if not 0.0 < a < 1.0:
        raise InputError(
            f"{name} = {a!r} is invalid; a significance level must be in (0, 1)",
            argument=name,
            value=a,
            valid="0 < alpha < 1",
        )
    return a


def power(value: object, alpha_one_sided: float, name: str = "power") -> float:
    """A power in (alpha, 1): below the one-sided alpha no test has that power."""
    p = _number(name, value)
    if not alpha_one_sided < p < 1.0:
        raise InputError(
            f"{name} = {p!r} is invalid; power must be above the one-sided alpha "
            f"({alpha_one_sided:g}) and below 1",
            argument=name,
            value=p,
            valid=f"{alpha_one_sided:g} < power < 1",
        )
    return p


def sides(value: object, name: str = "sides") -> int:
    """1 (one-sided test) or 2 (two-sided test)."""
    if value not in (1, 2, "1", "2"):
        raise InputError(
            f"{name} = {describe_value(value)} is invalid; use 1 or 2",
            argument=name,
            value=str(value),
            valid="1 or 2",
        )
    return int(str(value))


def one_of(value: object, choices: Sequence[str], name: str, *, fold_case: bool = False) -> str:
    """``value`` (lower-cased first with ``fold_case``) if it is one of ``choices``."""
    key = str(value).lower() if fold_case else value
    if key not in choices:
        options = (
            f"'{choices[0]}' or '{choices[1]}'"
            if len(choices) == 2
            else f"one of {', '.join(choices)}"
        )
        raise InputError(
            f"{name} = {describe_value(value)} is invalid; use {options}",
            argument=name,
            value=str(value),
            valid=list(choices),
        )
    return str(key)


def test_levels(alpha_: object, sides_: object, power_: object) -> tuple[float, int, float]:
    """``(alpha, sides, power)`` of a test, each checked; power must exceed ``alpha / sides``."""
    a = alpha(alpha_)
    s = sides(sides_)
    return a, s, power(power_, a / s)


def hazard_ratio(value: object, name: str = "hr") -> float:
    """A hazard ratio > 0 and != 1 (a ratio of 1 has no effect to detect)."""
    hr = _number(name, value)
    if hr <= 0.0 or hr == 1.0:
        raise InputError(
            f"{name} = {hr!r} is invalid; a hazard ratio to detect must be > 0 and != 1",
            argument=name,
            value=hr,
            valid="hr > 0 and hr != 1",
        )
    return hr


def positive(value: object, name: str) -> float:
    """A finite number > 0 (a median, a ratio, a number of events...)."""
    x = _number(name, value)
    if x <= 0.0:
        raise InputError(
            f"{name} = {x!r} is invalid; it must be > 0", argument=name, value=x, valid="> 0"
        )
    return x


def whole_number(value: object, name: str, minimum: int = 0) -> int:
    """A whole number (not a bool) >= ``minimum`` (a count of patients, cohorts, stages...)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(
            f"{name} = {describe_value(value)} is invalid; it must be a whole number >= {minimum}",
            argument=name,
            value=str(value),
            valid=f"integer >= {minimum}",
        )
    return int(value)


def non_negative(value: object, name: str) -> float:
    """A finite number >= 0 (a time, a dropout hazard...)."""
    x = _number(name, value)
    if x < 0.0:
        raise InputError(
            f"{name} = {x!r} is invalid; it must be >= 0", argument=name, value=x, valid=">= 0"
        )
    return x


def fraction_below_one(value: object, name: str) -> float:
    """A fraction in [0, 1) (a dropout rate, a share of inevaluable patients...)."""
    f = _number(name, value)
    if not 0.0 <= f < 1.0:
        raise InputError(
            f"{name} = {f!r} is invalid; it must be in [0, 1)",
            argument=name,
            value=f,
            valid="0 <= value < 1",
        )
    return f


def probability_open(value: object, name: str) -> float:
    """A probability strictly between 0 and 1 (a landmark survival rate...)."""
    p = _number(name, value)
    if not 0.0 < p < 1.0:
        raise InputError(
            f"{name} = {p!r} is invalid; it must be in (0, 1)",
            argument=name,
            value=p,
            valid="0 < value < 1",
        )
    return p


def increasing_fractions(values: Sequence[object], name: str) -> list[float]:
    """Information fractions: strictly increasing, in (0, 1], ending at 1."""
    fractions = [_number(f"{name}[{i}]", v) for i, v in enumerate(values)]
    if not fractions:
        raise InputError(
            f"{name} is empty; give at least one look ending at 1",
            argument=name,
            valid="increasing values in (0, 1] ending at 1",
        )
    for i, t in enumerate(fractions):
        if not 0.0 < t <= 1.0 or (i > 0 and t <= fractions[i - 1]):
            raise InputError(
                f"{name}[{i}] = {t!r} is invalid; information fractions must be strictly "
                "increasing in (0, 1]",
                argument=name,
                row=i,
                value=t,
                valid="strictly increasing values in (0, 1]",
            )
    if not math.isclose(fractions[-1], 1.0, rel_tol=0, abs_tol=1e-12):
        raise InputError(
            f"{name} ends at {fractions[-1]!r}; the last look must be at information fraction 1",
            argument=name,
            value=fractions[-1],
            valid="last value 1",
        )
    fractions[-1] = 1.0
    return fractions
