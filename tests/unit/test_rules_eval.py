"""Rule evaluation: Kleene three-valued logic, functions, missing values and reasons."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from oncotrial.errors import DataError
from oncotrial.spec.rules import parse_rule

T, F, U = True, False, None


def _record(**values):
    return {k: v for k, v in values.items() if v is not None}  # absent key = missing


# Kleene's strong three-valued connectives (Kleene 1952, Introduction to Metamathematics, §64),
# written out in full as published: rows a, columns b, U = unknown.
AND_TABLE = {
    (T, T): T,
    (T, F): F,
    (T, U): U,
    (F, T): F,
    (F, F): F,
    (F, U): F,
    (U, T): U,
    (U, F): F,
    (U, U): U,
}
OR_TABLE = {
    (T, T): T,
    (T, F): T,
    (T, U): T,
    (F, T): T,
    (F, F): F,
    (F, U): U,
    (U, T): T,
    (U, F): U,
    (U, U): U,
}
NOT_TABLE = {T: F, F: T, U: U}


@pytest.mark.parametrize(("a", "b"), list(AND_TABLE))
def test_kleene_and(a, b):
    assert parse_rule("a and b").evaluate(_record(a=a, b=b)).value is AND_TABLE[(a, b)]


@pytest.mark.parametrize(("a", "b"), list(OR_TABLE))
def test_kleene_or(a, b):
    assert parse_rule("a or b").evaluate(_record(a=a, b=b)).value is OR_TABLE[(a, b)]


@pytest.mark.parametrize("a", list(NOT_TABLE))
def test_kleene_not(a):
    assert parse_rule("not a").evaluate(_record(a=a)).value is NOT_TABLE[a]


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT, np.float64("nan")])
def test_every_missing_marker_makes_a_comparison_unknown(missing):
    outcome = parse_rule("age >= 18").evaluate({"age": missing})
    assert outcome.value is None
    assert outcome.reason == "cannot tell: age is missing"
    assert outcome.missing == ("age",)


def test_absent_key_is_missing():
    assert parse_rule("age >= 18").evaluate({}).value is None


@pytest.mark.parametrize(
    ("age", "expected", "reason"),
    [
        (17, False, "age = 17 (needs age >= 18)"),
        (18, True, "age = 18 (meets age >= 18)"),
        (18.0, True, "age = 18 (meets age >= 18)"),
        (17.5, False, "age = 17.5 (needs age >= 18)"),
        (np.int64(40), True, "age = 40 (meets age >= 18)"),
    ],
)
def test_comparison_value_and_reason(age, expected, reason):
    outcome = parse_rule("age >= 18").evaluate({"age": age})
    assert outcome.value is expected
    assert outcome.reason == reason
    assert outcome.missing == ()


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        ("x == 3", {"x": 3}, T),
        ("x != 3", {"x": 3}, F),
        ("x < 3", {"x": 2}, T),
        ("x <= 3", {"x": 3}, T),
        ("x > 3", {"x": 3}, F),
        ("x >= 3", {"x": 2}, F),
        ("x in ['a', 'b']", {"x": "b"}, T),
        ("x not in ['a', 'b']", {"x": "b"}, F),
        ("x not in ['a', 'b']", {"x": "c"}, T),
        ("x in []", {"x": "c"}, F),
        ("x in ['a']", {}, U),
        ("x not in ['a']", {}, U),
        ("1 < x < 3", {"x": 2}, T),
        ("1 < x < 3", {"x": 3}, F),
        ("3 > x >= 1", {"x": 1}, T),
        ("x == true", {"x": True}, T),
        ("x == false", {"x": True}, F),
        ("true", {}, T),
        ("false", {}, F),
        ("not true", {}, F),
        ("x", {"x": np.bool_(True)}, T),
        ("x < y", {"x": 1, "y": 2}, T),
        ("x < y", {"x": 1}, U),
        # a chain is a Kleene conjunction: one definitely false link decides
        ("x < y < 3", {"y": 5}, F),
        ("x < y < 3", {"y": 1}, U),
    ],
)
def test_operators(text, record, expected):
    assert parse_rule(text).evaluate(record).value is expected


def test_date_functions():
    record = {"a": dt.date(2019, 6, 1), "b": dt.date(2019, 7, 27)}  # 30 + 26 = 56 days
    assert parse_rule("days_between(a, b) == 56").evaluate(record).value is True
    assert parse_rule("days_between(b, a) == -56").evaluate(record).value is True
    assert parse_rule("weeks_between(a, b) == 8").evaluate(record).value is True
    # 2015-03-01 -> 2016-03-01 spans 29 Feb 2016: 366 days
    leap = {"a": dt.date(2015, 3, 1), "b": dt.date(2016, 3, 1)}
    assert parse_rule("days_between(a, b) == 366").evaluate(leap).value is True
    # months = days / 30.4375 and years = days / 365.25: 365.25 days is exactly 12 months
    # and one year, so 365 days is short of both and 366 days is past both
    short = {"a": dt.date(2017, 3, 1), "b": dt.date(2018, 3, 1)}  # 365 days
    assert parse_rule("months_between(a, b) >= 12").evaluate(short).value is False
    assert parse_rule("years_between(a, b) >= 1").evaluate(short).value is False
    assert parse_rule("months_between(a, b) >= 12").evaluate(leap).value is True
    assert parse_rule("years_between(a, b) >= 1").evaluate(leap).value is True


def test_date_difference_reason_shows_the_value():
    rule = parse_rule("months_between(a, b) >= 12")
    outcome = rule.evaluate({"a": dt.date(2017, 3, 1), "b": dt.date(2018, 3, 1)})
    # 365 / 30.4375 = 11.99178...
    assert outcome.reason == "months_between(a, b) = 11.9918 (needs months_between(a, b) >= 12)"


@pytest.mark.parametrize(
    "value",
    [
        dt.date(2019, 6, 8),
        dt.datetime(2019, 6, 8, 13, 45),
        pd.Timestamp("2019-06-08"),
        np.datetime64("2019-06-08"),
        "2019-06-08",
    ],
)
def test_date_values_of_any_common_type(value):
    rule = parse_rule("days_between(last, screen) == 7")
    assert rule.evaluate({"last": dt.date(2019, 6, 1), "screen": value}).value is True


def test_date_constant_comparison():
    rule = parse_rule("screening_date >= date('2019-04-10')")
    assert rule.evaluate({"screening_date": dt.date(2019, 4, 10)}).value is True
    assert rule.evaluate({"screening_date": dt.date(2019, 4, 9)}).value is False
    assert rule.evaluate({"screening_date": pd.NaT}).value is None


def test_missing_date_in_a_date_function():
    outcome = parse_rule("7 <= days_between(last, screen) <= 56").evaluate({"last": None})
    assert outcome.value is None
    assert outcome.reason == "cannot tell: last and screen are missing"
    assert outcome.missing == ("last", "screen")


def test_is_missing_is_never_unknown():
    rule = parse_rule("is_missing(x)")
    assert rule.evaluate({}).value is True
    assert rule.evaluate({"x": math.nan}).value is True
    assert rule.evaluate({"x": 0}).value is False
    assert rule.evaluate({}).reason == "x is missing"
    assert rule.evaluate({"x": 0}).reason == "x = 0 (not missing)"


@pytest.mark.parametrize(
    ("a", "b", "c", "expected"),
    [
        (T, T, F, T),  # 2 >= 2
        (T, F, F, F),  # 1
        (T, T, U, T),  # 2 or 3: always >= 2
        (T, U, F, U),  # 1 or 2
        (F, U, F, F),  # 0 or 1: never >= 2
        (U, U, U, U),  # 0..3
    ],
)
def test_count_true_under_missing_data_is_decided_when_all_completions_agree(a, b, c, expected):
    rule = parse_rule("count_true(a, b, c) >= 2")
    assert rule.evaluate(_record(a=a, b=b, c=c)).value is expected


def test_count_true_equality_and_reason():
    rule = parse_rule("count_true(a, b) == 1")
    assert rule.evaluate({"a": True, "b": False}).value is True
    assert rule.evaluate({"a": True}).value is None
    outcome = rule.evaluate({"a": True, "b": True})
    assert outcome.reason == "count_true(a, b) = 2 (needs count_true(a, b) == 1)"


def test_reasons_of_connectives():
    rule = parse_rule("adjuvant or 7 <= days_between(last, screen) <= 56")
    record = {"adjuvant": False, "last": dt.date(2019, 6, 1), "screen": dt.date(2019, 7, 28)}
    outcome = rule.evaluate(record)
    assert outcome.value is False
    assert outcome.reason == (
        "adjuvant = false; days_between(last, screen) = 57 "
        "(needs 7 <= days_between(last, screen) <= 56)"
    )
    # a true 'or' explains with the true part only; missing data elsewhere does not matter
    outcome = rule.evaluate({"adjuvant": True})
    assert (outcome.value, outcome.reason) == (True, "adjuvant = true")
    # an unknown 'or' names what is missing
    outcome = rule.evaluate({"adjuvant": False, "last": dt.date(2019, 6, 1)})
    assert (outcome.value, outcome.reason) == (None, "cannot tell: screen is missing")
    # a false 'and' explains with the false parts only
    outcome = parse_rule("a and b and c").evaluate({"a": True, "b": False})
    assert (outcome.value, outcome.reason) == (False, "b = false")


def test_not_keeps_the_reason_of_its_operand():
    outcome = parse_rule("not (x > 3)").evaluate({"x": 5})
    assert (outcome.value, outcome.reason) == (False, "x = 5 (meets x > 3)")


def test_category_and_text_reason_quotes_strings():
    outcome = parse_rule("x in ['CR', 'PR']").evaluate({"x": "SD"})
    assert outcome.reason == "x = 'SD' (needs x in ['CR', 'PR'])"


def test_record_may_be_a_series_or_an_object():
    rule = parse_rule("age >= 18 and not crisis")
    assert rule.evaluate(pd.Series({"age": 40, "crisis": False})).value is True

    class Subject:
        age = 40
        crisis = True

    assert rule.evaluate(Subject()).value is False


def test_runtime_type_mismatch_without_a_check_is_a_data_error():
    with pytest.raises(DataError, match="cannot compare 'abc' with 18"):
        parse_rule("age >= 18").evaluate({"age": "abc"})
    with pytest.raises(DataError, match="is not true/false"):
        parse_rule("age").evaluate({"age": 3})
    with pytest.raises(DataError, match="needs dates"):
        parse_rule("days_between(a, b) > 1").evaluate({"a": 3, "b": dt.date(2020, 1, 1)})
