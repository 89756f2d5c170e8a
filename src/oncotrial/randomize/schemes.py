"""Allocation lists made up front from a recorded seed: permuted blocks, simple randomization.

A list holds, for every stratum, numbered slots (position ``RANDNO`` 1, 2, ...) with their arm;
a randomization service consumes a stratum's slots in order. The list is a pure function of its
:class:`ListParams` (design, slots per stratum, seed, algorithm version), so anyone can
regenerate it (:func:`regenerate`) and check it against its :attr:`AllocationList.fingerprint`,
the SHA-256 of the canonical CSV (:meth:`AllocationList.to_csv`).

Algorithms (full, language-neutral description in docs/RANDOMIZATION.md):

``pbr-v1`` -- stratified permuted blocks with randomly chosen block sizes (Rosenberger &
Lachin, *Randomization in Clinical Trials*, 2nd ed. 2016, ch. 3 and 7; ICH E9 section 2.3.1).
Stratum ``k`` draws from child stream ``k`` of the seed (:mod:`.streams`). Block after block:
one uniform ``u`` chooses the size ``sizes[floor(u * len(sizes))]`` (sizes sorted ascending);
then ``b`` uniforms are keys for the block template (arm 1 repeated ``r1 * b / R`` times, then
arm 2, ...), and the block is the template sorted by key (stable sort). Blocks are appended until
the stratum has at least ``per_stratum`` slots; the last block is never cut, so every block in
the list is complete and balanced.

``simple-v1`` -- simple (unrestricted) randomization with the allocation ratio: each slot draws
one uniform ``u`` and takes the first arm ``j`` with ``floor(u * R) < r1 + ... + rj``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.errors import InputError, describe_value
from oncotrial.randomize.params import (
    ArmRatio,
    Factor,
    Stratum,
    check_factors,
    check_positive_int,
    check_seed,
    strata,
    stratum_index,
)
from oncotrial.randomize.streams import child_generator
from oncotrial.results import Result

PBR_V1 = "pbr-v1"
SIMPLE_V1 = "simple-v1"
ALGORITHMS = (PBR_V1, SIMPLE_V1)

COLUMNS = ("STRATUMN", "STRATUM", "RANDNO", "BLOCK", "BLKSIZE", "ARM")
"""Columns of the canonical list: stratum number (1-based), stratum label, position within the
stratum (1-based), block number within the stratum (1-based), block size, arm."""


# --------------------------------------------------------------------------- designs


@dataclass(frozen=True)
class BlockDesign:
    """Stratified permuted blocks: arms and ratio, factors, block sizes (``pbr-v1``).

    ``block_sizes`` are stored sorted ascending; each must be a multiple of the ratio's sum
    (3 and 6 for 2:1). Each block's size is drawn with equal probability among them.
    """

    arms: ArmRatio
    factors: tuple[Factor, ...]
    block_sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", check_factors(self.factors))
        sizes = tuple(self.block_sizes)
        if not sizes:
            raise InputError(
                f"block sizes: none given; give one or more multiples of {self.arms.total} "
                f"(the sum of the ratio {self.arms.label})",
                argument="block_sizes",
                value=[],
            )
        for b in sizes:
            if isinstance(b, bool) or not isinstance(b, int) or b < 1 or b % self.arms.total:
                raise InputError(
                    f"block sizes: {describe_value(b)} is not a multiple of "
                    f"{self.arms.total}, the sum of the ratio {self.arms.label}; valid sizes "
                    f"are {self.arms.total}, {2 * self.arms.total}, {3 * self.arms.total}, ...",
                    argument="block_sizes",
                    value=describe_value(b),
                )
        if len(set(sizes)) != len(sizes):
            raise InputError(
                f"block sizes: {list(sizes)!r} lists a size twice; give each size once",
                argument="block_sizes",
                value=list(sizes),
            )
        object.__setattr__(self, "block_sizes", tuple(sorted(sizes)))

    algorithm = PBR_V1

    def to_dict(self) -> dict[str, Any]:
        return {
            "arms": list(self.arms.arms),
            "ratio": list(self.arms.ratio),
            "factors": {f.name: list(f.levels) for f in self.factors},
            "block_sizes": list(self.block_sizes),
        }


@dataclass(frozen=True)
class SimpleDesign:
    """Simple randomization with the allocation ratio, optionally per stratum (``simple-v1``)."""

    arms: ArmRatio
    factors: tuple[Factor, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", check_factors(self.factors))

    algorithm = SIMPLE_V1

    def to_dict(self) -> dict[str, Any]:
        return {
            "arms": list(self.arms.arms),
            "ratio": list(self.arms.ratio),
            "factors": {f.name: list(f.levels) for f in self.factors},
        }


ListDesign = BlockDesign | SimpleDesign


def _design_from_dict(algorithm: str, data: Mapping[str, Any]) -> ListDesign:
    arms = ArmRatio(tuple(data["arms"]), tuple(data["ratio"]))
    factors = tuple(Factor(k, tuple(v)) for k, v in dict(data.get("factors", {})).items())
    if algorithm == PBR_V1:
        return BlockDesign(arms, factors, tuple(data["block_sizes"]))
    return SimpleDesign(arms, factors)


@dataclass(frozen=True)
class ListParams(Result):
    """Everything an allocation list is a function of; store it to regenerate the list."""

    algorithm: str
    design: ListDesign
    per_stratum: int
    seed: int

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise InputError(
                f"algorithm: {self.algorithm!r} is not known; valid: {list(ALGORITHMS)!r}",
                argument="algorithm",
                value=self.algorithm,
            )
        if self.design.algorithm != self.algorithm:
            raise InputError(
                f"algorithm: {self.algorithm!r} does not match the design "
                f"({type(self.design).__name__} uses {self.design.algorithm!r})",
                argument="algorithm",
                value=self.algorithm,
            )
        check_positive_int(self.per_stratum, "per_stratum")
        check_seed(self.seed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "design": self.design.to_dict(),
            "per_stratum": self.per_stratum,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ListParams:
        """Inverse of :meth:`to_dict` (e.g. parameters stored by a randomization service)."""
        try:
            algorithm = str(data["algorithm"])
            if algorithm not in ALGORITHMS:
                raise InputError(
                    f"algorithm: {algorithm!r} is not known; valid: {list(ALGORITHMS)!r}",
                    argument="algorithm",
                    value=algorithm,
                )
            design = _design_from_dict(algorithm, data["design"])
            return cls(algorithm, design, data["per_stratum"], data["seed"])
        except KeyError as exc:
            raise InputError(
                f"list parameters: key {exc.args[0]!r} is missing; expected algorithm, "
                "design{arms, ratio, factors, block_sizes}, per_stratum, seed",
                argument=str(exc.args[0]),
            ) from None


# --------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class Slot:
    """One position of an allocation list."""

    stratum: int
    """0-based stratum index (``STRATUMN`` is this + 1)."""
    randno: int
    """1-based position within the stratum."""
    block: int | None
    """1-based block number within the stratum (``None`` for simple randomization)."""
    block_size: int | None
    arm: str


@dataclass(frozen=True)
class AllocationList(Result):
    """A generated allocation list: per stratum, numbered slots with their arm.

    ``fingerprint`` is the SHA-256 (hex) of :meth:`to_csv` encoded as UTF-8, so
    ``sha256sum list.csv`` of the file written by ``oncotrial randomize list --out`` equals it.
    """

    params: ListParams
    strata: tuple[Stratum, ...]
    slots: tuple[Slot, ...]
    fingerprint: str = field(default="")

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", _sha256(self.to_csv()))

    # -- consumption by a service -------------------------------------------------------

    def stratum_for(self, subject_factors: Mapping[str, str]) -> Stratum:
        """The stratum of a subject given ``{factor: level}``; unknown levels are errors."""
        return self.strata[stratum_index(self.params.design.factors, subject_factors)]

    def stratum_slots(self, stratum: int | str) -> tuple[Slot, ...]:
        """The slots of one stratum (by 0-based index or label), in position order."""
        k = self._stratum_number(stratum)
        return tuple(s for s in self.slots if s.stratum == k)

    def slot(self, stratum: int | str, randno: int) -> Slot:
        """Slot ``randno`` (1-based) of a stratum; an error when the stratum is exhausted."""
        slots = self.stratum_slots(stratum)
        if isinstance(randno, bool) or not isinstance(randno, int) or not 1 <= randno <= len(slots):
            raise InputError(
                f"randno: {describe_value(randno)} is outside stratum "
                f"{self.strata[self._stratum_number(stratum)].label!r}, which has slots "
                f"1..{len(slots)}",
                argument="randno",
                value=describe_value(randno),
            )
        return slots[randno - 1]

    def _stratum_number(self, stratum: int | str) -> int:
        if isinstance(stratum, str):
            for s in self.strata:
                if s.label == stratum:
                    return s.index
        elif (
            not isinstance(stratum, bool)
            and isinstance(stratum, int)
            and (0 <= stratum < len(self.strata))
        ):
            return stratum
        raise InputError(
            f"stratum: {describe_value(stratum)} is not a stratum of this list; valid: "
            f"0..{len(self.strata) - 1} or one of {[s.label for s in self.strata]!r}",
            argument="stratum",
            value=describe_value(stratum),
        )

    # -- output -------------------------------------------------------------------------

    def to_csv(self) -> str:
        """The canonical list: header + one line per slot, ``,``-separated, ``\\n`` line ends.

        Integers in decimal, empty fields for a missing block; names never need quoting
        (see :mod:`oncotrial.randomize.params`).
        """
        lines = [",".join(COLUMNS)]
        labels = [s.label for s in self.strata]
        for s in self.slots:
            block = "" if s.block is None else str(s.block)
            size = "" if s.block_size is None else str(s.block_size)
            lines.append(f"{s.stratum + 1},{labels[s.stratum]},{s.randno},{block},{size},{s.arm}")
        return "\n".join(lines) + "\n"

    def to_frame(self) -> pd.DataFrame:
        labels = [s.label for s in self.strata]
        return pd.DataFrame(
            {
                "STRATUMN": [s.stratum + 1 for s in self.slots],
                "STRATUM": [labels[s.stratum] for s in self.slots],
                "RANDNO": [s.randno for s in self.slots],
                "BLOCK": pd.array([s.block for s in self.slots], dtype="Int64"),
                "BLKSIZE": pd.array([s.block_size for s in self.slots], dtype="Int64"),
                "ARM": [s.arm for s in self.slots],
            },
            columns=list(COLUMNS),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params.to_dict(),
            "strata": [
                {"stratumn": s.index + 1, "label": s.label, "levels": dict(s.levels)}
                for s in self.strata
            ],
            "slots": [
                {
                    "STRATUMN": s.stratum + 1,
                    "RANDNO": s.randno,
                    "BLOCK": s.block,
                    "BLKSIZE": s.block_size,
                    "ARM": s.arm,
                }
                for s in self.slots
            ],
            "fingerprint": self.fingerprint,
        }

    def arm_counts(self) -> pd.DataFrame:
        """Slots per stratum and arm (rows: stratum labels, columns: arms)."""
        frame = self.to_frame()
        table = pd.crosstab(frame["STRATUM"], frame["ARM"])
        return table.reindex(
            index=[s.label for s in self.strata],
            columns=list(self.params.design.arms.arms),
            fill_value=0,
        )

    def summary(self) -> str:
        p = self.params
        d = p.design
        lines = [
            f"Allocation list {p.algorithm}: arms {' : '.join(d.arms.arms)} = {d.arms.label}",
            f"  seed {p.seed}, at least {p.per_stratum} slots per stratum, "
            f"{len(self.strata)} strata, {len(self.slots)} slots",
        ]
        if isinstance(d, BlockDesign):
            lines.append(f"  block sizes {list(d.block_sizes)} (equally likely)")
        counts = self.arm_counts()
        width = max(len(s.label) for s in self.strata)
        for label, row in counts.iterrows():
            per_arm = ", ".join(f"{a} {int(n)}" for a, n in row.items())
            lines.append(f"  {label!s:<{width}}  {per_arm}")
        lines.append("  fingerprint (SHA-256 of the canonical CSV):")
        lines.append(f"    {self.fingerprint}")
        return "\n".join(lines)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- generation


def block_template(arms: ArmRatio, size: int) -> np.ndarray:
    """Arm indices of one block before permutation: arm 0 ``r0*m`` times, then arm 1, ..."""
    m = size // arms.total
    return np.repeat(np.arange(len(arms.arms)), np.asarray(arms.ratio) * m)


def permuted_blocks(
    rng: np.random.Generator, arms: ArmRatio, block_sizes: Sequence[int], n_min: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocks of ``pbr-v1`` from ``rng`` until at least ``n_min`` slots: (arm index, block, size).

    Per block: ``u = rng.random()`` picks ``block_sizes[floor(u * len)]``; ``keys =
    rng.random(b)``; the block is ``template[argsort(keys, stable)]``.
    """
    sizes = tuple(block_sizes)
    templates = {b: block_template(arms, b) for b in sizes}
    arm_parts: list[np.ndarray] = []
    chosen: list[int] = []
    filled = 0
    while filled < n_min:
        u = rng.random()
        size = sizes[min(int(np.floor(u * len(sizes))), len(sizes) - 1)]
        keys = rng.random(size)
        arm_parts.append(templates[size][np.argsort(keys, kind="stable")])
        chosen.append(size)
        filled += size
    if not arm_parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    block_sizes_arr = np.asarray(chosen, dtype=np.int64)
    block = np.repeat(np.arange(1, len(chosen) + 1), block_sizes_arr)
    return np.concatenate(arm_parts), block, np.repeat(block_sizes_arr, block_sizes_arr)


def simple_sequence(rng: np.random.Generator, arms: ArmRatio, n: int) -> np.ndarray:
    """``simple-v1``: ``n`` arm indices, each the first ``j`` with ``floor(u*R) < r0+...+rj``."""
    u = rng.random(n)
    t = np.floor(u * arms.total).astype(np.int64)
    return np.searchsorted(np.cumsum(arms.ratio), t, side="right")


def generate_list(design: ListDesign, *, per_stratum: int, seed: int) -> AllocationList:
    """Generate the allocation list of ``design`` (``pbr-v1`` or ``simple-v1``) from ``seed``.

    Args:
        design: a :class:`BlockDesign` or :class:`SimpleDesign`.
        per_stratum: minimum number of slots per stratum (blocks are never cut, so a
            permuted-block stratum may hold up to ``max(block_sizes) - 1`` more).
        seed: the recorded seed (non-negative integer).
    """
    if not isinstance(design, (BlockDesign, SimpleDesign)):
        raise InputError(
            f"design: {describe_value(design)} is not a list design; expected BlockDesign "
            "or SimpleDesign (minimization has no list; see minimization.py)",
            argument="design",
            value=describe_value(design),
        )
    return regenerate(ListParams(design.algorithm, design, per_stratum, seed))


def regenerate(params: ListParams) -> AllocationList:
    """The list that ``params`` define; equal (``==``) to the list originally generated."""
    design = params.design
    arms = design.arms
    all_strata = strata(design.factors)
    slots: list[Slot] = []
    for stratum in all_strata:
        rng = child_generator(params.seed, stratum.index)
        if isinstance(design, BlockDesign):
            arm_idx, block, size = permuted_blocks(
                rng, arms, design.block_sizes, params.per_stratum
            )
            slots.extend(
                Slot(stratum.index, i + 1, int(b), int(s), arms.arms[int(a)])
                for i, (a, b, s) in enumerate(zip(arm_idx, block, size, strict=True))
            )
        else:
            arm_idx = simple_sequence(rng, arms, params.per_stratum)
            slots.extend(
                Slot(stratum.index, i + 1, None, None, arms.arms[int(a)])
                for i, a in enumerate(arm_idx)
            )
    return AllocationList(params=params, strata=all_strata, slots=tuple(slots))
