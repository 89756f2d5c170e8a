"""CONSORT diagram: counts add up, and boxes and their text never overlap."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg

from oncotrial.errors import InputError
from oncotrial.report.figures.consort import ArmFlow, ConsortCounts, draw_consort, layout
from oncotrial.report.figures.style import save_figure


def _counts(reason: str = "Progressive disease") -> ConsortCounts:
    return ConsortCounts(
        assessed=230,
        excluded={"Did not meet eligibility criteria": 25, "Withdrew consent": 7},
        arms=(
            ArmFlow(
                "Palbociclib + ET", 136, {"Withdrew consent": 1}, {reason: 98, "Adverse event": 6}
            ),
            ArmFlow("ET", 62, {}, {reason: 50}, {"No post-baseline data": 2}),
        ),
    )


def test_each_arm_adds_up_to_those_allocated():
    counts = _counts()
    assert counts.randomized == 198
    for arm in counts.arms:
        assert arm.treated + sum(arm.not_treated.values()) == arm.allocated
        assert arm.on_treatment + sum(arm.discontinued.values()) == arm.treated
        assert arm.analysed + sum(arm.not_analysed.values()) == arm.allocated
    assert counts.arms[0].on_treatment == 135 - 104
    assert counts.arms[1].analysed == 60


def test_arms_that_do_not_sum_to_the_randomized_are_refused():
    with pytest.raises(InputError, match="assessed 230 minus excluded 32 is 198"):
        ConsortCounts(230, {"Ineligible": 32}, (ArmFlow("A", 136), ArmFlow("B", 61)))


def test_more_reasons_than_subjects_are_refused():
    with pytest.raises(InputError, match="arm 'B': treated would be -1"):
        ConsortCounts(3, {}, (ArmFlow("A", 2), ArmFlow("B", 1, {"Withdrew": 2})))


def _disjoint(a, b) -> bool:
    return a.x + a.width <= b.x or b.x + b.width <= a.x or a.top <= b.y or b.top <= a.y


@settings(max_examples=30, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="ascii", categories=["L", "Zs"]), min_size=1, max_size=200)
)
def test_boxes_never_overlap_whatever_the_text(reason):
    boxes = layout(_counts(reason.strip() or "x"))
    for a, b in itertools.combinations(boxes, 2):
        assert _disjoint(a, b)


def test_rendered_text_stays_inside_its_box(tmp_path):
    long = "Other reason, described at length so that it must wrap over several lines " * 2
    counts = _counts(long)
    fig = draw_consort(counts, footnote="Data cut 2022-06-30.")
    renderer = FigureCanvasAgg(fig).get_renderer()
    ax = fig.axes[0]
    inches = ax.transData.inverted()
    texts = [t for t in ax.texts if "(n" in t.get_text()]
    boxes = layout(counts)
    assert len(texts) == len(boxes)
    for text, box in zip(texts, boxes, strict=True):
        (x0, y0), (x1, y1) = inches.transform(text.get_window_extent(renderer).get_points())
        assert box.x <= x0 and x1 <= box.x + box.width, text.get_text()
        assert box.y <= y0 and y1 <= box.top, text.get_text()
    svg, _ = save_figure(fig, tmp_path / "consort")
    assert "Randomized" in svg.read_text()
