"""From events to patients: accrual, follow-up, dropout and the calendar time of analyses.

Model (Lachin & Foulkes, Biometrics 1986;42:507-519; rpact ``getSampleSizeSurvival``):
patients enter over ``[0, accrual_time]`` with a piecewise-constant entry density (uniform by
default); the final analysis is at ``accrual_time + follow_up`` (``follow_up`` is the minimum
follow-up, after the last patient enters). Survival in each arm is piecewise exponential
(:class:`~oncotrial.design.effect.PiecewiseExponential`), and dropout is an independent
exponential competing risk with hazard ``-ln(1 - dropout_rate) / dropout_time`` (rpact's
``dropoutRate``/``dropoutTime``). A patient followed for ``u`` has an observed event with
probability ``P(u) = ∫_0^u h(x) S(x) exp(-eta x) dx``, computed exactly piece by piece; the
average over entry times uses Gauss-Legendre quadrature on intervals where the integrand is
smooth (machine precision).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

import numpy as np
from scipy.optimize import brentq

from oncotrial.design import _tte_inputs as check
from oncotrial.design.effect import PiecewiseExponential
from oncotrial.errors import InputError
from oncotrial.results import Result

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)
INFLATIONS: tuple[str, ...] = ("multiply", "divide")


@dataclass(frozen=True)
class Accrual(Result):
    """Entry over ``[0, duration]``: relative rate ``rates[j]`` from ``starts[j]``."""

    duration: float
    starts: tuple[float, ...] = (0.0,)
    rates: tuple[float, ...] = (1.0,)

    @classmethod
    def make(
        cls,
        duration: float,
        starts: Sequence[float] | None = None,
        rates: Sequence[float] | None = None,
    ) -> Accrual:
        d = check.non_negative(duration, "accrual_time")
        st = tuple(float(s) for s in (starts if starts is not None else (0.0,)))
        rt = tuple(
            check.non_negative(r, f"accrual_rates[{j}]")
            for j, r in enumerate(rates if rates is not None else (1.0,))
        )
        if len(st) != len(rt) or st[0] != 0.0 or any(b <= a for a, b in pairwise(st)):
            raise InputError(
                "accrual: starts must begin at 0, increase, and match the rates",
                argument="accrual_starts",
                value=list(st),
            )
        if st[-1] >= d > 0 and len(st) > 1:
            raise InputError(
                f"accrual: interval start {st[-1]} is not before the end of accrual ({d})",
                argument="accrual_starts",
                value=st[-1],
            )
        if sum(rt) <= 0:
            raise InputError(
                "accrual: at least one accrual rate must be > 0",
                argument="accrual_rates",
                value=list(rt),
            )
        return cls(d, st, rt)

    def pieces(self) -> list[tuple[float, float, float]]:
        """``(start, end, density)`` with densities integrating to 1 over the accrual period."""
        ends = [*self.starts[1:], self.duration]
        masses = [r * (e - s) for s, e, r in zip(self.starts, ends, self.rates, strict=True)]
        total = sum(masses)
        return [
            (s, e, r / total)
            for s, e, r in zip(self.starts, ends, self.rates, strict=True)
            if e > s
        ]


def dropout_hazard(rate: float = 0.0, time: float = 12.0) -> float:
    """Exponential dropout hazard with ``P(dropout by time) = rate``: ``-ln(1-rate)/time``."""
    if rate == 0:
        return 0.0
    r = check.fraction_below_one(rate, "dropout_rate")
    return -math.log(1.0 - r) / check.positive(time, "dropout_time")


def event_probability_by(
    model: PiecewiseExponential, follow: np.ndarray, dropout: float = 0.0
) -> np.ndarray:
    """P(event observed within ``follow`` time units) with competing exponential dropout."""
    u = np.asarray(follow, dtype=float)[..., None]
    starts = np.asarray(model.starts)
    ends = np.append(starts[1:], np.inf)
    h = np.asarray(model.hazards)
    total = h + dropout
    # log survival (event-free and not dropped out) at each piece start
    log_s0 = -np.concatenate([[0.0], np.cumsum(total[:-1] * np.diff(starts))])
    span = np.clip(u - starts, 0.0, ends - starts)
    frac = np.where(total > 0, h / np.where(total > 0, total, 1.0), 0.0)
    piece = frac * np.exp(log_s0) * -np.expm1(-total * span)
    return np.asarray(piece.sum(axis=-1))


def _entry_segments(
    accrual: Accrual, at: float, kinks: Sequence[float]
) -> list[tuple[float, float, float]]:
    """Entry-time segments (start, end, density) before ``at`` on which P(at - s) is smooth."""
    cuts = sorted({at - k for k in kinks if 0 < at - k < accrual.duration})
    out: list[tuple[float, float, float]] = []
    for s, e, dens in accrual.pieces():
        e = min(e, at)
        if e <= s:
            continue
        points = [s, *[c for c in cuts if s < c < e], e]
        out.extend((a, b, dens) for a, b in pairwise(points))
    return out


def fraction_with_event(
    model: PiecewiseExponential, accrual: Accrual, at: float, dropout: float = 0.0
) -> float:
    """Expected fraction of ALL planned patients with an observed event by calendar time ``at``.

    Patients not yet entered at ``at`` count as without event, so this is the event
    probability of the design when ``at >= accrual.duration``.
    """
    if accrual.duration == 0.0:
        return float(event_probability_by(model, np.array([at]), dropout)[0])
    total = 0.0
    for a, b, dens in _entry_segments(accrual, at, model.starts):
        s = 0.5 * (b - a) * _NODES + 0.5 * (a + b)
        total += (
            dens * 0.5 * (b - a) * float(_WEIGHTS @ event_probability_by(model, at - s, dropout))
        )
    return total


def allocation_block(ratio: float) -> int:
    """Smallest whole allocation block for ``ratio`` (2 -> 3 for 2:1; 1.5 -> 5 for 3:2)."""
    frac = Fraction(ratio).limit_denominator(100)
    if not math.isclose(float(frac), ratio, rel_tol=1e-9):
        raise InputError(
            f"ratio = {ratio!r} is not a ratio of whole numbers up to 100",
            argument="ratio",
            value=ratio,
        )
    return frac.numerator + frac.denominator


def inflate(n: int, fraction: float, rule: str, name: str = "inevaluable") -> int:
    """Patients to enrol so that ``n`` are evaluable when a ``fraction`` (argument ``name``)
    are not.

    ``rule="multiply"``: ``ceil(n * (1 + fraction))`` (common in protocols, slightly too
    few; the rechallenge seed: 59 -> 65); ``rule="divide"``: ``ceil(n / (1 - fraction))``
    (59 -> 66: the expected evaluable count is at least ``n``).
    """
    f = check.fraction_below_one(fraction, name)
    check.one_of(rule, INFLATIONS, "inflation")
    raw = n * (1.0 + f) if rule == "multiply" else n / (1.0 - f)
    return math.ceil(raw - 1e-9)  # guard against 50 * 1.1 = 55.000000000000007


def round_patients(
    n_exact: float, ratio: float, block: int | None, inevaluable: float, inflation: str
) -> tuple[int, int, int, int, int]:
    """``(block, n_evaluable, n, n_control, n_experimental)``: ``n_exact`` up to a multiple of
    the allocation ``block`` (default from ``ratio``) = ``n_evaluable``; then inflation for
    inevaluable patients (:func:`inflate`) and again up to the block = ``n``."""
    blk = allocation_block(ratio) if block is None else int(check.positive(block, "block"))
    n_eval = math.ceil(n_exact / blk - 1e-9) * blk
    n = math.ceil(inflate(n_eval, inevaluable, inflation) / blk - 1e-9) * blk
    n_exp = round(n * ratio / (1.0 + ratio))
    return blk, n_eval, n, n - n_exp, n_exp


def study_timing(
    accrual_time: float,
    follow_up: float,
    accrual_starts: Sequence[float] | None,
    accrual_rates: Sequence[float] | None,
    dropout_rate: float,
    dropout_time: float,
) -> tuple[Accrual, float, float]:
    """``(accrual, follow_up, dropout hazard)`` checked: the analysis at ``accrual_time +
    follow_up`` must be after 0; the dropout hazard is :func:`dropout_hazard`."""
    accrual = Accrual.make(accrual_time, accrual_starts, accrual_rates)
    fu = check.non_negative(follow_up, "follow_up")
    if accrual.duration + fu <= 0:
        raise InputError("accrual_time + follow_up must be > 0", argument="follow_up", value=fu)
    return accrual, fu, dropout_hazard(dropout_rate, dropout_time)


@dataclass(frozen=True)
class Patients(Result):
    """Patients needed to observe ``events`` events by the end of follow-up."""

    events: float
    ratio: float
    accrual_time: float
    follow_up: float
    dropout_hazard: float
    event_probability_control: float
    event_probability_experimental: float
    event_probability: float
    n_exact: float
    block: int
    n_evaluable: int
    inevaluable: float
    inflation: str
    n: int
    n_control: int
    n_experimental: int
    study_duration: float


def patients_for_events(
    events: float,
    control: PiecewiseExponential,
    hr: float,
    *,
    ratio: float = 1.0,
    accrual_time: float,
    follow_up: float,
    accrual_starts: Sequence[float] | None = None,
    accrual_rates: Sequence[float] | None = None,
    dropout_rate: float = 0.0,
    dropout_time: float = 12.0,
    block: int | None = None,
    inevaluable: float = 0.0,
    inflation: str = "multiply",
) -> Patients:
    """``n = events / P_bar``, ``P_bar = (P_C + r P_E) / (1 + r)`` at ``accrual + follow_up``.

    Rounding, in order: ``n_exact`` up to a multiple of the allocation ``block`` (default
    from ``ratio``; 1 for no block rounding) = ``n_evaluable``; then inflation for
    inevaluable patients (:func:`inflate`) and again up to the block = ``n``.
    """
    d = check.positive(events, "events")
    r = check.positive(ratio, "ratio")
    acc, fu, eta = study_timing(
        accrual_time, follow_up, accrual_starts, accrual_rates, dropout_rate, dropout_time
    )
    end = acc.duration + fu
    p_c = fraction_with_event(control, acc, end, eta)
    p_e = fraction_with_event(control.scaled(hr), acc, end, eta)
    p_bar = (p_c + r * p_e) / (1.0 + r)
    n_exact = d / p_bar
    blk, n_eval, n, n_c, n_exp = round_patients(n_exact, r, block, inevaluable, inflation)
    return Patients(
        d,
        r,
        acc.duration,
        fu,
        eta,
        p_c,
        p_e,
        p_bar,
        n_exact,
        blk,
        n_eval,
        float(inevaluable),
        inflation,
        n,
        n_c,
        n_exp,
        end,
    )


def expected_events(
    n: float,
    control: PiecewiseExponential,
    hr: float,
    ratio: float,
    accrual: Accrual,
    at: float,
    dropout: float = 0.0,
) -> float:
    """Expected events by calendar time ``at`` among ``n`` planned patients."""
    p_c = fraction_with_event(control, accrual, at, dropout)
    p_e = fraction_with_event(control.scaled(hr), accrual, at, dropout)
    return n * (p_c + ratio * p_e) / (1.0 + ratio)


def analysis_time(
    events: float,
    n: float,
    control: PiecewiseExponential,
    hr: float,
    ratio: float,
    accrual: Accrual,
    dropout: float = 0.0,
) -> float:
    """Calendar time at which ``events`` events are expected (inf if never reached)."""

    def gap(t: float) -> float:
        return expected_events(n, control, hr, ratio, accrual, t, dropout) - events

    upper = max(accrual.duration, 1.0)
    while gap(upper) < 0:
        upper *= 2.0
        if upper > 1e6:
            return math.inf
    return float(brentq(gap, 0.0, upper, xtol=1e-12, rtol=1e-14))
