"""CONSORT flow diagram: enrolment, allocation, follow-up and analysis, per arm.

The boxes are those of the CONSORT 2010 flow diagram (Schulz KF et al., BMJ 2010;340:c332,
Figure 1) as PALMIRA's Figure 1 fills them: assessed for eligibility, excluded (with
reasons), randomized; then per arm: allocated, received (and did not receive, with
reasons) the allocated intervention, discontinued (with reasons) or still on treatment, and
analysed (and excluded from the analysis, with reasons).

:class:`ConsortCounts` holds the numbers and checks that they add up (each arm's boxes sum
to those allocated; the arms sum to those randomized). :func:`draw_consort` lays the boxes
out in inches from the number of wrapped text lines in each, so boxes never overlap
whatever the text length.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from oncotrial.errors import InputError
from oncotrial.report.figures.style import FONT_SIZE, NEUTRAL
from oncotrial.results import Result


@dataclass(frozen=True)
class ArmFlow(Result):
    """One arm's column of the diagram."""

    arm: str
    allocated: int
    not_treated: dict[str, int] = field(default_factory=dict)
    discontinued: dict[str, int] = field(default_factory=dict)
    not_analysed: dict[str, int] = field(default_factory=dict)

    @property
    def treated(self) -> int:
        return self.allocated - sum(self.not_treated.values())

    @property
    def on_treatment(self) -> int:
        return self.treated - sum(self.discontinued.values())

    @property
    def analysed(self) -> int:
        return self.allocated - sum(self.not_analysed.values())


@dataclass(frozen=True)
class ConsortCounts(Result):
    """The numbers of a CONSORT diagram; construction checks that they add up."""

    assessed: int
    excluded: dict[str, int]
    arms: tuple[ArmFlow, ...]
    analysis_set: str = "intention-to-treat"

    def __post_init__(self) -> None:
        if self.randomized != sum(a.allocated for a in self.arms):
            raise InputError(
                f"CONSORT: assessed {self.assessed} minus excluded "
                f"{sum(self.excluded.values())} is {self.randomized}, but the arms allocate "
                f"{sum(a.allocated for a in self.arms)}",
                field="arms",
            )
        for arm in self.arms:
            for name, value in (
                ("treated", arm.treated),
                ("on treatment", arm.on_treatment),
                ("analysed", arm.analysed),
            ):
                if value < 0:
                    raise InputError(
                        f"CONSORT arm {arm.arm!r}: {name} would be {value}; the reasons "
                        f"count more subjects than the {arm.allocated} allocated",
                        field="arms",
                        value=arm.arm,
                    )

    @property
    def randomized(self) -> int:
        return self.assessed - sum(self.excluded.values())


@dataclass(frozen=True)
class Box:
    """A laid-out box: lower-left corner and size in inches, and its wrapped lines."""

    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]

    @property
    def top(self) -> float:
        return self.y + self.height

    @property
    def centre_x(self) -> float:
        return self.x + self.width / 2


LINE_IN = 0.17  # one text line (inches): FONT_SIZE - 1 points x line spacing 1.25, rounded up
PAD_IN = 0.12
GAP_IN = 0.35
CHARS_PER_IN = 13.5


def box_lines(title: str, count: int, reasons: dict[str, int] | None, width: float) -> list[str]:
    """The wrapped text of one box: "Title (n = count)" then one bullet per reason."""
    chars = max(int(width * CHARS_PER_IN), 12)
    lines = textwrap.wrap(f"{title} {_count(count)}", chars)
    for reason, n in (reasons or {}).items():
        lines += textwrap.wrap(f"- {reason} {_count(n)}", chars, subsequent_indent="  ")
    return lines


def _count(n: int) -> str:
    return f"(n\u00a0=\u00a0{n})"  # no-break spaces: "(n = 136)" never splits over two lines


def layout(counts: ConsortCounts, *, box_width: float = 2.6) -> list[Box]:
    """Boxes top to bottom; each row of the arm columns is as tall as its tallest box."""
    n_arms = len(counts.arms)
    width = max(n_arms * (box_width + 0.4), 2 * box_width + 1.0)
    centre = width / 2
    rows: list[list[tuple[float, list[str]]]] = [
        [
            (
                centre - box_width / 2,
                box_lines("Assessed for eligibility", counts.assessed, None, box_width),
            )
        ],
        [
            (
                centre + 0.3,
                box_lines("Excluded", sum(counts.excluded.values()), counts.excluded, box_width),
            )
        ],
        [(centre - box_width / 2, box_lines("Randomized", counts.randomized, None, box_width))],
    ]
    xs = [width * (i + 0.5) / n_arms - box_width / 2 for i in range(n_arms)]
    arm_rows = [
        [
            box_lines(f"Allocated to {a.arm}", a.allocated, None, box_width)
            + box_lines("Received allocated treatment", a.treated, None, box_width)
            + (
                box_lines(
                    "Did not receive it", sum(a.not_treated.values()), a.not_treated, box_width
                )
                if a.not_treated
                else []
            )
            for a in counts.arms
        ],
        [
            box_lines(
                "Discontinued treatment", sum(a.discontinued.values()), a.discontinued, box_width
            )
            + box_lines("Still on treatment", a.on_treatment, None, box_width)
            for a in counts.arms
        ],
        [
            box_lines(f"Analysed ({counts.analysis_set})", a.analysed, None, box_width)
            + (
                box_lines(
                    "Excluded from analysis",
                    sum(a.not_analysed.values()),
                    a.not_analysed,
                    box_width,
                )
                if a.not_analysed
                else []
            )
            for a in counts.arms
        ],
    ]
    rows += [list(zip(xs, row, strict=True)) for row in arm_rows]
    boxes: list[Box] = []
    y = 0.0
    for row in reversed(rows):
        height = max(len(lines) for _, lines in row) * LINE_IN + 2 * PAD_IN
        boxes[:0] = [Box(x, y, box_width, height, tuple(lines)) for x, lines in row]
        y += height + GAP_IN
    return boxes


def draw_consort(counts: ConsortCounts, *, footnote: str = "") -> Figure:
    """Draw the diagram: enrolment boxes centred, then one column per arm, with arrows."""
    boxes = layout(counts)
    width = max(b.x + b.width for b in boxes) + 0.2
    # footnote lines wrapped to the figure width (small type: about 1.6x the box text density)
    note_text = textwrap.fill(footnote, max(int((width - 0.2) * CHARS_PER_IN * 1.6), 20))
    bottom = 0.15 + (0.14 * (note_text.count("\n") + 1) + 0.1 if footnote else 0.0)
    height = max(b.top for b in boxes) + bottom + 0.15
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(-bottom, height - bottom)
    ax.axis("off")
    for b in boxes:
        ax.add_patch(Rectangle((b.x, b.y), b.width, b.height, fill=False, ec=NEUTRAL, lw=0.9))
        ax.text(
            b.x + PAD_IN,
            b.top - PAD_IN,
            "\n".join(b.lines),
            va="top",
            ha="left",
            fontsize=FONT_SIZE - 1,
            linespacing=1.25,
        )
    assessed, excluded, randomized, *arm_boxes = boxes
    _arrow(ax, (assessed.centre_x, assessed.y), (randomized.centre_x, randomized.top))
    side_y = excluded.y + excluded.height / 2
    _arrow(ax, (assessed.centre_x, side_y), (excluded.x, side_y))
    n_arms = len(counts.arms)
    for i in range(n_arms):
        allocated, followed, analysed = (
            arm_boxes[i],
            arm_boxes[n_arms + i],
            arm_boxes[2 * n_arms + i],
        )
        _arrow(ax, (randomized.centre_x, randomized.y), (allocated.centre_x, allocated.top))
        _arrow(ax, (allocated.centre_x, allocated.y), (followed.centre_x, followed.top))
        _arrow(ax, (followed.centre_x, followed.y), (analysed.centre_x, analysed.top))
    if footnote:
        ax.text(0.1, -bottom + 0.1, note_text, fontsize=FONT_SIZE - 3, va="bottom")
    return fig


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, color=NEUTRAL, lw=0.8)
    )
