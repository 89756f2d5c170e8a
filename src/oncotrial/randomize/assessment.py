"""Pre-go-live assessment of allocation schemes by simulation: imbalance and predictability.

For ``n_sims`` simulated cohorts (subjects' factor levels drawn independently with the given
level probabilities, sites drawn with probability proportional to the given site sizes), every
scheme allocates the *same* cohorts (common random numbers, so differences between schemes are
not simulation noise between cohorts). Per cohort and scheme:

* **imbalance** of a group of subjects = ``max_j(n_j / r_j) - min_j(n_j / r_j)`` (range of the
  ratio-weighted arm counts; ``|n_A - n_B|`` for 1:1, ``|n_A / 2 - n_B|`` for 2:1), reported
  overall, as the largest over factor levels (margins), over strata (cross-product cells) and
  over sites;
* **achieved proportion** of each arm;
* **predictability**: the proportion of correct guesses of a guesser who knows every earlier
  allocation in their own site (or in the subject's stratum) and guesses by the convergence
  strategy (Blackwell & Hodges 1957, Ann Math Stat 28:449-460; Rosenberger & Lachin 2016,
  section 5.2): the arm with the smallest ratio-weighted count so far ``n_j / r_j``; among tied
  arms the one(s) with the largest share ``r_j``, a tie beyond that counted as a fair random
  guess (expected correctness 1 / number tied). The no-information baseline is ``max r_j / R``.

Every statistic is summarised over cohorts by its mean, 95th percentile and maximum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.errors import InputError, describe_value
from oncotrial.randomize.minimization import MinimizationDesign, minimize_batch
from oncotrial.randomize.params import (
    ArmRatio,
    Factor,
    check_factors,
    check_positive_int,
    check_seed,
)
from oncotrial.randomize.schemes import (
    BlockDesign,
    SimpleDesign,
    permuted_blocks,
    simple_sequence,
)
from oncotrial.randomize.streams import child_generator
from oncotrial.results import Result

Design = BlockDesign | SimpleDesign | MinimizationDesign

IMBALANCE_MEASURES = ("overall", "margins", "strata", "sites")


@dataclass(frozen=True)
class CohortModel:
    """Who enrols: factor level probabilities, cohort size and site sizes.

    ``probabilities[i]`` are the level probabilities of factor ``i`` (default: equal); sites
    are drawn per subject with probability ``site_sizes[s] / sum(site_sizes)`` (default: one
    site).
    """

    factors: tuple[Factor, ...]
    n_subjects: int
    probabilities: tuple[tuple[float, ...], ...] = ()
    site_sizes: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        factors = check_factors(self.factors)
        object.__setattr__(self, "factors", factors)
        check_positive_int(self.n_subjects, "n_subjects")
        probs = self.probabilities or tuple(
            tuple(1.0 / len(f.levels) for _ in f.levels) for f in factors
        )
        if len(probs) != len(factors):
            raise InputError(
                f"probabilities: given for {len(probs)} factor(s), there are {len(factors)} "
                f"({[f.name for f in factors]!r})",
                argument="probabilities",
                value=len(probs),
            )
        clean = []
        for f, p in zip(factors, probs, strict=True):
            p = tuple(float(x) for x in p)
            if (
                len(p) != len(f.levels)
                or any(not (math.isfinite(x) and x >= 0) for x in p)
                or (abs(sum(p) - 1) > 1e-9)
            ):
                raise InputError(
                    f"probabilities of factor {f.name!r}: {list(p)!r} is not valid; expected "
                    f"{len(f.levels)} numbers >= 0 (levels {list(f.levels)!r}) summing to 1",
                    argument=f"probabilities[{f.name}]",
                    value=list(p),
                )
            clean.append(p)
        object.__setattr__(self, "probabilities", tuple(clean))
        sites = tuple(self.site_sizes) or (1.0,)
        if any(
            isinstance(s, bool)
            or not isinstance(s, (int, float))
            or not (math.isfinite(s) and s > 0)
            for s in sites
        ):
            raise InputError(
                f"site sizes: {list(sites)!r} is not valid; expected positive numbers "
                "(relative recruitment of each site)",
                argument="site_sizes",
                value=[describe_value(s) for s in sites],
            )
        object.__setattr__(self, "site_sizes", tuple(float(s) for s in sites))

    def to_dict(self) -> dict[str, Any]:
        return {
            "factors": {f.name: list(f.levels) for f in self.factors},
            "n_subjects": self.n_subjects,
            "probabilities": {
                f.name: list(p) for f, p in zip(self.factors, self.probabilities, strict=True)
            },
            "site_sizes": list(self.site_sizes),
        }


@dataclass(frozen=True)
class Cohorts:
    """Simulated cohorts: level indices ``[s, t, i]``, stratum ``[s, t]`` and site ``[s, t]``."""

    levels: np.ndarray
    stratum: np.ndarray
    site: np.ndarray
    n_strata: int
    n_sites: int


def simulate_cohorts(model: CohortModel, n_sims: int, rng: np.random.Generator) -> Cohorts:
    """Draw ``n_sims`` cohorts of ``model`` (inverse-CDF draws, one uniform per value)."""
    shape = (n_sims, model.n_subjects)
    levels = np.empty((*shape, len(model.factors)), dtype=np.int64)
    stratum = np.zeros(shape, dtype=np.int64)
    for i, (f, p) in enumerate(zip(model.factors, model.probabilities, strict=True)):
        cum = np.cumsum(p)
        levels[:, :, i] = np.minimum(
            np.searchsorted(cum, rng.random(shape), side="right"), len(f.levels) - 1
        )
        stratum = stratum * len(f.levels) + levels[:, :, i]
    sites = np.asarray(model.site_sizes)
    cum_sites = np.cumsum(sites / sites.sum())
    site = np.minimum(np.searchsorted(cum_sites, rng.random(shape), side="right"), len(sites) - 1)
    n_strata = int(np.prod([len(f.levels) for f in model.factors])) if model.factors else 1
    return Cohorts(levels, stratum, site, n_strata, len(sites))


# --------------------------------------------------------------------------- allocation


def _design_levels(design: Design, model: CohortModel, cohorts: Cohorts) -> np.ndarray:
    """Columns of the cohort levels for the design's factors (which must be cohort factors)."""
    names = [f.name for f in model.factors]
    cols = []
    for f in design.factors:
        if f.name not in names or model.factors[names.index(f.name)].levels != f.levels:
            raise InputError(
                f"scheme factor {f.name!r} with levels {list(f.levels)!r} is not a factor of "
                f"the cohort model; cohort factors: "
                f"{ {g.name: list(g.levels) for g in model.factors} }",
                argument="factors",
                value=f.name,
            )
        cols.append(names.index(f.name))
    return cohorts.levels[:, :, cols]


def allocate(
    design: Design, model: CohortModel, cohorts: Cohorts, rng: np.random.Generator
) -> np.ndarray:
    """Arm index ``[s, t]`` of every simulated subject under ``design``."""
    n_sims, n = cohorts.stratum.shape
    levels = _design_levels(design, model, cohorts)
    if isinstance(design, MinimizationDesign):
        return minimize_batch(design, levels, rng.random((n_sims, n)))
    if isinstance(design, SimpleDesign):
        return simple_sequence(rng, design.arms, n_sims * n).reshape(n_sims, n)
    stratum = np.zeros((n_sims, n), dtype=np.int64)
    for i, f in enumerate(design.factors):
        stratum = stratum * len(f.levels) + levels[:, :, i]
    n_strata = int(np.prod([len(f.levels) for f in design.factors])) if design.factors else 1
    out = np.empty((n_sims, n), dtype=np.int64)
    for s in range(n_sims):
        order = np.argsort(stratum[s], kind="stable")  # arrival order kept within a stratum
        sizes = np.bincount(stratum[s], minlength=n_strata)
        parts = []
        for m in sizes:
            arms, _, _ = permuted_blocks(rng, design.arms, design.block_sizes, int(m))
            parts.append(arms[:m])
        out[s, order] = np.concatenate(parts)
    return out


# --------------------------------------------------------------------------- measures


def group_imbalance(
    arm: np.ndarray, group: np.ndarray, n_groups: int, arms: ArmRatio
) -> np.ndarray:
    """Per cohort, the largest ``range_j(n_j / r_j)`` over groups (groups with 0 subjects: 0)."""
    n_sims = arm.shape[0]
    n_arms = len(arms.arms)
    key = (np.arange(n_sims)[:, None] * n_groups + group) * n_arms + arm
    counts = np.bincount(key.ravel(), minlength=n_sims * n_groups * n_arms)
    weighted = counts.reshape(n_sims, n_groups, n_arms) / np.asarray(arms.ratio, dtype=float)
    return (weighted.max(axis=2) - weighted.min(axis=2)).max(axis=1)


def convergence_guess(
    arm: np.ndarray, group: np.ndarray, n_groups: int, arms: ArmRatio
) -> tuple[np.ndarray, np.ndarray]:
    """Per cohort, the expected proportion of correct convergence-strategy guesses when the
    guesser knows every earlier allocation within the subject's ``group`` (site or stratum),
    and its excess over chance: correct minus the share ``r_j / R`` of the arm(s) guessed,
    which is what the same guesses would score if allocations were unpredictable."""
    n_sims, n = arm.shape
    n_arms = len(arms.arms)
    key = (np.arange(n_sims)[:, None] * n_groups + group).ravel()
    order = np.argsort(key, kind="stable")  # time order kept within each group
    k_sorted = key[order]
    a_sorted = arm.ravel()[order]
    onehot = np.eye(n_arms, dtype=np.int64)[a_sorted]
    before = np.cumsum(onehot, axis=0) - onehot
    start = np.r_[True, k_sorted[1:] != k_sorted[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(k_sorted.size), 0))
    prior = before - before[first]
    r = np.asarray(arms.ratio, dtype=float)
    weighted = prior / r
    lowest = weighted <= weighted.min(axis=1, keepdims=True) + 1e-12
    share = np.where(lowest, r, -np.inf)
    guess = share == share.max(axis=1, keepdims=True)
    n_guessed = guess.sum(axis=1)
    correct = guess[np.arange(a_sorted.size), a_sorted] / n_guessed
    chance = (guess * (r / r.sum())).sum(axis=1) / n_guessed
    out = np.empty((2, n_sims * n))
    out[0, order] = correct
    out[1, order] = correct - chance
    return out[0].reshape(n_sims, n).mean(axis=1), out[1].reshape(n_sims, n).mean(axis=1)


@dataclass(frozen=True)
class Distribution:
    """Mean, 95th percentile and maximum of a per-cohort statistic."""

    mean: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: np.ndarray) -> Distribution:
        return cls(float(np.mean(values)), float(np.quantile(values, 0.95)), float(np.max(values)))


@dataclass(frozen=True)
class SchemeAssessment:
    """The assessment of one scheme."""

    scheme: str
    algorithm: str
    design: dict[str, Any]
    imbalance: tuple[tuple[str, Distribution], ...]
    arm_proportion: tuple[tuple[str, float], ...]
    guess_site: Distribution
    guess_stratum: Distribution
    excess_site: Distribution
    excess_stratum: Distribution

    def imbalance_of(self, measure: str) -> Distribution:
        return dict(self.imbalance)[measure]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "algorithm": self.algorithm,
            "design": self.design,
            "imbalance": {k: vars(v) for k, v in self.imbalance},
            "arm_proportion": dict(self.arm_proportion),
            "guess_site": vars(self.guess_site),
            "guess_stratum": vars(self.guess_stratum),
            "excess_site": vars(self.excess_site),
            "excess_stratum": vars(self.excess_stratum),
        }


@dataclass(frozen=True)
class Assessment(Result):
    """Simulated imbalance and predictability of each scheme on common cohorts."""

    cohort: CohortModel
    arms: ArmRatio
    n_sims: int
    seed: int
    guess_baseline: float
    schemes: tuple[SchemeAssessment, ...]

    def scheme(self, name: str) -> SchemeAssessment:
        for s in self.schemes:
            if s.scheme == name:
                return s
        raise InputError(
            f"scheme {name!r} not assessed; have {[s.scheme for s in self.schemes]}",
            argument="scheme",
            value=name,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "cohort": self.cohort.to_dict(),
            "arms": list(self.arms.arms),
            "ratio": list(self.arms.ratio),
            "n_sims": self.n_sims,
            "seed": self.seed,
            "guess_baseline": self.guess_baseline,
            "schemes": [s.to_dict() for s in self.schemes],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per scheme and measure: mean, p95 and max over simulated cohorts."""
        rows = []
        for s in self.schemes:
            for measure, dist in s.imbalance:
                rows.append({"scheme": s.scheme, "measure": f"imbalance_{measure}", **vars(dist)})
            for name in ("guess_site", "guess_stratum", "excess_site", "excess_stratum"):
                rows.append({"scheme": s.scheme, "measure": name, **vars(getattr(s, name))})
            for arm, prop in s.arm_proportion:
                rows.append(
                    {
                        "scheme": s.scheme,
                        "measure": f"proportion[{arm}]",
                        "mean": prop,
                        "p95": None,
                        "max": None,
                    }
                )
        return pd.DataFrame(rows, columns=["scheme", "measure", "mean", "p95", "max"])

    def summary(self) -> str:
        c = self.cohort
        width = max(len(s.scheme) for s in self.schemes) + 2
        lines = [
            f"Randomization assessment: {self.n_sims} cohorts of {c.n_subjects} subjects, "
            f"{len(c.site_sizes)} site(s)",
            f"  arms {' : '.join(self.arms.arms)} = {self.arms.label}, seed {self.seed}",
        ]
        lines += [f"  {s.scheme}: {describe_design(s)}" for s in self.schemes]
        lines += [
            "",
            "Imbalance max_j(n_j/r_j) - min_j(n_j/r_j) in the worst group, mean/p95:",
            f"  {'scheme':<{width}}" + "".join(f"{m:>11}" for m in IMBALANCE_MEASURES),
        ]
        for s in self.schemes:
            cells = "".join(
                f"{f'{d.mean:.2f}/{d.p95:.1f}':>11}"
                for d in (s.imbalance_of(m) for m in IMBALANCE_MEASURES)
            )
            lines.append(f"  {s.scheme:<{width}}{cells}")
        lines += [
            "",
            "Predictability: correct guesses by the convergence strategy (Blackwell &",
            "Hodges 1957) knowing earlier allocations in the site / stratum; excess =",
            "correct minus chance for the arms guessed (0 = unpredictable):",
            f"  {'scheme':<{width}}{'site':>8}{'excess':>9}{'stratum':>10}{'excess':>9}",
        ]
        for s in self.schemes:
            lines.append(
                f"  {s.scheme:<{width}}{s.guess_site.mean:>8.3f}{s.excess_site.mean:>+9.3f}"
                f"{s.guess_stratum.mean:>10.3f}{s.excess_stratum.mean:>+9.3f}"
            )
        lines += ["", "Achieved proportions:"]
        for s in self.schemes:
            props = ", ".join(f"{a} {p:.3f}" for a, p in s.arm_proportion)
            lines.append(f"  {s.scheme:<{width}}{props}")
        lines.append("(maxima and more: --json / to_frame())")
        return "\n".join(lines)


def describe_design(s: SchemeAssessment) -> str:
    """One line on what a scheme does."""
    d = s.design
    strat = ", ".join(d.get("factors", {})) or "no factors"
    if s.algorithm == "pbr-v1":
        sizes = " or ".join(str(b) for b in d["block_sizes"])
        return f"permuted blocks of {sizes} by {strat} (pbr-v1)"
    if s.algorithm == "ps-v1":
        weights = "/".join(f"{w:g}" for w in d["weights"])
        return f"minimization on {strat}, weights {weights} (ps-v1)"
    return "simple randomization (simple-v1)"


def scheme_label(design: Design) -> str:
    """A short name of a scheme."""
    if isinstance(design, BlockDesign):
        return f"pbr {'/'.join(map(str, design.block_sizes))}"
    if isinstance(design, SimpleDesign):
        return "simple"
    return f"ps {design.imbalance} p={design.p:g}"


def assess(
    designs: Sequence[Design],
    cohort: CohortModel,
    *,
    n_sims: int = 1000,
    seed: int,
) -> Assessment:
    """Simulate ``n_sims`` cohorts and measure each scheme (method in the module docstring).

    All designs must share arms and ratio; their factors must be factors of ``cohort``.
    Cohorts come from child stream 0 of ``seed``, scheme ``i`` draws from child stream
    ``i + 1`` (:func:`oncotrial.randomize.streams.child_generator`).
    """
    check_positive_int(n_sims, "n_sims")
    check_seed(seed)
    if not designs:
        raise InputError(
            "designs: none given; pass one or more schemes to assess", argument="designs", value=[]
        )
    arms = designs[0].arms
    for d in designs:
        if not isinstance(d, (BlockDesign, SimpleDesign, MinimizationDesign)):
            raise InputError(
                f"designs: {describe_value(d)} is not a scheme design",
                argument="designs",
                value=describe_value(d),
            )
        if d.arms != arms:
            raise InputError(
                f"designs: arms/ratio {list(d.arms.arms)} {d.arms.label} differ from "
                f"{list(arms.arms)} {arms.label}; assess schemes of one trial together",
                argument="designs",
                value=d.arms.label,
            )
    cohorts = simulate_cohorts(cohort, n_sims, child_generator(seed, 0))
    margins_group = []
    offset = 0
    for i, f in enumerate(cohort.factors):
        margins_group.append(cohorts.levels[:, :, i] + offset)
        offset += len(f.levels)
    results = []
    for i, design in enumerate(designs):
        arm = allocate(design, cohort, cohorts, child_generator(seed, i + 1))
        zeros = np.zeros_like(arm)
        margins = (
            np.max([group_imbalance(arm, g, offset, arms) for g in margins_group], axis=0)
            if margins_group
            else group_imbalance(arm, zeros, 1, arms)
        )
        measures = {
            "overall": group_imbalance(arm, zeros, 1, arms),
            "margins": margins,
            "strata": group_imbalance(arm, cohorts.stratum, cohorts.n_strata, arms),
            "sites": group_imbalance(arm, cohorts.site, cohorts.n_sites, arms),
        }
        site_guess = convergence_guess(arm, cohorts.site, cohorts.n_sites, arms)
        stratum_guess = convergence_guess(arm, cohorts.stratum, cohorts.n_strata, arms)
        proportion = np.bincount(arm.ravel(), minlength=len(arms.arms)) / arm.size
        design_dict = design.to_dict()
        design_dict.setdefault("algorithm", design.algorithm)
        results.append(
            SchemeAssessment(
                scheme=scheme_label(design),
                algorithm=design.algorithm,
                design=design_dict,
                imbalance=tuple((m, Distribution.of(measures[m])) for m in IMBALANCE_MEASURES),
                arm_proportion=tuple(zip(arms.arms, (float(p) for p in proportion), strict=True)),
                guess_site=Distribution.of(site_guess[0]),
                guess_stratum=Distribution.of(stratum_guess[0]),
                excess_site=Distribution.of(site_guess[1]),
                excess_stratum=Distribution.of(stratum_guess[1]),
            )
        )
    return Assessment(
        cohort=cohort,
        arms=arms,
        n_sims=n_sims,
        seed=seed,
        guess_baseline=max(arms.ratio) / arms.total,
        schemes=tuple(results),
    )
