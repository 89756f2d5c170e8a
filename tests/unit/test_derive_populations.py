"""Analysis sets: ITTFL, SAFFL, MEASFL with their reasons (hand-worked)."""

from __future__ import annotations

import pandas as pd
import pytest

from oncotrial.derive.populations import analysis_sets, read_subjects, traces_frame
from oncotrial.errors import DataError

DM = pd.DataFrame(
    {
        "USUBJID": ["S1", "S2", "S3", "S4"],
        "ARMCD": ["PAL_ET", "ET", "", "PAL_ET"],
        "RANDDT": ["2024-01-03", "2024-01-04", None, "2024-01-05"],
    }
)
EX = pd.DataFrame(
    {
        "USUBJID": ["S1", "S2", "S2", "S4"],
        "EXTRT": ["palbociclib", "letrozole", "letrozole", "palbociclib"],
        "EXDOSE": [125, 0, 2.5, 0],
        "EXSTDTC": ["2024-01-05", "2024-01-06", "2024-01-20", "2024-01-07"],
    }
)
TR = pd.DataFrame(
    {
        "USUBJID": ["S1", "S1", "S1", "S2", "S2", "S4"],
        "TRDTC": [
            "2023-12-20",
            "2023-12-20",
            "2024-03-01",
            "2023-12-21",
            "2024-03-01",
            "2024-03-02",
        ],
        "TRLNKID": ["T1", "NT1", "T1", "NT1", "T9", "T1"],
        "TRGRPID": ["TARGET", "NON-TARGET", "TARGET", "NON-TARGET", "NEW", "TARGET"],
    }
)


def test_sets_by_hand() -> None:
    result = analysis_sets(DM, EX, TR)
    flags = result.data.set_index("USUBJID")
    assert flags["ITTFL"].to_dict() == {"S1": "Y", "S2": "Y", "S3": "N", "S4": "Y"}
    # S2: a dose-0 row then 2.5 mg -> treated; S4: only a held period
    assert flags["SAFFL"].to_dict() == {"S1": "Y", "S2": "Y", "S3": "N", "S4": "N"}
    # S1: target at its earliest assessment; S2: non-target only at baseline (the NEW row
    # is later); S3: no TR; S4: its earliest TR date has a target lesion
    assert flags["MEASFL"].to_dict() == {"S1": "Y", "S2": "N", "S3": "N", "S4": "Y"}
    assert result.counts() == {"N": 4, "ITTFL": 3, "SAFFL": 2, "MEASFL": 2}


def test_reasons() -> None:
    traces = traces_frame(analysis_sets(DM, EX, TR).traces).set_index(["USUBJID", "VARIABLE"])
    assert traces.loc[("S1", "ITTFL"), "TEXT"] == "randomized to PAL_ET on 2024-01-03"
    assert traces.loc[("S3", "ITTFL"), "TEXT"] == "not randomized (RANDDT empty)"
    assert traces.loc[("S1", "SAFFL"), "TEXT"] == (
        "EX row 1: palbociclib 125 from 2024-01-05 (dose > 0)"
    )
    assert traces.loc[("S2", "SAFFL"), "TEXT"].startswith("EX row 3: letrozole 2.5")
    assert traces.loc[("S4", "SAFFL"), "TEXT"] == "1 EX record(s), none with dose > 0 (rows 4)"
    assert traces.loc[("S3", "SAFFL"), "TEXT"] == "no EX record"
    assert traces.loc[("S1", "MEASFL"), "TEXT"] == (
        "1 TARGET lesion(s) at baseline (earliest assessment 2023-12-20): T1"
    )
    assert "non-target disease only" in traces.loc[("S2", "MEASFL"), "TEXT"]


def test_ablfl_column_chooses_the_baseline() -> None:
    tr = TR.assign(ABLFL=["", "", "", "Y", "", ""])
    flags = analysis_sets(DM, EX, tr).data.set_index("USUBJID")["MEASFL"]
    # S1 and S4 have no flagged row now: no baseline assessment
    assert flags.to_dict() == {"S1": "N", "S2": "N", "S3": "N", "S4": "N"}


@pytest.mark.parametrize(
    ("frame", "change", "dataset", "column", "row"),
    [
        ("dm", {"RANDDT": ["2024-01-03", None, None, "2024-01-05"]}, "DM", "RANDDT", 2),
        ("dm", {"ARMCD": ["PAL_ET", "ET", "", ""]}, "DM", "ARMCD", 4),
        ("dm", {"USUBJID": ["S1", "S2", "S3", "S1"]}, "DM", "USUBJID", 4),
        ("ex", {"USUBJID": ["S1", "S2", "S2", "S7"]}, "EX", "USUBJID", 4),
        ("ex", {"EXDOSE": [125, -1, 2.5, 0]}, "EX", "EXDOSE", 2),
        (
            "ex",
            {"EXSTDTC": ["2024-01-05", "05/01/2024", "2024-01-20", "2024-01-07"]},
            "EX",
            "EXSTDTC",
            2,
        ),
        (
            "tr",
            {"TRGRPID": ["TARGET", "NONTARGET", "TARGET", "NON-TARGET", "NEW", "TARGET"]},
            "TR",
            "TRGRPID",
            2,
        ),
    ],
)
def test_bad_input(frame: str, change: dict, dataset: str, column: str, row: int) -> None:
    frames = {"dm": DM, "ex": EX, "tr": TR}
    frames[frame] = frames[frame].assign(**change)
    with pytest.raises(DataError) as err:
        analysis_sets(frames["dm"], frames["ex"], frames["tr"])
    details = err.value.details
    assert (details["dataset"], details["column"], details["row"]) == (dataset, column, row)


def test_read_subjects_checks_adsl() -> None:
    adsl = pd.DataFrame(
        {
            "USUBJID": ["S1", "S1"],
            "ARMCD": ["A", "A"],
            "TRTSDT": [None, None],
            "TRTEDT": [None, None],
        }
    )
    with pytest.raises(DataError, match="repeats row 1"):
        read_subjects(adsl)
    adsl = pd.DataFrame(
        {"USUBJID": ["S1"], "ARMCD": ["A"], "TRTSDT": [None], "TRTEDT": ["2024-01-01"]}
    )
    with pytest.raises(DataError, match="without TRTSDT"):
        read_subjects(adsl)
    adsl = pd.DataFrame(
        {
            "USUBJID": ["S1"],
            "ARMCD": ["A"],
            "TRTSDT": [pd.Timestamp("2024-01-02")],
            "TRTEDT": [None],
        }
    )
    assert str(read_subjects(adsl)["S1"].trtsdt) == "2024-01-02"
