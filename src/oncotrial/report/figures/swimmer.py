"""Swimmer plot: time on treatment per subject, with responses, progression and death.

One horizontal bar per subject from first dose to last dose (to the data cut, with an arrow,
while treatment is ongoing), coloured by arm; markers at the first response (CR or PR time
point) and at progression; sorted by time on treatment. By default only subjects with
clinical benefit (ADRS ``CBR`` = Y) are shown, as is usual when a trial has hundreds of
subjects; ``subjects=`` chooses others.

The report takes dates from the analysis datasets and converts days to months with
:data:`oncotrial.conventions.DAYS_PER_MONTH`; it derives nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.derive._columns import require_columns
from oncotrial.report.figures.style import ARM_COLOURS, FONT_SIZE, NEUTRAL
from oncotrial.results import Result


@dataclass(frozen=True, eq=False)
class SwimmerData(Result):
    """One lane per subject (months from first dose), longest first."""

    lanes: pd.DataFrame  # USUBJID, arm, months, ongoing, response_month, progression_month
    arms: tuple[str, ...]
    footnote: str

    def to_frame(self) -> pd.DataFrame:
        return self.lanes.copy()


def _months(later: pd.Series, earlier: pd.Series) -> pd.Series:
    days = (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.days
    return days / DAYS_PER_MONTH


def swimmer_data(
    adsl: pd.DataFrame,
    adrs: pd.DataFrame,
    adtte: pd.DataFrame,
    *,
    arm: str = "ARMCD",
    subjects: list[str] | None = None,
    footnote: str = "",
) -> SwimmerData:
    """Lanes from ADSL (TRTSDT, TRTEDT, EOTSTT, DCUTDT), ADRS (OVR, CBR) and ADTTE (PFS).

    Treatment duration is TRTEDT - TRTSDT + 1 days; a subject whose EOTSTT is ``ONGOING``
    is drawn to the data cut with an arrow. Response is the first CR or PR time point;
    progression is the PFS event date when EVNTDESC says progression.
    """
    require_columns(adsl, ("USUBJID", arm, "TRTSDT", "TRTEDT", "EOTSTT", "DCUTDT"), "ADSL")
    require_columns(adrs, ("USUBJID", "PARAMCD", "AVALC", "ADT"), "ADRS")
    require_columns(adtte, ("USUBJID", "PARAMCD", "ADT", "CNSR", "EVNTDESC"), "ADTTE")
    if subjects is None:
        cbr = adrs[(adrs["PARAMCD"] == "CBR") & (adrs["AVALC"] == "Y")]
        subjects = sorted(cbr["USUBJID"].astype(str))
    base = adsl[adsl["USUBJID"].astype(str).isin(subjects) & adsl["TRTSDT"].notna()].copy()
    ongoing = base["EOTSTT"].astype(str).str.upper() == "ONGOING"
    end = base["TRTEDT"].where(~ongoing, base["DCUTDT"])
    base["months"] = (_months(end, base["TRTSDT"]) + 1 / DAYS_PER_MONTH).astype(float)
    base["ongoing"] = ongoing
    start = base.set_index("USUBJID")["TRTSDT"]

    responses = adrs[(adrs["PARAMCD"] == "OVR") & adrs["AVALC"].isin(["CR", "PR"])]
    first = responses.groupby("USUBJID")["ADT"].min()
    progression = adtte[
        (adtte["PARAMCD"] == "PFS")
        & (adtte["CNSR"] == 0)
        & adtte["EVNTDESC"].astype(str).str.contains("progress", case=False)
    ].set_index("USUBJID")["ADT"]
    ids = base["USUBJID"]
    base["response_month"] = _months(ids.map(first), ids.map(start)).to_numpy()
    base["progression_month"] = _months(ids.map(progression), ids.map(start)).to_numpy()
    lanes = base.rename(columns={arm: "arm"})[
        ["USUBJID", "arm", "months", "ongoing", "response_month", "progression_month"]
    ].sort_values(["months", "USUBJID"], ascending=[False, True])
    return SwimmerData(
        lanes=lanes.reset_index(drop=True),
        arms=tuple(pd.unique(adsl[arm].dropna().astype(str))),
        footnote=footnote,
    )


def draw_swimmer(data: SwimmerData) -> Figure:
    """Bars per subject; triangle = first response, cross = progression, arrow = ongoing."""
    n = len(data.lanes)
    fig = Figure(figsize=(7.5, 1.2 + 0.16 * max(n, 5)), layout="constrained")
    ax = fig.subplots()
    colour = {a: ARM_COLOURS[i % len(ARM_COLOURS)] for i, a in enumerate(data.arms)}
    lanes = data.lanes
    columns = ("arm", "months", "ongoing", "response_month", "progression_month")
    for y, (arm, months, ongoing, response, progression) in enumerate(
        zip(*(lanes[c].tolist() for c in columns), strict=True)
    ):
        ax.barh(y, float(months), color=colour.get(str(arm), NEUTRAL), height=0.7)
        if ongoing:
            ax.annotate(
                "",
                (float(months) + 0.8, y),
                (float(months), y),
                arrowprops={"arrowstyle": "->", "color": NEUTRAL, "lw": 0.8},
            )
        if pd.notna(response):
            ax.plot(float(response), y, "^", color="black", ms=4)
        if pd.notna(progression):
            ax.plot(float(progression), y, "x", color="black", ms=4)
    ax.set_yticks(range(n), data.lanes["USUBJID"], fontsize=FONT_SIZE - 4)
    ax.invert_yaxis()
    ax.set_xlabel("Months from first dose", fontsize=FONT_SIZE)
    ax.spines[["top", "right"]].set_visible(False)
    legend = [Line2D([], [], color=c, lw=6, label=a) for a, c in colour.items()] + [
        Line2D([], [], marker="^", ls="", color="black", label="First response"),
        Line2D([], [], marker="x", ls="", color="black", label="Progression"),
        Line2D([], [], marker=r"$\rightarrow$", ls="", color=NEUTRAL, label="Ongoing"),
    ]
    ax.legend(handles=legend, fontsize=FONT_SIZE - 2, frameon=False, loc="lower right")
    if data.footnote:
        fig.supxlabel(data.footnote, fontsize=FONT_SIZE - 3)
    return fig
