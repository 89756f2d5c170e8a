"""`oncotrial simulate sweep`: JSON contract, table output, overrides, user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from oncotrial.cli import main

GRID = {
    "name": "cli",
    "base": {
        "scenario": {
            "n": 40, "accrual_rate": 8.0, "median_control": 6.0, "hazard_ratio": 0.6,
            "events": 25,
        }
    },
    "axes": {"hazard_ratio": [0.6, 1.0]},
    "n_sim": 100,
    "seed": 3,
}  # fmt: skip


@pytest.fixture
def grid(tmp_path: Path) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(GRID))
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_json_and_table_file(
    capsys: pytest.CaptureFixture[str], grid: Path, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"oc{suffix}"
    code = main(["simulate", "sweep", str(grid), "--workers", "0", "--out", str(out), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    table = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert len(doc["points"]) == len(table) == 2
    assert table["power"].tolist() == pytest.approx([p["power"] for p in doc["points"]])
    assert table["hazard_ratio"].tolist() == [0.6, 1.0]


def test_overrides_change_the_run(capsys: pytest.CaptureFixture[str], grid: Path) -> None:
    code = main(["simulate", "sweep", str(grid), "--workers", "0", "--n-sim", "50",
                 "--seed", "9", "--json"])  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_sim"] == 50 and doc["seed"] == 9
    assert doc["points"][1]["seed"] == "[9, 1]"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--workers", "1", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["--workers", "0", "--out", "x.xlsx"], ".csv or .parquet"),
    ],
)
def test_user_errors(
    capsys: pytest.CaptureFixture[str], grid: Path, args: list[str], fragment: str
) -> None:
    assert main(["simulate", "sweep", str(grid), *args, "--json"]) == 1
    assert fragment in json.loads(capsys.readouterr().out)["error"]["message"]


def test_bad_grid_is_a_user_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**GRID, "axes": {"true_hr": [1]}}))
    assert main(["simulate", "sweep", str(path), "--json"]) == 1
    assert "unknown axis" in json.loads(capsys.readouterr().out)["error"]["message"]
