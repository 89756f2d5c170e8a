"""Arms, allocation ratio, stratification factors and strata: the inputs every scheme shares.

Everything here is validated once, on construction, with an :class:`~oncotrial.errors.InputError`
that names the argument, the bad value and what is valid. Names of arms, factors and levels are
written verbatim into the canonical allocation list (a CSV whose SHA-256 is the list's
fingerprint), so they must not contain the characters that would need CSV quoting or that
separate the parts of a stratum label: ``,`` ``"`` ``|`` and line breaks anywhere, and ``=`` in
factor names (a level may contain ``=``, e.g. ``>=65``: a label part splits at its first ``=``).

Strata are the cross product of the factors' levels in the order given, the *first* factor
varying slowest (``itertools.product`` order); stratum ``k`` is the k-th tuple (0-based).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oncotrial.errors import InputError, describe_value

FORBIDDEN_CHARS = ',"|\r\n'
"""Characters not allowed in arm, factor and level names (see module docstring)."""

STRATUM_SEP = "|"
"""Separator of ``factor=level`` parts in a stratum label, e.g. ``prior_et=AI|visceral=yes``."""

NO_FACTORS_LABEL = "ALL"
"""Label of the single stratum of an unstratified design."""


def check_name(value: Any, argument: str, forbidden: str = FORBIDDEN_CHARS) -> str:
    """A valid arm / factor / level name, or :class:`InputError` naming ``argument``."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"{argument}: {describe_value(value)} is not a valid name; expected a non-empty string",
            argument=argument,
            value=describe_value(value),
        )
    bad = sorted({c for c in value if c in forbidden})
    if bad or value != value.strip():
        what = f"contains {bad!r}" if bad else "has leading or trailing spaces"
        raise InputError(
            f'{argument}: name {value!r} {what}; names must not contain , " | or line '
            "breaks (factor names not = either), nor start or end with a space",
            argument=argument,
            value=value,
        )
    return value


def _check_unique(values: Sequence[str], argument: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise InputError(
                f"{argument}: {v!r} appears twice; names must be unique",
                argument=argument,
                value=v,
            )
        seen.add(v)


@dataclass(frozen=True)
class ArmRatio:
    """Arms in a fixed order and their integer allocation ratio, e.g. 2:1.

    The ratio is kept as given (2:1 and 4:2 are different block templates); ``total`` is its
    sum, the smallest block that respects it.
    """

    arms: tuple[str, ...]
    ratio: tuple[int, ...]

    def __post_init__(self) -> None:
        arms = tuple(self.arms)
        ratio = tuple(self.ratio)
        object.__setattr__(self, "arms", arms)
        object.__setattr__(self, "ratio", ratio)
        if len(arms) < 2:
            raise InputError(
                f"arms: got {len(arms)} arm(s) {list(arms)!r}; at least 2 arms are needed",
                argument="arms",
                value=list(arms),
            )
        for a in arms:
            check_name(a, "arms")
        _check_unique(arms, "arms")
        if len(ratio) != len(arms):
            raise InputError(
                f"ratio: {len(ratio)} number(s) {list(ratio)!r} for {len(arms)} arms "
                f"{list(arms)!r}; give one positive integer per arm",
                argument="ratio",
                value=list(ratio),
            )
        for r in ratio:
            if isinstance(r, bool) or not isinstance(r, int) or r < 1:
                raise InputError(
                    f"ratio: {describe_value(r)} in {list(ratio)!r} is not valid; every arm "
                    "needs a positive integer share (e.g. 2:1), 0 would never allocate it",
                    argument="ratio",
                    value=describe_value(r),
                )

    @property
    def total(self) -> int:
        return sum(self.ratio)

    @property
    def lcm(self) -> int:
        """Least common multiple of the ratio; counts times ``lcm / r`` are integers."""
        return math.lcm(*self.ratio)

    @property
    def label(self) -> str:
        return ":".join(str(r) for r in self.ratio)

    def index(self, arm: str) -> int:
        try:
            return self.arms.index(arm)
        except ValueError:
            raise InputError(
                f"arm {arm!r} is not one of the arms {list(self.arms)!r}",
                argument="arm",
                value=arm,
                expected=list(self.arms),
            ) from None


def parse_ratio(text: str, n_arms: int | None = None) -> tuple[int, ...]:
    """Parse ``"2:1"`` into ``(2, 1)``; every part a positive integer."""
    parts = str(text).split(":")
    values: list[int] = []
    for p in parts:
        p = p.strip()
        if not p.isdigit() or int(p) < 1:
            raise InputError(
                f"ratio: {text!r} is not valid; expected positive integers separated by ':' "
                f"(e.g. 2:1 or 1:1:1), one per arm; {p!r} is not a positive integer",
                argument="ratio",
                value=str(text),
            )
        values.append(int(p))
    if n_arms is not None and len(values) != n_arms:
        raise InputError(
            f"ratio: {text!r} has {len(values)} part(s) but there are {n_arms} arms; "
            "give one share per arm",
            argument="ratio",
            value=str(text),
        )
    return tuple(values)


@dataclass(frozen=True)
class Factor:
    """A stratification / minimization factor and its levels, in a fixed order."""

    name: str
    levels: tuple[str, ...]

    def __post_init__(self) -> None:
        check_name(self.name, "factor name", FORBIDDEN_CHARS + "=")
        levels = tuple(self.levels) if not isinstance(self.levels, str) else (self.levels,)
        object.__setattr__(self, "levels", levels)
        if len(levels) == 0:
            raise InputError(
                f"factor {self.name!r}: no levels given; a factor needs at least 1 level, "
                "e.g. visceral=yes,no",
                argument=f"factor {self.name}",
                value=[],
            )
        for lev in levels:
            check_name(lev, f"factor {self.name!r} level")
        _check_unique(levels, f"factor {self.name!r} levels")

    def index(self, level: str) -> int:
        try:
            return self.levels.index(level)
        except ValueError:
            raise InputError(
                f"factor {self.name!r}: unknown level {describe_value(level)}; valid levels "
                f"are {list(self.levels)!r}",
                argument=self.name,
                value=describe_value(level),
                expected=list(self.levels),
            ) from None


def parse_factor(text: str) -> Factor:
    """Parse ``"visceral=yes,no"`` into a :class:`Factor`."""
    name, sep, levels = str(text).partition("=")
    if not sep:
        raise InputError(
            f"factor: {text!r} is not valid; expected NAME=LEVEL1,LEVEL2,... "
            "(e.g. visceral=yes,no)",
            argument="factor",
            value=str(text),
        )
    parts = [p.strip() for p in levels.split(",")] if levels.strip() else []
    if any(p == "" for p in parts):
        raise InputError(
            f"factor: {text!r} has an empty level; expected NAME=LEVEL1,LEVEL2,...",
            argument="factor",
            value=str(text),
        )
    return Factor(name.strip(), tuple(parts))


def check_factors(factors: Sequence[Factor]) -> tuple[Factor, ...]:
    """Factors as a tuple with unique names."""
    out = tuple(factors)
    for f in out:
        if not isinstance(f, Factor):
            raise InputError(
                f"factors: {describe_value(f)} is not a Factor; build one with "
                "Factor(name, levels) or parse_factor('name=a,b')",
                argument="factors",
                value=describe_value(f),
            )
    _check_unique([f.name for f in out], "factor names")
    return out


@dataclass(frozen=True)
class Stratum:
    """One cell of the cross product of factor levels."""

    index: int
    levels: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        if not self.levels:
            return NO_FACTORS_LABEL
        return STRATUM_SEP.join(f"{f}={v}" for f, v in self.levels)


def strata(factors: Sequence[Factor]) -> tuple[Stratum, ...]:
    """All strata, first factor varying slowest; one stratum ``ALL`` without factors."""
    factors = check_factors(factors)
    combos = itertools.product(*(f.levels for f in factors))
    return tuple(
        Stratum(k, tuple(zip((f.name for f in factors), combo, strict=True)))
        for k, combo in enumerate(combos)
    )


def level_indices(factors: Sequence[Factor], subject: Mapping[str, str]) -> tuple[int, ...]:
    """Level index of a subject on each factor; errors name a missing or unknown value."""
    if not isinstance(subject, Mapping):
        raise InputError(
            f"subject factors: {describe_value(subject)} is not a mapping; expected "
            "{factor name: level}",
            argument="subject_factors",
            value=describe_value(subject),
        )
    known = {f.name for f in factors}
    extra = sorted(set(subject) - known)
    if extra:
        raise InputError(
            f"subject factors: unknown factor {extra[0]!r}; the factors are {sorted(known)!r}",
            argument="subject_factors",
            value=extra[0],
            expected=sorted(known),
        )
    out = []
    for f in factors:
        if f.name not in subject:
            raise InputError(
                f"subject factors: factor {f.name!r} is missing; give one of {list(f.levels)!r}",
                argument=f.name,
                value=None,
                expected=list(f.levels),
            )
        out.append(f.index(subject[f.name]))
    return tuple(out)


def stratum_index(factors: Sequence[Factor], subject: Mapping[str, str]) -> int:
    """0-based index of the subject's stratum in :func:`strata` order (mixed radix)."""
    k = 0
    for f, i in zip(factors, level_indices(factors, subject), strict=True):
        k = k * len(f.levels) + i
    return k


def check_seed(seed: Any) -> int:
    """A seed is a non-negative integer (any size; it seeds ``numpy.random.SeedSequence``)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(
            f"seed: {describe_value(seed)} is not valid; expected a non-negative integer",
            argument="seed",
            value=describe_value(seed),
        )
    return seed


def check_positive_int(value: Any, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(
            f"{argument}: {describe_value(value)} is not valid; expected a positive integer",
            argument=argument,
            value=describe_value(value),
        )
    return value
