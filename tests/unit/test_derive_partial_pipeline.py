"""Partial dates and worsening AEs through the whole pipeline (the mini trial of
test_derive_pipeline.py with hand edits), the data cut, the log, explain and the CLI.

First doses (dm.csv RFSTDTC): P01 2024-01-02, P02 2024-01-11, P03 2024-02-02 (died
2024-03-10, written here as 2024-03), P04 2024-01-16, P07 2024-01-06, P08 2024-01-09.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from oncotrial.cli import main
from oncotrial.derive.pipeline import TrialDerivation, derive_datasets
from oncotrial.errors import DataError
from oncotrial.spec import example_path

MINI = Path(__file__).parents[1] / "data" / "derive" / "mini_trial"
OPTIONS = {
    "date_imputation": {
        "AE.AESTDTC": {"highest_imputation": "M"},
        "AE.AEENDTC": {"highest_imputation": "M"},
        "DM.DTHDTC": {"highest_imputation": "D", "date_imputation": "mid"},
    }
}
EXTRA_AE = [
    "P03,Nausea,Nausea,Gastrointestinal disorders,2,2024-02-20,2024-03,N,N,DOSE NOT CHANGED",
    "P04,Rash,Rash,Skin disorders,1,2023-12,2024-01-20,N,N,DOSE NOT CHANGED",
    "P08,Cough,Cough,Respiratory disorders,1,2024-04,,N,N,DOSE NOT CHANGED",
]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(MINI, raw)
    ae = raw / "ae.csv"
    _edit(ae, "Investigations,3,2024-01-20,", "Investigations,3,2024-01,")  # P01 onset
    _edit(ae, "2024-02-01,2024-07-15", "2024-02-01,2024-07")  # P02 resolution
    ae.write_text(ae.read_text() + "\n".join(EXTRA_AE) + "\n")
    _edit(raw / "dm.csv", "2024-03-01,2024-03-10,70", "2024-03-01,2024-03,70")  # P03 death
    return raw


def _adae(result: TrialDerivation) -> pd.DataFrame:
    return result.datasets["ADAE"].set_index("USUBJID")


def _empty(value: object) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def _day(value: object) -> str | None:
    return None if _empty(value) else pd.Timestamp(str(value)).date().isoformat()


def test_partial_dates_are_errors_without_options(raw: Path) -> None:
    with pytest.raises(DataError) as info:
        derive_datasets("palmira", raw)
    details = info.value.details
    assert (details["dataset"], details["row"], details["column"], details["value"]) == (
        "AE (ae.csv)",
        1,
        "AESTDTC",
        "2024-01",
    )
    assert "no imputation is set for this column" in info.value.message


def test_imputed_dates_by_hand(raw: Path) -> None:
    result = derive_datasets("palmira", raw, options=OPTIONS)
    adae = _adae(result)
    # P01 "2024-01": first of January raised to the first dose 2024-01-02 (study day 1)
    assert (_day(adae.loc["P01", "ASTDT"]), adae.loc["P01", "ASTDTF"]) == ("2024-01-02", "D")
    assert adae.loc["P01", "ASTDY"] == 1 and adae.loc["P01", "TRTEMFL"] == "Y"
    # P02 "2024-07": last day of July, no death, no cut
    assert (_day(adae.loc["P02", "AENDT"]), adae.loc["P02", "AENDTF"]) == ("2024-07-31", "D")
    # P03 death "2024-03" imputed mid: 2024-03-15; the AE ending "2024-03" is capped there
    adsl = result.datasets["ADSL"].set_index("USUBJID")
    assert _day(adsl.loc["P03", "DTHDT"]) == "2024-03-15"
    assert _day(adae.loc["P03", "AENDT"]) == "2024-03-15"
    # P04 "2023-12": December cannot hold the first dose 2024-01-16: 2023-12-01, day -46
    assert _day(adae.loc["P04", "ASTDT"]) == "2023-12-01"
    assert adae.loc["P04", "ASTDY"] == -46 and adae.loc["P04", "TRTEMFL"] == "N"
    # P08 "2024-04": after the first dose 2024-01-09, first of April
    assert _day(adae.loc["P08", "ASTDT"]) == "2024-04-01"
    # full dates keep empty flags
    assert _empty(adae.loc["P07", "ASTDTF"]) and _empty(adae.loc["P07", "AENDTF"])
    imputed = result.log["settings"]["options"]["imputed"]
    assert imputed == {"DM.DTHDTC": {"D": 1}, "AE.AESTDTC": {"D": 3}, "AE.AEENDTC": {"D": 2}}


def test_data_cut_uses_the_earliest_possible_date(raw: Path) -> None:
    result = derive_datasets("palmira", raw, cutoff="2024-03-12", options=OPTIONS)
    adae = _adae(result)
    # P08 "2024-04" starts no earlier than 2024-04-01: after the cut, dropped
    assert "P08" not in adae.index
    # P02 ends "2024-07", no earlier than 07-01: after the cut, so ongoing at the cut
    assert _empty(adae.loc["P02", "AENDT"])
    assert adae.loc["P02", "AEONGO"] == "Y" and _empty(adae.loc["P02", "AENDTF"])
    # P03 death "2024-03" may precede the cut: kept, mid 03-15 capped at the cut 03-12
    adsl = result.datasets["ADSL"].set_index("USUBJID")
    assert _day(adsl.loc["P03", "DTHDT"]) == "2024-03-12"
    assert _day(adae.loc["P03", "AENDT"]) == "2024-03-12"
    # dropped: P08 (April) and P07's diarrhoea of 2024-05-20
    assert result.log["data_cut"]["dropped"]["AE"] == 2
    assert result.log["data_cut"]["truncated"]["AE.AEENDTC"] == 1


def test_nothing_changes_when_options_are_off() -> None:
    plain = derive_datasets("palmira", MINI)
    off = derive_datasets("palmira", MINI, options={})
    for name, frame in plain.datasets.items():
        pd.testing.assert_frame_equal(frame, off.datasets[name])
    assert plain.traces == off.traces
    assert "ASTDTF" not in plain.datasets["ADAE"].columns


def test_worsening_through_the_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(MINI, raw)
    ae = raw / "ae.csv"
    lines = ae.read_text().splitlines()
    lines = [lines[0] + ",AEGRPID"] + [line + "," for line in lines[1:]]
    # P07 (first dose 2024-01-06): grade 1 from 2023-12-20, grade 3 from 2024-01-10 (day 5)
    lines += [
        "P07,Anaemia,Anaemia,Blood disorders,1,2023-12-20,2024-01-09,N,N,DOSE NOT CHANGED,A1",
        "P07,Anaemia,Anaemia,Blood disorders,3,2024-01-10,,N,N,DOSE NOT CHANGED,A1",
    ]
    ae.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    code = main(["derive", "run", "palmira", str(raw), str(out), "--json"])
    assert code == 0
    capsys.readouterr()
    adae = pd.read_csv(out / "adae.csv", dtype=str, keep_default_na=False)
    p07 = adae[adae["USUBJID"] == "P07"]
    assert p07["AEGRPID"].tolist() == ["", "A1", "A1"]
    assert p07["TRTEMFL"].tolist() == ["Y", "N", "Y"]
    code = main(["derive", "explain", "P07", "--from", str(out), "--json"])
    sections = json.loads(capsys.readouterr().out)["sections"]
    assert any(
        line.startswith("TRTEMFL [AESEQ 3 Anaemia] = Y: worsening: grade 3 > grade 1 at first dose")
        for line in sections["ADAE"]
    )


def test_cli_options_and_explain(
    raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = tmp_path / "options.yaml"
    options.write_text(json.dumps(OPTIONS))  # JSON is YAML
    out = tmp_path / "out"
    code = main(
        ["derive", "run", "palmira", str(raw), str(out), "--options", str(options), "--json"]
    )
    assert code == 0
    log = json.loads(capsys.readouterr().out)
    assert log["settings"]["options"]["source"] == str(options)
    assert log["settings"]["options"]["date_imputation"]["AE.AEENDTC"] == {
        "highest_imputation": "M",
        "date_imputation": "last",
    }
    header = (out / "adae.csv").read_text().splitlines()[0].split(",")
    assert header.index("ASTDTF") == header.index("ASTDT") + 1
    assert header.index("AENDTF") == header.index("AENDT") + 1
    code = main(
        ["derive", "explain", "P03", "--spec", "palmira", "--raw", str(raw), "--options",
         str(options), "--json"]
    )  # fmt: skip
    assert code == 0
    sections = json.loads(capsys.readouterr().out)["sections"]
    assert sections["DATES"] == [
        "DM.DTHDTC (row 3) = 2024-03-15, flag D: '2024-03' (day missing) -> mid day of the "
        "month: 2024-03-15"
    ]
    assert (
        "AENDT [AESEQ 1 Nausea] = 2024-03-15: AEENDTC '2024-03' (day missing) -> last day of "
        "the month: 2024-03-31; lowered to death DTHDT 2024-03-15 (not after it) (AENDTF = D)"
    ) in sections["ADAE"]
    code = main(["derive", "run", "palmira", str(raw), str(tmp_path / "o2"), "--json"])
    error = json.loads(capsys.readouterr().out)["error"]
    assert code == 1 and error["column"] == "AESTDTC" and error["value"] == "2024-01"
    assert not (tmp_path / "o2").exists()


def _spec_with_options(tmp_path: Path, options: dict[str, object]) -> Path:
    """The shipped PALMIRA spec with ``derivation.options`` set."""
    data = yaml.safe_load(example_path("palmira").read_text())
    data.setdefault("derivation", {})["options"] = options
    path = tmp_path / "palmira_options.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_spec_options_are_the_default(raw: Path, tmp_path: Path) -> None:
    spec = _spec_with_options(tmp_path, OPTIONS)
    from_spec = _adae(derive_datasets(spec, raw))
    # the P01 onset "2024-01" is imputed as with options=OPTIONS
    assert (_day(from_spec.loc["P01", "ASTDT"]), from_spec.loc["P01", "ASTDTF"]) == (
        "2024-01-02",
        "D",
    )
    # options given to the call replace the spec's: without imputation the partial is an error
    off = {"date_imputation": {"AE.AESTDTC": {"highest_imputation": "n"}}}
    with pytest.raises(DataError, match="no imputation is set"):
        derive_datasets(spec, raw, options=off)


def test_spec_check_checks_the_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _spec_with_options(tmp_path, {"date_imputation": {"AE.AESTDTC": {"highest": "M"}}})
    assert main(["spec", "check", str(spec), "--json"]) == 1
    err = capsys.readouterr().err
    assert "date_imputation.AE.AESTDTC.highest" in err
