"""ADLB derivation: CTCAE v5.0 grade boundaries of every graded test in SI and conventional
units, baseline selection, worst post-baseline grade and shift (hand-worked).

Boundaries are read from the CTCAE v5.0 wording (NCI, 2017): "<1500 - 1000/mm3" is grade 2
for 1000 <= value < 1500; ">3.0 - 5.0 x ULN" is grade 2 for 3 x ULN < value <= 5 x ULN.
"""

from __future__ import annotations

import pandas as pd
import pytest

from oncotrial.derive.labs import derive_adlb, shift_table
from oncotrial.errors import DataError, InputError

# (LBTESTCD, value, unit, LLN, ULN, expected grade); one record per subject, on treatment,
# no baseline (baseline-dependent terms then use the "baseline normal" criteria)
BOUNDARIES = [
    # Neutrophil count decreased: <LLN-1500; <1500-1000; <1000-500; <500 /mm3
    ("NEUT", 2000, "/mm3", 2000, 7500, 0),
    ("NEUT", 1999, "/mm3", 2000, 7500, 1),
    ("NEUT", 1500, "/mm3", 2000, 7500, 1),
    ("NEUT", 1499, "/mm3", 2000, 7500, 2),
    ("NEUT", 1000, "/mm3", 2000, 7500, 2),
    ("NEUT", 999, "/mm3", 2000, 7500, 3),
    ("NEUT", 500, "/mm3", 2000, 7500, 3),
    ("NEUT", 499, "/mm3", 2000, 7500, 4),
    ("NEUT", 2.0, "10^9/L", 2.0, 7.5, 0),
    ("NEUT", 1.99, "10^9/L", 2.0, 7.5, 1),
    ("NEUT", 1.5, "10^9/L", 2.0, 7.5, 1),
    ("NEUT", 1.49, "10^9/L", 2.0, 7.5, 2),
    ("NEUT", 1.0, "10^9/L", 2.0, 7.5, 2),
    ("NEUT", 0.99, "10^9/L", 2.0, 7.5, 3),
    ("NEUT", 0.5, "10^9/L", 2.0, 7.5, 3),
    ("NEUT", 0.49, "10^9/L", 2.0, 7.5, 4),
    # White blood cell decreased: <LLN-3000; <3000-2000; <2000-1000; <1000 /mm3
    ("WBC", 4000, "/mm3", 4000, 10000, 0),
    ("WBC", 3000, "/mm3", 4000, 10000, 1),
    ("WBC", 2999, "/mm3", 4000, 10000, 2),
    ("WBC", 2000, "/mm3", 4000, 10000, 2),
    ("WBC", 1999, "/mm3", 4000, 10000, 3),
    ("WBC", 1000, "/mm3", 4000, 10000, 3),
    ("WBC", 999, "/mm3", 4000, 10000, 4),
    ("WBC", 3.0, "10^9/L", 4.0, 10.0, 1),
    ("WBC", 2.99, "10^9/L", 4.0, 10.0, 2),
    ("WBC", 2.0, "10^9/L", 4.0, 10.0, 2),
    ("WBC", 1.99, "10^9/L", 4.0, 10.0, 3),
    ("WBC", 1.0, "10^9/L", 4.0, 10.0, 3),
    ("WBC", 0.99, "10^9/L", 4.0, 10.0, 4),
    # Lymphocyte count decreased: <LLN-800; <800-500; <500-200; <200 /mm3
    ("LYM", 1000, "/mm3", 1000, 4000, 0),
    ("LYM", 800, "/mm3", 1000, 4000, 1),
    ("LYM", 799, "/mm3", 1000, 4000, 2),
    ("LYM", 500, "/mm3", 1000, 4000, 2),
    ("LYM", 499, "/mm3", 1000, 4000, 3),
    ("LYM", 200, "/mm3", 1000, 4000, 3),
    ("LYM", 199, "/mm3", 1000, 4000, 4),
    ("LYM", 0.8, "10^9/L", 1.0, 4.0, 1),
    ("LYM", 0.79, "10^9/L", 1.0, 4.0, 2),
    ("LYM", 0.5, "10^9/L", 1.0, 4.0, 2),
    ("LYM", 0.49, "10^9/L", 1.0, 4.0, 3),
    ("LYM", 0.2, "10^9/L", 1.0, 4.0, 3),
    ("LYM", 0.19, "10^9/L", 1.0, 4.0, 4),
    # Platelet count decreased: <LLN-75,000; <75,000-50,000; <50,000-25,000; <25,000 /mm3
    ("PLAT", 150000, "/mm3", 150000, 400000, 0),
    ("PLAT", 75000, "/mm3", 150000, 400000, 1),
    ("PLAT", 74999, "/mm3", 150000, 400000, 2),
    ("PLAT", 50000, "/mm3", 150000, 400000, 2),
    ("PLAT", 49999, "/mm3", 150000, 400000, 3),
    ("PLAT", 25000, "/mm3", 150000, 400000, 3),
    ("PLAT", 24999, "/mm3", 150000, 400000, 4),
    ("PLAT", 75, "10^9/L", 150, 400, 1),
    ("PLAT", 74.9, "10^9/L", 150, 400, 2),
    ("PLAT", 50, "10^9/L", 150, 400, 2),
    ("PLAT", 49.9, "10^9/L", 150, 400, 3),
    ("PLAT", 25, "10^9/L", 150, 400, 3),
    ("PLAT", 24.9, "10^9/L", 150, 400, 4),
    # Anemia: <LLN-10.0 g/dL (6.2 mmol/L, 100 g/L); <10.0-8.0 (<6.2-4.9, <100-80); <8.0
    ("HGB", 12.0, "g/dL", 12.0, 16.0, 0),
    ("HGB", 11.9, "g/dL", 12.0, 16.0, 1),
    ("HGB", 10.0, "g/dL", 12.0, 16.0, 1),
    ("HGB", 9.9, "g/dL", 12.0, 16.0, 2),
    ("HGB", 8.0, "g/dL", 12.0, 16.0, 2),
    ("HGB", 7.9, "g/dL", 12.0, 16.0, 3),
    ("HGB", 100, "g/L", 120, 160, 1),
    ("HGB", 99, "g/L", 120, 160, 2),
    ("HGB", 80, "g/L", 120, 160, 2),
    ("HGB", 79, "g/L", 120, 160, 3),
    ("HGB", 7.4, "mmol/L", 7.4, 9.9, 0),
    ("HGB", 6.2, "mmol/L", 7.4, 9.9, 1),
    ("HGB", 6.1, "mmol/L", 7.4, 9.9, 2),
    ("HGB", 4.9, "mmol/L", 7.4, 9.9, 2),
    ("HGB", 4.8, "mmol/L", 7.4, 9.9, 3),
    # ALT increased (baseline normal): >ULN-3.0xULN; >3.0-5.0; >5.0-20.0; >20.0 x ULN
    ("ALT", 40, "U/L", 0, 40, 0),
    ("ALT", 41, "U/L", 0, 40, 1),
    ("ALT", 120, "U/L", 0, 40, 1),
    ("ALT", 121, "U/L", 0, 40, 2),
    ("ALT", 200, "U/L", 0, 40, 2),
    ("ALT", 201, "U/L", 0, 40, 3),
    ("ALT", 800, "U/L", 0, 40, 3),
    ("ALT", 801, "U/L", 0, 40, 4),
    ("ALT", 0.5, "ukat/L", 0, 0.5, 0),
    ("ALT", 1.5, "ukat/L", 0, 0.5, 1),
    ("ALT", 1.51, "ukat/L", 0, 0.5, 2),
    ("ALT", 2.5, "ukat/L", 0, 0.5, 2),
    ("ALT", 2.51, "ukat/L", 0, 0.5, 3),
    ("ALT", 10, "ukat/L", 0, 0.5, 3),
    ("ALT", 10.01, "ukat/L", 0, 0.5, 4),
    # AST increased: same thresholds as ALT
    ("AST", 35, "U/L", 0, 35, 0),
    ("AST", 105, "U/L", 0, 35, 1),
    ("AST", 106, "U/L", 0, 35, 2),
    ("AST", 175, "U/L", 0, 35, 2),
    ("AST", 176, "U/L", 0, 35, 3),
    ("AST", 700, "U/L", 0, 35, 3),
    ("AST", 701, "U/L", 0, 35, 4),
    ("AST", 1.8, "ukat/L", 0, 0.6, 1),
    ("AST", 1.81, "ukat/L", 0, 0.6, 2),
    ("AST", 12, "ukat/L", 0, 0.6, 3),
    ("AST", 12.01, "ukat/L", 0, 0.6, 4),
    # GGT increased (baseline normal): >ULN-2.5xULN; >2.5-5.0; >5.0-20.0; >20.0 x ULN
    ("GGT", 60, "U/L", 0, 60, 0),
    ("GGT", 61, "U/L", 0, 60, 1),
    ("GGT", 150, "U/L", 0, 60, 1),
    ("GGT", 151, "U/L", 0, 60, 2),
    ("GGT", 300, "U/L", 0, 60, 2),
    ("GGT", 301, "U/L", 0, 60, 3),
    ("GGT", 1200, "U/L", 0, 60, 3),
    ("GGT", 1201, "U/L", 0, 60, 4),
    ("GGT", 2.5, "ukat/L", 0, 1.0, 1),
    ("GGT", 2.51, "ukat/L", 0, 1.0, 2),
    ("GGT", 5.0, "ukat/L", 0, 1.0, 2),
    ("GGT", 5.01, "ukat/L", 0, 1.0, 3),
    ("GGT", 20.01, "ukat/L", 0, 1.0, 4),
    # Alkaline phosphatase increased: as GGT
    ("ALP", 120, "U/L", 40, 120, 0),
    ("ALP", 300, "U/L", 40, 120, 1),
    ("ALP", 301, "U/L", 40, 120, 2),
    ("ALP", 600, "U/L", 40, 120, 2),
    ("ALP", 601, "U/L", 40, 120, 3),
    ("ALP", 2400, "U/L", 40, 120, 3),
    ("ALP", 2401, "U/L", 40, 120, 4),
    ("ALP", 5.0, "ukat/L", 0.5, 2.0, 1),
    ("ALP", 5.01, "ukat/L", 0.5, 2.0, 2),
    ("ALP", 40.01, "ukat/L", 0.5, 2.0, 4),
    # Blood bilirubin increased (baseline normal): >ULN-1.5; >1.5-3.0; >3.0-10.0; >10.0 x ULN
    ("BILI", 1.2, "mg/dL", 0.3, 1.2, 0),
    ("BILI", 1.21, "mg/dL", 0.3, 1.2, 1),
    ("BILI", 1.8, "mg/dL", 0.3, 1.2, 1),
    ("BILI", 1.81, "mg/dL", 0.3, 1.2, 2),
    ("BILI", 3.6, "mg/dL", 0.3, 1.2, 2),
    ("BILI", 3.61, "mg/dL", 0.3, 1.2, 3),
    ("BILI", 12, "mg/dL", 0.3, 1.2, 3),
    ("BILI", 12.01, "mg/dL", 0.3, 1.2, 4),
    ("BILI", 21, "umol/L", 5, 21, 0),
    ("BILI", 31.5, "umol/L", 5, 21, 1),
    ("BILI", 31.6, "umol/L", 5, 21, 2),
    ("BILI", 63, "umol/L", 5, 21, 2),
    ("BILI", 63.1, "umol/L", 5, 21, 3),
    ("BILI", 210, "umol/L", 5, 21, 3),
    ("BILI", 210.1, "umol/L", 5, 21, 4),
    # Creatinine increased (no baseline): >ULN-1.5; >1.5-3.0; >3.0-6.0; >6.0 x ULN
    ("CREAT", 1.1, "mg/dL", 0.5, 1.1, 0),
    ("CREAT", 1.65, "mg/dL", 0.5, 1.1, 1),
    ("CREAT", 1.66, "mg/dL", 0.5, 1.1, 2),
    ("CREAT", 3.3, "mg/dL", 0.5, 1.1, 2),
    ("CREAT", 3.31, "mg/dL", 0.5, 1.1, 3),
    ("CREAT", 6.6, "mg/dL", 0.5, 1.1, 3),
    ("CREAT", 6.61, "mg/dL", 0.5, 1.1, 4),
    ("CREAT", 90, "umol/L", 45, 90, 0),
    ("CREAT", 135, "umol/L", 45, 90, 1),
    ("CREAT", 136, "umol/L", 45, 90, 2),
    ("CREAT", 270, "umol/L", 45, 90, 2),
    ("CREAT", 271, "umol/L", 45, 90, 3),
    ("CREAT", 540, "umol/L", 45, 90, 3),
    ("CREAT", 541, "umol/L", 45, 90, 4),
]


def _boundary_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(BOUNDARIES)
    ids = [f"B{i:03d}" for i in range(n)]
    adsl = pd.DataFrame(
        {"USUBJID": ids, "ARMCD": "A", "TRTSDT": "2024-01-10", "TRTEDT": "2024-06-01"}
    )
    lb = pd.DataFrame(
        {
            "USUBJID": ids,
            "LBTESTCD": [b[0] for b in BOUNDARIES],
            "LBDTC": "2024-02-01",
            "LBSTRESN": [b[1] for b in BOUNDARIES],
            "LBSTRESU": [b[2] for b in BOUNDARIES],
            "LBSTNRLO": [b[3] for b in BOUNDARIES],
            "LBSTNRHI": [b[4] for b in BOUNDARIES],
        }
    )
    return lb, adsl


def test_every_graded_test_has_boundaries_in_both_unit_systems() -> None:
    from oncotrial.derive.ctcae import ctcae_lab_terms

    units_seen: dict[str, set[str]] = {}
    for testcd, _, unit, *_ in BOUNDARIES:
        units_seen.setdefault(testcd, set()).add(unit)
    assert set(units_seen) == set(ctcae_lab_terms())
    assert all(len(u) >= 2 for u in units_seen.values()), units_seen


def test_grade_boundaries_through_adlb() -> None:
    lb, adsl = _boundary_frames()
    data = derive_adlb(lb, adsl).data
    assert len(data) == len(BOUNDARIES)
    got = [(r.LBTESTCD, r.AVAL, r.AVALU, int(r.ATOXGR)) for r in data.itertuples()]
    expected = [(b[0], float(b[1]), b[2], b[5]) for b in BOUNDARIES]
    mismatches = [(g, e) for g, e in zip(got, expected, strict=True) if g != e]
    assert not mismatches
    assert (data["ONTRTFL"] == "Y").all() and data["BTOXGR"].isna().all()


# baseline abnormal (ALT baseline 60 > ULN 40): 1.5-3.0 x baseline; >3.0-5.0; >5.0-20.0; >20.0
@pytest.mark.parametrize(
    ("value", "expected"),
    [(89, 0), (90, 1), (180, 1), (181, 2), (300, 2), (301, 3), (1200, 3), (1201, 4)],
)
def test_alt_baseline_abnormal(value: float, expected: int) -> None:
    adsl = pd.DataFrame(
        {"USUBJID": ["S1"], "ARMCD": ["A"], "TRTSDT": ["2024-01-10"], "TRTEDT": [None]}
    )
    lb = pd.DataFrame(
        {
            "USUBJID": "S1",
            "LBTESTCD": "ALT",
            "LBDTC": ["2024-01-08", "2024-02-01"],
            "LBSTRESN": [60, value],
            "LBSTRESU": "U/L",
            "LBSTNRLO": 0,
            "LBSTNRHI": 40,
        }
    )
    result = derive_adlb(lb, adsl)
    assert result.data["ATOXGR"].tolist() == [1, expected]  # baseline itself: 60 > ULN -> 1
    assert result.shifts["SHIFT"].tolist() == [f"1 to {expected}"]


# --------------------------------------------------------------------------- baseline, worst


def _adsl() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": ["S1", "S2", "S3"],
            "ARMCD": ["A", "B", "B"],
            "TRTSDT": ["2024-01-10", "2024-01-10", None],
            "TRTEDT": ["2024-03-01", None, None],
        }
    )


def _lb(rows: list[tuple[str, str, str, float, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["USUBJID", "LBTESTCD", "LBDTC", "LBSTRESN", "LBBLFL"])
    return frame.assign(LBSTRESU="10^9/L", LBSTNRLO=2.0, LBSTNRHI=7.5)


def test_baseline_flag_wins_over_the_last_pre_dose_value() -> None:
    lb = _lb(
        [
            ("S1", "NEUT", "2024-01-02", 1.8, "Y"),  # flagged: grade 1
            ("S1", "NEUT", "2024-01-09", 3.0, ""),  # later pre-dose, not flagged
            ("S1", "NEUT", "2024-02-01", 0.9, ""),  # grade 3
        ]
    )
    result = derive_adlb(lb, _adsl())
    assert result.data["ABLFL"].tolist() == ["Y", "N", "N"]
    assert result.data["ONTRTFL"].tolist() == ["N", "N", "Y"]
    assert result.shifts.iloc[0][["BTOXGR", "WTOXGR", "SHIFT"]].tolist() == [1, 3, "1 to 3"]


def test_baseline_derived_as_last_value_on_or_before_first_dose() -> None:
    lb = _lb(
        [
            ("S1", "NEUT", "2024-01-02", 1.8, ""),
            ("S1", "NEUT", "2024-01-10", 3.0, ""),  # on the first-dose day: baseline
            ("S1", "NEUT", "2024-01-11", 1.4, ""),  # first post-baseline: grade 2
            ("S1", "NEUT", "2024-03-29", 0.4, ""),  # last dose + 28: grade 4
            ("S1", "NEUT", "2024-03-30", 0.1, ""),  # last dose + 29
        ]
    ).drop(columns="LBBLFL")
    within = derive_adlb(lb, _adsl(), window_days=28)
    assert within.data["ABLFL"].tolist() == ["N", "Y", "N", "N", "N"]
    assert within.data["ONTRTFL"].tolist() == ["N", "N", "Y", "Y", "N"]
    assert within.shifts.iloc[0][["BTOXGR", "WTOXGR"]].tolist() == [0, 4]
    assert str(within.shifts.iloc[0]["WTOXDT"]) == "2024-03-29"
    explained = "\n".join(within.explain("S1"))
    assert "last value on or before first dose 2024-01-10" in explained
    assert "after last dose 2024-03-01 + 28 days = 2024-03-29" in explained
    unbounded = derive_adlb(lb, _adsl())
    assert unbounded.data["ONTRTFL"].tolist() == ["N", "N", "Y", "Y", "Y"]


def test_untreated_subject_and_missing_baseline() -> None:
    lb = _lb(
        [
            ("S2", "NEUT", "2024-02-01", 0.9, ""),  # S2: no pre-dose record -> no baseline
            ("S3", "NEUT", "2024-02-01", 0.3, ""),  # S3 never dosed
        ]
    )
    result = derive_adlb(lb, _adsl())
    shifts = result.shifts.set_index("USUBJID")
    assert pd.isna(shifts.loc["S2", "BTOXGR"]) and shifts.loc["S2", "WTOXGR"] == 3
    assert shifts.loc["S2", "SHIFT"] == "missing to 3"
    assert pd.isna(shifts.loc["S3", "WTOXGR"])
    table = shift_table(result.shifts)
    assert table.to_dict(orient="records") == [
        {"LBTESTCD": "NEUT", "ARMCD": "B", "BTOXGR": "missing", "WTOXGR": "3", "N": 1},
        {"LBTESTCD": "NEUT", "ARMCD": "B", "BTOXGR": "missing", "WTOXGR": "missing", "N": 1},
    ]


def test_trace_per_grade() -> None:
    lb = _lb([("S1", "NEUT", "2024-02-01", 0.8, "")])
    result = derive_adlb(lb, _adsl())
    [trace] = [t for t in result.traces if t.variable == "ATOXGR"]
    assert trace.text.startswith(
        "NEUT 0.8 10^9/L = 800 /mm3: < 1000 /mm3 and not < 500 /mm3 -> grade 3"
    )
    assert trace.key == "NEUT 2024-02-01 row 1"


# --------------------------------------------------------------------------- bad input


def test_bad_input_names_dataset_row_column_value() -> None:
    lb = _lb([("S1", "NEUT", "2024-02-01", 0.8, ""), ("S9", "NEUT", "2024-02-01", 0.8, "")])
    with pytest.raises(DataError) as err:
        derive_adlb(lb, _adsl())
    assert (err.value.details["dataset"], err.value.details["row"]) == ("LB", 2)
    assert (err.value.details["column"], err.value.details["value"]) == ("USUBJID", "S9")

    lb = _lb([("S1", "NEUT", "2024-02", 0.8, "")])
    with pytest.raises(DataError, match="column 'LBDTC', row 1: value '2024-02'"):
        derive_adlb(lb, _adsl())

    lb = _lb([("S1", "NEUT", "2024-01-01", 3, "Y"), ("S1", "NEUT", "2024-01-02", 3, "Y")])
    with pytest.raises(DataError, match="second baseline of NEUT"):
        derive_adlb(lb, _adsl())

    lb = _lb([("S1", "NEUT", "2024-02-01", 0.8, "")]).assign(LBSTRESU="mg")
    with pytest.raises(DataError) as err:
        derive_adlb(lb, _adsl())
    assert err.value.details["column"] == "LBSTRESU"

    with pytest.raises(InputError):
        derive_adlb(_lb([("S1", "NEUT", "2024-02-01", 0.8, "")]), _adsl(), window_days=-3)
