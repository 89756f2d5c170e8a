"""Properties of the allocation schemes for arbitrary ratios, block sizes, strata and seeds."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrial.randomize import (
    ArmRatio,
    BlockDesign,
    Factor,
    MarginalCounts,
    MinimizationDesign,
    generate_list,
    minimization_assign,
    regenerate,
)

ratios = st.lists(st.integers(1, 3), min_size=2, max_size=4)
seeds = st.integers(0, 2**63)


@st.composite
def block_designs(draw):
    ratio = tuple(draw(ratios))
    arms = ArmRatio(tuple(f"arm{i}" for i in range(len(ratio))), ratio)
    multiples = draw(st.sets(st.integers(1, 3), min_size=1, max_size=3))
    n_factors = draw(st.integers(0, 2))
    factors = tuple(
        Factor(f"f{i}", tuple(f"l{j}" for j in range(draw(st.integers(1, 3)))))
        for i in range(n_factors)
    )
    return BlockDesign(arms, factors, tuple(m * arms.total for m in multiples))


@settings(max_examples=40, deadline=None)
@given(block_designs(), seeds, st.integers(1, 40))
def test_blocks_balanced_and_list_reproducible(design, seed, per_stratum):
    lst = generate_list(design, per_stratum=per_stratum, seed=seed)
    assert regenerate(lst.params) == lst
    share = dict(zip(design.arms.arms, design.arms.ratio, strict=True))
    for stratum in lst.strata:
        slots = lst.stratum_slots(stratum.index)
        assert per_stratum <= len(slots) < per_stratum + max(design.block_sizes)
        running: Counter[str] = Counter()
        for i, slot in enumerate(slots):
            running[slot.arm] += 1
            block_ends = i + 1 == len(slots) or slots[i + 1].block != slot.block
            if block_ends:  # balance at the end of every block
                m = (i + 1) // design.arms.total
                assert all(running[a] == r * m for a, r in share.items())


@settings(max_examples=40, deadline=None)
@given(
    ratios,
    st.lists(st.lists(st.integers(0, 6), min_size=4, max_size=4), min_size=2, max_size=2),
    st.floats(0, 1, exclude_max=True),
    st.sampled_from(["range", "variance"]),
    st.floats(0.55, 1.0),
)
def test_minimization_probabilities_and_choice(ratio, table, u, method, p):
    arms = ArmRatio(tuple(f"a{i}" for i in range(len(ratio))), tuple(ratio))
    factors = (Factor("x", ("u", "v")),)
    design = MinimizationDesign(arms, factors, imbalance=method, p=p)
    counts = MarginalCounts.from_mapping(
        design,
        {
            "x": {
                lev: {a: row[i] for i, a in enumerate(arms.arms)}
                for lev, row in zip(("u", "v"), table, strict=True)
            }
        },
    )
    d = minimization_assign(counts, {"x": "u"}, u)
    prob = np.asarray(d.probabilities)
    assert abs(prob.sum() - 1) < 1e-12 and (prob >= 0).all()
    best = min(d.scores)
    assert set(d.preferred) == {
        a for a, g in zip(arms.arms, d.scores, strict=True) if g <= best + 1e-9 * max(1, abs(best))
    }
    pref_mass = sum(pr for a, pr in zip(arms.arms, prob, strict=True) if a in d.preferred)
    assert abs(pref_mass - (1.0 if len(d.preferred) == len(arms.arms) else p)) < 1e-12
    j = arms.arms.index(d.arm)
    assert prob[j] > 0 and np.cumsum(prob)[j] > u
    assert d.counts_after.n_subjects == counts.n_subjects + 1
