"""`oncotrial simulate predict-events`: JSON contract, options, user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oncotrial.cli import main
from oncotrial.simulate.predict import predict_events

INTERIM = str(Path(__file__).parents[2] / "src/oncotrial/data/examples/palmira_interim_pfs.csv")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["simulate", "predict-events", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_json_matches_the_python_api(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _run(
        capsys, INTERIM, "--target", "127", "--n-planned", "198", "--n-sim", "2000",
        "--seed", "3", "--by-date", "2022-06-30",
    )  # fmt: skip
    assert code == 0
    api = predict_events(INTERIM, 127, n_planned=198, n_sim=2000, seed=3, by_date="2022-06-30")
    assert doc == json.loads(api.to_json())


def test_assumed_rates_allocation_and_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "d.csv"
    text = Path(INTERIM).read_text().replace("RANDDT", "ENTRY").replace("ongoing", "ON")
    data.write_text(text)
    code, doc = _run(
        capsys, str(data), "--target", "127", "--n-planned", "198", "--accrual-rate", "5.5",
        "--hazard", "ET=0.19", "--hazard", "Palbociclib + ET=0.14", "--dropout", "0.03",
        "--allocation", "Palbociclib + ET=2", "--allocation", "ET=1", "--no-uncertainty",
        "--entry-col", "ENTRY", "--status-code", "ON=ongoing", "--status-code", "event=event",
        "--status-code", "censored=censored", "--n-sim", "500", "--seed", "1",
    )  # fmt: skip
    assert code == 0
    assert [h["per_month"] for h in doc["hazards"]] == [0.19, 0.14]
    assert doc["allocation"]["ET"] == pytest.approx(1 / 3)
    assert doc["accrual"]["per_month"] == pytest.approx(5.5)
    assert doc["dropout"]["per_month"] == pytest.approx(0.03)
    assert doc["parameter_uncertainty"] is False


def test_piecewise_and_pooled(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _run(
        capsys, INTERIM, "--target", "120", "--pooled", "--cut", "2", "--cut", "6",
        "--n-sim", "300", "--seed", "1",
    )  # fmt: skip
    assert code == 0
    assert [h["from_month"] for h in doc["hazards"]] == [0.0, 2.0, 6.0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--target", "50"], "already reached"),
        (["--target", "127", "--hazard", "ET"], "not a number"),
        (["--target", "127", "--allocation", "=2"], "KEY=VALUE"),
        (["--target", "127", "--dropout", "lots"], "not a number"),
        (["--target", "127", "--date-col", "LSTDT"], "column 'LSTDT' not found"),
    ],
)
def test_user_errors_exit_1_with_json_error(
    capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    code = main(["simulate", "predict-events", INTERIM, *args, "--n-sim", "10", "--json"])
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    assert fragment in doc["error"]["message"]


def test_human_output_goes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "predict-events", INTERIM, "--target", "127", "--n-planned",
                 "198", "--n-sim", "300", "--seed", "1"]) == 0  # fmt: skip
    assert "prediction interval" in capsys.readouterr().out
