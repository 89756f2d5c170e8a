"""Partial-date imputation, hand-worked on the calendar (admiral derive_vars_dt rules).

Every expected date below is counted by hand: month lengths (30 days hath September...),
Gregorian leap years (divisible by 4, except centuries unless divisible by 400), the
``mid`` points admiral documents (day 15; month and day missing: 30 June), and the
restriction rule of ``restrict_imputed_dtc_dt`` (a minimum/maximum date counts only when it
lies in the range the partial value allows).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncotrial.derive.contracts import RAW, conform, partial_column
from oncotrial.derive.dates import impute, parse_partial
from oncotrial.derive.options import DerivationOptions, load_options
from oncotrial.errors import DataError, InputError

D = dt.date.fromisoformat


def imputed(text: str, highest: str = "M", position: str = "first", **kw: object) -> dt.date:
    result = impute(parse_partial(text), highest=highest, position=position, **kw)  # type: ignore[arg-type]
    assert result.date is not None
    return result.date


# --------------------------------------------------------------------------- each level


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("2021-03", "first", "2021-03-01"),
        ("2021-03", "mid", "2021-03-15"),
        ("2021-03", "last", "2021-03-31"),
        ("2021-04", "last", "2021-04-30"),  # 30-day month
        ("2021-09", "last", "2021-09-30"),
        ("2021-12", "last", "2021-12-31"),
        ("2021-02", "last", "2021-02-28"),  # not a leap year
        ("2024-02", "last", "2024-02-29"),  # leap year (divisible by 4)
        ("2000-02", "last", "2000-02-29"),  # century divisible by 400: leap
        ("1900-02", "last", "1900-02-28"),  # century not divisible by 400: not leap
        ("2024-02", "mid", "2024-02-15"),
        ("2021", "first", "2021-01-01"),
        ("2021", "mid", "2021-06-30"),  # admiral: month and day missing -> 06-30
        ("2021", "last", "2021-12-31"),
        ("2024", "last", "2024-12-31"),
        ("2021---15", "first", "2021-01-01"),  # a day without month is not kept
    ],
)
def test_positions(text: str, position: str, expected: str) -> None:
    assert imputed(text, "M", position) == D(expected)


@pytest.mark.parametrize(("text", "flag"), [("2021-03", "D"), ("2021", "M"), ("2021---15", "M")])
def test_flag_names_the_highest_imputed_part(text: str, flag: str) -> None:
    assert impute(parse_partial(text), highest="M").flag == flag


def test_day_level_imputes_a_missing_day_only() -> None:
    assert imputed("2021-03", "D", "last") == D("2021-03-31")
    with pytest.raises(ValueError, match=r"month and day missing.*up to D"):
        impute(parse_partial("2021"), highest="D")


def test_level_n_imputes_nothing() -> None:
    with pytest.raises(ValueError, match="day missing"):
        impute(parse_partial("2021-03"), highest="n")


def test_full_date_is_kept_without_flag() -> None:
    result = impute(parse_partial("2021-03-05"), highest="M", position="last")
    assert (result.date, result.flag) == (D("2021-03-05"), None)


def test_full_date_is_not_moved_by_a_minimum_date() -> None:
    # the range of a full date is that day: a later first dose is outside it
    assert imputed("2021-03-05", min_dates=[("first dose", D("2021-03-10"))]) == D("2021-03-05")


# --------------------------------------------------------------------------- min/max dates


@pytest.mark.parametrize(
    ("text", "position", "first_dose", "expected"),
    [
        ("2021-03", "first", "2021-03-10", "2021-03-10"),  # raised to the first dose
        ("2021-03", "mid", "2021-03-10", "2021-03-15"),  # 15 is already after it
        ("2021-03", "mid", "2021-03-20", "2021-03-20"),
        ("2021-03", "last", "2021-03-10", "2021-03-31"),
        ("2021-03", "first", "2021-04-02", "2021-03-01"),  # first dose outside March
        ("2021-03", "first", "2021-02-27", "2021-03-01"),  # before March: no effect
        ("2021", "first", "2021-07-04", "2021-07-04"),  # month missing: whole year
        ("2021", "first", "2022-01-01", "2021-01-01"),
        ("2024-02", "first", "2024-02-29", "2024-02-29"),  # leap day is in range
    ],
)
def test_first_dose_rule(text: str, position: str, first_dose: str, expected: str) -> None:
    got = imputed(text, "M", position, min_dates=[("TRTSDT", D(first_dose))])
    assert got == D(expected)


def test_admiral_documented_examples() -> None:
    # impute_dtc_dt reference page: "2020-12" with minimum dates 2020-12-06 and 2020-11-11
    # -> 2020-12-06; "2020-11" with the same -> 2020-11-11 (2020-12-06 is outside November)
    mins = [("a", D("2020-12-06")), ("b", D("2020-11-11"))]
    assert imputed("2020-12", min_dates=mins) == D("2020-12-06")
    assert imputed("2020-11", min_dates=mins) == D("2020-11-11")


@pytest.mark.parametrize(
    ("death", "cutoff", "expected"),
    [
        ("2022-09-12", "2022-09-20", "2022-09-12"),  # death in September: the earlier cap
        ("2022-10-01", "2022-09-20", "2022-09-20"),  # death outside September: ignored
        (None, "2022-09-20", "2022-09-20"),
        (None, None, "2022-09-30"),  # no cap: last day of September (30 days)
        ("2022-08-31", None, "2022-09-30"),  # death before September: outside the range
    ],
)
def test_end_cap(death: str | None, cutoff: str | None, expected: str) -> None:
    maxes = [
        ("DTHDT", D(death) if death else None),
        ("DCUTDT", D(cutoff) if cutoff else None),
    ]
    assert imputed("2022-09", "M", "last", max_dates=maxes) == D(expected)


def test_year_level_needs_a_minimum_or_maximum_date() -> None:
    missing = parse_partial("")
    first = impute(missing, highest="Y", min_dates=[("TRTSDT", D("2021-05-04"))])
    assert (first.date, first.flag) == (D("2021-05-04"), "Y")
    nothing = impute(missing, highest="Y", min_dates=[("TRTSDT", None)])
    assert (nothing.date, nothing.flag) == (None, None)
    last = impute(
        missing,
        highest="Y",
        position="last",
        max_dates=[("DTHDT", D("2022-02-01")), ("DCUTDT", D("2022-01-15"))],
    )
    assert last.date == D("2022-01-15")
    with pytest.raises(ValueError, match="date missing"):
        impute(missing, highest="M")


def test_reason_says_what_was_done() -> None:
    result = impute(
        parse_partial("2021-03"), highest="M", min_dates=[("first dose TRTSDT", D("2021-03-10"))]
    )
    assert result.reason == (
        "'2021-03' (day missing) -> first day of the month: 2021-03-01; raised to first dose "
        "TRTSDT 2021-03-10 (not before it)"
    )


# --------------------------------------------------------------------------- not dates


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("March 2021", "is not a date"),
        ("2021-3", "is not a date"),
        ("21-03", "is not a date"),
        ("2021-13", "month 13"),
        ("2021-02-30", "not a calendar date"),
        ("2023-02-29", "not a calendar date"),  # 2023 is not a leap year
    ],
)
def test_not_dates(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_partial(text)


def test_leap_day_of_a_leap_year_is_a_date() -> None:
    assert parse_partial("2024-02-29").missing == "n"


@given(
    year=st.integers(1901, 2099),
    month=st.integers(1, 12) | st.none(),
    bound=st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
)
def test_imputed_date_stays_in_the_range(year: int, month: int | None, bound: dt.date) -> None:
    text = f"{year}" if month is None else f"{year}-{month:02d}"
    value = parse_partial(text)
    low, high = value.bounds()
    days = [imputed(text, "M", p, min_dates=[("m", bound)]) for p in ("first", "mid", "last")]
    assert all(low <= d <= high for d in days)
    assert days[0] <= days[1] <= days[2]
    capped = imputed(text, "M", "last", max_dates=[("x", bound)])
    assert low <= capped <= high
    assert capped == (bound if low <= bound <= high else high)


# --------------------------------------------------------------------------- reading


def _ae(starts: list[str]) -> pd.DataFrame:
    n = len(starts)
    return pd.DataFrame(
        {
            "USUBJID": [f"S{i}" for i in range(n)],
            "AETERM": ["t"] * n,
            "AEDECOD": ["t"] * n,
            "AEBODSYS": ["b"] * n,
            "AETOXGR": ["1"] * n,
            "AESTDTC": starts,
            "AEENDTC": [""] * n,
            "AESER": ["N"] * n,
            "AEREL": ["N"] * n,
            "AEACN": ["DOSE NOT CHANGED"] * n,
        }
    )


def test_conform_keeps_partial_values_beside_the_column() -> None:
    typed = conform(_ae(["2021-03-05", "2021-03", "2021"]), RAW["AE"], partial={"AESTDTC": "M"})
    assert typed["AESTDTC"].iloc[0] == pd.Timestamp("2021-03-05")
    assert typed["AESTDTC"].iloc[1:].isna().all()
    assert typed[partial_column("AESTDTC")].tolist() == [None, "2021-03", "2021"]


@pytest.mark.parametrize(
    ("partial", "value", "words"),
    [
        (
            {"AESTDTC": "D"},
            "2021",
            "month and day missing); the imputation of AESTDTC goes up to D",
        ),
        ({"AESTDTC": "M"}, "03/2021", "is not a date"),
        ({"AESTDTC": "M"}, "2021-02-29", "not a calendar date"),
        ({"AESTDTC": "M"}, "", "is missing; AESTDTC is required"),  # empty needs level Y
        ({}, "2021-03", "no imputation is set for this column"),
    ],
)
def test_conform_errors_name_row_column_value(
    partial: dict[str, str], value: str, words: str
) -> None:
    with pytest.raises(DataError) as info:
        conform(_ae(["2021-01-01", value]), RAW["AE"], dataset="AE (ae.csv)", partial=partial)  # type: ignore[arg-type]
    details = info.value.details
    assert (details["dataset"], details["row"], details["column"]) == ("AE (ae.csv)", 2, "AESTDTC")
    assert words in info.value.message


def test_level_y_accepts_an_empty_onset() -> None:
    typed = conform(_ae(["", "2021-03"]), RAW["AE"], partial={"AESTDTC": "Y"})
    assert typed[partial_column("AESTDTC")].tolist() == ["", "2021-03"]


# --------------------------------------------------------------------------- options


def test_options_default_off() -> None:
    assert load_options(None) == DerivationOptions()
    assert DerivationOptions().date_rules == ()
    assert load_options({"date_imputation": {"AE.AESTDTC": {"highest_imputation": "n"}}}) == (
        DerivationOptions()
    )


def test_options_defaults_per_column() -> None:
    options = load_options(
        {
            "date_imputation": {
                "AE.AESTDTC": {"highest_imputation": "M"},
                "ae.aeendtc": {"highest_imputation": "D"},
            },
            "treatment_emergent": {"group_by": "AEDECOD"},
        }
    )
    start, end = options.rule("AE", "AESTDTC"), options.rule("AE", "AEENDTC")
    assert start is not None and start.date_imputation == "first"
    assert end is not None and (end.highest_imputation, end.date_imputation) == ("D", "last")
    assert options.group_by == "AEDECOD"


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"date_imputation": {"AE.AETERM": {"highest_imputation": "M"}}}, "AE.AETERM"),
        ({"date_imputation": {"XX.AESTDTC": {}}}, "XX.AESTDTC"),
        ({"date_imputation": {"AE.AESTDTC": {"highest_imputation": "W"}}}, "highest_imputation"),
        ({"date_imputation": {"AE.AESTDTC": {"date_imputation": "early"}}}, "date_imputation"),
        ({"date_imputation": {"AE.AEENDTC": {"highest_imputation": "Y"}}}, "only AE.AESTDTC"),
        (
            {
                "date_imputation": {
                    "AE.AESTDTC": {"highest_imputation": "Y", "date_imputation": "mid"}
                }
            },
            "first or last",
        ),
        ({"date_imputation": {"AE.AESTDTC": {"level": "M"}}}, "level"),
        ({"treatment_emergent": {"group_by": "AETERM"}}, "AEGRPID, AEDECOD, none"),
        ({"impute": {}}, "impute"),
    ],
)
def test_options_errors(data: dict[str, object], where: str) -> None:
    with pytest.raises(InputError, match="derivation options") as info:
        load_options(data)
    assert where in info.value.message


def test_options_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "options.yaml"
    path.write_text(
        "date_imputation:\n  DM.DTHDTC: {highest_imputation: D, date_imputation: mid}\n"
    )
    options = load_options(path)
    assert options.levels("DM") == {"DTHDTC": "D"}
    assert options.to_dict()["date_imputation"] == {
        "DM.DTHDTC": {"highest_imputation": "D", "date_imputation": "mid"}
    }
    with pytest.raises(InputError, match="not found"):
        load_options(path.with_name("absent.yaml"))
