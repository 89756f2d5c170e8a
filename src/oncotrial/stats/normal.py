"""Normal-theory (Wald) intervals and tests shared by every statistic.

A Wald interval of an asymptotically normal estimate ``b`` with standard error ``se`` is
``b -/+ z se`` with ``z = Phi^-1(1 - (1 - conf_level) / 2)``, and its two-sided test of
``b = 0`` has ``p = 2 Phi(-|b| / se)`` (Wald 1943; Agresti 2013, *Categorical Data
Analysis*, sec. 1.3.3). For a ratio (odds ratio, hazard ratio) the interval is built on the
log scale and exponentiated, ``exp(log r -/+ z se)``, as R ``confint.default`` on a
``glm``/``coxph`` coefficient and SAS ``CLODDS=WALD`` / PHREG ``RISKLIMITS``.

``scipy.special.ndtri`` and ``ndtr`` are the functions behind ``scipy.stats.norm.ppf`` and
``norm.cdf``; calling them directly gives the same numbers without the distribution wrapper.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special


@functools.lru_cache(maxsize=64)
def normal_quantile(conf_level: float) -> float:
    """``z`` of a two-sided ``conf_level`` interval: ``Phi^-1(1 - (1 - conf_level) / 2)``
    (remembered: the same few levels are asked for again and again)."""
    return float(special.ndtri(1.0 - (1.0 - conf_level) / 2.0))


def wald_interval(estimate: float, se: float, conf_level: float) -> tuple[float, float, float]:
    """Wald CI ``estimate -/+ z se`` and two-sided ``p = 2 Phi(-|estimate| / se)``
    (p is NaN unless ``se > 0``)."""
    z = normal_quantile(conf_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = float(2.0 * special.ndtr(-abs(estimate) / se)) if se > 0 else math.nan
    return estimate - z * se, estimate + z * se, p


def exp_or_inf(value: float) -> float:
    """``exp(value)``, ``inf`` from 709 on (where ``math.exp`` overflows) and for NaN."""
    return math.exp(value) if value < 709.0 else math.inf


def log_wald_interval(
    log_estimate: float, se: float, conf_level: float
) -> tuple[float, float, float, float]:
    """Ratio ``exp(b)``, its Wald CI ``exp(b -/+ z se)`` and two-sided p of ``b = 0``, for a
    log-scale estimate ``b`` (see the module docstring)."""
    lower, upper, p = wald_interval(log_estimate, se, conf_level)
    return exp_or_inf(log_estimate), exp_or_inf(lower), exp_or_inf(upper), p
