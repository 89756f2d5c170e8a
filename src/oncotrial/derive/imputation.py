"""Partial dates of the raw domains: the earliest date they allow (data cut, last contact)
and their imputation after the data cut.

Order in the pipeline (docs/DERIVATIONS.md, "Partial dates"): read (partial values kept
beside their column, :func:`oncotrial.derive.contracts.partial_column`) -> data cut, which
drops a record only when the *earliest* date its partial value allows is after the cutoff
(the pharmaverse datacutr convention: a record that may precede the cut stays) -> imputation
of every configured column except those of AE (:func:`impute_domains`, the imputed date
capped at the cutoff: admiral ``max_dates = DCUTDT``) -> ADSL -> ADAE, where AESTDTC and
AEENDTC are imputed with the first dose, death and cutoff as admiral's ADAE template does
(:mod:`oncotrial.derive.safety`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from oncotrial.derive._columns import bad_cell
from oncotrial.derive.contracts import partial_column
from oncotrial.derive.dates import Imputed, impute, parse_partial
from oncotrial.derive.options import DateRule, DerivationOptions
from oncotrial.results import Result


def partial_values(frame: pd.DataFrame, column: str) -> list[str | None]:
    """The partial values of ``column`` by row (None where the cell is a full date or empty
    and not to be imputed)."""
    name = partial_column(column)
    if name not in frame.columns:
        return [None] * len(frame)
    return [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in frame[name]]


def earliest(frame: pd.DataFrame, column: str) -> pd.Series:
    """``column`` with each partial value replaced by the earliest date it allows (NaT for a
    wholly missing date)."""
    out = frame[column].copy()
    for i, text in enumerate(partial_values(frame, column)):
        if text:
            out.iloc[i] = pd.Timestamp(parse_partial(text).bounds()[0])
    return out


def clear_partial(frame: pd.DataFrame, column: str, mask: pd.Series) -> None:
    """Forget the partial values of ``column`` on the rows of ``mask`` (in place)."""
    name = partial_column(column)
    if name in frame.columns:
        frame.loc[mask.to_numpy(), name] = None


@dataclass(frozen=True)
class ImputedCell:
    """One imputed raw cell: where, the value as written, the date and flag, and why."""

    domain: str
    row: int  # 1-based row of the raw file
    usubjid: str
    column: str
    text: str
    date: dt.date | None
    flag: str | None
    reason: str

    def sentence(self) -> str:
        shown = self.date.isoformat() if self.date else "(empty)"
        flag = f", flag {self.flag}" if self.flag else ""
        return f"{self.domain}.{self.column} (row {self.row}) = {shown}{flag}: {self.reason}"


@dataclass(frozen=True)
class RawImputation(Result):
    """The cut frames with the configured non-AE columns imputed, and every imputed cell."""

    frames: dict[str, pd.DataFrame] = field(repr=False)
    cells: tuple[ImputedCell, ...]
    options: DerivationOptions

    def counts(self) -> dict[str, dict[str, int]]:
        """Per column: cells imputed by flag (D, M, Y)."""
        out: dict[str, dict[str, int]] = {}
        for c in self.cells:
            per = out.setdefault(f"{c.domain}.{c.column}", {})
            key = c.flag or "not imputed"
            per[key] = per.get(key, 0) + 1
        return out

    def traces(self) -> dict[str, list[str]]:
        """USUBJID -> ``DATES ...`` sentences for ``derive explain``."""
        out: dict[str, list[str]] = {}
        for c in self.cells:
            out.setdefault(c.usubjid, []).append(f"DATES {c.sentence()}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"options": self.options.to_dict(), "imputed": self.counts()}

    def summary(self) -> str:
        if not self.cells:
            return "no raw date imputed"
        return "\n".join(c.sentence() for c in self.cells)


def impute_domains(
    frames: dict[str, pd.DataFrame],
    options: DerivationOptions,
    cutoff: dt.date | None,
    *,
    file_row: Callable[[str, int], int] | None = None,
) -> RawImputation:
    """Impute every configured date column outside AE (AE is imputed when ADAE is derived,
    with the first dose and death date). The imputed date is not after ``cutoff``.
    ``file_row(domain, row)`` maps a 1-based row of a cut frame to its row in the file."""
    out = dict(frames)
    cells: list[ImputedCell] = []
    for rule in options.date_rules:
        if rule.domain == "AE" or rule.domain not in out:
            continue
        frame = out[rule.domain].copy()
        texts = partial_values(frame, rule.column)
        for i, text in enumerate(texts):
            if text is None:
                continue
            result = impute_cell(rule, text, rule.domain, i, max_dates=[("data cutoff", cutoff)])
            frame.loc[i, rule.column] = pd.NaT if result.date is None else pd.Timestamp(result.date)
            cells.append(
                ImputedCell(
                    rule.domain,
                    file_row(rule.domain, i + 1) if file_row else i + 1,
                    str(frame["USUBJID"].iloc[i]),
                    rule.column,
                    text,
                    result.date,
                    result.flag,
                    result.reason,
                )
            )
        out[rule.domain] = frame.drop(columns=[partial_column(rule.column)], errors="ignore")
    return RawImputation(out, tuple(cells), options)


def impute_cell(
    rule: DateRule,
    text: str,
    dataset: str,
    row: int,
    *,
    min_dates: list[tuple[str, dt.date | None]] | None = None,
    max_dates: list[tuple[str, dt.date | None]] | None = None,
) -> Imputed:
    """One partial value imputed under ``rule``; an error names dataset, 0-based ``row``,
    column and value."""
    try:
        return impute(
            parse_partial(text),
            highest=rule.highest_imputation,
            position=rule.date_imputation,
            min_dates=min_dates or [],
            max_dates=max_dates or [],
        )
    except ValueError as exc:
        raise bad_cell(dataset, rule.column, row, text, str(exc)) from None


__all__ = [
    "ImputedCell",
    "RawImputation",
    "clear_partial",
    "earliest",
    "impute_cell",
    "impute_domains",
    "partial_values",
]
