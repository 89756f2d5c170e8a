"""ADAE derivation: treatment-emergent window, maximum grades, safety tables (hand-worked)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from oncotrial.derive.safety import (
    ae_term_table,
    derive_adae,
    max_grade_by,
    study_day,
    subject_flags,
    teae_overview,
    treatment_emergent,
)
from oncotrial.errors import DataError, InputError

D = dt.date.fromisoformat


def adsl(**overrides: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "USUBJID": ["S1", "S2", "S3", "S4", "S5"],
            "ARMCD": ["A", "A", "A", "B", "B"],
            "TRTSDT": ["2024-01-10", "2024-01-05", None, "2024-02-01", "2024-02-03"],
            "TRTEDT": ["2024-05-01", None, None, "2024-03-01", "2024-04-01"],
            "SAFFL": ["Y", "Y", "N", "Y", "Y"],
        }
    )
    for key, value in overrides.items():
        frame[key] = value
    return frame


def ae_row(usubjid: str, start: str | None, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "USUBJID": usubjid,
        "AEDECOD": "Neutropenia",
        "AEBODSYS": "Blood and lymphatic system disorders",
        "AETOXGR": 1,
        "AESTDTC": start,
        "AEENDTC": None,
        "AESER": "N",
        "AEREL": "N",
        "AEACN": "DOSE NOT CHANGED",
    }
    row.update(kw)
    return row


# --------------------------------------------------------------------------- the TEAE window

# first dose 2024-01-10, last dose 2024-05-01, window 28 days: last day 2024-05-29
WINDOW_CASES = [
    ("2024-01-09", 28, "N"),  # day before first dose
    ("2024-01-10", 28, "Y"),  # first dose day, inclusive
    ("2024-05-01", 28, "Y"),  # last dose day
    ("2024-05-29", 28, "Y"),  # last dose + 28 days, inclusive
    ("2024-05-30", 28, "N"),  # last dose + 29 days
    ("2024-05-01", 0, "Y"),  # window 0: last dose day still counts
    ("2024-05-02", 0, "N"),
    ("2024-05-31", 30, "Y"),  # last dose + 30 days
    ("2024-06-01", 30, "N"),
]


@pytest.mark.parametrize(("onset", "window", "expected"), WINDOW_CASES)
def test_teae_window_boundaries(onset: str, window: int, expected: str) -> None:
    result = derive_adae(pd.DataFrame([ae_row("S1", onset)]), adsl(), window_days=window)
    assert result.data["TRTEMFL"].tolist() == [expected]


def test_teae_trace_names_the_numbers() -> None:
    flag, text = treatment_emergent(D("2024-03-02"), D("2024-01-10"), D("2024-05-01"), 28)
    assert flag == "Y"
    assert text == (
        "onset 2024-03-02 is between first dose 2024-01-10 and last dose 2024-05-01 + 28 days "
        "= 2024-05-29 (inclusive)"
    )
    flag, text = treatment_emergent(D("2024-05-30"), D("2024-01-10"), D("2024-05-01"), 28)
    assert (flag, text) == (
        "N",
        "onset 2024-05-30 is after last dose 2024-05-01 + 28 days = 2024-05-29",
    )


def test_missing_onset_is_teae_conservatively_and_says_so() -> None:
    result = derive_adae(pd.DataFrame([ae_row("S1", None)]), adsl(), window_days=28)
    assert result.data["TRTEMFL"].tolist() == ["Y"]
    [trace] = [t for t in result.traces if t.variable == "TRTEMFL"]
    assert "onset date missing" in trace.text and "conservative" in trace.text


def test_untreated_subject_has_no_teae_even_without_onset() -> None:
    frame = pd.DataFrame([ae_row("S3", "2024-02-01"), ae_row("S3", None)])
    result = derive_adae(frame, adsl(), window_days=28)
    assert result.data["TRTEMFL"].tolist() == ["N", "N"]


def test_treatment_ongoing_has_no_upper_limit() -> None:
    # S2: first dose 2024-01-05, TRTEDT empty
    result = derive_adae(pd.DataFrame([ae_row("S2", "2026-12-31")]), adsl(), window_days=0)
    assert result.data["TRTEMFL"].tolist() == ["Y"]
    assert "treatment ongoing" in result.traces[0].text


def test_ongoing_ae() -> None:
    # ongoing AE (no end) starting in the window: TEAE and AEONGO=Y; one that started
    # before the first dose and is still ongoing is not (worsening is not assessed)
    frame = pd.DataFrame(
        [ae_row("S1", "2024-02-01"), ae_row("S1", "2023-12-20", AEDECOD="Fatigue")]
    )
    data = derive_adae(frame, adsl(), window_days=28).data
    assert data["AEONGO"].tolist() == ["Y", "Y"]
    assert data["TRTEMFL"].tolist() == ["Y", "N"]
    assert pd.isna(data["AENDT"]).all()


def test_study_day_has_no_day_zero() -> None:
    assert study_day(D("2024-01-10"), D("2024-01-10")) == 1
    assert study_day(D("2024-01-09"), D("2024-01-10")) == -1
    assert study_day(D("2024-03-02"), D("2024-01-10")) == 53  # 21 + 29 + 2 + 1
    assert study_day(None, D("2024-01-10")) is None


# --------------------------------------------------------------------------- per subject

AES = pd.DataFrame(
    [
        ae_row("S1", "2024-02-01", AETOXGR=2, AEREL="Y"),
        ae_row("S1", "2024-03-01", AETOXGR=3, AEACN="DOSE REDUCED"),
        ae_row("S1", "2024-03-05", AEDECOD="Anaemia", AETOXGR=1),
        ae_row("S1", "2024-07-01", AEDECOD="Fatigue", AEBODSYS="General", AETOXGR=4),  # late
        ae_row("S2", "2024-01-20", AEDECOD="Fatigue", AEBODSYS="General", AETOXGR=2),
        ae_row("S2", "2024-02-20", AETOXGR=4, AESER="Y", AEACN="DRUG INTERRUPTED"),
        ae_row("S4", "2024-02-10", AEDECOD="Fatigue", AEBODSYS="General", AETOXGR=5, AESER="Y"),
        ae_row("S4", "2024-02-09", AETOXGR=1, AEACN="DRUG WITHDRAWN"),
        ae_row("S5", "2024-01-01", AETOXGR=3),  # before first dose
    ]
)


def test_max_grade_per_term_and_soc() -> None:
    result = derive_adae(AES, adsl(), window_days=28)
    by_term = result.by_term()
    got = {(r.USUBJID, r.AEDECOD): r.MAXGR for r in by_term.itertuples()}
    assert got == {
        ("S1", "Anaemia"): 1,
        ("S1", "Neutropenia"): 3,
        ("S2", "Fatigue"): 2,
        ("S2", "Neutropenia"): 4,
        ("S4", "Fatigue"): 5,
        ("S4", "Neutropenia"): 1,
    }  # S1's grade 4 fatigue starts after 2024-05-29: not treatment-emergent
    by_soc = result.by_soc()
    got = {(r.USUBJID, r.AEBODSYS): r.MAXGR for r in by_soc.itertuples()}
    assert got[("S1", "Blood and lymphatic system disorders")] == 3
    assert ("S1", "General") not in got
    trace = [t for t in result.traces if t.variable == "MAXGRPT" and t.usubjid == "S1"]
    assert [t.value for t in trace] == ["1", "3"]
    assert "AESEQ 1 grade 2, AESEQ 2 grade 3" in trace[1].text


def test_subject_flags() -> None:
    data = derive_adae(AES, adsl(), window_days=28).data
    flags = subject_flags(data, adsl()).set_index("USUBJID")
    assert flags.loc["S1"].to_dict() == {
        "ARMCD": "A",
        "TEAEFL": "Y",
        "MAXGR": 3,
        "SERFL": "N",
        "RELFL": "Y",
        "DISCFL": "N",
        "REDFL": "Y",
        "INTFL": "N",
    }
    assert flags.loc["S2", "INTFL"] == "Y" and flags.loc["S2", "SERFL"] == "Y"
    assert flags.loc["S4", "DISCFL"] == "Y" and flags.loc["S4", "MAXGR"] == 5
    assert flags.loc["S5", "TEAEFL"] == "N" and pd.isna(flags.loc["S5", "MAXGR"])
    assert flags.loc["S3", "TEAEFL"] == "N"


def test_action_flags_in_adae() -> None:
    data = derive_adae(AES, adsl(), window_days=28).data
    assert data["AEREDFL"].tolist().count("Y") == 1
    assert data.loc[data["AEACN"] == "DRUG WITHDRAWN", "AEDISCFL"].tolist() == ["Y"]
    assert data.loc[data["AEACN"] == "DRUG INTERRUPTED", "AEINTFL"].tolist() == ["Y"]


def test_teae_overview_by_hand() -> None:
    # safety set: A = S1, S2 (S3 SAFFL=N); B = S4, S5
    data = derive_adae(AES, adsl(), window_days=28).data
    table = teae_overview(data, adsl()).data
    got = {(r.CATEGORY, r.ARMCD): (r.BIGN, r.N, r.PCT) for r in table.itertuples()}
    assert got[("Any TEAE", "A")] == (2, 2, 100.0)
    assert got[("Any TEAE", "B")] == (2, 1, 50.0)  # S5's only AE precedes the first dose
    assert got[("Grade >= 3", "A")] == (2, 2, 100.0)
    assert got[("Grade 4", "A")] == (2, 1, 50.0)  # S2; S1's grade 4 is outside the window
    assert got[("Grade 5", "B")] == (2, 1, 50.0)
    assert got[("Grade 4", "B")] == (2, 0, 0.0)
    assert got[("Serious", "B")] == (2, 1, 50.0)
    assert got[("Leading to discontinuation", "B")] == (2, 1, 50.0)
    assert got[("Leading to dose reduction", "A")] == (2, 1, 50.0)
    assert got[("Leading to interruption", "A")] == (2, 1, 50.0)


def test_teae_overview_without_saffl_uses_treated_subjects() -> None:
    data = derive_adae(AES, adsl(), window_days=28).data
    table = teae_overview(data, adsl().drop(columns="SAFFL"))
    assert table.denominators == {"A": 2, "B": 2}
    assert "TRTSDT" in table.population


def test_term_table_counts_subjects_at_their_maximum_grade() -> None:
    data = derive_adae(AES, adsl(), window_days=28).data
    table = ae_term_table(data, adsl()).data
    # order: Neutropenia (3 subjects), Fatigue (2), Anaemia (1)
    assert table["AEDECOD"].drop_duplicates().tolist() == ["Neutropenia", "Fatigue", "Anaemia"]
    row = table[(table["AEDECOD"] == "Neutropenia") & (table["ARMCD"] == "A")].iloc[0]
    assert (row["N_ANY"], row["N_G3"], row["N_G4"], row["N_G3PLUS"]) == (2, 1, 1, 2)
    assert row["N_G2"] == 0  # S1's grade 2 is superseded by its grade 3
    assert row["PCT_ANY"] == 100.0
    row = table[(table["AEDECOD"] == "Neutropenia") & (table["ARMCD"] == "B")].iloc[0]
    assert (row["BIGN"], row["N_ANY"], row["N_G1"], row["PCT_ANY"]) == (2, 1, 1, 50.0)
    soc = ae_term_table(data, adsl(), by="AEBODSYS").data
    assert set(soc.columns[:2]) == {"AEBODSYS", "ARMCD"}


def test_max_grade_by_frame_from_disk_without_arm() -> None:
    data = derive_adae(AES, adsl(), window_days=28).data.drop(columns="ARMCD")
    out = max_grade_by(data, "AEDECOD")
    assert list(out.columns) == ["USUBJID", "AEDECOD", "MAXGR", "NEVENTS"]


def test_result_is_data() -> None:
    result = derive_adae(AES, adsl(), window_days=28)
    doc = result.to_dict()
    assert doc["window_days"] == 28
    assert doc["data"][0]["ASTDT"] == "2024-02-01"
    assert "treatment-emergent" in result.summary()
    assert any("TRTEMFL" in line for line in result.explain("S1"))


# --------------------------------------------------------------------------- bad input


def test_bad_grade_names_dataset_row_column_value() -> None:
    frame = pd.DataFrame([ae_row("S1", "2024-02-01"), ae_row("S1", "2024-02-02", AETOXGR=6)])
    with pytest.raises(DataError) as err:
        derive_adae(frame, adsl(), window_days=28)
    assert err.value.details["dataset"] == "AE"
    assert err.value.details["row"] == 2
    assert err.value.details["column"] == "AETOXGR"
    assert err.value.details["value"] == "6"
    assert "valid: 1-5" in err.value.message


@pytest.mark.parametrize(
    ("change", "column", "problem"),
    [
        ({"AESER": "X"}, "AESER", "not valid"),
        ({"AEACN": "STOPPED"}, "AEACN", "not valid"),
        ({"AESTDTC": "2024-03"}, "AESTDTC", "not a full date"),
        ({"AEENDTC": "2024-01-31"}, "AEENDTC", "before AESTDTC"),
        ({"USUBJID": "S9"}, "USUBJID", "not a subject of ADSL"),
        ({"AETOXGR": 2.5}, "AETOXGR", "not a CTCAE grade"),
        ({"AETOXGR": None}, "AETOXGR", "not a CTCAE grade"),
    ],
)
def test_bad_cells(change: dict[str, object], column: str, problem: str) -> None:
    frame = pd.DataFrame([ae_row("S1", "2024-02-01", **change)])
    with pytest.raises(DataError) as err:
        derive_adae(frame, adsl(), window_days=28)
    assert err.value.details["column"] == column
    assert err.value.details["row"] == 1
    assert problem in err.value.message


def test_missing_column_and_repeated_seq() -> None:
    with pytest.raises(DataError, match="'AEACN' is missing"):
        derive_adae(
            pd.DataFrame([ae_row("S1", "2024-02-01")]).drop(columns="AEACN"), adsl(), window_days=1
        )
    frame = pd.DataFrame([ae_row("S1", "2024-02-01", AESEQ=1), ae_row("S1", "2024-02-03", AESEQ=1)])
    with pytest.raises(DataError, match="repeats row 1"):
        derive_adae(frame, adsl(), window_days=1)


def test_bad_adsl_and_window() -> None:
    frame = pd.DataFrame([ae_row("S1", "2024-02-01")])
    with pytest.raises(InputError, match="window_days"):
        derive_adae(frame, adsl(), window_days=-1)
    bad = adsl(TRTEDT=["2024-01-01", None, None, None, None])
    with pytest.raises(DataError) as err:
        derive_adae(frame, bad, window_days=28)
    assert (err.value.details["dataset"], err.value.details["column"]) == ("ADSL", "TRTEDT")
    assert "before TRTSDT 2024-01-10" in err.value.message
