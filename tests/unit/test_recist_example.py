"""A three-subject TR file worked through by hand (tests/data/recist/tr_three_subjects.csv).

101: baseline sum 40 + 25 + 18 (node short axis) = 83 mm, one non-target present.
     day 56: 28 + 16 + 12 = 56 mm, 56 / 83 = 0.675 (-32.5%) -> PR (section 4.3.1);
             Table 1 row "PR | Non-PD | No" -> PR.
     day 112: 20 + 12 + 9 = 41 mm (-50.6%) -> PR; not CR since T1, T2 > 0 mm.
     day 168: 30 + 15 + 9 = 54 mm, nadir 41: 54 / 41 = 1.317 >= 1.2 and +13 mm >= 5 -> PD.
     BOR with confirmation: PR on day 56 confirmed by PR on day 112 (56 days >= 28) -> PR.
102: non-target only. day 56: NT1 present, NT2 absent -> Non-CR/non-PD (Table 2 row 2);
     day 112: new lesion -> PD (Table 2 row "Any | Yes | PD").
     BOR: Non-CR/non-PD on day 56 >= 42 -> NON-CR/NON-PD.
103: baseline 22 mm. day 35: 26 mm, +4 mm over nadir 22 (18%) -> SD.
     day 70: 27 mm, 27 / 22 = 1.227 >= 1.2 and +5 mm -> PD (nadir stays 22).
     BOR: SD only on day 35 < 42, then PD -> PD (section 4.4.3 example).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oncotrial.derive import best_overall_response, timepoint_responses

DATA = Path(__file__).parents[1] / "data" / "recist" / "tr_three_subjects.csv"


@pytest.fixture(scope="module")
def tp():
    return timepoint_responses(pd.read_csv(DATA, dtype={"USUBJID": str}))


def test_time_points(tp) -> None:
    table = tp.to_frame()
    got = {
        (row.USUBJID, row.VISIT): (row.SUM_DIAMETERS, row.TARGET_RESPONSE, row.OVERALL_RESPONSE)
        for row in table.itertuples()
    }
    nan = float("nan")
    expected = {
        ("101", "WEEK 8"): (56.0, "PR", "PR"),
        ("101", "WEEK 16"): (41.0, "PR", "PR"),
        ("101", "WEEK 24"): (54.0, "PD", "PD"),
        ("102", "WEEK 8"): (nan, None, "NON-CR/NON-PD"),
        ("102", "WEEK 16"): (nan, None, "PD"),
        ("103", "WEEK 5"): (26.0, "SD", "SD"),
        ("103", "WEEK 10"): (27.0, "PD", "PD"),
    }
    assert set(got) == set(expected)
    for key, (total, target, overall) in expected.items():
        g_total, g_target, g_overall = got[key]
        if total != total:  # no target disease
            assert pd.isna(g_total) and pd.isna(g_target)
        else:
            assert g_total == total and g_target == target
        assert g_overall == overall, key
    week8 = table[(table.USUBJID == "101") & (table.VISIT == "WEEK 8")].iloc[0]
    pchg_baseline = float(week8["PCHG_BASELINE"])
    assert pchg_baseline == pytest.approx(100 * (56 - 83) / 83, rel=1e-12)
    week24 = table[(table.USUBJID == "101") & (table.VISIT == "WEEK 24")].iloc[0]
    pchg_nadir = float(week24["PCHG_NADIR"])
    assert week24["NADIR"] == 41.0
    assert pchg_nadir == pytest.approx(100 * 13 / 41, rel=1e-12)


def test_best_overall_response(tp) -> None:
    result = best_overall_response(tp, confirm=True)
    assert [(s.usubjid, s.bor) for s in result.subjects] == [
        ("101", "PR"),
        ("102", "NON-CR/NON-PD"),
        ("103", "PD"),
    ]
    assert result.subject("101").trace == (
        "PR on 2024-03-04 confirmed by PR on 2024-04-29 (56 days >= 28)"
    )
