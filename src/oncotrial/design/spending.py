"""Lan-DeMets error-spending functions.

A spending function ``f(t)`` gives the cumulative error spent at information fraction
``t`` in [0, 1], with ``f(0) = 0`` and ``f(1) = total`` (Lan & DeMets, Biometrika
1983;70:659-663). Formulas as in rpact (``typeOfDesign = "asOF"``, ``"asP"``, ``"asHSD"``,
``typeBetaSpending = "bsOF"``, ``"bsP"``, ``"bsHSD"``) and Jennison & Turnbull (2000) ch. 7:

* ``"of"`` O'Brien-Fleming type: ``2 (1 - Phi(z_{1 - total/2} / sqrt(t)))``;
* ``"pocock"`` Pocock type: ``total * ln(1 + (e - 1) t)``;
* ``"hsd"`` Hwang-Shih-DeCani (Stat Med 1990;9:1439-1445):
  ``total (1 - exp(-gamma t)) / (1 - exp(-gamma))``, and ``total * t`` when ``gamma = 0``.

For a two-sided symmetric design the spending function is applied to ``alpha / 2`` on each
side (rpact, ``sided = 2``), so the O'Brien-Fleming type spends ``4 (1 - Phi(z_{1-alpha/4} /
sqrt(t)))`` two-sided in total.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from oncotrial.design import _tte_inputs as check
from oncotrial.errors import InputError

SPENDING_FUNCTIONS: tuple[str, ...] = ("of", "pocock", "hsd")


def check_spending(name: str, gamma: float | None, argument: str) -> str:
    """Validate a spending-function name (and its gamma for ``"hsd"``)."""
    key = check.one_of(name, SPENDING_FUNCTIONS, argument, fold_case=True)
    if key == "hsd" and (gamma is None or not math.isfinite(gamma)):
        raise InputError(
            f"{argument} = 'hsd' needs a finite gamma (e.g. -4 for an "
            "O'Brien-Fleming-like, 1 for a Pocock-like shape)",
            argument=f"{argument}_gamma",
            value=gamma,
        )
    return key


def spent(name: str, t: np.ndarray | float, total: float, gamma: float | None = None) -> np.ndarray:
    """Cumulative error spent by spending function ``name`` at fractions ``t``."""
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    if name == "of":
        with np.errstate(divide="ignore"):
            out = 2.0 * norm.sf(norm.isf(total / 2.0) / np.sqrt(t))
    elif name == "pocock":
        out = total * np.log1p((math.e - 1.0) * t)
    elif name == "hsd":
        g = float(gamma)  # type: ignore[arg-type]
        out = total * t if g == 0 else total * -np.expm1(-g * t) / -math.expm1(-g)
    else:  # pragma: no cover - names are checked by check_spending
        raise ValueError(name)
    return np.asarray(np.where(t >= 1.0, total, out))


def describe(name: str, gamma: float | None) -> str:
    """Words for a protocol: 'Lan-DeMets O'Brien-Fleming-type'..."""
    if name == "of":
        return "Lan-DeMets O'Brien-Fleming-type"
    if name == "pocock":
        return "Lan-DeMets Pocock-type"
    return f"Hwang-Shih-DeCani (gamma = {gamma:g})"
