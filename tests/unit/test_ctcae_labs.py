"""CTCAE v5.0 laboratory grades at the boundaries, in both unit systems.

Reference: NCI CTCAE v5.0 (2017). Each expected grade is read by hand off the v5.0 wording
quoted in the comment above its cases: "<1500 - 1000/mm3" means below 1500 and at least
1000, so exactly 1000 is still grade 2; ">3.0 - 5.0 x ULN" means above 3.0 x ULN and at most
5.0 x ULN, so exactly 3.0 x ULN is still grade 1.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrial.derive import ctcae_lab_terms, grade_labs
from oncotrial.errors import DataError


def lab(
    testcd: str,
    value: float | None,
    unit: str,
    lo: float | None,
    hi: float | None,
    baseline: float | None = None,
    subject: str = "S1",
) -> pd.DataFrame:
    rows = []
    if baseline is not None:
        rows.append(
            dict(
                USUBJID=subject,
                LBTESTCD=testcd,
                LBSTRESN=baseline,
                LBSTRESU=unit,
                LBSTNRLO=lo,
                LBSTNRHI=hi,
                LBBLFL="Y",
            )
        )
    rows.append(
        dict(
            USUBJID=subject,
            LBTESTCD=testcd,
            LBSTRESN=value,
            LBSTRESU=unit,
            LBSTNRLO=lo,
            LBSTNRHI=hi,
            LBBLFL=None,
        )
    )
    return pd.DataFrame(rows)


def grade(*args: object, **kw: object) -> int | None:
    return grade_labs(lab(*args, **kw)).grades[-1].grade  # type: ignore[arg-type]


# Neutrophil count decreased: 1 <LLN - 1500/mm3; <LLN - 1.5 x 10e9 /L. 2 <1500 - 1000/mm3;
# <1.5 - 1.0 x 10e9 /L. 3 <1000 - 500/mm3; <1.0 - 0.5 x 10e9 /L. 4 <500/mm3; <0.5 x 10e9 /L
NEUT = [(2.0, 0), (1.99, 1), (1.5, 1), (1.49, 2), (1.0, 2), (0.99, 3), (0.5, 3), (0.49, 4)]


@pytest.mark.parametrize(("value", "expected"), NEUT)
def test_neutrophils_si_and_conventional(value: float, expected: int) -> None:
    assert grade("NEUT", value, "10^9/L", 2.0, 7.5) == expected
    assert grade("NEUT", round(value * 1000), "/mm3", 2000, 7500) == expected
    assert grade("NEUT", value, "10^3/uL", 2.0, 7.5) == expected


def test_absolute_grades_do_not_depend_on_lln() -> None:
    # grade 2 is "<1500 - 1000/mm3" with no reference to the LLN: 1400/mm3 is grade 2 even
    # when the laboratory's LLN is 1300/mm3; grade 1 needs "<LLN": 1350 >= 1300 is not.
    assert grade("NEUT", 1400, "/mm3", 1300, 7000) == 2
    assert grade("NEUT", 1600, "/mm3", 1300, 7000) == 0


# White blood cell decreased: 1 <LLN - 3000/mm3; 2 <3000 - 2000; 3 <2000 - 1000; 4 <1000
WBC = [(4.0, 0), (3.0, 1), (2.9, 2), (2.0, 2), (1.9, 3), (1.0, 3), (0.9, 4)]


@pytest.mark.parametrize(("value", "expected"), WBC)
def test_white_cells(value: float, expected: int) -> None:
    assert grade("WBC", value, "10^9/L", 4.0, 10.0) == expected
    assert grade("WBC", round(value * 1000), "/mm3", 4000, 10000) == expected


# Platelet count decreased: 1 <LLN - 75,000/mm3; <LLN - 75.0 x 10e9 /L. 2 <75,000 - 50,000;
# 3 <50,000 - 25,000; 4 <25,000/mm3; <25.0 x 10e9 /L
PLAT = [(150, 0), (75, 1), (74.9, 2), (50, 2), (49.9, 3), (25, 3), (24.9, 4)]


@pytest.mark.parametrize(("value", "expected"), PLAT)
def test_platelets(value: float, expected: int) -> None:
    assert grade("PLAT", value, "10^9/L", 150, 400) == expected
    assert grade("PLAT", round(value * 1000), "/mm3", 150000, 400000) == expected


# Anemia: 1 Hgb <LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L. 2 <10.0 - 8.0 g/dL;
# <6.2 - 4.9 mmol/L; <100 - 80g/L. 3 <8.0 g/dL; <4.9 mmol/L; <80 g/L. (4 and 5 clinical)
@pytest.mark.parametrize(
    ("value", "unit", "lln", "expected"),
    [
        (12.0, "g/dL", 12.0, 0),
        (10.0, "g/dL", 12.0, 1),
        (9.9, "g/dL", 12.0, 2),
        (8.0, "g/dL", 12.0, 2),
        (7.9, "g/dL", 12.0, 3),
        (4.0, "g/dL", 12.0, 3),
        (100, "g/L", 120, 1),
        (99, "g/L", 120, 2),
        (80, "g/L", 120, 2),
        (79, "g/L", 120, 3),
        # CTCAE's own mmol/L numbers: 6.2 is grade 1 (not "<6.2") although 6.2 mmol/L is
        # 9.99 g/dL; 4.9 is grade 2
        (6.2, "mmol/L", 7.4, 1),
        (6.1, "mmol/L", 7.4, 2),
        (4.9, "mmol/L", 7.4, 2),
        (4.8, "mmol/L", 7.4, 3),
    ],
)
def test_anemia(value: float, unit: str, lln: float, expected: int) -> None:
    assert grade("HGB", value, unit, lln, lln + 5) == expected


# ALT/AST increased: 1 >ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if
# baseline was abnormal. 2 >3.0 - 5.0 x ULN / >3.0 - 5.0 x baseline. 3 >5.0 - 20.0 x ULN /
# >5.0 - 20.0 x baseline. 4 >20.0 x ULN / >20.0 x baseline.
@pytest.mark.parametrize("testcd", ["ALT", "AST"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [(40, 0), (41, 1), (120, 1), (121, 2), (200, 2), (201, 3), (800, 3), (801, 4)],
)
def test_transaminases_baseline_normal(testcd: str, value: float, expected: int) -> None:
    # ULN 40: 3.0 x = 120, 5.0 x = 200, 20.0 x = 800; baseline 30 is normal
    assert grade(testcd, value, "U/L", 0, 40, baseline=30) == expected
    assert grade(testcd, value, "U/L", 0, 40) == expected  # no baseline: assumed normal


@pytest.mark.parametrize("testcd", ["ALT", "AST"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [(89, 0), (90, 1), (180, 1), (181, 2), (300, 2), (301, 3), (1200, 3), (1201, 4)],
)
def test_transaminases_baseline_abnormal(testcd: str, value: float, expected: int) -> None:
    # baseline 60 > ULN 40 is abnormal: 1.5 x = 90, 3.0 x = 180, 5.0 x = 300, 20.0 x = 1200
    assert grade(testcd, value, "U/L", 0, 40, baseline=60) == expected


# GGT (and ALP) increased: 1 >ULN - 2.5 x ULN if baseline was normal; 2.0 - 2.5 x baseline if
# baseline was abnormal. 2 >2.5 - 5.0 x. 3 >5.0 - 20.0 x. 4 >20.0 x.
@pytest.mark.parametrize("testcd", ["GGT", "ALP"])
def test_ggt_alp(testcd: str) -> None:
    uln = 60  # 2.5 x = 150, 5.0 x = 300, 20.0 x = 1200
    normal = [(60, 0), (61, 1), (150, 1), (151, 2), (300, 2), (301, 3), (1200, 3), (1201, 4)]
    for value, expected in normal:
        assert grade(testcd, value, "U/L", 0, uln, baseline=40) == expected, value
    # baseline 100 abnormal: 2.0 x = 200, 2.5 x = 250, 5.0 x = 500, 20.0 x = 2000
    abnormal = [(199, 0), (200, 1), (250, 1), (251, 2), (500, 2), (501, 3), (2001, 4)]
    for value, expected in abnormal:
        assert grade(testcd, value, "U/L", 0, uln, baseline=100) == expected, value


# Blood bilirubin increased: 1 >ULN - 1.5 x ULN if baseline was normal; > 1.0 - 1.5 x
# baseline if baseline was abnormal. 2 >1.5 - 3.0 x. 3 >3.0 - 10.0 x. 4 >10.0 x.
@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.2, 0), (1.21, 1), (1.8, 1), (1.81, 2), (3.6, 2), (3.61, 3), (12.0, 3), (12.1, 4)],
)
def test_bilirubin_mg_dl(value: float, expected: int) -> None:
    # ULN 1.2 mg/dL: 1.5 x = 1.8 exactly (binary floating point would give 1.7999...)
    assert grade("BILI", value, "mg/dL", 0.1, 1.2, baseline=0.5) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(21, 0), (31.5, 1), (31.6, 2), (63, 2), (63.1, 3), (210, 3), (211, 4)],
)
def test_bilirubin_umol_l(value: float, expected: int) -> None:
    # ULN 21 umol/L: 1.5 x = 31.5, 3.0 x = 63, 10.0 x = 210
    assert grade("BILI", value, "umol/L", 3, 21) == expected


def test_bilirubin_baseline_abnormal() -> None:
    # baseline 2.0 > ULN 1.2: > 1.0 x = 2.0, 1.5 x = 3.0, 3.0 x = 6.0, 10.0 x = 20.0
    cases = [(2.0, 0), (2.1, 1), (3.0, 1), (3.1, 2), (6.0, 2), (6.1, 3), (20.0, 3), (20.1, 4)]
    for value, expected in cases:
        assert grade("BILI", value, "mg/dL", 0.1, 1.2, baseline=2.0) == expected, value


# Creatinine increased: 1 >ULN - 1.5 x ULN. 2 >1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN.
# 3 >3.0 x baseline; >3.0 - 6.0 x ULN. 4 >6.0 x ULN.
@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.2, 0), (1.3, 1), (1.8, 1), (1.81, 2), (3.6, 2), (3.61, 3), (7.2, 3), (7.21, 4)],
)
def test_creatinine_uln(value: float, expected: int) -> None:
    # ULN 1.2: 1.5 x = 1.8, 3.0 x = 3.6, 6.0 x = 7.2; no baseline
    assert grade("CREAT", value, "mg/dL", 0.6, 1.2) == expected


def test_creatinine_baseline_multiples() -> None:
    # baseline 0.5, ULN 1.2: >1.5 x baseline = >0.75 is grade 2 even below ULN;
    # >3.0 x baseline = >1.5 is grade 3
    cases = [(0.75, 0), (0.76, 2), (1.5, 2), (1.51, 3), (7.21, 4)]
    for value, expected in cases:
        assert grade("CREAT", value, "mg/dL", 0.6, 1.2, baseline=0.5) == expected, value


@pytest.mark.parametrize(
    ("value", "expected"),
    [(106, 0), (159, 1), (160, 2), (318, 2), (319, 3), (636, 3), (637, 4)],
)
def test_creatinine_umol_l(value: float, expected: int) -> None:
    # ULN 106 umol/L: 1.5 x = 159, 3.0 x = 318, 6.0 x = 636
    assert grade("CREAT", value, "umol/L", 45, 106) == expected


def test_creatinine_baseline_in_other_unit() -> None:
    # baseline 44.2 umol/L = 0.5 mg/dL (44.2 / 88.4); 0.76 mg/dL > 1.5 x 0.5 -> grade 2
    frame = pd.DataFrame(
        [
            dict(
                USUBJID="S1",
                LBTESTCD="CREAT",
                LBSTRESN=44.2,
                LBSTRESU="umol/L",
                LBSTNRLO=45,
                LBSTNRHI=106,
                LBBLFL="Y",
            ),
            dict(
                USUBJID="S1",
                LBTESTCD="CREAT",
                LBSTRESN=0.76,
                LBSTRESU="mg/dL",
                LBSTNRLO=0.5,
                LBSTNRHI=1.2,
                LBBLFL=None,
            ),
        ]
    )
    result = grade_labs(frame).grades[1]
    assert result.baseline == pytest.approx(0.5, rel=1e-15) and result.grade == 2


# --------------------------------------------------------------------------- traces, results


def test_trace_sentences() -> None:
    g = grade_labs(lab("NEUT", 0.8, "10^9/L", 2.0, 7.5)).grades[0]
    assert g.trace == "NEUT 0.8 10^9/L = 800 /mm3: < 1000 /mm3 and not < 500 /mm3 -> grade 3"
    g = grade_labs(lab("ALT", 120, "U/L", 0, 40, baseline=30)).grades[1]
    assert g.trace == (
        "ALT 120 U/L (baseline 30 U/L normal): > ULN (40 U/L) and not "
        "> 3.0 x ULN (120 U/L) -> grade 1"
    )
    g = grade_labs(lab("ALT", 20, "U/L", 0, 40)).grades[0]
    assert g.trace == "ALT 20 U/L (baseline missing: assumed normal): not > ULN (40 U/L) -> grade 0"


def test_baseline_record_is_graded_on_uln() -> None:
    result = grade_labs(lab("ALT", 100, "U/L", 0, 40, baseline=60))
    base, post = result.grades
    assert base.is_baseline and base.grade == 1  # 60 > ULN 40, not > 120
    assert post.baseline_abnormal is True and post.grade == 1  # 100 >= 1.5 x 60 = 90
    worst = result.worst()
    assert worst.to_dict("records") == [
        {
            "USUBJID": "S1",
            "LBTESTCD": "ALT",
            "TERM": "Alanine aminotransferase increased",
            "WORST_GRADE": 1,
        }
    ]


def test_missing_value_or_limit() -> None:
    assert grade("NEUT", None, "10^9/L", 2.0, 7.5) is None
    assert grade("NEUT", 0.8, "10^9/L", None, None) == 3  # LLN not needed for grade 3
    g = grade_labs(lab("NEUT", 1.8, "10^9/L", None, 7.5)).grades[0]
    assert g.grade is None and "LLN missing" in g.trace  # grade 0 or 1 cannot be told


def test_unit_spellings_and_ignored_tests() -> None:
    assert grade("NEUT", 0.5, "x10E9/L", 2.0, 7.5) == 3
    assert grade("BILI", 31.6, "µmol/L", 3, 21) == 2
    frame = pd.concat(
        [lab("NEUT", 0.5, "10^9/L", 2.0, 7.5), lab("SODIUM", 130, "mmol/L", 135, 145)]
    )
    result = grade_labs(frame)
    assert result.ignored_tests == ("SODIUM",) and len(result.grades) == 1
    assert list(result.to_frame()["GRADE"]) == [3]


def test_criteria_file_has_every_required_term() -> None:
    terms = ctcae_lab_terms()
    assert {"NEUT", "WBC", "HGB", "PLAT", "ALT", "AST", "GGT", "BILI", "CREAT"} <= set(terms)
    assert terms["NEUT"].grades[1].text == "<1500 - 1000/mm3; <1.5 - 1.0 x 10e9 /L"
    assert [r.grade for r in terms["HGB"].grades] == [1, 2, 3]


# --------------------------------------------------------------------------- bad input


def test_bad_input_names_row_column_value() -> None:
    frame = lab("NEUT", 0.8, "10^9/L", 2.0, 7.5).drop(columns="LBSTNRHI")
    with pytest.raises(DataError, match="required column 'LBSTNRHI' is missing"):
        grade_labs(frame)
    frame = pd.concat([lab("NEUT", 0.8, "10^9/L", 2.0, 7.5), lab("NEUT", "<0.1", "10^9/L", 2, 7)])
    with pytest.raises(DataError, match=r"column 'LBSTRESN', row 2: value '<0.1' is not a number"):
        grade_labs(frame.reset_index(drop=True))
    with pytest.raises(
        DataError,
        match=r"column 'LBSTRESU', row 1: value 'mg/dL' is not a unit "
        r"of NEUT",
    ) as info:
        grade_labs(lab("NEUT", 0.8, "mg/dL", 2.0, 7.5))
    assert "10^9/L" in info.value.details["valid"]
    frame = pd.concat([lab("ALT", 30, "U/L", 0, 40, baseline=30)] * 2).reset_index(drop=True)
    with pytest.raises(DataError, match=r"row 3: value 'Y' marks a second baseline of ALT"):
        grade_labs(frame)


# --------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 3000), st.integers(0, 3000))
def test_neutrophil_grade_never_rises_with_the_count(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert grade("NEUT", lo, "/mm3", 1800, 7500) >= grade("NEUT", hi, "/mm3", 1800, 7500)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3000), st.integers(1, 3000), st.integers(10, 100))
def test_alt_grade_never_falls_as_value_rises(a: int, b: int, base: int) -> None:
    lo, hi = sorted((a, b))
    assert grade("ALT", lo, "U/L", 0, 40, baseline=base) <= grade(
        "ALT", hi, "U/L", 0, 40, baseline=base
    )
