"""ADAE: AEs that start before the first dose and worsen on treatment, and AE dates imputed
from partial values (first dose, death and data-cut rules). Hand-made subjects; every
expected flag and date is read off the calendar.

Subject S1: first dose 2024-01-10 (study day 1), last dose 2024-05-01, window 28 days, so
the last day of the treatment-emergent window is 2024-05-29 (May has 31 days: 1 + 28).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from oncotrial.derive.contracts import RAW, conform
from oncotrial.derive.options import DerivationOptions, load_options
from oncotrial.derive.safety import derive_adae
from oncotrial.errors import DataError

D = dt.date.fromisoformat
WINDOW = 28


def adsl() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": ["S1", "S2", "S3"],
            "ARMCD": ["A", "A", "B"],
            "TRTSDT": ["2024-01-10", "2024-03-05", None],
            "TRTEDT": ["2024-05-01", None, None],
            "DTHDT": [None, "2024-06-12", None],
        }
    )


def ae(rows: list[tuple[str, str | None, int, str, str | None]]) -> pd.DataFrame:
    """(USUBJID, AEGRPID, grade, AESTDTC, AEENDTC) -> an AE frame, one term per group."""
    return pd.DataFrame(
        [
            {
                "USUBJID": u,
                "AEGRPID": g,
                "AEDECOD": f"Term {g}" if g else "Alone",
                "AEBODSYS": "SOC",
                "AETOXGR": grade,
                "AESTDTC": start,
                "AEENDTC": end,
                "AESER": "N",
                "AEREL": "N",
                "AEACN": "DOSE NOT CHANGED",
            }
            for u, g, grade, start, end in rows
        ]
    )


def flags(frame: pd.DataFrame, **kw: object) -> list[str]:
    return derive_adae(frame, adsl(), window_days=WINDOW, **kw).data["TRTEMFL"].tolist()  # type: ignore[arg-type]


# --------------------------------------------------------------------------- worsening


def test_pre_treatment_ae_that_never_worsens_is_not_emergent() -> None:
    frame = ae(
        [
            ("S1", "G1", 2, "2024-01-01", "2024-01-14"),  # before first dose
            ("S1", "G1", 2, "2024-01-15", "2024-01-31"),  # same grade on treatment
            ("S1", "G1", 1, "2024-02-01", None),  # better
        ]
    )
    assert flags(frame) == ["N", "N", "N"]
    # without grouping each record stands alone: the on-treatment ones are new AEs
    assert flags(frame, options=DerivationOptions(group_by="none")) == ["N", "Y", "Y"]


def test_worsens_on_day_5_is_emergent_from_that_record_on() -> None:
    frame = ae(
        [
            ("S1", "G2", 1, "2024-01-03", "2024-01-13"),  # grade 1 before first dose
            ("S1", "G2", 3, "2024-01-14", "2024-01-31"),  # day 5: worse
            ("S1", "G2", 2, "2024-02-01", None),  # later record, less severe, still TE
        ]
    )
    result = derive_adae(frame, adsl(), window_days=WINDOW)
    assert result.data["TRTEMFL"].tolist() == ["N", "Y", "Y"]
    assert result.data["ASTDY"].tolist() == [-7, 5, 23]
    text = [t.text for t in result.traces if t.variable == "TRTEMFL"]
    assert text[1].startswith(
        "worsening: grade 3 > grade 1 at first dose 2024-01-10 (AESEQ 1, onset 2024-01-03) "
        "of AE group 'G2'"
    )
    assert "worsened on treatment at AESEQ 2" in text[2]


def test_worsening_after_the_window_is_not_emergent() -> None:
    frame = ae(
        [
            ("S1", "G3", 1, "2024-01-05", "2024-05-29"),
            ("S1", "G3", 3, "2024-05-30", None),  # day after 2024-05-29
            ("S1", "G4", 1, "2024-01-05", "2024-05-28"),
            ("S1", "G4", 3, "2024-05-29", None),  # last day of the window, inclusive
        ]
    )
    assert flags(frame) == ["N", "N", "N", "Y"]


def test_reference_is_the_grade_at_first_dose() -> None:
    frame = ae(
        [
            # improves on treatment, comes back to its first-dose grade: not worse
            ("S1", "G5", 2, "2024-01-01", "2024-01-19"),
            ("S1", "G5", 1, "2024-01-20", "2024-02-09"),
            ("S1", "G5", 2, "2024-02-10", "2024-02-29"),
            ("S1", "G5", 3, "2024-03-01", None),
            # improved before first dose: grade 2 on treatment is worse than 1
            ("S1", "G6", 3, "2023-12-01", "2024-01-04"),
            ("S1", "G6", 1, "2024-01-05", "2024-01-31"),
            ("S1", "G6", 2, "2024-02-01", None),
        ]
    )
    assert flags(frame) == ["N", "N", "N", "Y", "N", "N", "Y"]


def test_groups_starting_on_treatment_follow_the_onset_rule() -> None:
    frame = ae(
        [
            ("S1", "G7", 1, "2024-01-12", "2024-01-20"),
            ("S1", "G7", 1, "2024-01-21", None),
            ("S1", None, 2, "2024-01-02", None),  # alone, before first dose
            ("S3", "G8", 1, "2024-01-01", None),  # never dosed
            ("S3", "G8", 3, "2024-02-01", None),
        ]
    )
    result = derive_adae(frame, adsl(), window_days=WINDOW)
    assert result.data["TRTEMFL"].tolist() == ["Y", "Y", "N", "N", "N"]
    alone = [t.text for t in result.traces if t.variable == "TRTEMFL"][2]
    assert alone.endswith("(worsening of a pre-treatment AE is not assessed)")
    assert result.data["AEGRPID"].tolist() == ["G7", "G7", None, "G8", "G8"]


def test_group_by_preferred_term() -> None:
    frame = ae(
        [
            ("S1", None, 1, "2024-01-03", "2024-01-13"),
            ("S1", None, 3, "2024-01-14", None),
        ]
    )
    assert flags(frame) == ["N", "Y"]  # alone: the second record is a new AE
    frame["AEDECOD"] = ["Rash", "Rash"]
    frame.loc[1, "AETOXGR"] = 1
    assert flags(frame) == ["N", "Y"]
    assert flags(frame, options=load_options({"treatment_emergent": {"group_by": "AEDECOD"}})) == [
        "N",
        "N",
    ]


# --------------------------------------------------------------------------- partial dates


def read_ae(frame: pd.DataFrame, options: DerivationOptions) -> pd.DataFrame:
    """The frame as the reader gives it: partial values kept where imputation is set."""
    raw = frame.assign(AETERM=frame["AEDECOD"]).astype({"AETOXGR": str})
    return conform(raw, RAW["AE"], partial=options.levels("AE"))


MONTH = load_options(
    {
        "date_imputation": {
            "AE.AESTDTC": {"highest_imputation": "M"},
            "AE.AEENDTC": {"highest_imputation": "M"},
        }
    }
)


def test_onset_not_before_first_dose_when_the_month_allows() -> None:
    frame = ae(
        [
            ("S1", None, 1, "2024-01", None),  # January holds the first dose 2024-01-10
            ("S1", None, 1, "2023-12", None),  # December cannot be on/after it
            ("S1", None, 1, "2024", None),  # 2024 holds it too
            ("S1", None, 1, "2024-02", None),  # February: first day, after the dose
            ("S1", None, 1, "2024-01-05", None),  # full date: never moved
        ]
    )
    result = derive_adae(read_ae(frame, MONTH), adsl(), window_days=WINDOW, options=MONTH)
    data = result.data
    assert [d.isoformat() for d in data["ASTDT"]] == [
        "2024-01-10",
        "2023-12-01",
        "2024-01-10",
        "2024-02-01",
        "2024-01-05",
    ]
    assert data["ASTDTF"].tolist() == ["D", "D", "M", "D", None]
    assert data["TRTEMFL"].tolist() == ["Y", "N", "Y", "Y", "N"]
    assert "AENDTF" in data.columns and data["AENDTF"].isna().all()
    trace = next(t for t in result.traces if t.variable == "ASTDT")
    assert (trace.key, trace.value) == ("AESEQ 1 Alone", "2024-01-10")
    assert trace.text == (
        "AESTDTC '2024-01' (day missing) -> first day of the month: 2024-01-01; raised to "
        "first dose TRTSDT 2024-01-10 (not before it) (ASTDTF = D)"
    )


def test_end_imputed_last_and_capped_at_death_and_cut() -> None:
    # S2 died 2024-06-12 (DTHDT in ADSL); first dose 2024-03-05, still on treatment
    frame = ae(
        [
            ("S2", None, 2, "2024-05-20", "2024-06"),  # June: cap at death 06-12
            ("S2", None, 2, "2024-04-02", "2024-04"),  # April 30, death not in April
            ("S2", None, 2, "2024-04-10", "2024"),  # month missing: death in 2024
            ("S1", None, 2, "2024-02-10", "2024-02"),  # 2024 leap year: 02-29
            ("S1", None, 2, "2024-02-20", "2024-02"),
        ]
    )
    raw = read_ae(frame, MONTH)
    data = derive_adae(raw, adsl(), window_days=WINDOW, options=MONTH).data
    # ADAE is sorted by USUBJID, AESEQ: the S1 records come first
    assert [d.isoformat() for d in data["AENDT"]] == [
        "2024-02-29",
        "2024-02-29",
        "2024-06-12",
        "2024-04-30",
        "2024-06-12",
    ]
    assert data["AENDTF"].tolist() == ["D", "D", "D", "D", "M"]
    # a cut on 2024-02-25 keeps the S1 records (onsets 02-10, 02-20): ends capped at it
    s1 = raw[raw["USUBJID"] == "S1"]
    cut = derive_adae(s1, adsl(), window_days=WINDOW, options=MONTH, cutoff=D("2024-02-25"))
    assert [d.isoformat() for d in cut.data["AENDT"]] == ["2024-02-25", "2024-02-25"]
    # a cut outside June leaves the death cap
    cut = derive_adae(raw, adsl(), window_days=WINDOW, options=MONTH, cutoff=D("2024-07-01"))
    assert cut.data["AENDT"].iloc[2].isoformat() == "2024-06-12"


def test_end_not_before_the_imputed_onset() -> None:
    options = load_options(
        {
            "date_imputation": {
                "AE.AESTDTC": {"highest_imputation": "M"},
                "AE.AEENDTC": {"highest_imputation": "M", "date_imputation": "first"},
            }
        }
    )
    frame = ae([("S1", None, 1, "2024-01", "2024-01")])
    data = derive_adae(read_ae(frame, options), adsl(), window_days=WINDOW, options=options).data
    # onset raised to the first dose 2024-01-10; end "first" 01-01 raised to the onset
    assert (data["ASTDT"].iloc[0], data["AENDT"].iloc[0]) == (D("2024-01-10"), D("2024-01-10"))


def test_missing_onset_at_level_y_is_the_first_dose() -> None:
    options = load_options({"date_imputation": {"AE.AESTDTC": {"highest_imputation": "Y"}}})
    frame = ae([("S1", None, 1, "", None), ("S3", None, 1, "", None)])
    result = derive_adae(read_ae(frame, options), adsl(), window_days=WINDOW, options=options)
    assert result.data["ASTDT"].tolist() == [D("2024-01-10"), None]
    assert result.data["ASTDTF"].tolist() == ["Y", None]
    assert result.data["TRTEMFL"].tolist() == ["Y", "N"]


def test_imputed_end_before_full_onset_is_an_error_naming_the_value() -> None:
    options = load_options(
        {"date_imputation": {"AE.AEENDTC": {"highest_imputation": "M", "date_imputation": "first"}}}
    )
    # onset 2024-03-05 is outside February, so the end stays 2024-02-01: before the onset
    frame = ae([("S1", None, 1, "2024-03-05", "2024-02")])
    with pytest.raises(DataError) as info:
        derive_adae(read_ae(frame, options), adsl(), window_days=WINDOW, options=options)
    assert info.value.details["value"] == "2024-02"
    assert info.value.details["column"] == "AEENDTC"


def test_nothing_changes_when_imputation_is_off() -> None:
    frame = ae(
        [
            ("S1", None, 1, "2024-01-03", "2024-01-13"),
            ("S1", None, 3, "2024-01-14", None),
            ("S2", None, 2, "2024-06-01", "2024-06-10"),
        ]
    ).drop(columns=["AEGRPID"])
    before = derive_adae(frame, adsl(), window_days=WINDOW)
    after = derive_adae(frame, adsl(), window_days=WINDOW, options=DerivationOptions())
    pd.testing.assert_frame_equal(before.data, after.data)
    assert before.traces == after.traces
    assert not {"ASTDTF", "AENDTF", "AEGRPID"} & set(after.data.columns)
