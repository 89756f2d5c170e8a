"""A complete two-arm time-to-event design: events, looks, patients and calendar times.

Puts together :func:`~oncotrial.design.survival.required_events` (fixed design),
:func:`~oncotrial.design.sequential.group_sequential` (maximum events = fixed events x
inflation factor, events at look ``k`` = ``t_k`` x maximum, as rpact
``getSampleSizeSurvival(design, ...)``) and :func:`~oncotrial.design.accrual.patients_for_events`.

Rounding is explicit (``events_rounding``): ``"up"`` rounds the maximum events up and the
events at each look up (``ceil(t_k * events)``), and patients are computed from the rounded
events; ``"none"`` keeps every number exact (what rpact reports).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from oncotrial.design import _tte_inputs as check
from oncotrial.design import accrual as acc
from oncotrial.design.effect import Effect, effect_from
from oncotrial.design.sequential import SequentialDesign, group_sequential
from oncotrial.design.survival import RequiredEvents, required_events
from oncotrial.errors import InputError
from oncotrial.results import Result

ROUNDING: tuple[str, ...] = ("up", "none")


@dataclass(frozen=True)
class SurvivalDesign(Result):
    """Two-arm time-to-event design (see module docstring)."""

    effect: Effect
    fixed: RequiredEvents
    sequential: SequentialDesign | None
    events_rounding: str
    events_exact: float
    events: int
    events_by_look_exact: tuple[float, ...]
    events_by_look: tuple[int, ...]
    patients: acc.Patients | None
    analysis_times: tuple[float, ...] | None
    analysis_times_rounded: tuple[float, ...] | None
    inputs: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.patients is not None:
            out["n"] = self.patients.n
        return out

    def protocol_text(self) -> str:
        text = self.fixed.protocol_text()
        if self.sequential is not None:
            seq = self.sequential
            looks = ", ".join(str(e) for e in self.events_by_look)
            fixed_text = text[0].lower() + text[1:]
            text = (
                f"Without interim analyses, {fixed_text} {seq.protocol_text()} The maximum "
                "number of events is therefore "
                f"{self.events} ({self.events_exact:.2f} before rounding up), with analyses "
                f"after {looks} events."
            )
        p = self.patients
        if p is not None:
            ctrl = self.effect.control
            median = "" if ctrl is None else f" a control median of {ctrl.median():.3g},"
            text += (
                f" Assuming exponential survival with{median} uniform accrual over "
                f"{p.accrual_time:g} and {p.follow_up:g} of additional follow-up (time units "
                f"as given), the probability of an event is {p.event_probability:.3f}, so "
                f"{p.n_evaluable} evaluable patients are needed ({p.n_exact:.2f} before "
                f"rounding up to a multiple of {p.block})"
            )
            if p.inevaluable > 0:
                text += (
                    f"; allowing {p.inevaluable:.0%} inevaluable patients, {p.n} patients "
                    "will be enrolled"
                )
            text += f" ({p.n_experimental} experimental, {p.n_control} control)."
        return text

    def spec_block(self) -> dict[str, Any]:
        return {k: v for k, v in self.inputs.items() if v is not None}

    def summary(self) -> str:
        lines = [f"SurvivalDesign: {self.events} events ({self.events_exact:.4f})"]
        if self.sequential is not None:
            lines.append(f"  events by look: {list(self.events_by_look)}")
        if self.patients is not None:
            lines.append(f"  patients: {self.patients.n} ({self.patients.n_exact:.4f})")
        if self.analysis_times_rounded is not None:
            lines.append(
                "  expected analysis times: "
                + ", ".join(f"{t:.2f}" for t in self.analysis_times_rounded)
            )
        return "\n".join([*lines, self.protocol_text()])


def survival_design(
    *,
    hr: float | None = None,
    median_control: float | None = None,
    median_experimental: float | None = None,
    rate_control: float | None = None,
    rate_experimental: float | None = None,
    landmark: float | None = None,
    hazards_control: Sequence[float] | None = None,
    hazards_experimental: Sequence[float] | None = None,
    starts: Sequence[float] | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    sides: int = 2,
    ratio: float = 1.0,
    method: str = "schoenfeld",
    looks: Sequence[float] | None = None,
    spending: str = "of",
    gamma: float | None = None,
    futility: str = "none",
    beta_spending: str = "of",
    beta_gamma: float | None = None,
    futility_bounds: Sequence[float] | None = None,
    binding: bool = False,
    accrual_time: float | None = None,
    follow_up: float | None = None,
    accrual_starts: Sequence[float] | None = None,
    accrual_rates: Sequence[float] | None = None,
    dropout_rate: float = 0.0,
    dropout_time: float = 12.0,
    events_rounding: str = "up",
    block: int | None = None,
    inevaluable: float = 0.0,
    inflation: str = "multiply",
) -> SurvivalDesign:
    """Design a two-arm time-to-event trial. Every argument is a key of the spec ``design:``
    block (docs/DESIGNS.md). Patients are computed when ``accrual_time`` and ``follow_up``
    are given (the control arm's survival must then be known)."""
    inputs = {k: v for k, v in locals().items() if k != "inputs"}
    inputs = {k: (list(v) if isinstance(v, tuple) else v) for k, v in inputs.items()}
    check.one_of(events_rounding, ROUNDING, "events_rounding")
    effect = effect_from(
        hr=hr,
        median_control=median_control,
        median_experimental=median_experimental,
        rate_control=rate_control,
        rate_experimental=rate_experimental,
        landmark=landmark,
        hazards_control=hazards_control,
        hazards_experimental=hazards_experimental,
        starts=starts,
    )
    fixed = required_events(
        effect.hr, alpha=alpha, power=power, sides=sides, ratio=ratio, method=method
    )
    seq = None
    fractions: list[float] = [1.0]
    if looks is not None and len(looks) > 1:
        seq = group_sequential(
            looks,
            alpha=alpha,
            power=power,
            sides=sides,
            spending=spending,
            gamma=gamma,
            futility=futility,
            beta_spending=beta_spending,
            beta_gamma=beta_gamma,
            futility_bounds=futility_bounds,
            binding=binding,
        )
        fractions = list(seq.fractions)
    max_exact = fixed.events_exact * (seq.inflation_factor if seq else 1.0)
    by_look_exact = tuple(t * max_exact for t in fractions)
    if events_rounding == "up":
        events = math.ceil(max_exact - 1e-9)
        by_look = tuple(math.ceil(t * events - 1e-9) for t in fractions)
    else:
        events = math.ceil(max_exact - 1e-9)
        by_look = tuple(math.ceil(e - 1e-9) for e in by_look_exact)
    patients = None
    times = times_rounded = None
    if (accrual_time is None) != (follow_up is None):
        raise InputError(
            "give both accrual_time and follow_up to compute patients",
            argument="follow_up" if follow_up is None else "accrual_time",
        )
    if accrual_time is not None and follow_up is not None:
        if effect.control is None:
            raise InputError(
                "patients need the control arm's survival: give median_control, "
                "rate_control with landmark, or hazards_control",
                argument="median_control",
            )
        used = float(events) if events_rounding == "up" else max_exact
        patients = acc.patients_for_events(
            used,
            effect.control,
            effect.hr,
            ratio=ratio,
            accrual_time=accrual_time,
            follow_up=follow_up,
            accrual_starts=accrual_starts,
            accrual_rates=accrual_rates,
            dropout_rate=dropout_rate,
            dropout_time=dropout_time,
            block=block,
            inevaluable=inevaluable,
            inflation=inflation,
        )
        accrual = acc.Accrual.make(accrual_time, accrual_starts, accrual_rates)
        n_exact = max_exact / patients.event_probability
        times = tuple(
            acc.analysis_time(
                e, n_exact, effect.control, effect.hr, ratio, accrual, patients.dropout_hazard
            )
            for e in by_look_exact
        )
        times_rounded = tuple(
            acc.analysis_time(
                e,
                patients.n_evaluable,
                effect.control,
                effect.hr,
                ratio,
                accrual,
                patients.dropout_hazard,
            )
            for e in by_look
        )
    return SurvivalDesign(
        effect,
        fixed,
        seq,
        events_rounding,
        max_exact,
        events,
        by_look_exact,
        by_look,
        patients,
        times,
        times_rounded,
        inputs,
    )
