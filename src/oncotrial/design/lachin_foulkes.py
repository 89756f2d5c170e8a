"""Patients for a two-arm log-rank comparison by Lachin & Foulkes (1986).

Lachin & Foulkes (Biometrics 1986;42:507-519, eq. 2.4 with sec. 3-4) size a trial for the
test of equal exponential hazards ``lambda_C = lambda_E`` under uniform (or piecewise-uniform)
entry over ``[0, R]``, analysis at ``T = R + follow_up`` and exponential loss to follow-up
with hazard ``eta``. With allocation fractions ``Q_C = 1/(1+r)``, ``Q_E = r/(1+r)``, the
variance of the hazard estimate per patient is ``phi(lambda) = lambda^2 / P(event | lambda)``
and the null variance is evaluated at the pooled hazard ``lambda_bar = Q_C lambda_C +
Q_E lambda_E``::

    sqrt(n) |lambda_C - lambda_E| = z_{1-alpha/sides} sqrt(phi(lambda_bar) (1/Q_C + 1/Q_E))
                                   + z_{power} sqrt(phi(lambda_C)/Q_C + phi(lambda_E)/Q_E)

``P(event | lambda)`` is the probability of an observed event by ``T`` for a patient who
enters according to the accrual density and may drop out first (exponential competing risk),
computed by :func:`oncotrial.design.accrual.fraction_with_event` (exact for piecewise accrual;
for uniform entry it equals L&F eq. 4.1, ``lambda/(lambda+eta) * [1 - (exp(-(lambda+eta)(T-R))
- exp(-(lambda+eta)T)) / ((lambda+eta) R)]``).

The usual alternative, "events first" (Schoenfeld or Freedman events divided by the average
event probability, :func:`oncotrial.design.accrual.patients_for_events`, as rpact), is what
:func:`compare_patient_methods` sets beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scipy.stats import norm

from oncotrial.design import _tte_inputs as check
from oncotrial.design import accrual as acc
from oncotrial.design.effect import PiecewiseExponential, effect_from
from oncotrial.errors import InputError
from oncotrial.results import Result


@dataclass(frozen=True)
class PatientsDesign(Result):
    """Patients (and expected events) for a log-rank test by a patient-level method."""

    method: str
    alpha: float
    sides: int
    power: float
    ratio: float
    hazard_control: float | None
    hazard_experimental: float | None
    accrual_time: float
    follow_up: float
    dropout_hazard: float | None
    event_probability_control: float
    event_probability_experimental: float
    event_probability: float
    n_exact: float
    events_expected: float
    block: int
    n_evaluable: int
    inevaluable: float
    inflation: str
    n: int
    n_control: int
    n_experimental: int
    details: dict[str, Any]

    def protocol_text(self) -> str:
        kind = "two-sided" if self.sides == 2 else "one-sided"
        name = {"lachin-foulkes": "Lachin & Foulkes (1986)", "lakatos": "Lakatos (1988)"}.get(
            self.method, self.method
        )
        text = (
            f"With {self.ratio:g}:1 allocation (experimental:control), {self.n_evaluable} "
            f"evaluable patients ({self.n_exact:.2f} before rounding up to a multiple of "
            f"{self.block}) give {self.power:.0%} power for a {kind} log-rank test at alpha "
            f"{self.alpha:g} ({name} method; accrual over {self.accrual_time:g} and "
            f"{self.follow_up:g} of further follow-up, about {self.events_expected:.1f} "
            "events expected)."
        )
        if self.inevaluable > 0:
            text += (
                f" Allowing {self.inevaluable:.0%} inevaluable patients, {self.n} patients "
                "will be enrolled."
            )
        return text

    def spec_block(self) -> dict[str, Any]:
        return {k: v for k, v in self.details.get("inputs", {}).items() if v is not None}

    def summary(self) -> str:
        return (
            f"{type(self).__name__} ({self.method}): n {self.n} ({self.n_exact:.4f}), "
            f"expected events {self.events_expected:.2f}, P(event) {self.event_probability:.4f}"
            "\n" + self.protocol_text()
        )


def exponential_hazard(model: PiecewiseExponential | None, name: str) -> float:
    """The single hazard of an exponential model (Lachin-Foulkes assumes exponential survival)."""
    if model is None:
        raise InputError(
            "the Lachin-Foulkes method needs the control arm's hazard: give median_control, "
            "rate_control with landmark, or a single hazards_control",
            argument="median_control",
        )
    if not model.is_exponential:
        raise InputError(
            f"{name}: the Lachin-Foulkes method assumes exponential survival; got "
            f"{len(model.hazards)} piecewise hazards (use method='lakatos')",
            argument=name,
            value=list(model.hazards),
            valid="one hazard",
        )
    return float(model.hazards[0])


def lachin_foulkes(
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
    accrual_time: float,
    follow_up: float,
    accrual_starts: Sequence[float] | None = None,
    accrual_rates: Sequence[float] | None = None,
    dropout_rate: float = 0.0,
    dropout_time: float = 12.0,
    block: int | None = None,
    inevaluable: float = 0.0,
    inflation: str = "multiply",
) -> PatientsDesign:
    """Lachin & Foulkes (1986) sample size (module docstring) with the null variance at the
    pooled hazard; the same dropout hazard in both arms (``-ln(1 - dropout_rate) /
    dropout_time``, rpact's convention)."""
    inputs = {"method": "lachin-foulkes", **{k: v for k, v in locals().items() if k != "inputs"}}
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
    lam_c = exponential_hazard(effect.control, "hazards_control")
    lam_e = lam_c * effect.hr
    a, s, p = check.test_levels(alpha, sides, power)
    r = check.positive(ratio, "ratio")
    accrual, fu, eta = acc.study_timing(
        accrual_time, follow_up, accrual_starts, accrual_rates, dropout_rate, dropout_time
    )
    end = accrual.duration + fu
    q_c, q_e = 1.0 / (1.0 + r), r / (1.0 + r)
    lam_bar = q_c * lam_c + q_e * lam_e

    def p_event(lam: float) -> float:
        return acc.fraction_with_event(PiecewiseExponential.exponential(lam), accrual, end, eta)

    p_c, p_e, p_bar_h = p_event(lam_c), p_event(lam_e), p_event(lam_bar)
    phi_c, phi_e, phi_bar = lam_c**2 / p_c, lam_e**2 / p_e, lam_bar**2 / p_bar_h
    z_a, z_b = float(norm.isf(a / s)), float(norm.ppf(p))
    root = z_a * math.sqrt(phi_bar * (1.0 / q_c + 1.0 / q_e)) + z_b * math.sqrt(
        phi_c / q_c + phi_e / q_e
    )
    n_exact = (root / abs(lam_c - lam_e)) ** 2
    p_mix = q_c * p_c + q_e * p_e
    blk, n_eval, n, n_c, n_e = acc.round_patients(n_exact, r, block, inevaluable, inflation)
    details = {
        "inputs": {k: (list(v) if isinstance(v, tuple) else v) for k, v in inputs.items()},
        "hazard_pooled": lam_bar,
        "event_probability_pooled_hazard": p_bar_h,
        "phi_control": phi_c,
        "phi_experimental": phi_e,
        "phi_pooled": phi_bar,
        "z_alpha": z_a,
        "z_beta": z_b,
    }
    return PatientsDesign(
        "lachin-foulkes",
        a,
        s,
        p,
        r,
        lam_c,
        lam_e,
        accrual.duration,
        fu,
        eta,
        p_c,
        p_e,
        p_mix,
        n_exact,
        n_exact * p_mix,
        blk,
        n_eval,
        float(inevaluable),
        inflation,
        n,
        n_c,
        n_e,
        details,
    )
