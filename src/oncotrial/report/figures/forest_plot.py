"""Forest plot of subgroups: events/n and median (CI) per arm, HR (CI) on a log axis.

The layout is PALMIRA's Figure 3 (J Clin Oncol 2025): one line per subgroup level under
its subgroup's heading, the text columns of :meth:`SubgroupTable.to_frame` with
``formatted=True`` on the left, the hazard ratio as a square with its confidence interval
on a logarithmic axis with a reference line at 1, and the interaction p on the heading line.
Arrows mark intervals cut at the axis limits.

This module renders the :class:`oncotrial.stats.subgroups.SubgroupTable`; it computes
nothing. :func:`forest_plot_data` collects the rows, texts and plotted intervals
(:class:`ForestPlotData`, checked by tests); :func:`draw_forest_plot` draws them.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from oncotrial.report.figures.style import ARM_COLOURS, FONT_SIZE, NEUTRAL
from oncotrial.results import Result
from oncotrial.stats.subgroups import SubgroupTable

AXIS_LIMITS = (0.1, 10.0)


@dataclass(frozen=True, eq=False)
class ForestPlotData(Result):
    """Lines of a forest plot, top to bottom.

    ``text`` has one row per line and the display columns; ``hr``, ``lower`` and ``upper``
    are NaN on heading lines (and where a level has no estimate); ``heading`` marks them.
    """

    text: pd.DataFrame
    heading: np.ndarray
    hr: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    x_limits: tuple[float, float]
    favours: tuple[str, str]
    footnote: str

    def to_frame(self) -> pd.DataFrame:
        frame = self.text.copy()
        frame["heading"] = self.heading
        frame["hr"], frame["lower"], frame["upper"] = self.hr, self.lower, self.upper
        return frame


def forest_plot_data(table: SubgroupTable, *, footnote: str = "") -> ForestPlotData:
    """Lines of the plot: a heading per subgroup (with its interaction p), then its levels."""
    display = table.to_frame(formatted=True)
    p_column = "Interaction P"
    lines: list[dict[str, str]] = []
    heading, hr, lower, upper = [], [], [], []
    previous = None
    for row, shown in zip(table.rows, display.to_dict("records"), strict=True):
        if row.level and row.subgroup != previous:
            lines.append({"Subgroup": row.subgroup, p_column: shown[p_column]})
            heading.append(True)
            hr.append(math.nan)
            lower.append(math.nan)
            upper.append(math.nan)
        previous = row.subgroup
        label = f"  {row.level}" if row.level else row.subgroup  # "All patients" has no level
        line = {str(k): v for k, v in shown.items() if k not in ("Subgroup", "Level", p_column)}
        lines.append({"Subgroup": label, **line, p_column: ""})
        heading.append(False)
        hr.append(row.hr)
        lower.append(row.hr_lower)
        upper.append(row.hr_upper)
    columns = ["Subgroup", *[c for c in display.columns if c not in ("Subgroup", "Level")]]
    text = pd.DataFrame(lines, columns=columns).fillna("")
    return ForestPlotData(
        text=text,
        heading=np.array(heading),
        hr=np.array(hr, dtype=float),
        lower=np.array(lower, dtype=float),
        upper=np.array(upper, dtype=float),
        x_limits=AXIS_LIMITS,
        favours=(f"Favours {table.experimental_arm}", f"Favours {table.control_arm}"),
        footnote=" ".join(s for s in (footnote, table.conventions.footnote()) if s),
    )


def draw_forest_plot(data: ForestPlotData) -> Figure:
    """Draw :class:`ForestPlotData`: text columns, then the log-axis HR panel.

    Column widths follow the longest text of each column, so nothing overlaps whatever the
    labels; the figure grows with the number of lines.
    """
    columns = list(data.text.columns)
    hr_column = next(c for c in columns if c.startswith(("HR", "Adjusted HR")))
    left_columns = [c for c in columns if c not in (hr_column, "Interaction P")]
    right_columns = [hr_column, "Interaction P"]
    char_in = 0.068
    chars = {
        c: max(14, max(len(w) for w in c.split()), *(len(v) for v in data.text[c])) for c in columns
    }
    headers = {c: textwrap.fill(c, chars[c]) for c in columns}
    widths = {c: char_in * chars[c] + 0.2 for c in columns}
    panel = 2.4
    width = sum(widths[c] for c in columns) + panel + 0.3
    n = len(data.text)
    row_in, foot_in = 0.24, 0.6
    head_in = 0.2 + 0.17 * max(h.count("\n") + 1 for h in headers.values())
    height = head_in + row_in * n + foot_in
    fig = Figure(figsize=(width, height))
    y_of = [1 - (head_in + row_in * (i + 0.5)) / height for i in range(n)]

    x = 0.15
    for column in left_columns:
        _column(fig, data, column, headers[column], x / width, y_of, 1 - 0.5 * head_in / height)
        x += widths[column]
    ax = fig.add_axes((x / width, foot_in / height, panel / width, row_in * n / height))
    _panel(ax, data)
    x += panel + 0.15
    for column in right_columns:
        _column(fig, data, column, headers[column], x / width, y_of, 1 - 0.5 * head_in / height)
        x += widths[column]
    if data.footnote:
        fig.text(0.01, 0.01, data.footnote, fontsize=FONT_SIZE - 3, va="bottom", wrap=True)
    return fig


def _column(
    fig: Figure,
    data: ForestPlotData,
    column: str,
    header: str,
    x: float,
    y_of: list[float],
    header_y: float,
) -> None:
    fig.text(x, header_y, header, fontsize=FONT_SIZE - 2, weight="bold", va="center")
    for y, value, is_heading in zip(y_of, data.text[column], data.heading, strict=True):
        fig.text(
            x,
            y,
            value,
            fontsize=FONT_SIZE - 2,
            va="center",
            weight="bold" if is_heading and column == "Subgroup" else "normal",
        )


def _panel(ax: Axes, data: ForestPlotData) -> None:
    lo_lim, hi_lim = data.x_limits
    n = len(data.text)
    ax.set_xscale("log")
    ax.set_xlim(lo_lim, hi_lim)
    ax.set_ylim(n, 0)
    ax.axvline(1.0, color=NEUTRAL, lw=0.8)
    for i in range(n):
        if data.heading[i] or not math.isfinite(data.hr[i]):
            continue
        y = i + 0.5
        lo, hi = max(data.lower[i], lo_lim), min(data.upper[i], hi_lim)
        ax.plot([lo, hi], [y, y], color=ARM_COLOURS[0], lw=1.2)
        ax.plot(data.hr[i], y, "s", color=ARM_COLOURS[0], ms=5)
        for cut, at, marker in (
            (data.lower[i] < lo_lim, lo, "<"),
            (data.upper[i] > hi_lim, hi, ">"),
        ):
            if cut:
                ax.plot(at, y, marker, color=ARM_COLOURS[0], ms=5)
    ax.set_yticks([])
    ax.spines[["left", "right", "top"]].set_visible(False)
    ax.set_xticks([0.1, 0.25, 0.5, 1, 2, 4, 10], ["0.1", "0.25", "0.5", "1", "2", "4", "10"])
    ax.tick_params(labelsize=FONT_SIZE - 2)
    ax.set_xlabel(f"{data.favours[0]}    |    {data.favours[1]}", fontsize=FONT_SIZE - 2)
