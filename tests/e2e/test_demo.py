"""``oncotrial demo`` end to end: runs, writes its files, speaks JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from oncotrial.cli import main


def test_demo_json_and_files(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "demo"), "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    doc = json.loads(out)
    steps = {s["name"]: s for s in doc["steps"]}
    assert doc["trial"] == "PALMIRA"
    # the shipped screening file: counts derived by hand (tests/data/screening/)
    counts_file = Path(__file__).parents[1] / "data/screening/palmira_expected_counts.json"
    expected = json.loads(counts_file.read_text())
    screening = steps["eligibility screening"]["data"]
    assert (screening["assessed"], screening["eligible"]) == (
        expected["assessed"],
        expected["eligible"],
    )
    listing = pd.read_csv(tmp_path / "demo" / "allocation_list.csv")
    assert listing["STRATUM"].nunique() == 4
    counts = listing["ARM"].value_counts()
    assert counts["PAL_ET"] == 2 * counts["ET"]  # complete 2:1 blocks in every stratum
    assert steps["design check"]["data"]["events"] == 127  # Schoenfeld, HR 0.59, 2:1
    assert steps["published response rates"]["ok"] is True
    for step in doc["steps"]:
        for name in step["files"]:
            assert (tmp_path / "demo" / name).exists()
