"""Pocock-Simon minimization: published and hand-worked examples, probabilities, balance."""

from __future__ import annotations

import numpy as np
import pytest

from oncotrial.errors import InputError
from oncotrial.randomize import (
    ArmRatio,
    Factor,
    MarginalCounts,
    MinimizationDesign,
    minimization_assign,
    minimize_sequence,
    subject_uniform,
)
from oncotrial.randomize.assessment import CohortModel, assess
from oncotrial.randomize.minimization import minimize_batch
from oncotrial.randomize.schemes import SimpleDesign

RATES = ("high", "moderate", "low")


def kang_design(p: float = 1.0) -> MinimizationDesign:
    return MinimizationDesign(
        ArmRatio(("Intervention", "Control"), (1, 1)),
        (Factor("baseline", RATES), Factor("covariate", RATES)),
        p=p,
    )


KANG_COUNTS = {
    "baseline": {
        "high": {"Intervention": 2, "Control": 2},
        "moderate": {"Intervention": 2, "Control": 3},
        "low": {"Intervention": 1, "Control": 1},
    },
    "covariate": {
        "high": {"Intervention": 2, "Control": 3},
        "moderate": {"Intervention": 3, "Control": 1},
        "low": {"Intervention": 1, "Control": 1},
    },
}


def test_published_example_kang_2008_after_scott_2002():
    """Kang, Ragan & Park 2008, J Athl Train 43:215, Table 3 (adapted from Scott et al. 2002).

    New patient: high baseline rate, moderate covariate rate. Published: marginal totals 4 if
    allocated to intervention (|3-2| + |4-1|), 2 if to control (|2-3| + |3-2|) -> control.
    """
    counts = MarginalCounts.from_mapping(kang_design(), KANG_COUNTS)
    decision = minimization_assign(counts, {"baseline": "high", "covariate": "moderate"}, 0.0)
    assert decision.scores == (4.0, 2.0)
    assert decision.arm == "Control" and decision.preferred == ("Control",)
    assert decision.probabilities == (0.0, 1.0)
    after = decision.counts_after.to_mapping()
    assert after["baseline"]["high"] == {"Intervention": 2, "Control": 3}
    assert after["covariate"]["moderate"] == {"Intervention": 3, "Control": 2}
    assert after["covariate"]["low"] == {"Intervention": 1, "Control": 1}


def test_random_element_gives_p_to_preferred_arm():
    counts = MarginalCounts.from_mapping(kang_design(p=0.8), KANG_COUNTS)
    subject = {"baseline": "high", "covariate": "moderate"}
    d = minimization_assign(counts, subject, 0.5)
    assert d.probabilities == pytest.approx((0.2, 0.8), abs=1e-15)
    # first arm j with u < P_1 + ... + P_j
    assert minimization_assign(counts, subject, 0.19999).arm == "Intervention"
    assert minimization_assign(counts, subject, 0.2).arm == "Control"


THREE = ArmRatio(("A", "B", "C"), (1, 1, 1))
TWO_FACTORS = (Factor("f1", ("u", "v")), Factor("f2", ("u", "v")))
# current counts at the subject's levels (f1=u, f2=u): f1 (1,1,0), f2 (0,0,2)
THREE_COUNTS = {"f1": {"u": {"A": 1, "B": 1}}, "f2": {"u": {"C": 2}}}


def test_range_and_variance_disagree_as_hand_computed():
    """Hand calculation (3 arms 1:1:1, weights 1):

    to A: f1 (2,1,0) range 2 var 2/3; f2 (1,0,2) range 2 var 2/3 -> range 4, var 4/3
    to B: f1 (1,2,0) range 2 var 2/3; f2 (0,1,2) range 2 var 2/3 -> range 4, var 4/3
    to C: f1 (1,1,1) range 0 var 0;   f2 (0,0,3) range 3 var 2   -> range 3, var 2
    Range prefers C; variance prefers A and B (tied). p = 0.8.
    """
    subject = {"f1": "u", "f2": "u"}
    rng_design = MinimizationDesign(THREE, TWO_FACTORS, imbalance="range", p=0.8)
    d = minimization_assign(MarginalCounts.from_mapping(rng_design, THREE_COUNTS), subject, 0.0)
    assert d.scores == (4.0, 4.0, 3.0) and d.preferred == ("C",)
    assert d.probabilities == pytest.approx((0.1, 0.1, 0.8), abs=1e-15)
    var_design = MinimizationDesign(THREE, TWO_FACTORS, imbalance="variance", p=0.8)
    d = minimization_assign(MarginalCounts.from_mapping(var_design, THREE_COUNTS), subject, 0.0)
    assert d.scores == pytest.approx((4 / 3, 4 / 3, 2.0), rel=1e-12)
    assert d.preferred == ("A", "B")
    assert d.probabilities == pytest.approx((0.4, 0.4, 0.2), abs=1e-15)


def test_factor_weights_change_the_decision():
    """Weights (1, 3) with range: A = 2 + 3*2 = 8, B = 8, C = 0 + 3*3 = 9 -> A and B tied."""
    design = MinimizationDesign(THREE, TWO_FACTORS, weights=(1, 3), p=1.0)
    d = minimization_assign(
        MarginalCounts.from_mapping(design, THREE_COUNTS), {"f1": "u", "f2": "u"}, 0.7
    )
    assert d.scores == (8.0, 8.0, 9.0) and d.preferred == ("A", "B")
    assert d.probabilities == pytest.approx((0.5, 0.5, 0.0))
    assert d.arm == "B"  # u = 0.7 >= 0.5


def test_two_to_one_weighted_counts_deterministic_sequence():
    """2:1, one factor with one level, p = 1; ranges of (n_A/2, n_B) by hand:

    (0,0): A->(.5,0) .5, B->(0,1) 1 => A;   (1,0): A->(1,0) 1, B->(.5,1) .5 => B
    (1,1): A->(1,1) 0 => A;  (2,1): A->(1.5,1) .5, B->(1,2) 1 => A;  (3,1): B (.5 < 1)
    (3,2): A (0);  (4,2): A (.5 < 1);  (5,2): B;  (5,3): A
    """
    design = MinimizationDesign(ArmRatio(("A", "B"), (2, 1)), (Factor("all", ("all",)),), p=1.0)
    run = minimize_sequence(design, [{"all": "all"}] * 9, seed=1)
    assert "".join(run.arms) == "ABAABAABA"


def test_two_to_one_probabilities_follow_ratio_when_tied_and_p_otherwise():
    design = MinimizationDesign(ArmRatio(("A", "B"), (2, 1)), (Factor("x", ("a", "b")),), p=0.8)
    empty = MarginalCounts.zeros(design)
    d = minimization_assign(empty, {"x": "a"}, 0.0)
    assert d.scores == (0.5, 1.0) and d.probabilities == pytest.approx((0.8, 0.2))
    tied = MarginalCounts.from_mapping(design, {"x": {"a": {"A": 1}}})
    # (1,0): to A (1,0) range 1; to B (.5,1) range .5 -> B preferred
    d = minimization_assign(tied, {"x": "a"}, 0.0)
    assert d.preferred == ("B",) and d.probabilities == pytest.approx((0.2, 0.8))
    # all tied (three arms 1:2:1, empty): probabilities are the ratio 1/4, 1/2, 1/4
    three = MinimizationDesign(ArmRatio(("A", "B", "C"), (2, 4, 2)), (Factor("x", ("a",)),))
    d = minimization_assign(MarginalCounts.zeros(three), {"x": "a"}, 0.3)
    assert d.scores[0] == d.scores[2]
    # to A: (1/2, 0, 0) range .5; to B: (0, 1/4, 0) range .25; to C like A -> B preferred
    assert d.preferred == ("B",)
    assert d.probabilities == pytest.approx((0.1, 0.8, 0.1))


def test_equal_scores_on_all_arms_draw_by_ratio():
    design = MinimizationDesign(ArmRatio(("A", "B"), (1, 1)), (Factor("x", ("a", "b")),))
    counts = MarginalCounts.from_mapping(design, {"x": {"b": {"A": 3}}})
    d = minimization_assign(counts, {"x": "a"}, 0.49)
    assert d.preferred == ("A", "B") and d.probabilities == (0.5, 0.5) and d.arm == "A"
    assert minimization_assign(counts, {"x": "a"}, 0.5).arm == "B"


def test_generator_draw_and_uniform_draw_agree():
    counts = MarginalCounts.zeros(kang_design(p=0.8))
    subject = {"baseline": "low", "covariate": "high"}
    u = np.random.default_rng(5).random()
    a = minimization_assign(counts, subject, np.random.default_rng(5))
    b = minimization_assign(counts, subject, u)
    assert a == b and a.u == u


def test_sequence_uses_keyed_subject_uniforms_and_matches_batch():
    design = MinimizationDesign(
        ArmRatio(("A", "B"), (2, 1)),
        (Factor("prior", ("AI", "fulv")), Factor("visc", ("y", "n")), Factor("s", ("1", "2", "3"))),
        weights=(1.0, 2.0, 0.5),
        imbalance="variance",
        p=0.75,
    )
    rng = np.random.default_rng(3)
    levels = np.stack([rng.integers(0, 2, 60), rng.integers(0, 2, 60), rng.integers(0, 3, 60)], 1)
    subjects = [
        {f.name: f.levels[i] for f, i in zip(design.factors, row, strict=True)} for row in levels
    ]
    run = minimize_sequence(design, subjects, seed=42)
    assert [d.u for d in run.decisions] == [subject_uniform(42, q) for q in range(1, 61)]
    u = np.asarray([[subject_uniform(42, q) for q in range(1, 61)]])
    batch = minimize_batch(design, levels[None], u)
    assert [design.arms.arms[i] for i in batch[0]] == list(run.arms)
    # continuing from counts: sequence numbers carry on
    first, rest = subjects[:25], subjects[25:]
    part = minimize_sequence(design, first, seed=42)
    cont = minimize_sequence(design, rest, seed=42, counts=part.final_counts)
    assert cont.first_sequence_number == 26
    assert part.arms + cont.arms == run.arms
    assert len(run.to_frame()) == 60 and "Minimization ps-v1" in run.summary()


def test_minimization_balances_margins_far_better_than_simple_randomization():
    factors = (
        Factor("liver", ("yes", "no")),
        Factor("ecog", ("0", "1")),
        Factor("age", ("<65", ">=65")),
    )
    arms = ArmRatio(("A", "B"), (1, 1))
    result = assess(
        [MinimizationDesign(arms, factors, p=0.8), SimpleDesign(arms)],
        CohortModel(factors, 100, ((0.3, 0.7), (0.5, 0.5), (0.6, 0.4))),
        n_sims=300,
        seed=2024,
    )
    mini, simple = result.schemes
    for measure in ("overall", "margins"):
        m, s = mini.imbalance_of(measure), simple.imbalance_of(measure)
        assert m.mean < 0.3 * s.mean and m.p95 < 0.5 * s.p95
    assert mini.imbalance_of("margins").max <= 8
    # simple randomization: E|n_A - n_B| for n = 100 is about 7.96 (binomial)
    assert 6.5 < simple.imbalance_of("overall").mean < 9.5


def test_minimization_errors():
    arms = ArmRatio(("A", "B"), (1, 1))
    f = (Factor("liver", ("yes", "no")),)
    with pytest.raises(InputError, match="at least one factor"):
        MinimizationDesign(arms, ())
    with pytest.raises(InputError, match=r"p: 0.4 is not valid.*\(0.5, 1\]"):
        MinimizationDesign(arms, f, p=0.4)
    with pytest.raises(InputError, match="imbalance: 'sd'"):
        MinimizationDesign(arms, f, imbalance="sd")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"2 weight\(s\) for 1 factors"):
        MinimizationDesign(arms, f, weights=(1.0, 2.0))
    with pytest.raises(InputError, match="weights: -1"):
        MinimizationDesign(arms, f, weights=(-1.0,))
    design = MinimizationDesign(arms, f)
    counts = MarginalCounts.zeros(design)
    with pytest.raises(InputError, match=r"unknown level 'maybe'.*\['yes', 'no'\]"):
        minimization_assign(counts, {"liver": "maybe"}, 0.5)
    with pytest.raises(InputError, match="'liver' is missing"):
        minimization_assign(counts, {}, 0.5)
    with pytest.raises(InputError, match="rng"):
        minimization_assign(counts, {"liver": "yes"}, 1.0)
    with pytest.raises(InputError, match="arm 'C'"):
        MarginalCounts.from_mapping(design, {"liver": {"yes": {"C": 1}}})
    with pytest.raises(InputError, match="not a count"):
        MarginalCounts.from_mapping(design, {"liver": {"yes": {"A": -1}}})
    with pytest.raises(InputError, match="unknown factor 'bone'"):
        MarginalCounts.from_mapping(design, {"bone": {}})
