"""The derivation pipeline on a nine-subject trial worked by hand (tests/data/derive/mini_trial).

PALMIRA spec: PFS from randomization (fda-2018), OS from first dose (last-known-alive), DOR
from the first response, TTR from first dose, CFI from randomization; tumour visits every 56
days +/- 7 from randomization. AVAL = ADT - STARTDT in days. Expected values below were
computed by hand from the CSV files (dates counted on a calendar), one subject per rule:

P01 PR 04-22 confirmed 06-17, PD 08-12 (R5, 224 d); DOR 04-22 -> 08-12 = 112; TTR 01-02 ->
    04-22 = 111; OS censored at the END OF STUDY ONGOING contact 10-01 (273 d from 01-02).
P02 SD 03-06, chemotherapy 04-01, PD 05-01: PFS R3 at 03-06 (56); CFI event 04-01 (82); OS
    censored 07-15 = resolution of an AE, the latest contact (186 d from 01-11).
P03 baseline only, death 03-10: PFS R6 (38); OS event (37 d from first dose 02-02).
P04 SD 03-11, then PD 09-30 after visits 05-06, 07-01, 08-26 were missed: R4 at 03-11 (56).
P05 randomized, never treated, no tumour assessment: PFS R1 (0); no OS row (no first dose).
P06 baseline only, alive: R2 at randomization (0).
P07 SD, SD 04-26, treatment stopped for an AE: R7 at 04-26 (112).
P08 SD up to 06-24 (day 168), on treatment: R8 at 06-24 (168); CBR Y (SD on day 168).
P09 screen failure: in ADSL only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from oncotrial.cli import main
from oncotrial.derive.contracts import ADAM
from oncotrial.derive.datasets import read_dataset
from oncotrial.derive.explain import explain_subject
from oncotrial.derive.pipeline import derive_datasets, derive_trial
from oncotrial.errors import InputError
from oncotrial.spec import load_spec

MINI = Path(__file__).parents[1] / "data" / "derive" / "mini_trial"
SPEC = load_spec("palmira")


@pytest.fixture(scope="module")
def full() -> object:
    return derive_datasets(SPEC, MINI)


@pytest.fixture(scope="module")
def cut() -> object:
    return derive_datasets(SPEC, MINI, cutoff="2024-06-01")


def tte(result: object, paramcd: str) -> dict[str, tuple[str, str, int, int, str]]:
    frame = result.datasets["ADTTE"]  # type: ignore[attr-defined]
    rows = frame.loc[frame["PARAMCD"] == paramcd]
    return {
        r.USUBJID: (str(r.STARTDT.date()), str(r.ADT.date()), int(r.AVAL), int(r.CNSR), r.SRCRULE)
        for r in rows.itertuples()
    }


def adrs(result: object, paramcd: str) -> dict[str, str]:
    frame = result.datasets["ADRS"]  # type: ignore[attr-defined]
    rows = frame.loc[frame["PARAMCD"] == paramcd]
    return dict(zip(rows["USUBJID"], rows["AVALC"], strict=True))


def test_pfs_one_subject_per_rule(full: object) -> None:
    assert tte(full, "PFS") == {
        "P01": ("2024-01-01", "2024-08-12", 224, 0, "R5"),
        "P02": ("2024-01-10", "2024-03-06", 56, 3, "R3"),
        "P03": ("2024-02-01", "2024-03-10", 38, 0, "R6"),
        "P04": ("2024-01-15", "2024-03-11", 56, 4, "R4"),
        "P05": ("2024-03-01", "2024-03-01", 0, 1, "R1"),
        "P06": ("2024-02-15", "2024-02-15", 0, 2, "R2"),
        "P07": ("2024-01-05", "2024-04-26", 112, 5, "R7"),
        "P08": ("2024-01-08", "2024-06-24", 168, 6, "R8"),
    }


def test_os_dor_ttr_cfi(full: object) -> None:
    os_ = tte(full, "OS")
    assert set(os_) == {"P01", "P02", "P03", "P04", "P06", "P07", "P08"}  # treated only
    assert os_["P01"] == ("2024-01-02", "2024-10-01", 273, 1, "O2")
    assert os_["P02"] == ("2024-01-11", "2024-07-15", 186, 1, "O2")
    assert os_["P03"] == ("2024-02-02", "2024-03-10", 37, 0, "O1")
    assert tte(full, "DOR") == {"P01": ("2024-04-22", "2024-08-12", 112, 0, "R5")}
    ttr = full.datasets["ADTTE"].query("PARAMCD == 'TTR'")  # type: ignore[attr-defined]
    assert ttr[["USUBJID", "AVAL", "CNSR"]].values.tolist() == [["P01", 111.0, 0]]
    cfi = tte(full, "CFI")
    assert cfi["P02"] == ("2024-01-10", "2024-04-01", 82, 0, "C1")
    assert cfi["P03"] == ("2024-02-01", "2024-03-10", 38, 0, "C2")
    assert cfi["P05"] == ("2024-03-01", "2024-03-05", 4, 1, "C3")


def test_responses(full: object) -> None:
    assert adrs(full, "BOR") == {
        "P01": "PR", "P02": "SD", "P03": "NE", "P04": "SD", "P05": "NE", "P06": "NE",
        "P07": "SD", "P08": "SD",
    }  # fmt: skip
    assert adrs(full, "ORR") == {s: ("Y" if s == "P01" else "N") for s in adrs(full, "BOR")}
    cbr = adrs(full, "CBR")
    assert [s for s, v in cbr.items() if v == "Y"] == ["P01", "P08"]  # P07: SD day 112 < 168
    ovr = full.datasets["ADRS"].query("USUBJID == 'P01' and PARAMCD == 'OVR'")  # type: ignore[attr-defined]
    assert ovr["AVALC"].tolist() == ["SD", "PR", "PR", "PD"]
    assert ovr["VISIT"].tolist() == ["WEEK 8", "WEEK 16", "WEEK 24", "WEEK 32"]


def test_adsl(full: object) -> None:
    adsl = full.datasets["ADSL"].set_index("USUBJID")  # type: ignore[attr-defined]
    assert adsl.loc["P09", "ITTFL"] == "N" and adsl.loc["P05", "SAFFL"] == "N"
    assert adsl.loc["P05", "MEASFL"] == "N" and adsl.loc["P01", "MEASFL"] == "Y"
    assert adsl.loc["P08", "TRTEDT"] == pd.Timestamp("2024-07-01")  # RFENDTC empty: last EX
    assert adsl.loc["P02", "DCTREAS"] == "ADVERSE EVENT"
    assert adsl.loc["P03", "DTHFL"] == "Y" and adsl.loc["P03", "LSTALVDT"] == pd.Timestamp(
        "2024-03-10"
    )
    assert adsl.loc["P02", "prior_et"] == "fulvestrant" and adsl.loc["P04", "ecog"] == 0
    assert bool(adsl.loc["P01", "visceral_involvement"]) is True
    strata = full.datasets["ADTTE"].columns  # type: ignore[attr-defined]
    assert {"prior_et", "visceral_involvement"} <= set(strata)


def test_data_cut(cut: object) -> None:
    # Cut 2024-06-01: P01's PD (08-12) and PR confirmation (06-17) are after the cut; P04's PD
    # too; P08's 06-24 scan is dropped; alive subjects with later contact are alive on the cut.
    pfs = tte(cut, "PFS")
    assert pfs["P01"] == ("2024-01-01", "2024-04-22", 112, 6, "R8")
    assert pfs["P04"] == ("2024-01-15", "2024-03-11", 56, 6, "R8")
    assert pfs["P08"] == ("2024-01-08", "2024-04-29", 112, 6, "R8")
    assert pfs["P02"][4] == "R3" and pfs["P03"][4] == "R6"
    os_ = tte(cut, "OS")
    assert os_["P01"] == ("2024-01-02", "2024-06-01", 151, 1, "O2")
    assert os_["P02"] == ("2024-01-11", "2024-06-01", 142, 1, "O2")
    assert adrs(cut, "BOR")["P01"] == "SD"  # PR 04-22 no longer confirmed
    assert adrs(cut, "BORU")["P01"] == "PR"
    assert tte(cut, "DOR")["P01"] == ("2024-04-22", "2024-04-22", 0, 2, "R2")
    adae = cut.datasets["ADAE"].set_index("USUBJID")  # type: ignore[attr-defined]
    assert pd.isna(adae.loc["P02", "AENDT"])  # resolved 07-15, after the cut: ongoing
    adsl = cut.datasets["ADSL"].set_index("USUBJID")  # type: ignore[attr-defined]
    assert adsl.loc["P04", "EOTSTT"] == "ONGOING"  # end of treatment 10-02 is after the cut
    for name, frame in cut.datasets.items():  # type: ignore[attr-defined]
        assert (frame["DCUTDT"] == pd.Timestamp("2024-06-01")).all(), name
    log = cut.log  # type: ignore[attr-defined]
    assert log["data_cut"]["dropped"]["TR"] == 6 and log["data_cut"]["truncated"]["EX.EXENDTC"] == 3


def test_cut_drops_subjects_randomized_after_it() -> None:
    result = derive_datasets(SPEC, MINI, cutoff="2024-02-20")
    adsl = result.datasets["ADSL"]
    assert "P05" not in set(adsl["USUBJID"])  # randomized 2024-03-01
    assert result.log["data_cut"]["subjects_dropped"] == ["P05"]
    assert tte(result, "PFS")["P03"] == ("2024-02-01", "2024-02-01", 0, 2, "R2")  # death later


def test_no_cut_leaves_dcutdt_empty(full: object) -> None:
    assert full.datasets["ADSL"]["DCUTDT"].isna().all()  # type: ignore[attr-defined]


def test_write_and_read_back(tmp_path: Path) -> None:
    result = derive_trial(SPEC, MINI, tmp_path / "out", formats=["csv", "xpt"])
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "derivation_log.json" in names and "traces.json" in names and "adtte.xpt" in names
    log = json.loads((tmp_path / "out" / "derivation_log.json").read_text())
    assert log["inputs"]["DM"]["sha256"] == result.log["inputs"]["DM"]["sha256"]
    assert log["endpoints"][0]["rule_set"]["name"] == "fda-2018"
    assert log["counts"]["events"]["PFS"]["by_rule"]["R4"] == 1
    for fmt in ("csv", "xpt"):
        back = read_dataset(tmp_path / "out" / f"adtte.{fmt}", ADAM["ADTTE"])
        pd.testing.assert_frame_equal(
            back[ADAM["ADTTE"].names], result.datasets["ADTTE"][ADAM["ADTTE"].names]
        )


def test_explain(full: object) -> None:
    text = explain_subject(full, "P04").summary()  # type: ignore[arg-type]
    assert "R4" in text and "2024-05-06, 2024-07-01, 2024-08-26 (3 >= 2)" in text
    grades = explain_subject(full, "P01").sections  # type: ignore[arg-type]
    assert any("grade 3" in line for line in grades["ADLB"])
    assert any(line.startswith("BOR = PR") for line in grades["ADRS"])
    with pytest.raises(InputError, match="not in DM"):
        explain_subject(full, "P99")  # type: ignore[arg-type]


def test_cli_derive_and_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["derive", "palmira", str(MINI), str(out), "--cutoff", "2024-06-01", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["cutoff"] == "2024-06-01"
    assert payload["counts"]["events"]["PFS"]["events"] == 1
    code = main(["derive", "explain", "P02", "--spec", "palmira", "--raw", str(MINI), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["usubjid"] == "P02"
    assert any("R3" in line for line in payload["sections"]["ADTTE"])
    code = main(["derive", "palmira", str(MINI), str(out), "--cutoff", "2024-02-30", "--json"])
    assert code == 1 and "not a date" in json.loads(capsys.readouterr().out)["error"]["message"]
