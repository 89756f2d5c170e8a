"""Sweeps: grid expansion, axes, seeding independent of workers/chunks, YAML errors, table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from oncotrial.errors import InputError, SpecError
from oncotrial.simulate import simulate
from oncotrial.simulate.sweep import sweep
from oncotrial.simulate.sweep_grid import grid_from_mapping, load_grid

EXAMPLE = Path(__file__).parents[2] / "src/oncotrial/simulate/examples/palmira_grid.yaml"

SMALL = {
    "name": "small",
    "base": {
        "scenario": {
            "n": 60,
            "allocation": [1, 1],
            "accrual_rate": 10.0,
            "median_control": 6.0,
            "hazard_ratio": 0.6,
            "events": 40,
            "alpha": 0.05,
            "sides": 2,
        }
    },
    "axes": {"hazard_ratio": [0.6, 1.0], "accrual_rate": [5.0, 10.0]},
    "n_sim": 300,
    "seed": 7,
}


def _grid(**changes: object):  # type: ignore[no-untyped-def]
    return grid_from_mapping({**SMALL, **changes})


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["seed"])


def test_grid_points_first_axis_slowest_and_axes_applied() -> None:
    grid = _grid()
    assert grid.points == [
        {"hazard_ratio": 0.6, "accrual_rate": 5.0},
        {"hazard_ratio": 0.6, "accrual_rate": 10.0},
        {"hazard_ratio": 1.0, "accrual_rate": 5.0},
        {"hazard_ratio": 1.0, "accrual_rate": 10.0},
    ]
    s = grid.scenario(grid.points[2])
    assert s.control.hazards == pytest.approx((math.log(2) / 6.0,))
    assert s.experimental.hazards == pytest.approx(s.control.hazards)
    assert s.accrual.rates == (5.0,)


def test_median_control_keeps_the_base_hazard_ratio() -> None:
    grid = _grid(axes={"median_control": [3.0], "dropout_hazard": [0.01], "n": [80]})
    s = grid.scenario(grid.points[0])
    assert s.control.hazards[0] == pytest.approx(math.log(2) / 3.0, rel=1e-12)
    assert s.experimental.hazards[0] == pytest.approx(0.6 * math.log(2) / 3.0, rel=1e-12)
    assert s.dropout_hazard == 0.01 and s.n == 80


def test_sweep_point_equals_the_engine_run_with_the_point_seed() -> None:
    grid = _grid()
    result = sweep(grid, workers=0)
    for i, params in enumerate(grid.points):
        direct = simulate(grid.scenario(params), grid.n_sim, seed=[grid.seed, i])
        row = result.table.iloc[i]
        assert row["power"] == direct.power
        assert row["expected_duration"] == direct.expected_duration
        assert row["p_efficacy_look1"] == direct.by_look["p_efficacy"].iloc[0]


def test_results_do_not_depend_on_workers_or_chunks() -> None:
    grid = _grid()
    one = sweep(grid, workers=1, processes=False)
    two = sweep(grid, workers=2, processes=False, chunk_size=50)
    local = sweep(grid, workers=0, chunk_size=100_000)
    assert two.workers == 2
    pd.testing.assert_frame_equal(_numbers(one.table), _numbers(two.table))
    pd.testing.assert_frame_equal(_numbers(one.table), _numbers(local.table))


def test_table_is_tidy_and_result_is_data() -> None:
    result = sweep(_grid(), workers=0)
    table = result.to_frame()
    assert len(table) == 4
    for column in ("hazard_ratio", "accrual_rate", "power", "power_se", "p_efficacy_look1",
                   "p_lower_look1", "expected_events", "expected_duration",
                   "expected_duration_se"):  # fmt: skip
        assert column in table.columns
    # MC SE of a probability is sqrt(p (1 - p) / n_sim)
    p = table["power"]
    assert table["power_se"].to_numpy() == pytest.approx((p * (1 - p) / 300) ** 0.5)
    doc = json.loads(result.to_json())
    assert len(doc["points"]) == 4 and doc["axes"]["hazard_ratio"] == [0.6, 1.0]
    assert "grid points" in result.summary()


def test_null_hazard_ratio_keeps_the_type_one_error() -> None:
    grid = _grid(axes={"hazard_ratio": [1.0]}, n_sim=4000)
    row = sweep(grid, workers=0).table.iloc[0]
    # two-sided alpha 0.05: "power" is the rejection in favour of the experimental arm
    # (alpha / 2 under the null); p_lower is the rejection in favour of control
    assert abs(row["power"] - 0.025) < 4 * math.sqrt(0.025 * 0.975 / 4000)
    both = row["power"] + row["p_lower_look1"]
    assert abs(both - 0.05) < 4 * math.sqrt(0.05 * 0.95 / 4000)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"axes": {"true_hr": [0.5]}}, "axes.true_hr"),
        ({"axes": {"hazard_ratio": []}}, "axes.hazard_ratio"),
        ({"axes": {"hazard_ratio": [0.5, -1.0]}}, "axes.hazard_ratio"),
        ({"axes": {"accrual_rate": ["fast"]}}, "axes.accrual_rate"),
        ({"n_sim": 0}, "n_sim"),
        ({"seed": "x"}, "seed"),
        ({"base": {}}, "base"),
        ({"base": {"scenario": {"n": 10}}}, "base.scenario"),
        ({"extra": 1}, "grid"),
    ],
)
def test_grid_errors_name_the_field(changes: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        grid = _grid(**changes)
        for params in grid.points:
            grid.scenario(params)
    assert err.value.details["field"] == field


def test_bad_workers_and_missing_file() -> None:
    with pytest.raises(InputError, match="workers"):
        sweep(_grid(), workers=-1)
    with pytest.raises(SpecError, match="not found"):
        load_grid("no/such/grid.yaml")


def test_shipped_example_grid_loads(tmp_path: Path) -> None:
    grid = load_grid(EXAMPLE)
    assert len(grid.points) == 4 * 3 * 2
    assert grid.base.plan.looks[-1].events == 127
    # a spec path relative to the grid file is found too
    doc = yaml.safe_load(EXAMPLE.read_text())
    spec = Path(__file__).parents[2] / "src/oncotrial/spec/examples/palmira.yaml"
    (tmp_path / "palmira.yaml").write_text(spec.read_text())
    doc["base"]["spec"] = "palmira.yaml"
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(doc))
    assert load_grid(tmp_path / "grid.yaml").base.n == grid.base.n


def test_existing_cluster_by_scheduler_address() -> None:
    from distributed import LocalCluster

    grid = _grid(axes={"hazard_ratio": [0.6]})
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = sweep(grid, scheduler=cluster.scheduler_address)
    local = sweep(grid, workers=0)
    pd.testing.assert_frame_equal(_numbers(remote.table), _numbers(local.table))
