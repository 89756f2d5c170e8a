"""ADEX derivation: planned dosing days, cumulative dose, RDI, reductions, interruptions.

Every expected number is worked by hand in the comment next to it.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrial.derive.exposure import DosePlan, derive_adex, dose_plans, exposure_summary
from oncotrial.errors import DataError, InputError
from oncotrial.spec import load_spec

D = dt.date.fromisoformat
PALBO = DosePlan("palbociclib", 125, "mg", 28, tuple(range(1, 22)))
FULV = DosePlan("fulvestrant", 500, "mg", 28, (1,), first_cycle_days=(1, 15), single_day_rows=True)
LETRO = DosePlan("letrozole", 2.5, "mg", 28, tuple(range(1, 29)))
PLANS = {"PAL_ET": {"palbociclib": PALBO, "fulvestrant": FULV, "letrozole": LETRO},
         "ET": {"fulvestrant": FULV, "letrozole": LETRO}}  # fmt: skip


def adsl(n: int = 4, arm: str = "PAL_ET") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": [f"S{i}" for i in range(1, n + 1)],
            "ARMCD": [arm] * n,
            "TRTSDT": ["2024-01-01"] * n,
            "TRTEDT": [None] * n,
        }
    )


def ex(rows: list[tuple[str, str, float, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["USUBJID", "EXTRT", "EXDOSE", "EXSTDTC", "EXENDTC", "EXADJ"]
    ).assign(EXDOSU="mg")


def value(result: pd.DataFrame, usubjid: str, agent: str, paramcd: str) -> object:
    row = result[
        (result["USUBJID"] == usubjid) & (result["EXTRT"] == agent) & (result["PARAMCD"] == paramcd)
    ].iloc[0]
    return row["AVALC"] if isinstance(row["AVALC"], str) else row["AVAL"]


# --------------------------------------------------------------------------- the schedule


@pytest.mark.parametrize(
    ("plan", "last", "expected"),
    [
        (PALBO, "2024-01-01", 1),
        (PALBO, "2024-01-21", 21),  # cycle 1 days 1-21
        (PALBO, "2024-01-28", 21),  # days 22-28 are off
        (PALBO, "2024-01-29", 22),  # cycle 2 day 1
        (PALBO, "2024-03-21", 63),  # 3 cycles x 21 (2024-03-21 is cycle 3 day 21)
        (FULV, "2024-01-14", 1),  # cycle 1 day 1
        (FULV, "2024-01-15", 2),  # cycle 1 day 15 (loading dose)
        (FULV, "2024-01-29", 3),  # cycle 2 day 1
        (FULV, "2024-02-26", 4),  # cycle 3 day 1
        (LETRO, "2024-02-29", 60),  # continuous: every day (2024 is a leap year)
        (DosePlan("x", 1, "mg", 28, (1,), every_cycles=2), "2024-02-26", 2),  # cycles 1, 3
        (DosePlan("x", 1, "mg", 21, (1, 8)), "2024-01-22", 3),  # C1 days 1, 8; C2 day 1
    ],
)
def test_scheduled_dosing_days(plan: DosePlan, last: str, expected: int) -> None:
    assert plan.dosing_days(D("2024-01-01"), D(last)) == expected


def test_dose_plans_from_the_palmira_spec() -> None:
    plans = dose_plans(load_spec("palmira"))
    palbo = plans["PAL_ET"]["palbociclib"]
    assert (palbo.dose, palbo.cycle_days, palbo.days) == (125.0, 28, tuple(range(1, 22)))
    assert palbo.dose_per_day == 125 and palbo.administrations_per_day == 1
    assert palbo.dose_levels == (125.0, 100.0, 75.0)
    fulv = plans["PAL_ET"]["fulvestrant"]
    assert fulv.first_cycle_days == (1, 15) and fulv.single_day_rows
    assert plans["PAL_ET"]["letrozole"].days == tuple(range(1, 29))  # continuous
    assert "palbociclib" not in plans["ET"]
    assert palbo.describe() == "palbociclib 125 mg on days 1-21 of 28-day cycles"


def test_bid_plan_counts_two_administrations() -> None:
    plan = DosePlan("cape", 1000, "mg", 21, tuple(range(1, 15)), administrations_per_day=2)
    frame = ex([("S1", "cape", 1000, "2024-01-01", "2024-01-14", "")])
    result = derive_adex(frame, adsl(1, "X"), plans={"X": {"cape": plan}}).data
    assert value(result, "S1", "cape", "CUMDOSE") == 28000  # 1000 x 2 x 14
    assert value(result, "S1", "cape", "PLANDOSE") == 28000
    assert value(result, "S1", "cape", "RDI") == 100


# --------------------------------------------------------------------------- RDI by hand


def test_rdi_reduction_interruption_by_hand() -> None:
    frame = ex(
        [
            ("S1", "palbociclib", 125, "2024-01-01", "2024-01-21", ""),
            # cycle 2 started on time; held from 2024-02-11 (cycle 2 day 14) to 02-17
            ("S1", "palbociclib", 125, "2024-01-29", "2024-02-10", ""),
            ("S1", "palbociclib", 0, "2024-02-11", "2024-02-17", "DOSE INTERRUPTED"),
            ("S1", "palbociclib", 100, "2024-03-04", "2024-03-21", "DOSE REDUCED"),
            ("S1", "fulvestrant", 500, "2024-01-01", "2024-01-01", ""),
            ("S1", "fulvestrant", 500, "2024-01-15", "2024-01-15", ""),
        ]
    )
    result = derive_adex(frame, adsl(1), plans=PLANS)
    data = result.data
    # duration: 2024-01-01 .. 2024-03-21 = 31 + 29 + 21 = 81 days
    assert value(data, "S1", "palbociclib", "TRTDURD") == 81
    # cumulative: 125 x 21 + 125 x 13 + 0 x 7 + 100 x 18 = 2625 + 1625 + 1800 = 6050 mg
    assert value(data, "S1", "palbociclib", "CUMDOSE") == 6050
    # planned: 3 cycles x 21 days x 125 mg = 7875 mg
    assert value(data, "S1", "palbociclib", "PLANDOSE") == 7875
    expected_rdi = float(Fraction(100 * 6050, 7875))  # 76.825396...
    assert value(data, "S1", "palbociclib", "RDI") == pytest.approx(expected_rdi, rel=1e-12)
    assert value(data, "S1", "palbociclib", "DOSERED") == "Y"
    assert value(data, "S1", "palbociclib", "DOSEINT") == "Y"
    # fulvestrant: 2 loading injections, both planned
    assert value(data, "S1", "fulvestrant", "RDI") == 100
    assert value(data, "S1", "fulvestrant", "TRTDURD") == 15
    traces = {t.variable: t.text for t in result.traces if t.key == "palbociclib"}
    assert "125 x 1 x 21 d + 125 x 1 x 13 d + 100 x 1 x 18 d = 6050 mg" in traces["CUMDOSE"]
    assert "63 scheduled dosing days" in traces["PLANDOSE"]
    assert "row 4 100 mg < 125" in traces["DOSERED"]
    assert "row 3 dose 0" in traces["DOSEINT"]


def test_starting_dose_first_given() -> None:
    # starts at 100 mg (PALMIRA allowed the level reached before), reduced to 75 in cycle 2
    frame = ex(
        [
            ("S1", "palbociclib", 100, "2024-01-01", "2024-01-21", ""),
            ("S1", "palbociclib", 75, "2024-01-29", "2024-02-18", "DOSE REDUCED"),
            ("S2", "palbociclib", 100, "2024-01-01", "2024-01-21", ""),
        ]
    )
    protocol = derive_adex(frame, adsl(2), plans=PLANS).data
    first = derive_adex(frame, adsl(2), plans=PLANS, starting_dose="first").data
    # protocol: planned 125 x 42 = 5250; given 100 x 21 + 75 x 21 = 3675 -> 70 %
    assert value(protocol, "S1", "palbociclib", "RDI") == pytest.approx(70.0, rel=1e-12)
    assert value(protocol, "S2", "palbociclib", "DOSERED") == "Y"  # 100 < 125
    # first: planned 100 x 42 = 4200 -> 3675 / 4200 = 87.5 %
    assert value(first, "S1", "palbociclib", "RDI") == pytest.approx(87.5, rel=1e-12)
    assert value(first, "S2", "palbociclib", "DOSERED") == "N"
    assert value(first, "S2", "palbociclib", "RDI") == 100


def test_delay_lowers_rdi() -> None:
    # cycle 2 delayed by 7 days: doses 2024-02-05 .. 02-25 (21 days); the calendar cycles
    # from the first dose put cycle 2 at 01-29 .. 02-18 and cycle 3 day 1 on 02-26, so the
    # planned days to 02-25 are 21 + 21 = 42 -> RDI 100. A delay of 14 days instead gives
    # doses 02-12 .. 03-03: planned 21 + 21 + 7 (02-26 .. 03-03 = cycle 3 days 1-7) = 49,
    # given 42 -> 42/49 = 85.714...%
    frame = ex(
        [
            ("S1", "palbociclib", 125, "2024-01-01", "2024-01-21", ""),
            ("S1", "palbociclib", 125, "2024-02-05", "2024-02-25", ""),
            ("S2", "palbociclib", 125, "2024-01-01", "2024-01-21", ""),
            ("S2", "palbociclib", 125, "2024-02-12", "2024-03-03", ""),
        ]
    )
    data = derive_adex(frame, adsl(2), plans=PLANS).data
    assert value(data, "S1", "palbociclib", "RDI") == 100
    assert value(data, "S2", "palbociclib", "RDI") == pytest.approx(100 * 42 / 49, rel=1e-12)
    assert value(data, "S2", "palbociclib", "DOSEINT") == "N"  # unrecorded gap


def test_only_held_periods() -> None:
    frame = ex([("S1", "palbociclib", 0, "2024-01-01", "2024-01-21", "DOSE INTERRUPTED")])
    data = derive_adex(frame, adsl(1), plans=PLANS).data
    assert value(data, "S1", "palbociclib", "CUMDOSE") == 0
    assert pd.isna(value(data, "S1", "palbociclib", "RDI"))
    assert value(data, "S1", "palbociclib", "DOSEINT") == "Y"


def test_agent_of_another_arm_has_no_planned_dose() -> None:
    frame = ex([("S1", "palbociclib", 125, "2024-01-01", "2024-01-21", "")])
    result = derive_adex(frame, adsl(1, "ET"), plans=PLANS)
    assert pd.isna(value(result.data, "S1", "palbociclib", "PLANDOSE"))
    assert any("not in the regimen of arm 'ET'" in line for line in result.explain("S1"))


@settings(max_examples=40, deadline=None)
@given(cycles=st.integers(1, 30), dose=st.sampled_from([125, 100, 75]))
def test_full_compliance_is_100_percent(cycles: int, dose: int) -> None:
    rows = []
    for c in range(cycles):
        start = D("2024-01-01") + dt.timedelta(days=28 * c)
        end = start + dt.timedelta(days=20)
        rows.append(("S1", "palbociclib", dose, start.isoformat(), end.isoformat(), ""))
    data = derive_adex(ex(rows), adsl(1), plans=PLANS, starting_dose="first").data
    assert value(data, "S1", "palbociclib", "RDI") == 100
    assert value(data, "S1", "palbociclib", "TRTDURD") == 28 * (cycles - 1) + 21


def test_summary_by_hand() -> None:
    # S1 100 %; S2 125 x 21 + 100 x 21 = 4725 of 125 x 42 = 5250 -> 90 %;
    # S3 125 x (10 + 1) = 1375 of 125 x 21 = 2625 -> 52.38 %; S4 14 of 14 days -> 100 %
    frame = ex(
        [
            ("S1", "palbociclib", 125, "2024-01-01", "2024-01-21", ""),
            ("S2", "palbociclib", 125, "2024-01-01", "2024-01-21", ""),
            ("S2", "palbociclib", 100, "2024-01-29", "2024-02-18", "DOSE REDUCED"),
            ("S3", "palbociclib", 125, "2024-01-01", "2024-01-10", ""),
            ("S3", "palbociclib", 0, "2024-01-11", "2024-01-20", "DOSE INTERRUPTED"),
            ("S3", "palbociclib", 125, "2024-01-21", "2024-01-21", ""),
            ("S4", "palbociclib", 125, "2024-01-01", "2024-01-14", ""),
        ]
    )
    table = exposure_summary(derive_adex(frame, adsl(4), plans=PLANS).data).data
    row = table.iloc[0]
    # median of {100, 90, 52.380952..., 100} = (90 + 100) / 2 = 95
    assert row["N"] == 4
    assert row["MEDRDI"] == pytest.approx(95.0, rel=1e-12)
    assert (row["N_RED"], row["PCT_RED"]) == (1, 25.0)
    assert (row["N_INT"], row["PCT_INT"]) == (1, 25.0)
    assert row["MEDDUR"] == pytest.approx((21 + 21) / 2)  # durations 21, 49, 21, 14


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("rows", "column", "row", "problem"),
    [
        ([("S1", "palbociclib", -1, "2024-01-01", "2024-01-21", "")], "EXDOSE", 1, "not a dose"),
        ([("S1", "aspirin", 100, "2024-01-01", "2024-01-21", "")], "EXTRT", 1, "not an agent"),
        ([("S1", "palbociclib", 125, "2024-01-21", "2024-01-01", "")], "EXENDTC", 1, "before"),
        ([("S9", "palbociclib", 125, "2024-01-01", "2024-01-21", "")], "USUBJID", 1, "not a"),
        ([("S1", "palbociclib", 125, "2024-01-01", "2024-01", "")], "EXENDTC", 1, "full date"),
        ([("S1", "palbociclib", 125, "2024-01-01", "2024-01-21", "LOWER")], "EXADJ", 1, "valid"),
        (
            [
                ("S1", "palbociclib", 125, "2024-01-01", "2024-01-21", ""),
                ("S1", "palbociclib", 100, "2024-01-21", "2024-01-30", ""),
            ],
            "EXSTDTC",
            2,
            "overlaps the period of row 1",
        ),
        (
            [("S1", "fulvestrant", 500, "2024-01-01", "2024-01-02", "")],
            "EXENDTC",
            1,
            "one administration",
        ),
    ],
)
def test_bad_cells(rows: list, column: str, row: int, problem: str) -> None:
    with pytest.raises(DataError) as err:
        derive_adex(ex(rows), adsl(1), plans=PLANS)
    assert err.value.details["dataset"] == "EX"
    assert (err.value.details["column"], err.value.details["row"]) == (column, row)
    assert problem in err.value.message


def test_wrong_unit_and_bad_arguments() -> None:
    frame = ex([("S1", "palbociclib", 125, "2024-01-01", "2024-01-21", "")]).assign(EXDOSU="g")
    with pytest.raises(DataError, match="valid: 'mg'"):
        derive_adex(frame, adsl(1), plans=PLANS)
    with pytest.raises(InputError, match="starting_dose"):
        derive_adex(frame, adsl(1), plans=PLANS, starting_dose="max")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="outside the 28-day cycle"):
        DosePlan("x", 1, "mg", 28, (29,))


def test_elapsed_period_by_hand() -> None:
    # cycle 2 delayed 3 days: doses 01-01..01-21 and 02-01..02-21, 42 x 125 = 5250 mg
    frame = ex(
        [
            ("S1", "palbociclib", 125, "2024-01-01", "2024-01-21", ""),
            ("S1", "palbociclib", 125, "2024-02-01", "2024-02-21", ""),
        ]
    )
    schedule = derive_adex(frame, adsl(1), plans=PLANS).data
    # calendar cycle 2 dosing days 01-29..02-18, cycle 3 from 02-26: 42 planned -> 100 %
    assert value(schedule, "S1", "palbociclib", "RDI") == 100
    elapsed = derive_adex(frame, adsl(1), plans=PLANS, planned_period="elapsed").data
    # elapsed: (02-21 - 01-01) + 1 + 7 = 59 days x 21/28 x 125 = 5531.25 mg
    assert value(elapsed, "S1", "palbociclib", "PLANDOSE") == pytest.approx(5531.25, rel=1e-12)
    rdi = float(Fraction(100 * 5250) / Fraction(553125, 100))
    assert value(elapsed, "S1", "palbociclib", "RDI") == pytest.approx(rdi, rel=1e-12)
    with pytest.raises(InputError, match="planned_period"):
        derive_adex(frame, adsl(1), plans=PLANS, planned_period="x")  # type: ignore[arg-type]
