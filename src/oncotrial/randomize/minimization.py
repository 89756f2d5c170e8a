"""Pocock-Simon minimization with a random element and unequal allocation ratios (``ps-v1``).

Method (Pocock & Simon 1975, Biometrics 31:103-115; ratio weighting as in Han, Enas &
McEntegart 2009, Stat Med 28:3329-3346). For a new subject with level ``l_i`` on factor ``i``
and ``x_ij`` the subjects already allocated to arm ``j`` among those with level ``l_i``:

1. for each candidate arm ``k``, the hypothetical counts ``x_ij + [j == k]`` are divided by the
   ratio shares ``r_j`` (weighted counts; for 1:1 these are the counts);
2. ``d_ik`` is the imbalance of the weighted counts over arms: their range (max - min) or
   their population variance (divisor = number of arms);
3. ``G_k = sum_i w_i * d_ik`` with factor weights ``w_i`` (default 1);
4. the *preferred* arms are those with the smallest ``G_k`` (ties within 1e-9 relative);
   they share probability ``p`` in proportion to their ratio shares and the other arms share
   ``1 - p`` the same way; when every arm is preferred the probabilities are the ratio
   ``r_j / R`` (a fair draw). ``p = 1`` is deterministic minimization.
5. one uniform ``u`` in [0, 1) picks the first arm ``j`` with ``u < P_1 + ... + P_j``.

To decide ties exactly, counts are scaled to integers (times ``lcm(r) / r_j``) and the variance
is computed as ``A * sum(y^2) - (sum y)^2``; scores are reported back in the units above.

With an unequal ratio, minimization does not hold the allocation probability of each arm at the
target ratio along the sequence (Kuznetsova & Tymofyeyev 2012, Stat Med 31:701-723); the
pre-go-live assessment (:mod:`.assessment`) reports the achieved proportions, check them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from oncotrial.errors import InputError, describe_value
from oncotrial.randomize.params import (
    ArmRatio,
    Factor,
    check_factors,
    check_seed,
    level_indices,
)
from oncotrial.randomize.streams import subject_uniform
from oncotrial.results import Result

PS_V1 = "ps-v1"
IMBALANCE_METHODS = ("range", "variance")
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class MinimizationDesign:
    """Arms and ratio, factors, factor weights, imbalance measure and random element ``p``."""

    arms: ArmRatio
    factors: tuple[Factor, ...]
    weights: tuple[float, ...] = ()
    imbalance: Literal["range", "variance"] = "range"
    p: float = 0.8

    algorithm = PS_V1

    def __post_init__(self) -> None:
        factors = check_factors(self.factors)
        object.__setattr__(self, "factors", factors)
        if not factors:
            raise InputError(
                "factors: minimization needs at least one factor (e.g. liver_mets=yes,no)",
                argument="factors",
                value=[],
            )
        weights = tuple(self.weights) if self.weights else tuple(1.0 for _ in factors)
        if len(weights) != len(factors):
            raise InputError(
                f"weights: {len(weights)} weight(s) for {len(factors)} factors "
                f"{[f.name for f in factors]!r}; give one positive weight per factor",
                argument="weights",
                value=list(weights),
            )
        for w in weights:
            if (
                isinstance(w, bool)
                or not isinstance(w, (int, float))
                or not (math.isfinite(w) and w > 0)
            ):
                raise InputError(
                    f"weights: {describe_value(w)} is not valid; factor weights must be "
                    "finite numbers > 0",
                    argument="weights",
                    value=describe_value(w),
                )
        object.__setattr__(self, "weights", tuple(float(w) for w in weights))
        if self.imbalance not in IMBALANCE_METHODS:
            raise InputError(
                f"imbalance: {self.imbalance!r} is not valid; choose one of "
                f"{list(IMBALANCE_METHODS)!r}",
                argument="imbalance",
                value=str(self.imbalance),
            )
        p = self.p
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.5 < p <= 1:
            raise InputError(
                f"p: {describe_value(p)} is not valid; the probability of the "
                "imbalance-minimising arm must be in (0.5, 1] (1 = deterministic)",
                argument="p",
                value=describe_value(p),
            )
        object.__setattr__(self, "p", float(p))

    @property
    def max_levels(self) -> int:
        return max(len(f.levels) for f in self.factors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "arms": list(self.arms.arms),
            "ratio": list(self.arms.ratio),
            "factors": {f.name: list(f.levels) for f in self.factors},
            "weights": list(self.weights),
            "imbalance": self.imbalance,
            "p": self.p,
        }


@dataclass(frozen=True)
class MarginalCounts:
    """Subjects allocated so far, per factor level and arm: ``table[factor][level][arm]``."""

    design: MinimizationDesign
    table: tuple[tuple[tuple[int, ...], ...], ...]

    def __post_init__(self) -> None:
        d = self.design
        shape_ok = len(self.table) == len(d.factors) and all(
            len(rows) == len(f.levels) and all(len(row) == len(d.arms.arms) for row in rows)
            for f, rows in zip(d.factors, self.table, strict=False)
        )
        if not shape_ok:
            raise InputError(
                "counts: table shape does not match the design; expected "
                "[factor][level][arm] with "
                f"{[len(f.levels) for f in d.factors]} levels and {len(d.arms.arms)} arms",
                argument="counts",
            )
        for f, rows in zip(d.factors, self.table, strict=True):
            for lev, row in zip(f.levels, rows, strict=True):
                for arm, n in zip(d.arms.arms, row, strict=True):
                    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                        raise InputError(
                            f"counts: factor {f.name!r}, level {lev!r}, arm {arm!r}: "
                            f"{describe_value(n)} is not a count (integer >= 0)",
                            argument="counts",
                            value=describe_value(n),
                        )

    @classmethod
    def zeros(cls, design: MinimizationDesign) -> MarginalCounts:
        a = len(design.arms.arms)
        return cls(design, tuple(tuple((0,) * a for _ in f.levels) for f in design.factors))

    @classmethod
    def from_mapping(
        cls, design: MinimizationDesign, counts: Mapping[str, Mapping[str, Mapping[str, int]]]
    ) -> MarginalCounts:
        """From ``{factor: {level: {arm: n}}}`` (missing entries are 0; unknown names error)."""
        by_name = {f.name: f for f in design.factors}
        table = np.zeros(
            (len(design.factors), design.max_levels, len(design.arms.arms)), dtype=np.int64
        )
        for fname, levels in counts.items():
            if fname not in by_name:
                raise InputError(
                    f"counts: unknown factor {fname!r}; the factors are {list(by_name)!r}",
                    argument="counts",
                    value=fname,
                )
            f = by_name[fname]
            fi = design.factors.index(f)
            for lev, per_arm in levels.items():
                li = f.index(lev)
                for arm, n in per_arm.items():
                    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                        raise InputError(
                            f"counts: factor {fname!r}, level {lev!r}, arm {arm!r}: "
                            f"{describe_value(n)} is not a count (integer >= 0)",
                            argument="counts",
                            value=describe_value(n),
                        )
                    table[fi, li, design.arms.index(arm)] = int(n)
        return cls._from_array(design, table)

    @classmethod
    def _from_array(cls, design: MinimizationDesign, array: np.ndarray) -> MarginalCounts:
        return cls(
            design,
            tuple(
                tuple(tuple(int(n) for n in array[fi, li]) for li in range(len(f.levels)))
                for fi, f in enumerate(design.factors)
            ),
        )

    def array(self) -> np.ndarray:
        """``(factors, max levels, arms)`` int64 array, zero-padded for shorter factors."""
        d = self.design
        out = np.zeros((len(d.factors), d.max_levels, len(d.arms.arms)), dtype=np.int64)
        for fi, rows in enumerate(self.table):
            out[fi, : len(rows)] = np.asarray(rows, dtype=np.int64)
        return out

    def to_mapping(self) -> dict[str, dict[str, dict[str, int]]]:
        d = self.design
        return {
            f.name: {
                lev: dict(zip(d.arms.arms, row, strict=True))
                for lev, row in zip(f.levels, rows, strict=True)
            }
            for f, rows in zip(d.factors, self.table, strict=True)
        }

    @property
    def n_subjects(self) -> int:
        """Subjects counted (each is counted once under every factor)."""
        return int(sum(sum(row) for row in self.table[0]))

    def add(self, subject_factors: Mapping[str, str], arm: str) -> MarginalCounts:
        """New counts with one more subject (levels ``subject_factors``) on ``arm``."""
        levels = level_indices(self.design.factors, subject_factors)
        a = self.design.arms.index(arm)
        array = self.array()
        for fi, li in enumerate(levels):
            array[fi, li, a] += 1
        return self._from_array(self.design, array)


# --------------------------------------------------------------------------- vectorised core


def hypothetical_imbalance(current: np.ndarray, arms: ArmRatio, method: str) -> np.ndarray:
    """Integer-scaled imbalance ``d[s, i, k]`` if subject ``s`` went to arm ``k``.

    ``current[s, i, :]`` are the subject's factor-``i`` level counts per arm. Counts are scaled
    by ``lcm(r) / r_j``; range gives ``lcm * range(x / r)``, variance gives
    ``A^2 * lcm^2 * var(x / r)``.
    """
    n_arms = len(arms.arms)
    scale = np.asarray([arms.lcm // r for r in arms.ratio], dtype=np.int64)
    y = (current[:, :, None, :] + np.eye(n_arms, dtype=np.int64)[None, None]) * scale
    if method == "range":
        return y.max(axis=-1) - y.min(axis=-1)
    return n_arms * (y * y).sum(axis=-1) - y.sum(axis=-1) ** 2


def score_units(arms: ArmRatio, method: str) -> float:
    """Divisor that turns integer-scaled scores back into imbalance of ``x / r``."""
    if method == "range":
        return float(arms.lcm)
    return float(len(arms.arms) ** 2 * arms.lcm**2)


def weighted_scores(d: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """``G[s, k] = sum_i w_i d[s, i, k]``, summed factor by factor in design order."""
    g = np.zeros((d.shape[0], d.shape[2]), dtype=float)
    for i, w in enumerate(weights):
        g = g + w * d[:, i, :]
    return g


def assignment_probabilities(
    g: np.ndarray, ratio: Sequence[int], p: float
) -> tuple[np.ndarray, np.ndarray]:
    """Preferred-arm mask and allocation probabilities ``P[s, k]`` (see module docstring)."""
    gmin = g.min(axis=1, keepdims=True)
    preferred = g <= gmin + TIE_TOLERANCE * np.maximum(1.0, np.abs(gmin))
    r = np.asarray(ratio, dtype=float)[None, :]
    r_pref = np.where(preferred, r, 0.0)
    r_other = np.where(preferred, 0.0, r)
    s_pref = r_pref.sum(axis=1, keepdims=True)
    s_other = r_other.sum(axis=1, keepdims=True)
    all_pref = s_other[:, 0] == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        prob = p * r_pref / s_pref + (1.0 - p) * r_other / np.where(s_other == 0, 1, s_other)
    prob[all_pref] = r[0] / r.sum()
    return preferred, prob


def pick_arm(prob: np.ndarray, u: np.ndarray) -> np.ndarray:
    """First arm ``j`` with ``u < P_1 + ... + P_j``; if rounding leaves the sum just below
    ``u``, the last arm with a positive probability."""
    cum = np.cumsum(prob, axis=1)
    arm = (u[:, None] >= cum).sum(axis=1)
    last_positive = prob.shape[1] - 1 - np.argmax(prob[:, ::-1] > 0, axis=1)
    return np.minimum(arm, last_positive)


def minimize_batch(design: MinimizationDesign, levels: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Run minimization on ``S`` cohorts at once: arm index ``[s, t]`` of subject ``t``.

    ``levels[s, t, i]`` is subject ``t``'s level index on factor ``i`` in cohort ``s``; ``u[s, t]``
    its uniform draw. Cohorts start with no subjects. The same arithmetic as
    :func:`minimization_assign` (which calls the same functions with ``S = 1``).
    """
    n_sims, n, n_factors = levels.shape
    counts = np.zeros((n_sims, n_factors, design.max_levels, len(design.arms.arms)), dtype=np.int64)
    rows = np.arange(n_sims)
    out = np.empty((n_sims, n), dtype=np.int64)
    fidx = np.arange(n_factors)
    for t in range(n):
        lev = levels[:, t, :]
        current = counts[rows[:, None], fidx[None, :], lev]
        d = hypothetical_imbalance(current, design.arms, design.imbalance)
        _, prob = assignment_probabilities(
            weighted_scores(d, design.weights), design.arms.ratio, design.p
        )
        arm = pick_arm(prob, u[:, t])
        out[:, t] = arm
        for i in range(n_factors):
            counts[rows, i, lev[:, i], arm] += 1
    return out


# --------------------------------------------------------------------------- one decision


@dataclass(frozen=True)
class MinimizationDecision(Result):
    """One minimization decision, with everything needed to audit it."""

    arm: str
    subject: tuple[tuple[str, str], ...]
    scores: tuple[float, ...]
    """``G_k`` per arm (in design arm order): weighted imbalance if the subject went to ``k``."""
    preferred: tuple[str, ...]
    probabilities: tuple[float, ...]
    u: float
    counts_after: MarginalCounts

    def to_dict(self) -> dict[str, Any]:
        arms = self.counts_after.design.arms.arms
        return {
            "arm": self.arm,
            "subject": dict(self.subject),
            "scores": dict(zip(arms, self.scores, strict=True)),
            "preferred": list(self.preferred),
            "probabilities": dict(zip(arms, self.probabilities, strict=True)),
            "u": self.u,
            "counts_after": self.counts_after.to_mapping(),
        }

    def summary(self) -> str:
        arms = self.counts_after.design.arms.arms
        subj = ", ".join(f"{k}={v}" for k, v in self.subject)
        lines = [f"Minimization decision for subject ({subj}): {self.arm}"]
        for a, g, pr in zip(arms, self.scores, self.probabilities, strict=True):
            star = " *" if a in self.preferred else ""
            lines.append(f"  {a}: imbalance score {g:.6g}, probability {pr:.4f}{star}")
        lines.append(f"  u = {self.u:.6f} (* preferred arm)")
        return "\n".join(lines)


def _uniform(rng: np.random.Generator | float) -> float:
    if isinstance(rng, np.random.Generator):
        return float(rng.random())
    if isinstance(rng, bool) or not isinstance(rng, (int, float)) or not 0 <= rng < 1:
        raise InputError(
            f"rng: {describe_value(rng)} is not valid; pass a numpy Generator or a uniform "
            "draw in [0, 1)",
            argument="rng",
            value=describe_value(rng),
        )
    return float(rng)


def minimization_assign(
    counts: MarginalCounts,
    subject_factors: Mapping[str, str],
    rng: np.random.Generator | float,
) -> MinimizationDecision:
    """Allocate one subject by Pocock-Simon minimization (method in the module docstring).

    Args:
        counts: the current marginal counts (they carry the design).
        subject_factors: the subject's level on every design factor, ``{factor: level}``.
        rng: a numpy ``Generator`` (one ``random()`` is drawn) or the uniform draw itself,
            e.g. :func:`oncotrial.randomize.streams.subject_uniform` of the trial seed.
    """
    design = counts.design
    levels = level_indices(design.factors, subject_factors)
    u = _uniform(rng)
    array = counts.array()
    current = array[np.arange(len(levels)), np.asarray(levels)][None, :, :]
    d = hypothetical_imbalance(current, design.arms, design.imbalance)
    g = weighted_scores(d, design.weights)
    preferred, prob = assignment_probabilities(g, design.arms.ratio, design.p)
    arm_index = int(pick_arm(prob, np.asarray([u]))[0])
    arm = design.arms.arms[arm_index]
    units = score_units(design.arms, design.imbalance)
    return MinimizationDecision(
        arm=arm,
        subject=tuple((f.name, str(subject_factors[f.name])) for f in design.factors),
        scores=tuple(float(x) / units for x in g[0]),
        preferred=tuple(a for a, m in zip(design.arms.arms, preferred[0], strict=True) if m),
        probabilities=tuple(float(x) for x in prob[0]),
        u=u,
        counts_after=counts.add(subject_factors, arm),
    )


# --------------------------------------------------------------------------- a sequence


@dataclass(frozen=True)
class MinimizationRun(Result):
    """Subjects allocated one after another by :func:`minimize_sequence`."""

    design: MinimizationDesign
    seed: int
    first_sequence_number: int
    decisions: tuple[MinimizationDecision, ...]

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(d.arm for d in self.decisions)

    @property
    def final_counts(self) -> MarginalCounts:
        return self.decisions[-1].counts_after

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": self.design.to_dict(),
            "seed": self.seed,
            "first_sequence_number": self.first_sequence_number,
            "decisions": [d.to_dict() for d in self.decisions],
        }

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for i, d in enumerate(self.decisions):
            row: dict[str, Any] = {"SEQ": self.first_sequence_number + i}
            row.update(dict(d.subject))
            row.update(
                {
                    "ARM": d.arm,
                    "U": d.u,
                    "PREFERRED": "|".join(d.preferred),
                    "PROB": d.probabilities[self.design.arms.index(d.arm)],
                }
            )
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> str:
        n = len(self.decisions)
        totals = {a: self.arms.count(a) for a in self.design.arms.arms}
        return "\n".join(
            [
                f"Minimization {self.design.algorithm} ({self.design.imbalance}, "
                f"p={self.design.p}), seed {self.seed}: {n} subjects",
                "  " + ", ".join(f"{a} {k}" for a, k in totals.items()),
            ]
        )


def minimize_sequence(
    design: MinimizationDesign,
    subjects: Sequence[Mapping[str, str]],
    *,
    seed: int,
    counts: MarginalCounts | None = None,
) -> MinimizationRun:
    """Allocate ``subjects`` in order; subject with sequence number ``q`` uses
    ``subject_uniform(seed, q)``, ``q = counts.n_subjects + 1, + 2, ...``.
    """
    check_seed(seed)
    if not isinstance(design, MinimizationDesign):
        raise InputError(
            f"design: {describe_value(design)} is not a MinimizationDesign",
            argument="design",
            value=describe_value(design),
        )
    if len(subjects) == 0:
        raise InputError(
            "subjects: none given; pass at least one {factor: level} mapping",
            argument="subjects",
            value=[],
        )
    state = MarginalCounts.zeros(design) if counts is None else counts
    if state.design != design:
        raise InputError("counts: their design differs from `design`", argument="counts")
    first = state.n_subjects + 1
    decisions = []
    for q, subject in enumerate(subjects, start=first):
        decision = minimization_assign(state, subject, subject_uniform(seed, q))
        decisions.append(decision)
        state = decision.counts_after
    return MinimizationRun(design, seed, first, tuple(decisions))
