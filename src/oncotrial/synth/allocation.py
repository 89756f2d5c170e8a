"""Accrual dates and treatment allocation through :mod:`oncotrial.randomize.schemes`.

Randomization dates are spread uniformly over the published accrual period (first and last
dates exact). Subjects are allocated in date order by a stratified permuted-block list
(``pbr-v1``, the spec's arms and ratio, the spec's stratification factors) generated from a
seed derived from the trial seed: each subject takes the next slot of its stratum, as a
central randomization service would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from oncotrial.randomize import ArmRatio, BlockDesign, Factor, generate_list
from oncotrial.randomize.schemes import AllocationList
from oncotrial.spec.models import TrialSpec
from oncotrial.synth.draws import Draws
from oncotrial.synth.params import SynthParams

_YES = {"yes", "true", "y", "1"}


def accrual_dates(params: SynthParams, n: int, draws: Draws) -> list[dt.date]:
    """``n`` sorted randomization dates, the first and last on the published dates."""
    span = (params.accrual_end - params.accrual_start).days
    offsets = np.sort(np.floor(draws.uniform(n) * (span + 1)).astype(np.int64))
    if n >= 2:
        offsets[0], offsets[-1] = 0, span
    return [params.accrual_start + dt.timedelta(days=int(d)) for d in offsets]


def list_seed(seed: int) -> int:
    """The allocation list's seed: a 31-bit integer derived from the trial seed."""
    return int(np.random.SeedSequence(seed, spawn_key=(99,)).generate_state(1)[0] >> 1)


def stratum_level(value: Any, levels: list[str]) -> str:
    """A subject's attribute value as a level of a stratification factor.

    Booleans map to the factor's yes/no-like levels (PALMIRA: visceral_involvement
    true -> ``yes``).
    """
    if isinstance(value, bool):
        truthy = [lv for lv in levels if lv.lower() in _YES]
        falsy = [lv for lv in levels if lv.lower() not in _YES]
        return (truthy if value else falsy)[0]
    return str(value)


def allocate(
    spec: TrialSpec, seed: int, subjects: list[dict[str, Any]]
) -> tuple[list[str], AllocationList]:
    """Arms of ``subjects`` (attribute dicts in randomization order) and the list used."""
    arms = ArmRatio(tuple(a.name for a in spec.arms), tuple(a.ratio for a in spec.arms))
    factors = tuple(Factor(f.name, tuple(f.levels)) for f in spec.stratification)
    design = BlockDesign(arms, factors, (arms.total, 2 * arms.total))
    alloc = generate_list(design, per_stratum=max(len(subjects), 1), seed=list_seed(seed))
    slots: dict[int, list[str]] = {}
    for slot in alloc.slots:
        slots.setdefault(slot.stratum, []).append(slot.arm)
    used: dict[int, int] = {}
    out = []
    for attrs in subjects:
        levels = {f.name: stratum_level(attrs[f.name], list(f.levels)) for f in spec.stratification}
        stratum = alloc.stratum_for(levels)
        position = used.get(stratum.index, 0)
        used[stratum.index] = position + 1
        out.append(slots[stratum.index][position])
    return out, alloc
