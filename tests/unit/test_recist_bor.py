"""RECIST 1.1 best overall response, hand-worked from section 4.4.3 / Table 3 and 4.6.1.

Reference date 2024-01-01 in every case below; "day" is days after it. Each expected BOR was
derived by hand from the cited table row or section, never from the code's output.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrial.derive import (
    best_overall_response,
    clinical_benefit,
    timepoint_responses,
)
from oncotrial.errors import DataError, InputError

REF = dt.date(2024, 1, 1)


def on(day: int) -> str:
    return (REF + dt.timedelta(days=day)).isoformat()


def rs(*points: tuple[int, str], subject: str = "S1") -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(USUBJID=subject, ADT=on(day), AVALC=resp, TRTSDT=REF.isoformat())
            for day, resp in points
        ]
    )


def bor(*points: tuple[int, str], **kw: object):
    return best_overall_response(rs(*points), **kw).subjects[0]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Table 3

# RECIST 1.1 Table 3 "Best overall response when confirmation of CR and PR required".
# First time point on day 56 (>= 42: SD minimum met) or day 35 (< 42: not met); the
# subsequent time point 35 days later (>= 28: a confirmation interval).
TABLE3 = [
    # first, subsequent, BOR if SD minimum met, BOR otherwise
    ("CR", "CR", "CR", "CR"),  # row "CR | CR | CR"
    ("CR", "SD", "SD", "PD"),  # row "CR | SD | SD provided minimum ... met, otherwise PD"
    ("CR", "PD", "SD", "PD"),  # row "CR | PD | SD provided minimum ... met, otherwise PD"
    ("CR", "NE", "SD", "NE"),  # row "CR | NE | SD provided minimum ... met, otherwise NE"
    ("PR", "CR", "PR", "PR"),  # row "PR | CR | PR"
    ("PR", "PR", "PR", "PR"),  # row "PR | PR | PR"
    ("PR", "PD", "SD", "PD"),  # row "PR | PD | SD provided minimum ... met, otherwise PD"
    ("PR", "NE", "SD", "NE"),  # row "PR | NE | SD provided minimum ... met, otherwise NE"
    ("NE", "NE", "NE", "NE"),  # row "NE | NE | NE"
]


@pytest.mark.parametrize(("first", "second", "met", "not_met"), TABLE3)
def test_table3_rows(first: str, second: str, met: str, not_met: str) -> None:
    assert bor((56, first), (91, second), confirm=True).bor == met
    assert bor((35, first), (70, second), confirm=True).bor == not_met


def test_table3_pr_then_sd_is_sd() -> None:
    # row "PR | SD | SD": the PR is not confirmed, disease stable at day >= 42
    assert bor((56, "PR"), (91, "SD"), confirm=True).bor == "SD"


def test_table3_cr_then_pr_footnote_a() -> None:
    # row "CR | PR | SD, PD or PR" with footnote (a). Default: the original CR is changed to
    # PR, so CR then PR 35 days later is a confirmed PR.
    s = bor((56, "CR"), (91, "PR"), confirm=True)
    assert s.bor == "PR" and s.confirmed
    assert "CR on 2024-02-26 read as PR" in s.trace
    # Alternative reading: the PR after a CR is disease reappearing, i.e. PD; then BOR is SD
    # when the SD minimum was met at the CR (day 56) and PD otherwise (day 35).
    assert bor((56, "CR"), (91, "PR"), confirm=True, cr_followed_by_pr="pd").bor == "SD"
    assert bor((35, "CR"), (70, "PR"), confirm=True, cr_followed_by_pr="pd").bor == "PD"


# --------------------------------------------------------------------------- confirmation


def test_confirmation_trace_sentence() -> None:
    s = bor((56, "SD"), (116, "PR"), (151, "PR"), confirm=True)
    assert s.bor == "PR" and s.confirmed and s.bor_date == dt.date(2024, 4, 26)
    assert s.trace == "PR on 2024-04-26 confirmed by PR on 2024-05-31 (35 days >= 28)"


def test_confirmation_interval_is_inclusive_at_28_days() -> None:
    # section 4.6.1: "no less than 4 weeks after the criteria for response are first met"
    assert bor((56, "PR"), (84, "PR"), confirm=True).bor == "PR"  # 28 days
    s = bor((56, "PR"), (83, "PR"), confirm=True)  # 27 days: not confirmed, SD (day 56 >= 42)
    assert s.bor == "SD" and not s.confirmed
    assert bor((56, "CR"), (83, "CR"), confirm=True).bor == "SD"
    assert bor((56, "PR"), (70, "PR"), (90, "PR"), confirm=True).bor == "PR"  # 56 -> 90


def test_pr_then_pd_before_confirmation() -> None:
    # Table 3 row "PR | PD": SD if the PR (day 49) met the 42-day minimum, else PD (day 35)
    assert bor((49, "PR"), (70, "PD"), confirm=True).bor == "SD"
    assert bor((35, "PR"), (56, "PD"), confirm=True).bor == "PD"


def test_ne_between_two_prs() -> None:
    # PR day 56, NE day 84, PR day 112: confirmed with one NE allowed between (default)
    s = bor((56, "PR"), (84, "NE"), (112, "PR"), confirm=True)
    assert s.bor == "PR"
    assert s.trace == (
        "PR on 2024-02-26 confirmed by PR on 2024-04-22 (56 days >= 28), "
        "1 NE between (<= 1 allowed)"
    )
    # no NE allowed: the PR is not confirmed, SD since day 56 >= 42
    assert bor((56, "PR"), (84, "NE"), (112, "PR"), confirm=True, max_ne_between=0).bor == "SD"


def test_sd_between_breaks_confirmation() -> None:
    # PR, SD, PR: Table 3 row "PR | SD" - the first PR is not confirmed by the later PR;
    # the second PR (day 112) has no confirmation either -> SD
    assert bor((56, "PR"), (84, "SD"), (112, "PR"), confirm=True).bor == "SD"


def test_cr_confirmed_after_pr() -> None:
    # PR day 56, CR day 91, CR day 126: CR confirmed (35 days)
    s = bor((56, "PR"), (91, "CR"), (126, "CR"), confirm=True)
    assert s.bor == "CR" and s.bor_date == dt.date(2024, 4, 1)


def test_assessments_after_pd_are_ignored() -> None:
    # best response is taken "until disease progression": PR day 56, PD day 70, PR day 98
    s = bor((56, "PR"), (70, "PD"), (98, "PR"), confirm=True)
    assert s.bor == "SD"
    assert "1 assessment(s) after PD on 2024-03-11 ignored" in s.trace
    assert bor((30, "SD"), (70, "PD"), (98, "CR")).bor == "PD"


# --------------------------------------------------------------------------- SD minimum


def test_sd_minimum_duration_boundary() -> None:
    # section 4.6.1: SD must be met "at least once after study entry at a minimum interval"
    assert bor((42, "SD")).bor == "SD"  # day 42 >= 42
    s = bor((41, "SD"))
    assert s.bor == "NE"  # too short, no PD: inevaluable (section 4.4.3 example)
    assert "day 41 after reference (< 42)" in s.trace
    assert bor((41, "SD"), min_sd_days=56).bor == "NE"
    assert bor((56, "SD"), min_sd_days=56).bor == "SD"


def test_sd_too_short_then_pd_is_pd() -> None:
    # section 4.4.3: "SD at first assessment, PD at second and does not meet minimum duration
    # for SD, will have a best response of PD"
    s = bor((30, "SD"), (60, "PD"))
    assert s.bor == "PD" and s.bor_date == dt.date(2024, 3, 1)


def test_unconfirmed_best_is_best_time_point() -> None:
    # section 4.4.3 example: "SD at first assessment, PR at second assessment, and PD on last
    # assessment has a best overall response of PR" (no confirmation required)
    s = bor((42, "SD"), (84, "PR"), (126, "PD"))
    assert s.bor == "PR" and not s.confirmed and s.bor_date == dt.date(2024, 3, 25)
    # the same sequence requiring confirmation: PR unconfirmed -> SD
    assert bor((42, "SD"), (84, "PR"), (126, "PD"), confirm=True).bor == "SD"


def test_no_assessment_after_reference_is_ne() -> None:
    s = bor((0, "SD"), (-5, "PR"))
    assert s.bor == "NE" and "2 assessment(s) on or before reference" in s.trace


def test_non_target_only_disease_reports_non_cr_non_pd() -> None:
    # Table 2 footnote a: Non-CR/non-PD is preferred over SD for non-target disease
    assert bor((56, "NON-CR/NON-PD"), (91, "NON-CR/NON-PD")).bor == "NON-CR/NON-PD"
    assert bor((30, "NON-CR/NON-PD"), (60, "PD")).bor == "PD"


# --------------------------------------------------------------------------- clinical benefit


def test_clinical_benefit_24_weeks() -> None:
    frames = pd.concat(
        [
            rs((56, "SD"), (168, "SD"), subject="A"),  # SD at day 168 = 24 weeks: benefit
            rs((56, "SD"), (167, "SD"), (200, "PD"), subject="B"),  # last SD day 167: none
            rs((56, "PR"), (91, "PR"), subject="C"),  # confirmed PR: benefit
            rs((56, "PR"), (180, "PD"), subject="D"),  # unconfirmed PR, no SD at 168: none
        ]
    )
    result = best_overall_response(frames, confirm=True)
    cbr = clinical_benefit(result)
    assert [s.benefit for s in cbr.subjects] == [True, False, True, False]
    assert cbr.n_benefit == 2 and cbr.cbr_days == 168
    assert cbr.subjects[0].trace == "SD on 2024-06-17 is day 168 (>= 168) -> benefit"
    assert [s.benefit for s in clinical_benefit(result, cbr_days=160).subjects] == [
        True,
        True,
        True,
        False,
    ]


# --------------------------------------------------------------------------- lesion pipeline


def test_bor_from_lesion_measurements() -> None:
    # baseline 2024-01-01 sum 50; day 56 sum 30 (-40%, PR); day 91 sum 28 (PR); confirmed PR
    rows = []
    for day, value in ((0, 50), (56, 30), (91, 28)):
        rows.append(
            dict(
                USUBJID="S1",
                ADT=on(day),
                TRLNKID="T1",
                TRGRPID="TARGET",
                TRTESTCD="LDIAM",
                TRSTRESN=value,
            )
        )
    tp = timepoint_responses(pd.DataFrame(rows))
    s = best_overall_response(tp, confirm=True).subjects[0]
    assert s.bor == "PR" and s.reference_date == REF
    assert s.trace == "PR on 2024-02-26 confirmed by PR on 2024-04-01 (35 days >= 28)"
    result = best_overall_response(tp, confirm=True, reference_dates={"S1": "2023-12-20"})
    assert result.subjects[0].reference_date == dt.date(2023, 12, 20)
    assert result.source == "lesions"
    assert list(result.to_frame()["BOR"]) == ["PR"]


# --------------------------------------------------------------------------- bad input


def test_bad_response_code_names_row_and_value() -> None:
    frame = rs((56, "PR"), (91, "VGPR"))
    with pytest.raises(DataError, match=r"column 'AVALC', row 2: value 'VGPR' is not valid"):
        best_overall_response(frame)


def test_missing_reference_and_column() -> None:
    frame = rs((56, "PR")).drop(columns="TRTSDT")
    with pytest.raises(DataError, match="has no reference date"):
        best_overall_response(frame)
    assert best_overall_response(frame, reference_dates={"S1": REF}).subjects[0].bor == "PR"
    with pytest.raises(DataError, match="required column 'AVALC' is missing"):
        best_overall_response(frame.drop(columns="AVALC"))


def test_bad_parameters() -> None:
    with pytest.raises(InputError, match="confirmation_days"):
        best_overall_response(rs((56, "PR")), confirmation_days=-1)
    with pytest.raises(InputError, match="cr_followed_by_pr"):
        best_overall_response(rs((56, "PR")), cr_followed_by_pr="sd")  # type: ignore[arg-type]


def test_duplicate_assessment_date_is_rejected() -> None:
    with pytest.raises(DataError, match="row 2: value '2024-02-26' repeats row 1"):
        best_overall_response(rs((56, "PR"), (56, "SD")))


# --------------------------------------------------------------------------- properties

RESP = st.sampled_from(["CR", "PR", "SD", "PD", "NE"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 400), RESP), min_size=1, max_size=6, unique_by=lambda x: x[0])
)
def test_confirmation_never_improves_bor(points: list[tuple[int, str]]) -> None:
    rank = {"CR": 5, "PR": 4, "SD": 3, "NON-CR/NON-PD": 3, "PD": 2, "NE": 1}
    plain = bor(*points).bor
    confirmed = bor(*points, confirm=True).bor
    assert rank[confirmed] <= rank[plain] or (plain, confirmed) == ("NE", "PD")
