"""Allocation lists (pbr-v1, simple-v1): balance, ratio, reproducibility, regeneration.

The reference implementation below follows docs/RANDOMIZATION.md literally in pure Python, from
the raw 64-bit PCG64 output only; it shares no code with oncotrial.randomize.schemes.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pytest

from oncotrial.errors import InputError
from oncotrial.randomize import (
    AllocationList,
    ArmRatio,
    BlockDesign,
    Factor,
    ListParams,
    SimpleDesign,
    generate_list,
    parse_factor,
    regenerate,
)

PALMIRA_ARMS = ArmRatio(("Palbociclib + ET", "ET"), (2, 1))
PALMIRA_FACTORS = (
    Factor("prior_et", ("AI", "fulvestrant")),
    Factor("visceral", ("yes", "no")),
)
PALMIRA = BlockDesign(PALMIRA_ARMS, PALMIRA_FACTORS, (3, 6))
SEED = 20190410


# --------------------------------------------------------------------------- reference


class RawUniforms:
    """Doubles from the raw PCG64 stream as documented: (x >> 11) * 2**-53."""

    def __init__(self, seed: int, key: int) -> None:
        self.bits = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,)))

    def __call__(self) -> float:
        return (int(self.bits.random_raw()) >> 11) * 2.0**-53


def reference_pbr(seed, ratio, sizes, factor_levels, per_stratum):
    """docs/RANDOMIZATION.md, pbr-v1, step by step: list of (stratum, randno, block, size, arm)."""
    n_strata = 1
    for levels in factor_levels:
        n_strata *= len(levels)
    total = sum(ratio)
    sizes = sorted(sizes)
    rows = []
    for k in range(n_strata):
        u = RawUniforms(seed, k)
        position, block = 0, 0
        while position < per_stratum:
            size = sizes[int(u() * len(sizes))]
            template = [j for j, r in enumerate(ratio) for _ in range(r * size // total)]
            keys = [u() for _ in range(size)]
            order = sorted(range(size), key=lambda i: (keys[i], i))
            block += 1
            for i in order:
                position += 1
                rows.append((k, position, block, size, template[i]))
    return rows


def reference_simple(seed, ratio, n_strata, per_stratum):
    rows = []
    cumulative = np.cumsum(ratio).tolist()
    for k in range(n_strata):
        u = RawUniforms(seed, k)
        for position in range(1, per_stratum + 1):
            t = int(u() * sum(ratio))
            rows.append((k, position, next(j for j, c in enumerate(cumulative) if t < c)))
    return rows


# --------------------------------------------------------------------------- tests


def test_numpy_double_is_the_documented_transform_of_the_raw_stream():
    ss = np.random.SeedSequence(SEED, spawn_key=(3,))
    doubles = np.random.Generator(np.random.PCG64(ss)).random(50)
    raw = np.random.PCG64(np.random.SeedSequence(SEED, spawn_key=(3,))).random_raw(50)
    assert np.array_equal(doubles, (raw >> np.uint64(11)) * 2.0**-53)


def test_child_streams_are_seedsequence_spawn():
    children = np.random.SeedSequence(SEED).spawn(4)
    for k, child in enumerate(children):
        a = np.random.Generator(np.random.PCG64(child)).random(5)
        b = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(SEED, spawn_key=(k,)))
        ).random(5)
        assert np.array_equal(a, b)


def test_pbr_list_matches_independent_reference_implementation():
    lst = generate_list(PALMIRA, per_stratum=40, seed=SEED)
    expected = reference_pbr(SEED, (2, 1), (6, 3), [("AI", "fulvestrant"), ("yes", "no")], 40)
    got = [
        (s.stratum, s.randno, s.block, s.block_size, PALMIRA_ARMS.index(s.arm)) for s in lst.slots
    ]
    assert got == expected


def test_pbr_three_arms_matches_reference():
    design = BlockDesign(
        ArmRatio(("A", "B", "C"), (1, 2, 1)), (Factor("site", ("x",)),), (4, 8, 12)
    )
    lst = generate_list(design, per_stratum=30, seed=7)
    expected = reference_pbr(7, (1, 2, 1), (4, 8, 12), [("x",)], 30)
    assert [
        (s.stratum, s.randno, s.block, s.block_size, "ABC".index(s.arm)) for s in lst.slots
    ] == expected


def test_simple_list_matches_reference():
    design = SimpleDesign(ArmRatio(("A", "B", "C"), (3, 1, 2)), (Factor("f", ("a", "b")),))
    lst = generate_list(design, per_stratum=25, seed=99)
    expected = reference_simple(99, (3, 1, 2), 2, 25)
    assert [(s.stratum, s.randno, "ABC".index(s.arm)) for s in lst.slots] == expected
    assert all(s.block is None and s.block_size is None for s in lst.slots)


def test_every_block_is_complete_and_balanced_in_every_stratum():
    lst = generate_list(PALMIRA, per_stratum=120, seed=SEED)
    assert len(lst.strata) == 4
    for stratum in lst.strata:
        slots = lst.stratum_slots(stratum.index)
        assert len(slots) >= 120
        assert [s.randno for s in slots] == list(range(1, len(slots) + 1))
        blocks: dict[int, list] = {}
        for s in slots:
            blocks.setdefault(s.block, []).append(s)
        assert sorted(blocks) == list(range(1, len(blocks) + 1))
        running = Counter()
        for number in sorted(blocks):
            members = blocks[number]
            size = members[0].block_size
            assert size in (3, 6) and len(members) == size
            assert all(m.block_size == size for m in members)
            count = Counter(m.arm for m in members)
            assert count == {"Palbociclib + ET": 2 * size // 3, "ET": size // 3}
            running.update(count)
            assert running["Palbociclib + ET"] == 2 * running["ET"]  # ratio at each block end


def test_last_block_not_cut_and_length_bounded():
    lst = generate_list(PALMIRA, per_stratum=10, seed=1)
    for stratum in lst.strata:
        n = len(lst.stratum_slots(stratum.index))
        assert 10 <= n <= 10 + 6 - 1


def test_both_block_sizes_used_about_equally():
    lst = generate_list(PALMIRA, per_stratum=3000, seed=5)
    sizes = list({(s.stratum, s.block): s.block_size for s in lst.slots}.values())
    share3 = sizes.count(3) / len(sizes)
    assert abs(share3 - 0.5) < 0.03  # about 2,700 blocks: sd of the share 0.0096


def test_regenerate_equals_original_and_seed_matters():
    lst = generate_list(PALMIRA, per_stratum=60, seed=SEED)
    again = regenerate(lst.params)
    assert again == lst and again.fingerprint == lst.fingerprint
    from_json = regenerate(ListParams.from_dict(lst.params.to_dict()))
    assert from_json == lst
    other = generate_list(PALMIRA, per_stratum=60, seed=SEED + 1)
    assert other.fingerprint != lst.fingerprint
    assert [s.arm for s in other.slots] != [s.arm for s in lst.slots]


def test_fingerprint_is_sha256_of_canonical_csv():
    lst = generate_list(PALMIRA, per_stratum=9, seed=SEED)
    text = lst.to_csv()
    assert lst.fingerprint == hashlib.sha256(text.encode()).hexdigest()
    lines = text.split("\n")
    assert lines[0] == "STRATUMN,STRATUM,RANDNO,BLOCK,BLKSIZE,ARM"
    assert lines[1].startswith("1,prior_et=AI|visceral=yes,1,1,")
    assert text.endswith("\n") and "\r" not in text
    frame = lst.to_frame()
    assert list(frame.columns) == ["STRATUMN", "STRATUM", "RANDNO", "BLOCK", "BLKSIZE", "ARM"]
    assert len(frame) == len(lst.slots)


def test_strata_order_first_factor_slowest():
    lst = generate_list(PALMIRA, per_stratum=3, seed=1)
    assert [s.label for s in lst.strata] == [
        "prior_et=AI|visceral=yes",
        "prior_et=AI|visceral=no",
        "prior_et=fulvestrant|visceral=yes",
        "prior_et=fulvestrant|visceral=no",
    ]
    assert lst.stratum_for({"prior_et": "fulvestrant", "visceral": "yes"}).index == 2


def test_service_lookup_by_stratum_and_position():
    lst = generate_list(PALMIRA, per_stratum=6, seed=3)
    slot = lst.slot("prior_et=AI|visceral=no", 2)
    assert slot.stratum == 1 and slot.randno == 2
    with pytest.raises(InputError, match="randno"):
        lst.slot(1, len(lst.stratum_slots(1)) + 1)
    with pytest.raises(InputError, match="stratum"):
        lst.slot("nope", 1)
    with pytest.raises(InputError, match=r"unknown level 'maybe'.*\['yes', 'no'\]"):
        lst.stratum_for({"prior_et": "AI", "visceral": "maybe"})
    with pytest.raises(InputError, match="'visceral' is missing"):
        lst.stratum_for({"prior_et": "AI"})


def test_unstratified_list_has_one_stratum():
    lst = generate_list(
        BlockDesign(ArmRatio(("A", "B"), (1, 1)), (), (2, 4)), per_stratum=10, seed=0
    )
    assert [s.label for s in lst.strata] == ["ALL"]
    assert lst.stratum_for({}).index == 0


def test_ratio_respected_by_simple_randomization_on_average():
    lst = generate_list(SimpleDesign(PALMIRA_ARMS), per_stratum=30000, seed=11)
    share = sum(s.arm == "ET" for s in lst.slots) / 30000
    assert abs(share - 1 / 3) < 0.01  # sd 0.0027


def test_summary_and_dict():
    lst = generate_list(PALMIRA, per_stratum=12, seed=SEED)
    text = lst.summary()
    assert "pbr-v1" in text and lst.fingerprint in text and "2:1" in text
    d = lst.to_dict()
    assert d["params"]["seed"] == SEED and d["params"]["algorithm"] == "pbr-v1"
    assert len(d["slots"]) == len(lst.slots) and d["fingerprint"] == lst.fingerprint
    assert isinstance(lst, AllocationList)


def test_block_design_and_params_errors():
    with pytest.raises(InputError, match=r"block sizes: 4 is not a multiple of 3.*3, 6, 9"):
        BlockDesign(PALMIRA_ARMS, PALMIRA_FACTORS, (3, 4))
    with pytest.raises(InputError, match="block sizes: none given"):
        BlockDesign(PALMIRA_ARMS, PALMIRA_FACTORS, ())
    with pytest.raises(InputError, match="lists a size twice"):
        BlockDesign(PALMIRA_ARMS, PALMIRA_FACTORS, (3, 3))
    with pytest.raises(InputError, match="per_stratum"):
        generate_list(PALMIRA, per_stratum=0, seed=1)
    with pytest.raises(InputError, match="seed"):
        generate_list(PALMIRA, per_stratum=3, seed=-1)
    with pytest.raises(InputError, match="seed"):
        generate_list(PALMIRA, per_stratum=3, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="algorithm"):
        ListParams.from_dict({"algorithm": "pbr-v0", "design": {}, "per_stratum": 1, "seed": 1})
    with pytest.raises(InputError, match="'seed' is missing"):
        ListParams.from_dict({"algorithm": "pbr-v1", "design": PALMIRA.to_dict(), "per_stratum": 3})
    with pytest.raises(InputError, match="appears twice"):
        BlockDesign(PALMIRA_ARMS, (parse_factor("a=x,y"), parse_factor("a=u,v")), (3,))
