"""Shared look of the report's figures: palette, font size, figure creation and saving.

The arm colours are the Okabe-Ito palette (Okabe M, Ito K. Color Universal Design, 2008),
readable by people with the common colour-vision deficiencies; the first colour (blue) is
the experimental arm, the second (vermillion) the control arm. Figures are written as SVG
(vector, text kept as text, for journals) and PNG (300 dpi, for documents); they are plain
matplotlib ``Figure`` objects, never pyplot windows, so no display is needed.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from oncotrial.analysis import fmt_p

ARM_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
NEUTRAL = "#444444"
FONT_SIZE = 10
PNG_DPI = 300


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem``.svg and ``stem``.png; returns both paths.

    Figures are plain :class:`matplotlib.figure.Figure` objects, not pyplot figures, so
    nothing global is kept and nothing needs closing.
    """
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".svg"), stem.with_suffix(".png")]
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text in the SVG
        fig.savefig(paths[0], format="svg")
    fig.savefig(paths[1], format="png", dpi=PNG_DPI)
    return paths


def p_label(p: float | None) -> str:
    """``P = 0.034`` or ``P < 0.001`` (rounding as :func:`oncotrial.analysis.fmt_p`)."""
    text = fmt_p(p)
    return f"P {text[0]} {text[1:]}" if text.startswith("<") else f"P = {text}"
