"""The data cutoff at which an endpoint reaches a given number of events.

Event-driven trials fix the analysis by an event count ("the primary analysis after 158
PFS events"); the data cut is then the date on which that count was reached. PALMIRA's ASCO
2023 abstract (155 PFS events) and its J Clin Oncol 2025 paper (158 events) are two such cuts
of one trial: two runs of ``oncotrial derive --cutoff`` with the dates this module finds.

Method: derive the endpoint once without a cut; a cut at date C keeps exactly the records
dated on or before C, so the events of the cut data are expected to be the uncut events
dated on or before C. The candidate cutoff is the date of the n-th uncut event (events
sorted by date). It is then *verified* by deriving the data cut at that date and at the day
before (the full data cut of :func:`oncotrial.derive.datacut.apply_cutoff`, ADSL, responses
and ADTTE with the spec's censoring rules): the count must reach n on that day and not the
day before. Should a rule make the two disagree (e.g. an event that needs a record after it),
the earliest date at which the cut data reach n events is found by bisection over the
candidate event dates, each step a real data cut. When several events share the date of the
n-th, no cutoff gives exactly n; the result says so and gives the count on that date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from oncotrial.derive.options import DerivationOptions
from oncotrial.derive.pipeline import RawTrial, derive_efficacy, read_trial
from oncotrial.errors import InputError
from oncotrial.results import Result
from oncotrial.spec import TrialSpec


@dataclass(frozen=True)
class EventCutoff(Result):
    """The earliest data cutoff at which ``paramcd`` has at least ``n_events`` events."""

    paramcd: str
    n_events: int
    cutoff: dt.date
    events_at_cutoff: int  # derived with the cut at ``cutoff``
    events_day_before: int  # derived with the cut the day before
    events_without_cut: int
    exact: bool  # events_at_cutoff == n_events
    checked: tuple[tuple[str, int], ...]  # every cut derived: (date, events)

    def summary(self) -> str:
        head = (
            f"{self.paramcd}: {self.events_at_cutoff} events with the data cut on "
            f"{self.cutoff.isoformat()} ({self.events_day_before} the day before; "
            f"{self.events_without_cut} without a cut)"
        )
        if self.exact:
            return f"{head}\n  oncotrial derive SPEC RAW_DIR OUT_DIR --cutoff {self.cutoff}"
        return (
            f"{head}\n  no cutoff gives exactly {self.n_events} events: several events share "
            f"{self.cutoff.isoformat()}"
        )


def _events(frame: pd.DataFrame, paramcd: str) -> list[dt.date]:
    rows = frame.loc[(frame["PARAMCD"] == paramcd) & (frame["CNSR"] == 0), "ADT"]
    return sorted(d.date() for d in rows)


def cutoff_for_events(
    raw: str | Path | RawTrial,
    spec: TrialSpec | str | Path | None = None,
    n_events: int = 0,
    *,
    paramcd: str = "PFS",
    options: DerivationOptions | str | Path | None = None,
) -> EventCutoff:
    """The earliest cutoff date at which ``paramcd`` (an ADTTE PARAMCD) has ``n_events``
    events, verified by deriving the cut (see the module docstring).

    ``raw`` is a raw data directory (then ``spec`` is required) or a :class:`RawTrial`
    from :func:`oncotrial.derive.pipeline.read_trial`; ``options`` (date imputation, AE
    grouping) apply to a directory.
    """
    if isinstance(raw, RawTrial):
        trial = raw
    else:
        if spec is None:
            raise InputError("cutoff_for_events: give the spec of the trial", argument="spec")
        trial = read_trial(spec, raw, options=options)
    if isinstance(n_events, bool) or not isinstance(n_events, int) or n_events < 1:
        raise InputError(
            f"n_events: {n_events!r} is not valid; give a whole number of events >= 1",
            argument="n_events",
            value=repr(n_events),
        )
    full = derive_efficacy(trial, None).adtte
    endpoints = [p.paramcd for p in full.plans]
    if paramcd not in endpoints:
        raise InputError(
            f"paramcd: {paramcd!r} is not an endpoint of this trial; valid: {endpoints}",
            argument="paramcd",
            value=paramcd,
        )
    uncut = _events(full.frame, paramcd)
    if n_events > len(uncut):
        raise InputError(
            f"n_events: the data hold {len(uncut)} {paramcd} events in all, fewer than "
            f"{n_events}; valid: 1-{len(uncut)}",
            argument="n_events",
            value=n_events,
        )
    checked: list[tuple[str, int]] = []

    def count(day: dt.date) -> int:
        n = len(_events(derive_efficacy(trial, day).adtte.frame, paramcd))
        checked.append((day.isoformat(), n))
        return n

    candidates = sorted(set(uncut))
    guess = uncut[n_events - 1]
    at, before = count(guess), count(guess - dt.timedelta(days=1))
    if not (at >= n_events > before):
        lo, hi = 0, len(candidates) - 1  # earliest candidate whose cut reaches n events
        while lo < hi:
            mid = (lo + hi) // 2
            if count(candidates[mid]) >= n_events:
                hi = mid
            else:
                lo = mid + 1
        guess = candidates[lo]
        at, before = count(guess), count(guess - dt.timedelta(days=1))
    return EventCutoff(
        paramcd,
        n_events,
        guess,
        at,
        before,
        len(uncut),
        at == n_events,
        tuple(checked),
    )
