"""Pre-go-live assessment: measures checked by hand and against Blackwell & Hodges (1957)."""

from __future__ import annotations

import json
from math import comb

import numpy as np
import pytest

from oncotrial.errors import InputError
from oncotrial.randomize import ArmRatio, BlockDesign, Factor, MinimizationDesign, SimpleDesign
from oncotrial.randomize.assessment import (
    CohortModel,
    assess,
    convergence_guess,
    group_imbalance,
)

ONE_TO_ONE = ArmRatio(("A", "B"), (1, 1))
TWO_TO_ONE = ArmRatio(("A", "B"), (2, 1))
ALL = (Factor("all", ("all",)),)


def test_group_imbalance_by_hand():
    arm = np.array([[0, 0, 1, 0]])
    group = np.array([[0, 1, 0, 0]])
    # group 0: A, B, A -> |2 - 1| = 1; group 1: A -> 1
    assert group_imbalance(arm, group, 2, ONE_TO_ONE).tolist() == [1.0]
    # 2:1 -> group 0: |2/2 - 1| = 0; group 1: |1/2 - 0| = 0.5
    assert group_imbalance(arm, group, 2, TWO_TO_ONE).tolist() == [0.5]


def test_convergence_guess_by_hand():
    # 1:1, A B B A: tie (1/2), guess B right (1), tie (1/2), guess A right (1) -> 3/4
    correct, excess = convergence_guess(
        np.array([[0, 1, 1, 0]]), np.zeros((1, 4), int), 1, ONE_TO_ONE
    )
    assert correct.tolist() == [0.75] and excess.tolist() == [0.25]
    # interleaved groups keep time order within each group
    correct, _ = convergence_guess(
        np.array([[0, 0, 1, 1]]), np.array([[0, 1, 0, 1]]), 2, ONE_TO_ONE
    )
    assert correct.tolist() == [0.75]
    # 2:1, A A B: (0,0) tie -> larger share A, right (chance 2/3); (1,0): 1/2 > 0 -> guess B,
    # wrong (chance 1/3); (2,0): 1 > 0 -> guess B, right (chance 1/3)
    correct, excess = convergence_guess(np.array([[0, 0, 1]]), np.zeros((1, 3), int), 1, TWO_TO_ONE)
    assert correct == pytest.approx([2 / 3]) and excess == pytest.approx([2 / 9])


def blackwell_hodges_block(m: int) -> float:
    """Expected correct guesses per subject, permuted block of size 2m, 1:1 (B&H 1957)."""
    return (m + 0.5 * (2 ** (2 * m) / comb(2 * m, m) - 1)) / (2 * m)


def test_block_of_two_guessed_exactly_three_quarters():
    design = BlockDesign(ONE_TO_ONE, ALL, (2,))
    result = assess([design], CohortModel(ALL, 40), n_sims=50, seed=1)
    s = result.schemes[0]
    assert s.guess_stratum.mean == pytest.approx(blackwell_hodges_block(1), abs=1e-15)
    assert s.guess_stratum.max == pytest.approx(0.75, abs=1e-15)
    assert s.imbalance_of("overall").max == 0  # 40 is a whole number of blocks


def test_block_of_four_matches_blackwell_hodges():
    design = BlockDesign(ONE_TO_ONE, ALL, (4,))
    result = assess([design], CohortModel(ALL, 100), n_sims=400, seed=3)
    # expectation 17/24 = 0.70833; simulation SE about 0.001
    assert result.schemes[0].guess_stratum.mean == pytest.approx(
        blackwell_hodges_block(2), abs=0.004
    )


def test_simple_randomization_is_unpredictable_and_blocks_are_not():
    factors = (Factor("liver", ("yes", "no")),)
    cohort = CohortModel(factors, 120, site_sizes=(3, 2, 1))
    result = assess(
        [SimpleDesign(TWO_TO_ONE), BlockDesign(TWO_TO_ONE, factors, (3, 6))],
        cohort,
        n_sims=300,
        seed=7,
    )
    simple, blocks = result.schemes
    assert abs(simple.excess_site.mean) < 0.01 and abs(simple.excess_stratum.mean) < 0.01
    assert blocks.excess_stratum.mean > 0.1
    assert blocks.imbalance_of("strata").max <= 2.0  # at most one block of 6 half done
    assert result.guess_baseline == pytest.approx(2 / 3)
    proportion = dict(simple.arm_proportion)
    assert proportion["A"] == pytest.approx(2 / 3, abs=0.01)


def test_reproducible_and_serialisable():
    factors = (Factor("prior_et", ("AI", "fulvestrant")), Factor("visceral", ("yes", "no")))
    designs = [
        BlockDesign(TWO_TO_ONE, factors, (3, 6)),
        MinimizationDesign(TWO_TO_ONE, factors, p=0.8),
        SimpleDesign(TWO_TO_ONE),
    ]
    cohort = CohortModel(factors, 60, ((0.4, 0.6), (0.55, 0.45)), (5, 3, 2))
    a = assess(designs, cohort, n_sims=40, seed=11)
    b = assess(designs, cohort, n_sims=40, seed=11)
    c = assess(designs, cohort, n_sims=40, seed=12)
    assert a == b and a.to_dict() != c.to_dict()
    doc = json.loads(a.to_json())
    assert [s["algorithm"] for s in doc["schemes"]] == ["pbr-v1", "ps-v1", "simple-v1"]
    frame = a.to_frame()
    assert list(frame.columns) == ["scheme", "measure", "mean", "p95", "max"]
    assert set(frame["measure"]) >= {
        "imbalance_overall",
        "imbalance_sites",
        "guess_site",
        "excess_stratum",
        "proportion[A]",
    }
    text = a.summary()
    assert "ps range p=0.8" in text and "Blackwell &" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_assessment_errors():
    factors = (Factor("liver", ("yes", "no")),)
    cohort = CohortModel(factors, 10)
    with pytest.raises(InputError, match="differ"):
        assess([SimpleDesign(ONE_TO_ONE), SimpleDesign(TWO_TO_ONE)], cohort, seed=1)
    with pytest.raises(InputError, match="scheme factor 'bone'"):
        assess([BlockDesign(ONE_TO_ONE, (Factor("bone", ("y", "n")),), (2,))], cohort, seed=1)
    with pytest.raises(InputError, match="summing to 1"):
        CohortModel(factors, 10, ((0.5, 0.6),))
    with pytest.raises(InputError, match="site sizes"):
        CohortModel(factors, 10, site_sizes=(3, 0))
    with pytest.raises(InputError, match="none given"):
        assess([], cohort, seed=1)
    with pytest.raises(InputError, match="n_sims"):
        assess([SimpleDesign(ONE_TO_ONE)], cohort, n_sims=0, seed=1)
