"""Kaplan-Meier figure: curves by arm, censor marks, numbers at risk, medians, HR and p.

The layout follows the figures of oncology journals (e.g. PALMIRA, J Clin Oncol 2025,
Figure 2): survival in percent against months, one step curve per arm with a tick at each
censored time, a dashed line at 50% down to each median, the HR (CI), p and the medians
(CI) written inside the panel, and the numbers at risk (optionally the cumulative events)
per arm in a table under the time axis, aligned with its ticks.

This module renders; it computes nothing. Every plotted coordinate and every count comes
from :class:`oncotrial.analysis.SurvivalAnalysis`: the steps are the Kaplan-Meier table of
each arm, the numbers at risk are :meth:`KaplanMeier.survival_at` (subjects with time >= t,
as R ``summary(survfit, times)`` reports them), the cumulative events are the events at or
before each tick. :func:`km_plot_data` collects them into :class:`KMPlotData`, which tests
check, and :func:`draw_km_plot` draws that data with matplotlib.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from oncotrial.analysis import SurvivalAnalysis, fmt_ci
from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.errors import InputError
from oncotrial.report.figures.style import ARM_COLOURS, FONT_SIZE, p_label
from oncotrial.results import Result


@dataclass(frozen=True, eq=False)
class KMCurve(Result):
    """One arm's curve in plot coordinates (months, survival as a fraction)."""

    arm: str
    label: str
    step_x: np.ndarray
    step_y: np.ndarray
    censor_x: np.ndarray
    censor_y: np.ndarray
    median: float
    median_ci: tuple[float, float]
    at_risk: np.ndarray
    cumulative_events: np.ndarray


@dataclass(frozen=True, eq=False)
class KMPlotData(Result):
    """Everything a Kaplan-Meier figure shows; ``risk_times`` are the x ticks (months)."""

    endpoint: str
    curves: tuple[KMCurve, ...]
    risk_times: np.ndarray
    annotation: tuple[str, ...]
    footnote: str
    x_label: str
    y_label: str


def km_plot_data(
    analysis: SurvivalAnalysis,
    *,
    endpoint: str = "PFS",
    labels: dict[str, str] | None = None,
    tick_every: float = 3.0,
    max_time: float | None = None,
    footnote: str = "",
) -> KMPlotData:
    """Collect the coordinates, counts and texts of a Kaplan-Meier figure.

    Args:
        analysis: the result of :func:`oncotrial.analysis.analyze_survival`.
        endpoint: name written on the y axis ("PFS", "OS").
        labels: display label per arm level (default the level itself).
        tick_every: months between x ticks, which are also the numbers-at-risk times.
        max_time: last month shown (default: the last follow-up time, rounded up to a tick).
        footnote: text under the figure (data cut, analysis set); the conventions are added.
    """
    if not (math.isfinite(tick_every) and tick_every > 0):
        raise InputError(
            f"tick_every: {tick_every!r} months is not a positive number",
            field="tick_every",
            value=tick_every,
        )
    scale = DAYS_PER_MONTH if analysis.data["time_unit"] == "days" else 1.0
    labels = labels or {}
    last = max(float(a.km.time[-1]) / scale if a.km.time.size else 0.0 for a in analysis.arms)
    end = max_time if max_time is not None else tick_every * math.ceil(last / tick_every)
    risk_times = np.arange(0.0, end + tick_every / 2, tick_every)
    curves = tuple(
        _curve(arm, labels.get(arm.arm, arm.arm), risk_times, scale) for arm in analysis.arms
    )
    return KMPlotData(
        endpoint=endpoint,
        curves=curves,
        risk_times=risk_times,
        annotation=_annotation(analysis, labels),
        footnote=" ".join(s for s in (footnote, analysis.conventions.footnote()) if s),
        x_label="Time (months)",
        y_label=f"{endpoint} (%)",
    )


def _curve(arm: Any, label: str, risk_times: np.ndarray, scale: float) -> KMCurve:
    km = arm.km
    months = km.time / scale
    censored = km.n_censor > 0
    ticks_in_data_unit = risk_times * scale
    cumulative = np.cumsum(km.n_event)
    upto = np.searchsorted(km.time, ticks_in_data_unit, "right")
    events_by_tick = np.where(upto > 0, cumulative[np.maximum(upto - 1, 0)], 0)
    return KMCurve(
        arm=arm.arm,
        label=label,
        step_x=np.concatenate(([0.0], months)),
        step_y=np.concatenate(([1.0], km.survival)),
        censor_x=months[censored],
        censor_y=km.survival[censored],
        median=arm.median,
        median_ci=arm.median_ci,
        at_risk=km.survival_at(ticks_in_data_unit).n_risk,
        cumulative_events=events_by_tick.astype(np.int64),
    )


def _annotation(analysis: SurvivalAnalysis, labels: dict[str, str]) -> tuple[str, ...]:
    level = f"{analysis.conventions.conf_level:.0%}"
    hr = analysis.cox
    lr = analysis.logrank
    test = "stratified log-rank" if lr.strata else "log-rank"
    lines = [f"HR ({level} CI) {fmt_ci(hr.hr, hr.ci, 2)}", f"{p_label(lr.p)} ({test})"]
    for arm in analysis.arms:
        name = labels.get(arm.arm, arm.arm)
        lines.append(f"Median {name}: {fmt_ci(arm.median, arm.median_ci, 1)} months")
    return tuple(lines)


def draw_km_plot(data: KMPlotData, *, show_events: bool = False) -> Figure:
    """Draw :class:`KMPlotData`: the curves panel above a numbers-at-risk table.

    The layout is fixed in inches (not left to matplotlib's layout engines) so the risk
    table's rows stay under the ticks and its labels fit in the left margin whatever their
    length.
    """
    rows = _risk_rows(data, show_events)
    longest = max(len(label) for label, _, _ in rows)
    left = max(0.8, 0.07 * longest + 0.35)
    table_h = 0.3 + 0.22 * len(rows)
    plot_h, xlabel_h, foot_h, top, width = 4.0, 0.55, 0.45, 0.15, 7.5
    height = top + plot_h + xlabel_h + table_h + foot_h
    fig = Figure(figsize=(width, height))
    frac_w = (width - left - 0.25) / width
    ax = fig.add_axes(
        (left / width, (foot_h + table_h + xlabel_h) / height, frac_w, plot_h / height)
    )
    table = fig.add_axes((left / width, foot_h / height, frac_w, table_h / height))
    _curves(ax, data)
    _risk_table(table, data, rows)
    if data.footnote:
        fig.text(0.01, 0.01, data.footnote, fontsize=FONT_SIZE - 3, va="bottom", wrap=True)
    return fig


def _curves(ax: Axes, data: KMPlotData) -> None:
    for colour, curve in zip(ARM_COLOURS, data.curves, strict=False):
        ax.step(
            curve.step_x, curve.step_y * 100, where="post", color=colour, lw=1.8, label=curve.label
        )
        ax.plot(curve.censor_x, curve.censor_y * 100, "|", color=colour, ms=7, mew=1.2)
        if math.isfinite(curve.median):
            ax.plot(
                [0, curve.median, curve.median],
                [50, 50, 0],
                ls="--",
                lw=0.8,
                color=colour,
                alpha=0.8,
            )
    ax.set_xlim(0, float(data.risk_times[-1]))
    ax.set_ylim(0, 102)
    ax.set_xticks(data.risk_times)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel(data.y_label, fontsize=FONT_SIZE)
    ax.set_xlabel(data.x_label, fontsize=FONT_SIZE)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper right", frameon=False, fontsize=FONT_SIZE)
    corner = annotation_corner(data)
    ax.text(
        0.98 if corner == "upper right" else 0.03,
        0.72 if corner == "upper right" else 0.04,
        "\n".join(data.annotation),
        transform=ax.transAxes,
        ha="right" if corner == "upper right" else "left",
        va="top" if corner == "upper right" else "bottom",
        fontsize=FONT_SIZE - 1,
        linespacing=1.4,
    )


def annotation_corner(data: KMPlotData) -> str:
    """Where the HR/p/median text goes: upper right (under the legend) when every curve has
    fallen below 50% by mid-axis, as for PFS; otherwise lower left, which curves that start
    at 100% leave empty early on (OS)."""
    middle = float(data.risk_times[-1]) * 0.45
    high = [float(c.step_y[np.searchsorted(c.step_x, middle, "right") - 1]) for c in data.curves]
    return "upper right" if max(high, default=0.0) < 0.5 else "lower left"


def _risk_rows(data: KMPlotData, show_events: bool) -> list[tuple[str, str, np.ndarray]]:
    rows: list[tuple[str, str, np.ndarray]] = []
    for colour, curve in zip(ARM_COLOURS, data.curves, strict=False):
        rows.append((curve.label, colour, curve.at_risk))
        if show_events:
            rows.append((f"{curve.label} (cum. events)", colour, curve.cumulative_events))
    return rows


def _risk_table(ax: Axes, data: KMPlotData, rows: list[tuple[str, str, np.ndarray]]) -> None:
    ax.set_xlim(0, float(data.risk_times[-1]))
    ax.set_ylim(len(rows) + 0.6, 0)
    ax.axis("off")
    ax.text(0, 0.3, "No. at risk", fontsize=FONT_SIZE - 1, weight="bold", ha="left", va="center")
    for i, (label, colour, counts) in enumerate(rows, start=1):
        ax.annotate(
            label,
            (0, i + 0.1),
            xytext=(-20, 0),
            textcoords="offset points",
            color=colour,
            fontsize=FONT_SIZE - 1,
            ha="right",
            va="center",
        )
        for t, count in zip(data.risk_times, counts, strict=True):
            ax.text(t, i + 0.1, str(int(count)), fontsize=FONT_SIZE - 1, ha="center", va="center")
