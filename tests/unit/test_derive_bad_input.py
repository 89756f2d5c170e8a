"""Bad raw data through the whole pipeline: a clear error naming the dataset, row, column and
value, and no output directory (the mini trial of test_derive_pipeline.py, one defect each)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from oncotrial.cli import main
from oncotrial.derive.pipeline import derive_trial
from oncotrial.errors import DataError
from oncotrial.spec import load_spec

MINI = Path(__file__).parents[1] / "data" / "derive" / "mini_trial"
SPEC = load_spec("palmira")


def _raw(tmp_path: Path, edit: Callable[[Path], None]) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(MINI, raw)
    edit(raw)
    return raw


def _replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(raw: Path) -> None:
        text = (raw / name).read_text()
        assert old in text
        (raw / name).write_text(text.replace(old, new, 1))

    return edit


CASES = {
    # dm.csv line 3 = data row 2 (P02)
    "unknown arm": (
        _replace("dm.csv", "PALMIRA,P02,01,ET,", "PALMIRA,P02,01,PBO,"),
        {"dataset": "DM (dm.csv)", "row": 2, "column": "ARMCD", "value": "PBO"},
        "valid: PAL_ET, ET",
    ),
    "partial date": (
        _replace("ae.csv", "2024-02-01,2024-07-15", "2024-02,2024-07-15"),
        {"dataset": "AE (ae.csv)", "row": 2, "column": "AESTDTC", "value": "2024-02"},
        "partial date",
    ),
    "impossible date": (
        _replace("tr.csv", "P02,WEEK 8,2024-03-06", "P02,WEEK 8,2024-02-30"),
        {"dataset": "TR (tr.csv)", "row": 12, "column": "TRDTC", "value": "2024-02-30"},
        "not a calendar date",
    ),
    "AE ends before it starts": (
        _replace("ae.csv", "2024-05-20,2024-05-25", "2024-05-20,2024-05-10"),
        {"dataset": "AE (ae.csv)", "column": "AEENDTC", "row": 3, "value": "2024-05-10"},
        "before AESTDTC 2024-05-20",
    ),
    "missing domain": (
        lambda raw: (raw / "tr.csv").unlink(),
        {"dataset": "TR", "value": ["TR"]},
        "required domain(s) TR missing",
    ),
    "missing column": (
        _replace("ex.csv", "EXDOSE,", "DOSE,"),
        {"dataset": "EX (ex.csv)", "column": "EXDOSE"},
        "EXDOSE",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_cell_and_writes_nothing(tmp_path: Path, case: str) -> None:
    edit, details, words = CASES[case]
    raw = _raw(tmp_path, edit)
    out = tmp_path / "out"
    with pytest.raises(DataError) as caught:
        derive_trial(SPEC, raw, out)
    assert words in caught.value.message
    for key, value in details.items():
        assert caught.value.details[key] == value, (key, caught.value.details)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["raw"]  # no temporary directory left


def test_cli_reports_the_error_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = _raw(tmp_path, CASES["unknown arm"][0])
    code = main(["derive", "palmira", str(raw), str(tmp_path / "out"), "--json"])
    error = json.loads(capsys.readouterr().out)["error"]
    assert code == 1 and error["type"] == "DataError"
    assert (error["column"], error["row"], error["value"]) == ("ARMCD", 2, "PBO")
    assert not (tmp_path / "out").exists()


def test_an_error_after_the_cut_names_the_row_of_the_file(tmp_path: Path) -> None:
    # ae.csv rows: 1 a rash with onset 2024-09-01 (after the 2024-06-01 cut: dropped), 2-3 the
    # mini trial's P01 and P02 AEs, 4 P07's diarrhoea ending before it starts. The derivation
    # sees the bad AE as row 3 of the cut frame; the error must name row 4 of the file.
    def edit(raw: Path) -> None:
        lines = (raw / "ae.csv").read_text().splitlines()
        late = "P01,Rash,Rash,Skin and subcutaneous tissue disorders,1,2024-09-01,,N,N,"
        bad = lines[3].replace("2024-05-20,2024-05-25", "2024-05-20,2024-05-10")
        (raw / "ae.csv").write_text("\n".join([lines[0], late, lines[1], lines[2], bad]) + "\n")

    raw = _raw(tmp_path, edit)
    with pytest.raises(DataError) as caught:
        derive_trial(SPEC, raw, tmp_path / "out", cutoff="2024-06-01")
    assert caught.value.details["row"] == 4 and caught.value.details["dataset"] == "AE (ae.csv)"
    assert "row 4:" in caught.value.message and "row 3 of the data cut at 2024-06-01" in (
        caught.value.message
    )
    assert not (tmp_path / "out").exists()
