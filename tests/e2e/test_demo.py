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
        assert step["ok"] is True, step["name"]
    # the whole chain: derived from the shipped raw trial, analysed and reported
    derived = steps["derivation"]["data"]["subjects"]
    adsl = pd.read_csv(tmp_path / "demo" / "adam" / "adsl.csv", dtype=str)
    assert derived["ITT"] == int((adsl["ITTFL"] == "Y").sum()) == 198
    assert set(adsl["DCUTDT"].dropna()) == {"2023-02-02"}
    report = steps["analysis and report"]["data"]
    results = json.loads((tmp_path / "demo" / "report" / "results.json").read_text())
    pfs = next(
        s["analysis"]
        for s in results["survival"]
        if (s["endpoint"], s["population"]) == ("PFS", "ITT")
    )
    assert report["primary"]["hr"] == pfs["cox"]["hr"]
    assert report["primary"]["logrank_p"] == pfs["logrank"]["p"]
    assert {"km_pfs", "km_os", "forest_pfs", "consort"} <= set(report["figures"])
    assert {"baseline", "efficacy_itt", "ae_by_grade", "exposure"} <= set(report["tables"])
    html = (tmp_path / "demo" / "report" / "report.html").read_text()
    assert "Data cut: 2023-02-02" in html
    assert steps["validation"]["data"]["failed"] == 0
