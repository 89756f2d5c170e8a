"""``oncotrial spec screen``: JSON contract, log file, human output and user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from oncotrial.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "screening"
SUBJECTS = str(DATA / "palmira_subjects.csv")


def test_json_output_is_one_document_with_counts_and_subjects(capsys):
    assert main(["spec", "screen", "palmira", SUBJECTS, "--json"]) == 0
    out = capsys.readouterr().out
    payload = json.loads(out)
    assert payload["counts"]["assessed"] == 42
    assert payload["counts"]["eligible"] == 12
    assert payload["counts"]["excluded"] == 23
    assert payload["counts"]["cannot_tell"] == 7
    p28 = next(s for s in payload["subjects"] if s["subject_id"] == "P28")
    assert p28["verdict"] == "not_eligible" and p28["failed"] == ["I1", "E1", "E2"]
    assert len(payload["log"]) == 42 * 11


def test_log_option_writes_the_tidy_log(tmp_path, capsys):
    log = tmp_path / "log.csv"
    assert main(["spec", "screen", "palmira", SUBJECTS, "--log", str(log), "--json"]) == 0
    json.loads(capsys.readouterr().out)
    frame = pd.read_csv(log, dtype=str, keep_default_na=False)
    assert list(frame.columns) == [
        "subject_id",
        "criterion_id",
        "kind",
        "outcome",
        "value",
        "reason",
    ]
    row = frame[(frame.subject_id == "P29") & (frame.criterion_id == "I1")].iloc[0]
    assert (row.outcome, row.value) == ("cannot_tell", "")
    assert row.reason == "cannot tell: age is missing"
    row = frame[(frame.subject_id == "P21") & (frame.criterion_id == "E1")].iloc[0]
    assert (row.outcome, row.value) == ("applies", "true")


def test_human_output_shows_tables_and_warnings_go_to_stderr(tmp_path, capsys):
    partial = tmp_path / "partial.csv"
    pd.read_csv(SUBJECTS, dtype=str, keep_default_na=False).drop(
        columns="leptomeningeal_disease"
    ).to_csv(partial, index=False)
    assert main(["spec", "screen", "palmira", str(partial)]) == 0
    captured = capsys.readouterr()
    assert "Verdicts" in captured.out and "CONSORT" in captured.out and "P28" in captured.out
    assert "no column for attribute 'leptomeningeal_disease'" in " ".join(captured.err.split())


def test_bad_data_is_a_user_error_with_json_error(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("subject_id,age\nS1,forty\n")
    assert main(["spec", "screen", "palmira", str(bad), "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    error = payload["error"]
    assert error["type"] == "DataError"
    assert (error["row"], error["column"], error["value"]) == (1, "age", "'forty'")


def test_log_must_be_csv(tmp_path, capsys):
    assert (
        main(["spec", "screen", "palmira", SUBJECTS, "--log", str(tmp_path / "x.txt"), "--json"])
        == 1
    )
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "InputError"
