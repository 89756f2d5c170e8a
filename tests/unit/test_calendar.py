"""Planned calendars: dates worked out by hand from the protocol wording."""

from __future__ import annotations

import datetime as dt

import pytest

from oncotrial.errors import InputError
from oncotrial.spec import load_spec
from oncotrial.spec.calendar import planned_calendar

START = dt.date(2024, 3, 1)


@pytest.fixture(scope="module")
def plan():
    return planned_calendar(load_spec("palmira"), START, months=15)


def dates(plan, name):
    return [e.date for e in plan.entries if e.name == name]


def test_tumour_every_8_weeks_to_month_12_then_every_12(plan):
    # weeks 8, 16, ..., 48 (day 336 <= 365.25), then 60 and (week 72 = day 504 > 15 months) none
    expected = [START + dt.timedelta(weeks=w) for w in (8, 16, 24, 32, 40, 48, 60)]
    assert dates(plan, "tumour") == expected
    assert dates(plan, "tumour (baseline)") == [START]


def test_tumour_window_is_seven_days(plan):
    visit = next(e for e in plan.entries if e.name == "tumour")
    assert visit.window_start == dt.date(2024, 4, 19) and visit.window_end == dt.date(2024, 5, 3)
    assert visit.study_day == 57 and (visit.cycle, visit.cycle_day) == (3, 1)


def test_safety_each_cycle_for_six_cycles_then_every_two(plan):
    cycles = [e.cycle for e in plan.entries if e.name == "safety"]
    assert cycles[:9] == [1, 2, 3, 4, 5, 6, 8, 10, 12]


def test_cbc_day_14_of_first_two_cycles(plan):
    assert dates(plan, "cbc_day14") == [dt.date(2024, 3, 14), dt.date(2024, 4, 11)]


def test_palbociclib_days_1_to_21(plan):
    first = next(e for e in plan.entries if e.name == "palbociclib")
    assert (first.date, first.window_end) == (START, dt.date(2024, 3, 21))
    second = [e for e in plan.entries if e.name == "palbociclib"][1]
    assert second.date == dt.date(2024, 3, 29)  # cycle 2 day 1 = day 29


def test_fulvestrant_loading_dose_in_cycle_one(plan):
    fulv = [e for e in plan.entries if e.name == "fulvestrant*"]
    assert "days 1, 15" in fulv[0].description and "day 1" in fulv[1].description


def test_accru_cycle_based_tumour_every_three_cycles():
    plan = planned_calendar(load_spec("accru_br_1801"), START, months=6)
    days = [e.study_day for e in plan.entries if e.name == "tumour"]
    assert days == [1 + 21 * 0, 1 + 21 * 3, 1 + 21 * 6]  # cycles 1, 4, 7 (day 127 <= 182)
    assert [e.study_day for e in plan.entries if e.name == "blood_biomarkers"] == [43]


def test_unknown_arm_is_a_clear_error():
    with pytest.raises(InputError, match="valid: PAL_ET, ET"):
        planned_calendar(load_spec("palmira"), START, arm="PLACEBO")
