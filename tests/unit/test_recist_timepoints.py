"""RECIST 1.1 time-point responses, hand-worked from the guideline text.

Reference: Eisenhauer EA et al., Eur J Cancer 2009;45:228-247 ("RECIST 1.1"). Every expected
value below was worked out by hand from the section or table row cited next to it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from oncotrial.derive import lookup_overall, timepoint_responses
from oncotrial.errors import DataError

BASE = "2024-01-10"


def visit(
    date: str,
    targets: dict[str, tuple[str, float | None] | tuple[str, float | None, str]] | None = None,
    non_targets: dict[str, str] | None = None,
    new: dict[str, str] | None = None,
    subject: str = "S1",
) -> list[dict[str, object]]:
    """TR rows of one assessment: targets id -> (TRTESTCD, mm[, TRSTRESC])."""
    rows: list[dict[str, object]] = []
    for lesion, spec in (targets or {}).items():
        status = spec[2] if len(spec) == 3 else None  # type: ignore[misc]
        rows.append(
            dict(
                USUBJID=subject,
                ADT=date,
                TRLNKID=lesion,
                TRGRPID="TARGET",
                TRTESTCD=spec[0],
                TRSTRESN=spec[1],
                TRSTRESC=status,
            )
        )
    for lesion, status in (non_targets or {}).items():
        rows.append(
            dict(
                USUBJID=subject,
                ADT=date,
                TRLNKID=lesion,
                TRGRPID="NON-TARGET",
                TRTESTCD="TUMSTATE",
                TRSTRESN=None,
                TRSTRESC=status,
            )
        )
    for lesion, status in (new or {}).items():
        rows.append(
            dict(
                USUBJID=subject,
                ADT=date,
                TRLNKID=lesion,
                TRGRPID="NEW",
                TRTESTCD="TUMSTATE",
                TRSTRESN=None,
                TRSTRESC=status,
            )
        )
    return rows


def frame(*visits: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame([row for v in visits for row in v])


def responses(*visits: list[dict[str, object]]):
    return timepoint_responses(frame(*visits)).responses


# --------------------------------------------------------------------------- Table 1 and 2

# RECIST 1.1 Table 1, each guideline row expanded into the codes it covers:
# "Non-PD" = CR or NON-CR/NON-PD; "not all evaluated" = NE; ND = no non-target lesion.
TABLE1 = [
    # row "CR | CR | No | CR"
    ("CR", "CR", "N", "CR"),
    ("CR", "ND", "N", "CR"),  # no non-target disease: nothing left, read as CR (our choice)
    # row "CR | Non-CR/non-PD | No | PR"
    ("CR", "NON-CR/NON-PD", "N", "PR"),
    # row "CR | Not evaluated | No | PR"
    ("CR", "NE", "N", "PR"),
    # row "PR | Non-PD or not all evaluated | No | PR"
    ("PR", "CR", "N", "PR"),
    ("PR", "NON-CR/NON-PD", "N", "PR"),
    ("PR", "NE", "N", "PR"),
    ("PR", "ND", "N", "PR"),
    # row "SD | Non-PD or not all evaluated | No | SD"
    ("SD", "CR", "N", "SD"),
    ("SD", "NON-CR/NON-PD", "N", "SD"),
    ("SD", "NE", "N", "SD"),
    ("SD", "ND", "N", "SD"),
    # row "Not all evaluated | Non-PD | No | NE"
    ("NE", "CR", "N", "NE"),
    ("NE", "NON-CR/NON-PD", "N", "NE"),
    ("NE", "NE", "N", "NE"),
    ("NE", "ND", "N", "NE"),
    # row "PD | Any | Yes or No | PD"
    *[("PD", nt, new, "PD") for nt in ("CR", "NON-CR/NON-PD", "PD", "NE", "ND") for new in "YN"],
    # row "Any | PD | Yes or No | PD"
    *[(t, "PD", new, "PD") for t in ("CR", "PR", "SD", "NE") for new in "YN"],
    # row "Any | Any | Yes | PD"
    *[
        (t, nt, "Y", "PD")
        for t in ("CR", "PR", "SD", "NE")
        for nt in ("CR", "NON-CR/NON-PD", "NE", "ND")
    ],
]

# RECIST 1.1 Table 2 (non-target disease only)
TABLE2 = [
    ("CR", "N", "CR"),  # row "CR | No | CR"
    ("NON-CR/NON-PD", "N", "NON-CR/NON-PD"),  # row "Non-CR/non-PD | No | Non-CR/non-PD"
    ("NE", "N", "NE"),  # row "Not all evaluated | No | NE"
    ("PD", "N", "PD"),  # row "Unequivocal PD | Yes or No | PD"
    ("PD", "Y", "PD"),
    ("CR", "Y", "PD"),  # row "Any | Yes | PD"
    ("NON-CR/NON-PD", "Y", "PD"),
    ("NE", "Y", "PD"),
]


def test_table1_covers_all_fifty_combinations_once() -> None:
    assert len({(t, nt, n) for t, nt, n, _ in TABLE1}) == 50 == len(TABLE1)


@pytest.mark.parametrize(("target", "non_target", "new", "expected"), TABLE1)
def test_table1_lookup(target: str, non_target: str, new: str, expected: str) -> None:
    assert lookup_overall(target, non_target, new).overall == expected


@pytest.mark.parametrize(("non_target", "new", "expected"), TABLE2)
def test_table2_lookup(non_target: str, new: str, expected: str) -> None:
    row = lookup_overall(None, non_target, new)
    assert row.overall == expected
    assert row.table == "table2"


# --------------------------------------------------------------------------- target lesions


def test_sum_pr_exactly_30_percent_and_sd_just_above() -> None:
    # section 4.3.1 PR: "at least a 30% decrease in the sum of diameters of target lesions,
    # taking as reference the baseline sum". Baseline 60 + 40 = 100 mm.
    base = visit(BASE, {"T1": ("LDIAM", 60), "T2": ("LDIAM", 40)})
    r = responses(
        base,
        visit("2024-03-01", {"T1": ("LDIAM", 42), "T2": ("LDIAM", 28)}),
        visit("2024-04-26", {"T1": ("LDIAM", 43), "T2": ("LDIAM", 28)}),
    )
    assert r[0].sum_diameters == 70.0 and r[0].baseline_sum == 100.0
    assert r[0].pchg_baseline == pytest.approx(-30.0, abs=1e-12)
    assert r[0].target_response == "PR"  # 70 = 0.7 x 100: a 30% decrease
    assert r[0].overall_response == "PR"  # Table 1 row "PR | Non-PD... | No"; ND non-target
    # second assessment: 71 mm is -29% from baseline; nadir 70, +1 mm: SD (section 4.3.1)
    assert r[1].sum_diameters == 71.0 and r[1].nadir == 70.0
    assert r[1].pchg_nadir == pytest.approx(100 * 1 / 70, rel=1e-12)
    assert r[1].target_response == "SD"


def test_pd_needs_5_mm_absolute_increase() -> None:
    # section 4.3.1 PD: ">= 20% increase in the sum ... taking as reference the smallest sum
    # on study ... the sum must also demonstrate an absolute increase of at least 5 mm".
    base = visit(BASE, {"T1": ("LDIAM", 20)})
    r = responses(base, visit("2024-03-01", {"T1": ("LDIAM", 24)}))
    assert r[0].pchg_nadir == pytest.approx(20.0, abs=1e-12)  # 20% but only +4 mm
    assert r[0].target_response == "SD"
    r = responses(base, visit("2024-03-01", {"T1": ("LDIAM", 25)}))  # +25%, +5 mm
    assert r[0].target_response == "PD" and r[0].overall_response == "PD"


def test_pd_is_measured_from_the_nadir_not_the_baseline() -> None:
    # baseline 100, then 50 (PR, nadir 50), then 60: +20% and +10 mm over the nadir -> PD
    # although still -40% from baseline (section 4.3.1, "smallest sum on study").
    base = visit(BASE, {"T1": ("LDIAM", 100)})
    r = responses(
        base, visit("2024-03-01", {"T1": ("LDIAM", 50)}), visit("2024-04-26", {"T1": ("LDIAM", 60)})
    )
    assert [x.target_response for x in r] == ["PR", "PD"]
    assert r[1].nadir == 50.0 and r[1].chg_nadir_mm == 10.0
    assert r[1].pchg_baseline == pytest.approx(-40.0, abs=1e-12)


def test_node_at_9_mm_short_axis_counts_as_normal_for_cr() -> None:
    # section 4.3.1 CR: "Any pathological lymph nodes ... must have reduction in short axis
    # to <10 mm"; section 4.3.2: the node's short axis stays in the sum, so the sum is 9 mm.
    base = visit(BASE, {"T1": ("LDIAM", 30), "N1": ("LPERP", 20)}, {"NT1": "PRESENT"})
    r = responses(
        base, visit("2024-03-01", {"T1": ("LDIAM", 0), "N1": ("LPERP", 9)}, {"NT1": "ABSENT"})
    )
    assert r[0].sum_diameters == 9.0
    assert r[0].target_response == "CR"
    assert r[0].overall_response == "CR"  # Table 1 row "CR | CR | No | CR"


def test_node_at_10_mm_is_not_cr() -> None:
    # 10 mm is not < 10 mm: not CR; sum 10 vs baseline 50 is -80% -> PR (section 4.3.1)
    base = visit(BASE, {"T1": ("LDIAM", 30), "N1": ("LPERP", 20)})
    r = responses(base, visit("2024-03-01", {"T1": ("LDIAM", 0), "N1": ("LPERP", 10)}))
    assert r[0].target_response == "PR"


def test_nodal_flag_chooses_short_axis_when_both_axes_are_recorded() -> None:
    # a node recorded with LDIAM 25 and LPERP 15: the short axis (15) is its measure
    rows = frame(
        visit(BASE, {"N1": ("LPERP", 15)}),
        visit(BASE, {"N1": ("LDIAM", 25)}),
        visit("2024-03-01", {"N1": ("LPERP", 8)}),
        visit("2024-03-01", {"N1": ("LDIAM", 12)}),
    )
    rows["NODFL"] = "Y"
    result = timepoint_responses(rows)
    assert result.baselines[0].baseline_sum == 15.0
    assert result.responses[0].target_response == "CR"  # 8 mm < 10 mm short axis


def test_too_small_to_measure_counts_5_mm() -> None:
    # section 4.3.2: a lesion "too small to measure" gets a default value of 5 mm
    base = visit(BASE, {"T1": ("LDIAM", 40), "T2": ("LDIAM", 20)})
    r = responses(
        base,
        visit("2024-03-01", {"T1": ("LDIAM", 20), "T2": ("LDIAM", None, "TOO SMALL TO MEASURE")}),
    )
    assert r[0].sum_diameters == 25.0  # 20 + 5
    assert r[0].target_response == "PR"


def test_missing_target_lesion_gives_ne_unless_pd() -> None:
    # section 4.4.2: a subset measured is NE unless the measured lesions already show PD
    base = visit(BASE, {"T1": ("LDIAM", 30), "T2": ("LDIAM", 20)}, {"NT1": "PRESENT"})
    r = responses(
        base, visit("2024-03-01", {"T1": ("LDIAM", 10), "T2": ("LDIAM", None)}, {"NT1": "PRESENT"})
    )
    assert r[0].target_response == "NE" and r[0].sum_diameters is None
    assert r[0].measured_sum == 10.0 and r[0].n_target_measured == 1
    assert r[0].overall_response == "NE"  # Table 1 row "Not all evaluated | Non-PD | No | NE"
    # T1 alone 60 mm >= 1.2 x 50 and +10 mm: PD whatever T2 is
    r = responses(base, visit("2024-03-01", {"T1": ("LDIAM", 60)}, {"NT1": "PRESENT"}))
    assert r[0].target_response == "PD" and r[0].overall_response == "PD"


def test_incomplete_assessment_does_not_lower_the_nadir() -> None:
    # nadir = smallest *sum* on study; a partial sum is no sum. 50 -> partial 10 -> 60:
    # nadir stays 50, 60 is +20% and +10 mm -> PD.
    base = visit(BASE, {"T1": ("LDIAM", 30), "T2": ("LDIAM", 20)})
    r = responses(
        base,
        visit("2024-03-01", {"T1": ("LDIAM", 10)}),
        visit("2024-04-26", {"T1": ("LDIAM", 35), "T2": ("LDIAM", 25)}),
    )
    assert r[1].nadir == 50.0 and r[1].target_response == "PD"


# --------------------------------------------------------------------------- non-target, new


def test_cr_target_with_non_target_not_evaluated_is_pr() -> None:
    # Table 1 row "CR | Not evaluated | No | PR"
    base = visit(BASE, {"T1": ("LDIAM", 30)}, {"NT1": "PRESENT"})
    r = responses(base, visit("2024-03-01", {"T1": ("LDIAM", 0)}, {"NT1": "NE"}))
    assert (r[0].target_response, r[0].non_target_response) == ("CR", "NE")
    assert r[0].overall_response == "PR"


def test_cr_target_with_non_target_present_is_pr() -> None:
    # Table 1 row "CR | Non-CR/non-PD | No | PR"
    base = visit(BASE, {"T1": ("LDIAM", 30)}, {"NT1": "PRESENT", "NT2": "PRESENT"})
    r = responses(
        base, visit("2024-03-01", {"T1": ("LDIAM", 0)}, {"NT1": "ABSENT", "NT2": "PRESENT"})
    )
    assert r[0].non_target_response == "NON-CR/NON-PD" and r[0].overall_response == "PR"


def test_non_target_missing_at_follow_up_is_not_evaluated() -> None:
    base = visit(BASE, {"T1": ("LDIAM", 30)}, {"NT1": "PRESENT", "NT2": "PRESENT"})
    r = responses(base, visit("2024-03-01", {"T1": ("LDIAM", 29)}, {"NT1": "PRESENT"}))
    assert r[0].non_target_response == "NE"
    assert r[0].overall_response == "SD"  # Table 1 "SD | Non-PD or not all evaluated | No"


def test_unequivocal_non_target_progression_is_pd() -> None:
    # section 4.3.3 and Table 1 row "Any | PD | Yes or No | PD"
    base = visit(BASE, {"T1": ("LDIAM", 30)}, {"NT1": "PRESENT"})
    r = responses(
        base, visit("2024-03-01", {"T1": ("LDIAM", 15)}, {"NT1": "UNEQUIVOCAL PROGRESSION"})
    )
    assert (r[0].target_response, r[0].non_target_response, r[0].overall_response) == (
        "PR",
        "PD",
        "PD",
    )


def test_new_lesion_is_pd_and_equivocal_is_not() -> None:
    # section 4.3.5 and Table 1 row "Any | Any | Yes | PD"; an equivocal finding is not PD
    base = visit(BASE, {"T1": ("LDIAM", 30)})
    r = responses(base, visit("2024-03-01", {"T1": ("LDIAM", 0)}, new={"NEW1": "PRESENT"}))
    assert (r[0].target_response, r[0].new_lesion, r[0].overall_response) == ("CR", True, "PD")
    r = responses(base, visit("2024-03-01", {"T1": ("LDIAM", 0)}, new={"NEW1": "EQUIVOCAL"}))
    assert (r[0].new_lesion, r[0].overall_response) == (False, "CR")


def test_non_target_only_disease_uses_table2() -> None:
    base = visit(BASE, non_targets={"NT1": "PRESENT", "NT2": "PRESENT"})
    r = responses(
        base,
        visit("2024-03-01", non_targets={"NT1": "PRESENT", "NT2": "ABSENT"}),  # row 2
        visit("2024-04-26", non_targets={"NT1": "ABSENT", "NT2": "ABSENT"}),  # row 1
        visit("2024-06-21", non_targets={"NT1": "ABSENT", "NT2": "NE"}),  # row 3
        visit(
            "2024-08-16", non_targets={"NT1": "ABSENT", "NT2": "ABSENT"}, new={"NEW1": "PRESENT"}
        ),  # row "Any | Yes | PD"
    )
    assert [x.overall_response for x in r] == ["NON-CR/NON-PD", "CR", "NE", "PD"]
    assert all(x.target_response is None and x.table_row.startswith("Table 2") for x in r)


# --------------------------------------------------------------------------- result object


def test_trace_states_sums_threshold_and_table_row() -> None:
    base = visit(BASE, {"T1": ("LDIAM", 60), "T2": ("LDIAM", 40)})
    r = responses(base, visit("2024-03-01", {"T1": ("LDIAM", 42), "T2": ("LDIAM", 28)}))
    assert r[0].trace.startswith(
        "target: sum 70 mm (baseline 100, nadir 100): -30.0% from baseline (<= -30%) -> PR"
    )
    assert r[0].trace.endswith("Table 1 row 4 -> PR")
    assert r[0].table_row == "Table 1 row 4"


def test_frame_and_json_round_trip() -> None:
    base = visit(BASE, {"T1": ("LDIAM", 60)})
    result = timepoint_responses(frame(base, visit("2024-03-01", {"T1": ("LDIAM", 30)})))
    table = result.to_frame()
    assert list(table["OVERALL_RESPONSE"]) == ["PR"]
    assert table.loc[0, "PCHG_BASELINE"] == pytest.approx(-50.0, abs=1e-12)
    assert result.to_dict()["responses"][0]["adt"] == "2024-03-01"
    assert "S1 2024-03-01 PR" in result.summary()


def test_ablfl_marks_the_baseline() -> None:
    rows = frame(
        visit("2024-01-01", {"T1": ("LDIAM", 90)}),
        visit(BASE, {"T1": ("LDIAM", 60)}),
        visit("2024-03-01", {"T1": ("LDIAM", 40)}),
    )
    rows["ABLFL"] = ["N", "Y", "N"]
    with pytest.raises(DataError, match=r"row 1: value '2024-01-01' is before the baseline"):
        timepoint_responses(rows)
    result = timepoint_responses(rows.iloc[1:])
    assert result.baselines[0].baseline_sum == 60.0
    assert result.responses[0].target_response == "PR"  # 40 / 60 = -33%


# --------------------------------------------------------------------------- bad input


def test_missing_column_is_named() -> None:
    rows = frame(visit(BASE, {"T1": ("LDIAM", 60)})).drop(columns="TRSTRESN")
    with pytest.raises(DataError, match="required column 'TRSTRESN' is missing") as info:
        timepoint_responses(rows)
    assert info.value.details["column"] == "TRSTRESN"


def test_non_numeric_measurement_names_row_and_value() -> None:
    rows = frame(visit(BASE, {"T1": ("LDIAM", 60)}), visit("2024-03-01", {"T1": ("LDIAM", 30)}))
    rows["TRSTRESN"] = rows["TRSTRESN"].astype(object)
    rows.loc[1, "TRSTRESN"] = "3O"
    with pytest.raises(DataError, match=r"column 'TRSTRESN', row 2: value '3O' is not a number"):
        timepoint_responses(rows)


def test_unknown_lesion_class_names_row_and_value() -> None:
    rows = frame(visit(BASE, {"T1": ("LDIAM", 60)}), visit(BASE, {"T2": ("LDIAM", 10)}))
    rows.loc[1, "TRGRPID"] = "MEASURABLE"
    with pytest.raises(DataError, match=r"column 'TRGRPID', row 2: value 'MEASURABLE'") as info:
        timepoint_responses(rows)
    assert info.value.details["row"] == 2 and info.value.details["value"] == "MEASURABLE"
    assert "NON-TARGET" in info.value.message


def test_negative_measurement_and_bad_status_are_rejected() -> None:
    rows = frame(visit(BASE, {"T1": ("LDIAM", -1)}))
    with pytest.raises(DataError, match="row 1: value -1 is below"):
        timepoint_responses(rows)
    rows = frame(visit(BASE, {"T1": ("LDIAM", 10)}, {"NT1": "SMALLER"}))
    with pytest.raises(DataError, match=r"row 2: value 'SMALLER' is not a valid NON-TARGET"):
        timepoint_responses(rows)


def test_target_lesion_appearing_after_baseline_must_be_new() -> None:
    rows = frame(
        visit(BASE, {"T1": ("LDIAM", 60)}),
        visit("2024-03-01", {"T1": ("LDIAM", 60), "T9": ("LDIAM", 5)}),
    )
    with pytest.raises(DataError, match=r"row 3: value 'T9' is a TARGET lesion not recorded"):
        timepoint_responses(rows)


def test_missing_baseline_measurement_and_duplicates_are_rejected() -> None:
    with pytest.raises(DataError, match="missing for baseline target lesion 'T1'"):
        timepoint_responses(frame(visit(BASE, {"T1": ("LDIAM", None)})))
    rows = frame(visit(BASE, {"T1": ("LDIAM", 60)}), visit(BASE, {"T1": ("LDIAM", 61)}))
    with pytest.raises(DataError, match="row 2: value 'T1' repeats row 1"):
        timepoint_responses(rows)


def test_subject_without_baseline_disease_is_rejected() -> None:
    rows = frame(visit(BASE, new={"NEW1": "PRESENT"}))
    with pytest.raises(DataError, match="not possible at baseline"):
        timepoint_responses(rows)
