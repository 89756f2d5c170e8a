"""What a simulated trial is: accrual, arms, strata, hazards, dropout and the analysis plan.

A :class:`Scenario` is a frozen, validated description of one two-arm time-to-event trial as
it will run. Every check raises :class:`~oncotrial.errors.InputError` naming the field (e.g.
``strata[0].prevalences``), the bad value and what is valid. Times are in one unit throughout
(months for scenarios built from a trial spec).

Arms: index 0 is the control arm, index 1 the experimental arm; ``allocation = (2, 1)``
means 2 experimental patients per control patient (the ``allocation_ratio: 2`` of a spec).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from oncotrial.design.effect import PiecewiseExponential
from oncotrial.errors import InputError, describe_value
from oncotrial.results import Result

RANDOMIZATIONS: tuple[str, ...] = ("blocks", "simple", "fixed")
ENTRY: tuple[str, ...] = ("random", "regular")
TESTS: tuple[str, ...] = ("logrank", "stratified-logrank", "cox-wald", "cox-score", "fh")


def _fail(where: str, value: Any, valid: str) -> InputError:
    return InputError(
        f"{where} = {describe_value(value)} is invalid; {valid}",
        field=where,
        value=describe_value(value),
        valid=valid,
    )


def _positive(value: Any, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _fail(where, value, "give a positive number") from None
    if not (math.isfinite(x) and x > 0):
        raise _fail(where, value, "give a positive finite number")
    return x


def _non_negative(value: Any, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _fail(where, value, "give a number >= 0") from None
    if not (math.isfinite(x) and x >= 0):
        raise _fail(where, value, "give a finite number >= 0")
    return x


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise _fail(where, value, "give a positive integer")
    return int(value)


@dataclass(frozen=True)
class Accrual(Result):
    """Piecewise-constant entry rates (patients per time unit) from ``starts[j]``.

    The last rate continues until the trial's ``n`` patients have entered. Entry times are the
    order statistics of ``n`` independent draws from the rate density on ``[0, T_n]``, where
    ``T_n`` is the time at which the expected number entered reaches ``n`` (a Poisson entry
    process conditioned on ``n`` entries by ``T_n``; uniform accrual over a duration is the
    one-piece case, :meth:`uniform`). With ``entry="regular"`` the ``i``-th patient enters at
    the ``i / n`` quantile of that distribution instead (``i * T / n`` for uniform accrual),
    as rpact ``getSimulationSurvival`` does.
    """

    starts: tuple[float, ...] = (0.0,)
    rates: tuple[float, ...] = (1.0,)
    entry: str = "random"

    def __post_init__(self) -> None:
        if self.entry not in ENTRY:
            raise _fail("accrual.entry", self.entry, f"use one of {', '.join(ENTRY)}")
        starts = tuple(_non_negative(s, f"accrual.starts[{j}]") for j, s in enumerate(self.starts))
        rates = tuple(_non_negative(r, f"accrual.rates[{j}]") for j, r in enumerate(self.rates))
        if not starts or starts[0] != 0.0:
            raise _fail("accrual.starts", list(starts), "the first piece must start at 0")
        if len(starts) != len(rates):
            raise _fail("accrual.rates", list(rates), f"give one rate per start ({len(starts)})")
        for j in range(1, len(starts)):
            if starts[j] <= starts[j - 1]:
                raise _fail(f"accrual.starts[{j}]", starts[j], "starts must increase")
        if rates[-1] <= 0:
            raise _fail(f"accrual.rates[{len(rates) - 1}]", rates[-1], "the last rate must be > 0")
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "rates", rates)

    @classmethod
    def uniform(cls, duration: float, n: int, entry: str = "random") -> Accrual:
        """``n`` patients entering uniformly over ``[0, duration]``."""
        d = _positive(duration, "accrual.duration")
        return cls((0.0,), (_positive_int(n, "n") / d,), entry)

    def end(self, n: int) -> float:
        """``T_n``: the time at which ``n`` patients are expected to have entered."""
        cum = 0.0
        ends = [*self.starts[1:], math.inf]
        for start, stop, rate in zip(self.starts, ends, self.rates, strict=True):
            gain = rate * (stop - start)
            if cum + gain >= n:
                return start + (n - cum) / rate
            cum += gain
        raise AssertionError("unreachable: the last rate is positive")  # pragma: no cover

    def knots(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Times and cumulative fractions (0..1) of the entry distribution's piecewise-linear
        CDF on ``[0, T_n]``; entry time = ``interp(u, fractions, times)``."""
        t_end = self.end(n)
        times = [s for s in self.starts if s < t_end] + [t_end]
        cum = [0.0]
        for j in range(len(times) - 1):
            cum.append(cum[-1] + self.rates[j] * (times[j + 1] - times[j]))
        frac = np.asarray(cum) / cum[-1]
        return np.asarray(times, dtype=float), frac


@dataclass(frozen=True)
class StratumFactor(Result):
    """A stratification factor: levels, their prevalences, and hazard multipliers per level.

    Factors are independent; a patient's stratum is the cell of the factors' cross product
    (first factor varying slowest, as :func:`oncotrial.randomize.params.strata`), with
    prevalence the product of the level prevalences and hazard multiplier the product of the
    level multipliers (multiplying both arms' hazards: the treatment effect is the same in
    every stratum on the hazard-ratio scale).
    """

    name: str
    levels: tuple[str, ...]
    prevalences: tuple[float, ...]
    hazard_multipliers: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        where = f"strata[{self.name}]"
        levels = tuple(str(v) for v in self.levels)
        if len(levels) < 2 or len(set(levels)) != len(levels):
            raise _fail(f"{where}.levels", list(levels), "give two or more distinct levels")
        prev = tuple(
            _non_negative(p, f"{where}.prevalences[{j}]") for j, p in enumerate(self.prevalences)
        )
        if len(prev) != len(levels):
            raise _fail(
                f"{where}.prevalences", list(prev), f"give one prevalence per level ({len(levels)})"
            )
        if abs(sum(prev) - 1.0) > 1e-9:
            raise _fail(f"{where}.prevalences", list(prev), "prevalences must sum to 1")
        mult = self.hazard_multipliers
        if mult is None:
            mult = tuple(1.0 for _ in levels)
        mult = tuple(_positive(m, f"{where}.hazard_multipliers[{j}]") for j, m in enumerate(mult))
        if len(mult) != len(levels):
            raise _fail(
                f"{where}.hazard_multipliers", list(mult), f"give one per level ({len(levels)})"
            )
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "prevalences", prev)
        object.__setattr__(self, "hazard_multipliers", mult)


@dataclass(frozen=True)
class Randomization(Result):
    """``"blocks"``: permuted blocks within each stratum, each block's size drawn with equal
    probability among ``block_sizes`` (multiples of the allocation's sum), as the ``pbr-v1``
    lists of :mod:`oncotrial.randomize.schemes`; ``"simple"``: each patient's arm drawn
    independently with the allocation probabilities (``simple-v1``); ``"fixed"``: the
    deterministic pattern (experimental x a, then control x c, repeated) in order of entry, as
    rpact ``getSimulationSurvival`` (``allocation1``, ``allocation2``) assigns arms."""

    kind: str = "blocks"
    block_sizes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in RANDOMIZATIONS:
            raise _fail("randomization.kind", self.kind, f"use one of {', '.join(RANDOMIZATIONS)}")
        sizes = tuple(
            _positive_int(b, f"randomization.block_sizes[{j}]")
            for j, b in enumerate(self.block_sizes)
        )
        object.__setattr__(self, "block_sizes", tuple(sorted(set(sizes))))


@dataclass(frozen=True)
class Statistic(Result):
    """The test statistic at each analysis (all give ``z``; ``z < 0`` favours experimental).

    ``logrank`` / ``stratified-logrank``: (stratified) log-rank ``(O - E) / sqrt(V)`` of the
    experimental arm; ``fh``: Fleming-Harrington G(rho, gamma) weighted log-rank (stratified
    when ``stratified``); ``cox-wald``: Wald ``beta / se(beta)`` of the Cox model with the arm
    as covariate (stratified baseline hazards when ``stratified``); ``cox-score``: the Cox score
    test, equal to the log-rank statistic when event times are distinct (as they are in
    continuous-time simulation).
    """

    kind: str = "logrank"
    rho: float = 0.0
    gamma: float = 0.0
    stratified: bool = False

    def __post_init__(self) -> None:
        if self.kind not in TESTS:
            raise _fail("test.kind", self.kind, f"use one of {', '.join(TESTS)}")
        _non_negative(self.rho, "test.rho")
        _non_negative(self.gamma, "test.gamma")
        if self.kind == "stratified-logrank":
            object.__setattr__(self, "stratified", True)

    @property
    def label(self) -> str:
        strat = "stratified " if self.stratified and self.kind != "stratified-logrank" else ""
        if self.kind == "fh":
            return f"{strat}Fleming-Harrington G({self.rho:g}, {self.gamma:g})"
        return (
            strat
            + {
                "logrank": "log-rank",
                "stratified-logrank": "stratified log-rank",
                "cox-wald": "Cox Wald",
                "cox-score": "Cox score",
            }[self.kind]
        )


@dataclass(frozen=True)
class Look(Result):
    """One analysis: at the calendar time of the ``events``-th event, or at calendar ``time``."""

    events: int | None = None
    time: float | None = None

    def __post_init__(self) -> None:
        if (self.events is None) == (self.time is None):
            raise _fail("look", self.to_dict(), "give exactly one of events or time")
        if self.events is not None:
            _positive_int(self.events, "look.events")
        if self.time is not None:
            _positive(self.time, "look.time")


@dataclass(frozen=True)
class AnalysisPlan(Result):
    """Looks and group-sequential bounds on the efficacy scale ``z_eff = -z`` (positive
    favours the experimental arm).

    At look ``k``: efficacy if ``z_eff >= efficacy[k]``; otherwise at an interim, stop if
    ``z_eff <= lower[k]`` (a futility stop for one-sided designs; for two-sided designs the
    symmetric bound ``-efficacy[k]``, a rejection in favour of control). ``binding`` says
    whether the futility bound binds; the simulation reports power both obeying and ignoring
    a non-binding bound.
    """

    looks: tuple[Look, ...]
    efficacy: tuple[float, ...]
    lower: tuple[float, ...]
    sides: int = 1
    alpha: float = 0.025
    binding: bool = False
    source: str = "given"

    def __post_init__(self) -> None:
        looks = tuple(self.looks)
        if not looks:
            raise _fail("plan.looks", [], "give at least one look")
        k = len(looks)
        eff = tuple(float(c) for c in self.efficacy)
        low = tuple(float(b) for b in self.lower)
        if len(eff) != k:
            raise _fail("plan.efficacy", list(eff), f"give one bound per look ({k})")
        if len(low) != k:
            raise _fail("plan.lower", list(low), f"give one bound per look ({k})")
        for j in range(k):
            if math.isnan(eff[j]) or math.isnan(low[j]):
                raise _fail(f"plan.efficacy[{j}]", eff[j], "bounds must not be NaN")
        if self.sides not in (1, 2):
            raise _fail("plan.sides", self.sides, "use 1 or 2")
        kinds = {"events" if lk.events is not None else "time" for lk in looks}
        if len(kinds) > 1:
            raise _fail(
                "plan.looks", [lk.to_dict() for lk in looks], "use events or times, not both"
            )
        values = [lk.events if lk.events is not None else lk.time for lk in looks]
        if any(b <= a for a, b in pairwise(values)):  # type: ignore[operator]
            raise _fail("plan.looks", values, "looks must be strictly increasing")
        object.__setattr__(self, "looks", looks)
        object.__setattr__(self, "efficacy", eff)
        object.__setattr__(self, "lower", low)

    @property
    def event_driven(self) -> bool:
        return self.looks[0].events is not None

    @classmethod
    def fixed(cls, events: int, *, alpha: float = 0.05, sides: int = 2) -> AnalysisPlan:
        """One analysis at ``events`` events, rejecting when ``z_eff >= z_{1-alpha/sides}``."""
        from scipy.stats import norm

        c = float(norm.isf(alpha / sides))
        return cls((Look(events=events),), (c,), (-c if sides == 2 else c,), sides, alpha)

    @classmethod
    def from_sequential(
        cls,
        design: Any,
        events: Sequence[int] | None = None,
        *,
        times: Sequence[float] | None = None,
    ) -> AnalysisPlan:
        """Bounds of a :class:`~oncotrial.design.sequential.SequentialDesign` at the given
        event counts (or calendar times), one per look."""
        given = events if events is not None else times
        if given is None or len(given) != design.looks:
            raise _fail(
                "plan.looks", None if given is None else list(given), f"give {design.looks} looks"
            )
        looks = tuple(
            Look(events=int(e)) if events is not None else Look(time=float(e)) for e in given
        )
        return cls(
            looks,
            tuple(design.critical_values),
            tuple(design.futility_bounds),
            design.sides,
            design.alpha,
            design.binding,
            "oncotrial.design.sequential",
        )


@dataclass(frozen=True)
class Scenario(Result):
    """One two-arm trial to simulate (see module docstring for conventions)."""

    n: int
    accrual: Accrual
    control: PiecewiseExponential
    experimental: PiecewiseExponential
    plan: AnalysisPlan
    allocation: tuple[int, int] = (1, 1)
    test: Statistic = field(default_factory=Statistic)
    strata: tuple[StratumFactor, ...] = ()
    randomization: Randomization = field(default_factory=Randomization)
    dropout_hazard: float = 0.0
    arms: tuple[str, str] = ("control", "experimental")
    name: str = "scenario"
    assumptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _positive_int(self.n, "n")
        alloc = tuple(self.allocation)
        if len(alloc) != 2:
            raise _fail("allocation", list(alloc), "give (experimental, control) integer shares")
        alloc = (
            _positive_int(alloc[0], "allocation[0]"),
            _positive_int(alloc[1], "allocation[1]"),
        )
        object.__setattr__(self, "allocation", alloc)
        for name in ("control", "experimental"):
            model = getattr(self, name)
            if not isinstance(model, PiecewiseExponential):
                raise _fail(name, model, "give a PiecewiseExponential hazard model")
        _non_negative(self.dropout_hazard, "dropout_hazard")
        object.__setattr__(self, "strata", tuple(self.strata))
        names = [f.name for f in self.strata]
        if len(set(names)) != len(names):
            raise _fail("strata", names, "factor names must be unique")
        total = sum(alloc)
        for j, b in enumerate(self.randomization.block_sizes):
            if b % total:
                raise _fail(
                    f"randomization.block_sizes[{j}]",
                    b,
                    f"block sizes must be multiples of {total} (allocation {alloc[0]}:{alloc[1]})",
                )
        if self.randomization.kind == "blocks" and not self.randomization.block_sizes:
            object.__setattr__(self, "randomization", Randomization("blocks", (2 * total,)))
        if self.test.stratified and not self.strata:
            raise _fail("test", self.test.label, "a stratified test needs strata")
        if self.plan.event_driven:
            last = self.plan.looks[-1].events
            assert last is not None
            if last > self.n:
                raise _fail(
                    "plan.looks", last, f"target events cannot exceed the {self.n} patients"
                )

    # ------------------------------------------------------------------ derived arrays

    def stratum_table(self) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """Joint strata: (prevalences, hazard multipliers, labels), first factor slowest."""
        prev = np.ones(1)
        mult = np.ones(1)
        labels: list[str] = [""]
        for f in self.strata:
            prev = np.outer(prev, f.prevalences).ravel()
            mult = np.outer(mult, f.hazard_multipliers or 1.0).ravel()
            labels = [f"{a}|{f.name}={v}".lstrip("|") for a in labels for v in f.levels]
        return prev, mult, tuple(lab or "ALL" for lab in labels)

    @property
    def n_strata(self) -> int:
        return int(np.prod([len(f.levels) for f in self.strata])) if self.strata else 1

    def summary(self) -> str:
        looks = ", ".join(
            f"{lk.events} events" if lk.events is not None else f"t={lk.time:g}"
            for lk in self.plan.looks
        )
        lines = [
            f"Scenario {self.name}: n = {self.n}, allocation {self.allocation[0]}:"
            f"{self.allocation[1]} (experimental:control), {self.randomization.kind} "
            "randomization",
            f"  control hazards {list(self.control.hazards)} from {list(self.control.starts)}; "
            f"experimental {list(self.experimental.hazards)} from "
            f"{list(self.experimental.starts)}",
            f"  accrual rates {list(self.accrual.rates)} from {list(self.accrual.starts)}; "
            f"dropout hazard {self.dropout_hazard:g}",
            f"  test {self.test.label}, {self.plan.sides}-sided alpha {self.plan.alpha:g}; "
            f"looks: {looks}",
        ]
        lines += [f"  assumption: {a}" for a in self.assumptions]
        return "\n".join(lines)
