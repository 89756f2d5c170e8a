"""A data cut: the trial database as it stood on a cutoff date, applied to every domain.

Rules (docs/DERIVATIONS.md, "Data cut"): a record dated after the cutoff did not exist yet,
so it is dropped; a date that runs past the cutoff (an ongoing dose period, an adverse event
not yet resolved, a last dose not yet given) is truncated; a death after the cutoff is not
seen; subjects randomized after the cutoff are not in the cut. The cutoff day itself is
inside the cut (``date <= cutoff``), as in the usual "data cut-off date" of a clinical study
report (ICH E3 section 11.4.1.1 asks for the cut-off to be stated for every analysis).

A partial date (allowed only where date imputation is set) is compared by the earliest date
it allows, as pharmaverse datacutr does: ``2022-09`` stays in a cut on 2022-09-10 (it may
precede the cut) and is later imputed no later than the cutoff; ``2022-10`` is after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from oncotrial.derive.imputation import clear_partial, earliest
from oncotrial.results import Result

# Domain -> the date column whose value after the cutoff drops the record.
RECORD_DATE = {
    "DS": "DSSTDTC",
    "EX": "EXSTDTC",
    "TR": "TRDTC",
    "RS": "RSDTC",
    "AE": "AESTDTC",
    "LB": "LBDTC",
    "GF": "GFDTC",
    "CM": "CMSTDTC",
    "MI": "MIDTC",
}


@dataclass(frozen=True)
class DataCut(Result):
    """The cut frames and what the cut changed (counts per domain)."""

    cutoff: dt.date | None
    frames: dict[str, pd.DataFrame] = field(repr=False)
    dropped: dict[str, int]  # records removed per domain
    truncated: dict[str, int]  # dates truncated or blanked per domain.column
    subjects_dropped: tuple[str, ...]  # randomized after the cutoff
    # domain -> 0-based row in the file of each row of the cut frame (only domains the cut
    # shortened), so that an error found after the cut still names the row of the file
    source_rows: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def file_row(self, domain: str, row: int) -> int:
        """The 1-based file row of 1-based ``row`` of the cut frame of ``domain``."""
        rows = self.source_rows.get(domain)
        if rows is None or not 1 <= row <= len(rows):
            return row
        return rows[row - 1] + 1

    def to_dict(self) -> dict[str, object]:
        return {
            "cutoff": None if self.cutoff is None else self.cutoff.isoformat(),
            "dropped": self.dropped,
            "truncated": self.truncated,
            "subjects_dropped": list(self.subjects_dropped),
        }

    def summary(self) -> str:
        if self.cutoff is None:
            return "no data cut"
        parts = [f"data cut {self.cutoff.isoformat()}"]
        parts += [f"{k}: {v} dropped" for k, v in self.dropped.items() if v]
        parts += [f"{k}: {v} truncated" for k, v in self.truncated.items() if v]
        return "; ".join(parts)


def apply_cutoff(frames: dict[str, pd.DataFrame], cutoff: dt.date | None) -> DataCut:
    """The raw ``frames`` (typed, see contracts) as they stood on ``cutoff``; None = no cut."""
    if cutoff is None:
        return DataCut(None, dict(frames), {}, {}, ())
    limit = pd.Timestamp(cutoff)
    out: dict[str, pd.DataFrame] = {}
    dropped: dict[str, int] = {}
    truncated: dict[str, int] = {}
    source: dict[str, list[int]] = {}

    dm = frames["DM"].copy()
    late = _after(dm, "RANDDT", limit)
    gone = tuple(dm.loc[late, "USUBJID"].tolist())
    if late.any():
        source["DM"] = [int(i) for i in dm.index[~late.to_numpy()]]
    dm = dm.loc[~late].reset_index(drop=True)
    dropped["DM"] = int(late.sum())
    not_started = _after(dm, "RFSTDTC", limit)
    dm.loc[not_started, "ACTARMCD"] = None
    for column in ("RFSTDTC", "RFENDTC", "DTHDTC"):
        after = _after(dm, column, limit)
        truncated[f"DM.{column}"] = int(after.sum())
        dm.loc[after, column] = pd.NaT
        clear_partial(dm, column, after)
    out["DM"] = dm

    for domain, frame in frames.items():
        if domain == "DM":
            continue
        kept = frame.loc[~frame["USUBJID"].isin(gone)]
        date_column = RECORD_DATE.get(domain)
        if date_column is not None:
            kept = kept.loc[~_after(kept, date_column, limit)]
        dropped[domain] = len(frame) - len(kept)
        if dropped[domain]:
            source[domain] = [int(i) for i in kept.index]
        kept = kept.reset_index(drop=True).copy()
        if domain == "EX":
            after = _after(kept, "EXENDTC", limit)
            truncated["EX.EXENDTC"] = int(after.sum())
            kept.loc[after, "EXENDTC"] = limit
            clear_partial(kept, "EXENDTC", after)
        if domain == "AE":
            after = _after(kept, "AEENDTC", limit)
            truncated["AE.AEENDTC"] = int(after.sum())
            kept.loc[after, "AEENDTC"] = pd.NaT
            clear_partial(kept, "AEENDTC", after)
        out[domain] = kept
    return DataCut(cutoff, out, dropped, truncated, gone, source)


def _after(frame: pd.DataFrame, column: str, limit: pd.Timestamp) -> pd.Series:
    """Rows whose date (a partial date: its earliest possible date) is after ``limit``."""
    dates = earliest(frame, column)
    return dates.notna() & (dates > limit)


CONTACT_DATES = {
    "DM": ("RANDDT", "RFSTDTC", "RFENDTC", "DTHDTC"),
    "DS": ("DSSTDTC",),
    "EX": ("EXSTDTC", "EXENDTC"),
    "TR": ("TRDTC",),
    "RS": ("RSDTC",),
    "AE": ("AESTDTC", "AEENDTC"),
    "LB": ("LBDTC",),
    "GF": ("GFDTC",),
    "CM": ("CMSTDTC",),
    "MI": ("MIDTC",),
}


def last_contact(frames: dict[str, pd.DataFrame]) -> dict[str, dt.date]:
    """Each subject's latest dated record in any domain (a date the subject was known alive,
    or the death date; a partial date counts as the earliest date it allows). Use the
    *uncut* frames: a contact after the cutoff shows the subject alive on the cutoff day."""
    pieces = []
    for domain, columns in CONTACT_DATES.items():
        frame = frames.get(domain)
        if frame is None or frame.empty:
            continue
        for column in columns:
            # a partial date counts by its earliest possible date: the subject was
            # certainly alive then
            dates = earliest(frame, column).rename("DATE")
            pieces.append(pd.concat([frame["USUBJID"], dates], axis=1))
    if not pieces:
        return {}
    stacked = pd.concat(pieces, ignore_index=True).dropna(subset=["DATE"])
    latest = stacked.groupby("USUBJID")["DATE"].max()
    return {str(k): pd.Timestamp(v).date() for k, v in latest.items()}
