"""Waterfall plot: best percent change from baseline in the sum of target lesion diameters.

One bar per subject with measurable disease and at least one post-baseline assessment,
sorted from the largest increase to the largest decrease, coloured by best overall
response, with reference lines at +20% and -30% (the RECIST 1.1 progression and partial
response thresholds, Eisenhauer et al. 2009, section 4.3.1). Panels per arm.

The best change is the minimum post-baseline ``PCHG`` of ADTR ``SUMDIAM`` records (the
derivation computed each ``PCHG``); the report only selects it. Subjects whose target sum
was never re-measured are counted in a footnote, not drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from oncotrial.derive._columns import require_columns
from oncotrial.report.figures.style import FONT_SIZE, NEUTRAL
from oncotrial.results import Result

RESPONSE_COLOURS = {
    "CR": "#009E73",
    "PR": "#0072B2",
    "SD": "#E69F00",
    "NON-CR/NON-PD": "#E69F00",
    "PD": "#D55E00",
    "NE": "#999999",
}
RESPONSE_ORDER = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")


@dataclass(frozen=True, eq=False)
class WaterfallData(Result):
    """Bars per arm, in plotting order (largest increase first)."""

    bars: pd.DataFrame  # USUBJID, arm, best_pchg, response, position
    arms: tuple[str, ...]
    not_shown: dict[str, int]
    footnote: str

    def to_frame(self) -> pd.DataFrame:
        return self.bars.copy()


def waterfall_data(
    adtr: pd.DataFrame,
    adsl: pd.DataFrame,
    bor: pd.DataFrame | None = None,
    *,
    arm: str = "ARMCD",
    footnote: str = "",
) -> WaterfallData:
    """Best post-baseline percent change per subject, with arm and best overall response.

    Args:
        adtr: ADTR-like records (USUBJID, PARAMCD, PCHG, ABLFL); ``SUMDIAM`` rows are used.
        adsl: subject-level frame with USUBJID, ``arm`` and MEASFL.
        bor: ADRS-like ``BOR`` rows (USUBJID, AVALC) to colour the bars (optional).
    """
    require_columns(adtr, ("USUBJID", "PARAMCD", "PCHG", "ABLFL"), "ADTR")
    require_columns(adsl, ("USUBJID", arm, "MEASFL"), "ADSL")
    sums = adtr[(adtr["PARAMCD"] == "SUMDIAM") & (adtr["ABLFL"] != "Y")]
    sums = sums[sums["PCHG"].notna()]
    best = sums.groupby("USUBJID", sort=True)["PCHG"].min().rename("best_pchg").reset_index()
    measurable = adsl[adsl["MEASFL"] == "Y"][["USUBJID", arm]]
    bars = measurable.merge(best, on="USUBJID", how="inner").rename(columns={arm: "arm"})
    responses = (
        bor[bor["PARAMCD"] == "BOR"].set_index("USUBJID")["AVALC"]
        if bor is not None and "PARAMCD" in bor.columns
        else pd.Series(dtype=object)
    )
    bars["response"] = bars["USUBJID"].map(responses).fillna("NE").astype(str)
    bars = bars.sort_values(["arm", "best_pchg", "USUBJID"], ascending=[True, False, True])
    bars["position"] = bars.groupby("arm").cumcount()
    arms = tuple(pd.unique(adsl[arm].dropna().astype(str)))
    counted = bars.groupby("arm").size()
    not_shown = {a: int((measurable[arm].astype(str) == a).sum() - counted.get(a, 0)) for a in arms}
    note = "; ".join(
        f"{a}: {k} measurable without post-baseline sum" for a, k in not_shown.items() if k
    )
    return WaterfallData(
        bars=bars.reset_index(drop=True),
        arms=arms,
        not_shown=not_shown,
        footnote=" ".join(s for s in (footnote, note) if s),
    )


def draw_waterfall(data: WaterfallData) -> Figure:
    """One panel per arm; bars coloured by best overall response; +20% and -30% lines."""
    fig = Figure(figsize=(7.5, 2.6 * len(data.arms) + 0.6), layout="constrained")
    axes = fig.subplots(len(data.arms), 1, squeeze=False)[:, 0]
    low = min(-100.0, float(data.bars["best_pchg"].min()) if len(data.bars) else -100.0)
    high = max(60.0, float(data.bars["best_pchg"].max()) + 10 if len(data.bars) else 60.0)
    for ax, arm in zip(axes, data.arms, strict=True):
        rows = data.bars[data.bars["arm"] == arm]
        colours = [RESPONSE_COLOURS.get(r, "#999999") for r in rows["response"]]
        ax.bar(rows["position"], rows["best_pchg"], color=colours, width=0.85)
        for level in (20, -30):
            ax.axhline(level, color=NEUTRAL, ls="--", lw=0.7)
        ax.axhline(0, color=NEUTRAL, lw=0.6)
        ax.set_ylim(low, high)
        ax.set_xlim(-1, max(len(rows), 1))
        ax.set_xticks([])
        ax.set_title(f"{arm} (n = {len(rows)})", fontsize=FONT_SIZE, loc="left")
        ax.set_ylabel("Best change from\nbaseline (%)", fontsize=FONT_SIZE - 1)
        ax.spines[["top", "right", "bottom"]].set_visible(False)
    present = [r for r in RESPONSE_ORDER if r in set(data.bars["response"])]
    handles = [Patch(color=RESPONSE_COLOURS[r], label=r) for r in present]
    if handles:
        axes[0].legend(
            handles=handles,
            fontsize=FONT_SIZE - 2,
            frameon=False,
            loc="upper right",
            ncols=len(handles),
        )
    if data.footnote:
        fig.supxlabel(data.footnote, fontsize=FONT_SIZE - 3)
    return fig
