"""Group-sequential boundaries: spending functions, properties, Monte Carlo, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from oncotrial.design import spending as sp
from oncotrial.design._gs_numerics import jt_grid
from oncotrial.design.sequential import group_sequential
from oncotrial.errors import InputError


def test_spending_functions_by_formula() -> None:
    t = np.array([0.25, 0.5, 1.0])
    assert sp.spent("of", t, 0.025) == pytest.approx(2 * norm.sf(norm.isf(0.0125) / np.sqrt(t)))
    assert sp.spent("pocock", t, 0.025) == pytest.approx(0.025 * np.log(1 + (math.e - 1) * t))
    assert sp.spent("hsd", t, 0.025, 0.0) == pytest.approx(0.025 * t)
    hsd = sp.spent("hsd", t, 0.025, -4.0)
    assert hsd == pytest.approx(0.025 * (1 - np.exp(4 * t)) / (1 - math.exp(4)))
    for name, gamma in (("of", None), ("pocock", None), ("hsd", 1.0)):
        assert sp.spent(name, 1.0, 0.05, gamma) == 0.05


def test_grid_weights_integrate_the_normal_density() -> None:
    # Simpson on the JT grid (r = 32): whole-line error ~2e-8, mostly from the sparse tails
    z, w = jt_grid(0.7, -math.inf, math.inf)
    assert float(w @ norm.pdf(z - 0.7)) == pytest.approx(1.0, abs=5e-8)
    z, w = jt_grid(0.0, -1.0, 2.0)
    assert z[0] == -1.0 and z[-1] == 2.0
    assert float(w @ norm.pdf(z)) == pytest.approx(norm.cdf(2) - norm.cdf(-1), abs=2e-9)


def test_single_look_is_the_fixed_design() -> None:
    d = group_sequential([1.0], alpha=0.025, power=0.9)
    assert d.critical_values[0] == pytest.approx(norm.isf(0.025), rel=1e-9)
    assert d.inflation_factor == pytest.approx(1.0, rel=1e-9)


def test_non_binding_efficacy_bounds_ignore_futility_and_binding_is_lower() -> None:
    plain = group_sequential([0.3, 0.6, 1], alpha=0.025, power=0.9)
    nb = group_sequential([0.3, 0.6, 1], alpha=0.025, power=0.9, futility="beta-spending")
    b = group_sequential(
        [0.3, 0.6, 1], alpha=0.025, power=0.9, futility="beta-spending", binding=True
    )
    assert nb.critical_values == pytest.approx(plain.critical_values, rel=1e-12)
    assert b.critical_values[-1] < nb.critical_values[-1]
    assert nb.futility_bounds[-1] == nb.critical_values[-1]
    assert nb.beta_spent[-1] == pytest.approx(0.1, abs=1e-7)
    assert "non-binding futility" in nb.protocol_text()
    assert b.spec_block()["binding"] is True


def test_type_one_error_and_power_by_monte_carlo() -> None:
    """Independent check of the recursion: simulate the canonical joint distribution."""
    d = group_sequential([1 / 3, 2 / 3, 1], alpha=0.025, power=0.9, spending="pocock")
    t = np.array(d.fractions)
    rng = np.random.default_rng(20240501)
    n = 400_000
    increments = rng.standard_normal((n, 3)) * np.sqrt(np.diff(np.concatenate([[0], t])))
    for eta, target in ((0.0, 0.025), (d.drift, 0.9)):
        z = (np.cumsum(increments, axis=1) + eta * t) / np.sqrt(t)
        rejected = (z >= np.array(d.critical_values)).any(axis=1).mean()
        se = math.sqrt(target * (1 - target) / n)
        assert abs(rejected - target) < 4 * se


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"fractions": [0.5, 0.4, 1]}, "fractions"),
        ({"fractions": [0.5, 0.9]}, "fractions"),
        ({"fractions": [0.5, 1], "alpha": 0}, "alpha"),
        ({"fractions": [0.5, 1], "power": 0.01}, "power"),
        ({"fractions": [0.5, 1], "spending": "magic"}, "spending"),
        ({"fractions": [0.5, 1], "spending": "hsd"}, "spending_gamma"),
        ({"fractions": [0.5, 1], "futility": "fixed"}, "futility_bounds"),
        ({"fractions": [0.5, 1], "futility": "beta-spending", "sides": 2}, "futility"),
        ({"fractions": [1.0], "futility": "beta-spending"}, "fractions"),
        ({"fractions": [0.5, 1], "futility": "maybe"}, "futility"),
    ],
)
def test_bad_input(kwargs: dict, argument: str) -> None:
    fractions = kwargs.pop("fractions")
    with pytest.raises(InputError) as info:
        group_sequential(fractions, **kwargs)
    assert info.value.details["argument"] == argument
