"""Single-arm landmark simulation: the engine's Kaplan-Meier estimate at the landmark equals
the statistics core on the same simulated trials; reproducibility; errors; CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from oncotrial.cli import main
from oncotrial.errors import InputError
from oncotrial.simulate import block_seed, scenario_from_spec, simulate
from oncotrial.simulate.single_arm import (
    SingleArmScenario,
    draw_sorted,
    landmark_survival,
    simulate_single_arm_block,
)
from oncotrial.stats.km import kaplan_meier


def _scenario(**kw: object) -> SingleArmScenario:
    base: dict[str, object] = dict(
        n=80,
        median0=6.0,
        median1=8.0,
        accrual_months=24.0,
        follow_up_months=3.0,  # patients entering late are censored before the landmark
        landmark=6.0,
        transform="loglog",
        dropout_hazard=0.03,
    )
    base.update(kw)
    return SingleArmScenario(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kw",
    [{}, {"shape": 1.5, "transform": "arcsine"}, {"n": 300, "entry": "regular"}],
    ids=["dropout", "weibull", "regular-entry"],
)
def test_landmark_estimate_equals_statistics_core(kw: dict) -> None:
    sc = _scenario(**kw)
    n_rep = 30
    rec = simulate_single_arm_block(sc, block_seed(4, 0), n_rep)
    x = draw_sorted(sc, np.random.Generator(np.random.PCG64(block_seed(4, 0))), n_rep)
    event = (x.view(np.int64) & 1).astype(int)
    censored_early = 0
    for row in range(n_rep):
        km = kaplan_meier(x[row], event[row])
        expected = float(km.survival_at([sc.landmark]).survival[0])
        assert rec.survival[row] == pytest.approx(expected, abs=1e-10)
        assert rec.events[row] == event[row].sum()
        censored_early += int(np.sum((event[row] == 0) & (x[row] < sc.landmark)))
    assert censored_early > 0  # the estimate is a real Kaplan-Meier one, not a proportion


def test_statistic_is_the_standardised_transformed_estimate() -> None:
    sc = _scenario()
    rec = simulate_single_arm_block(sc, block_seed(9, 0), 50)
    s0 = np.exp(-np.log(2) * sc.landmark / sc.median0)
    assert sc.null_survival == pytest.approx(s0, rel=1e-12)
    g = np.log(-np.log(rec.survival))
    z = -np.sqrt(sc.n) * (g - np.log(-np.log(s0))) / sc.null_sd
    np.testing.assert_allclose(rec.z, z, rtol=1e-12)


def test_same_seed_same_result_whatever_chunking() -> None:
    sc = _scenario()
    a = simulate(sc, 3_333, seed=8, chunk_size=1)
    b = simulate(sc, 3_333, seed=8)
    assert a.records is not None and b.records is not None
    np.testing.assert_array_equal(a.records.survival, b.records.survival)
    np.testing.assert_array_equal(a.records.z, b.records.z)
    assert a.power == b.power
    first = simulate(sc, 1_000, seed=8)
    assert first.records is not None
    np.testing.assert_array_equal(first.records.z, a.records.z[:1_000])


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"landmark": 27.0}, "landmark"),
        ({"transform": "probit"}, "transform"),
        ({"n": 0}, "n"),
        ({"sides": 3}, "sides"),
        ({"formula_variance": "alt"}, "formula_variance"),
    ],
)
def test_scenario_errors_name_the_field(kw: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        _scenario(**kw)
    assert info.value.details["field"] == field


def test_result_frame_summary_and_null_scenario() -> None:
    res = simulate(_scenario(median1=6.0), 2_000, seed=1, keep_records=False)
    assert np.isnan(res.analytic_power) and res.records is None
    frame = res.to_frame()
    assert list(frame["power"]) == [res.power]
    assert "KM at 6" in res.summary()
    assert res.to_dict()["scenario"]["median1"] == 6.0


def test_cli_simulates_the_single_arm_spec(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "abemaciclib_rechallenge", "--n-sim", "2000", "--seed", "5", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    res = doc["simulations"][0]["result"]
    assert res["scenario"]["n"] == 59 and res["scenario"]["transform"] == "loglog"
    assert res["n_sim"] == 2000 and 0.7 < res["power"] < 0.9
    assert res["analytic_power"] == pytest.approx(
        scenario_from_spec("abemaciclib_rechallenge").analytic_power(), rel=1e-12
    )


def test_landmark_survival_handles_a_curve_that_drops_to_zero() -> None:
    x = np.array([[1.0, 2.0, 3.0]])
    x.view(np.int64)[:] |= 1  # all events
    s, events = landmark_survival(x, 5.0)
    assert s[0] == 0.0 and events[0] == 3
