"""Partial ISO 8601 dates and their imputation, as pharmaverse admiral documents it.

Method (admiral reference pages of ``derive_vars_dt``, ``impute_dtc_dt``,
``restrict_imputed_dtc_dt`` and ``compute_dtf``; https://pharmaverse.github.io/admiral/):

* **Levels.** ``highest_imputation`` names the highest date part that may be imputed:
  ``n`` none, ``D`` day, ``M`` month (and day), ``Y`` year (a wholly missing date). A value
  missing a part above that level is not imputed. (admiral returns a missing date then;
  here it is an error naming the cell, so that nothing is dropped silently.)
* **Where in the range** (``date_imputation``): ``first`` (day 01, month 01), ``mid`` (day 15;
  month and day missing: 06-30) or ``last`` (the month's last day, leap years counted;
  month missing: 12-31).
* **Restriction** (``restrict_imputed_dtc_dt``): each *minimum date* that lies in the range
  of dates the partial value allows raises the imputed date to it; then each *maximum date*
  in that range lowers it. Dates outside the range are ignored, so the known parts of the
  value never change (``2020-11`` with first dose 2020-12-06 stays ``2020-11-01``).
* **Year** (``Y``): only a wholly missing date, imputed to the latest minimum date
  (``first``) or the earliest maximum date (``last``); with none given it stays missing.
* **Flag** (``*DTF``): the highest part that was missing, ``D``, ``M`` or ``Y``, whatever
  the restriction did (``compute_dtf``); empty for a full date.

SDTM IG 3.4 section 4.4.4: a partial date is right-truncated (``2021-03``, ``2021``); a
missing middle part is written with hyphens (``2021---15``). As admiral does by default
(``preserve = FALSE``), a day given without a month is not kept: ``2021---15`` is read as
``2021``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Level = Literal["n", "D", "M", "Y"]
Position = Literal["first", "mid", "last"]
LEVELS: tuple[Level, ...] = ("n", "D", "M", "Y")
POSITIONS: tuple[Position, ...] = ("first", "mid", "last")
LEVEL_WORDS = {"n": "none", "D": "day", "M": "month", "Y": "year"}
_RANK = {"n": 0, "D": 1, "M": 2, "Y": 3}

_FULL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T[0-9:.]*)?$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})(?:---\d{2})?$")

NOT_A_DATE = (
    "is not a date; valid: ISO 8601 YYYY-MM-DD, or where imputation is set a partial date "
    "YYYY-MM or YYYY"
)


@dataclass(frozen=True)
class PartialDate:
    """A date with its known parts: year, month, day (None where missing)."""

    text: str
    year: int | None
    month: int | None
    day: int | None

    @property
    def missing(self) -> Level:
        """The highest missing part: ``n`` (complete), ``D``, ``M`` or ``Y``."""
        if self.year is None:
            return "Y"
        if self.month is None:
            return "M"
        return "D" if self.day is None else "n"

    def bounds(self) -> tuple[dt.date, dt.date]:
        """The earliest and latest date the value allows (the whole calendar if no year)."""
        if self.year is None:
            return dt.date.min, dt.date.max
        if self.month is None:
            return dt.date(self.year, 1, 1), dt.date(self.year, 12, 31)
        if self.day is None:
            last = calendar.monthrange(self.year, self.month)[1]
            return dt.date(self.year, self.month, 1), dt.date(self.year, self.month, last)
        day = dt.date(self.year, self.month, self.day)
        return day, day

    def describe(self) -> str:
        if self.year is None:
            return "date missing"
        return {"M": "month and day missing", "D": "day missing"}.get(self.missing, "complete")


def parse_partial(value: str) -> PartialDate:
    """An ISO 8601 date, complete or right-truncated; ValueError says what is valid.

    An empty value is a date with every part missing. A time part (``T...``) is ignored.
    """
    text = value.strip()
    if text == "":
        return PartialDate(text, None, None, None)
    if m := _FULL.match(text):
        year, month, day = (int(g) for g in m.groups())
        try:
            dt.date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"is not a calendar date ({exc})") from None
        return PartialDate(text, year, month, day)
    if m := _MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"is not a calendar date (month {month} must be in 1..12)")
        return PartialDate(text, year, month, None)
    if m := _YEAR.match(text):
        return PartialDate(text, int(m.group(1)), None, None)
    raise ValueError(NOT_A_DATE)


def needs(level: Level, highest: Level) -> bool:
    """True when a value missing ``level`` can be imputed under ``highest``."""
    return _RANK[level] <= _RANK[highest]


@dataclass(frozen=True)
class Imputed:
    """An imputed date (None if it could not be imputed), its flag and how it was reached."""

    date: dt.date | None
    flag: str | None  # D, M, Y or None (complete)
    reason: str


def impute(
    value: PartialDate,
    *,
    highest: Level,
    position: Position = "first",
    min_dates: Sequence[tuple[str, dt.date | None]] = (),
    max_dates: Sequence[tuple[str, dt.date | None]] = (),
) -> Imputed:
    """Impute ``value`` (see the module docstring); ``min_dates``/``max_dates`` are
    (name, date) pairs, a None date ignored. ValueError when the value is missing a part
    above ``highest``."""
    missing = value.missing
    if missing == "n":
        full = value.bounds()[0]
        return Imputed(full, None, f"{full.isoformat()} complete: not imputed")
    if not needs(missing, highest):
        raise ValueError(
            f"is a partial date ({value.describe()}); imputation here goes up to "
            f"{highest} ({LEVEL_WORDS[highest]}), so it cannot be imputed"
        )
    lower, upper = value.bounds()
    if missing == "Y":
        return _impute_year(value, position, min_dates, max_dates)
    date = _position(value, position)
    steps = [f"{position} {_part_words(missing)}: {date.isoformat()}"]
    for name, bound in min_dates:
        if bound is not None and lower <= bound <= upper and bound > date:
            date = bound
            steps.append(f"raised to {name} {bound.isoformat()} (not before it)")
    for name, bound in max_dates:
        if bound is not None and lower <= bound <= upper and bound < date:
            date = bound
            steps.append(f"lowered to {name} {bound.isoformat()} (not after it)")
    return Imputed(date, missing, f"{value.text!r} ({value.describe()}) -> " + "; ".join(steps))


def _part_words(missing: Level) -> str:
    return "day of the month" if missing == "D" else "day of the year"


def _position(value: PartialDate, position: Position) -> dt.date:
    assert value.year is not None
    if value.month is None:
        month, day = {"first": (1, 1), "mid": (6, 30), "last": (12, 31)}[position]
        return dt.date(value.year, month, day)
    last = calendar.monthrange(value.year, value.month)[1]
    day = {"first": 1, "mid": 15, "last": last}[position]
    return dt.date(value.year, value.month, day)


def _impute_year(
    value: PartialDate,
    position: Position,
    min_dates: Sequence[tuple[str, dt.date | None]],
    max_dates: Sequence[tuple[str, dt.date | None]],
) -> Imputed:
    """A wholly missing date: the latest minimum date (first) or earliest maximum (last)."""
    if position == "mid":
        raise ValueError("a missing date (level Y) can be imputed only with first or last")
    bounds = min_dates if position == "first" else max_dates
    given = [(d, n) for n, d in bounds if d is not None]
    if not given:
        names = ", ".join(n for n, _ in bounds) or "no bounding date"
        return Imputed(None, None, f"date missing and {names} empty: not imputed")
    date, name = max(given) if position == "first" else min(given)
    return Imputed(date, "Y", f"date missing -> {name} {date.isoformat()} ({position})")


__all__ = [
    "LEVELS",
    "LEVEL_WORDS",
    "NOT_A_DATE",
    "POSITIONS",
    "Imputed",
    "Level",
    "PartialDate",
    "Position",
    "impute",
    "needs",
    "parse_partial",
]
