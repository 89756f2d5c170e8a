"""Randomization: allocation lists (permuted blocks, simple), minimization, pre-go-live assessment.

Pure functions only (no I/O); a randomization service stores :class:`ListParams` or the
minimization design and seed, and calls these functions. Algorithms: docs/RANDOMIZATION.md.
"""

from oncotrial.randomize.minimization import (
    MarginalCounts,
    MinimizationDecision,
    MinimizationDesign,
    MinimizationRun,
    minimization_assign,
    minimize_sequence,
)
from oncotrial.randomize.params import (
    ArmRatio,
    Factor,
    Stratum,
    parse_factor,
    parse_ratio,
    strata,
    stratum_index,
)
from oncotrial.randomize.schemes import (
    AllocationList,
    BlockDesign,
    ListParams,
    SimpleDesign,
    Slot,
    generate_list,
    regenerate,
)
from oncotrial.randomize.streams import child_generator, subject_uniform

__all__ = [
    "AllocationList",
    "ArmRatio",
    "BlockDesign",
    "Factor",
    "ListParams",
    "MarginalCounts",
    "MinimizationDecision",
    "MinimizationDesign",
    "MinimizationRun",
    "SimpleDesign",
    "Slot",
    "Stratum",
    "child_generator",
    "generate_list",
    "minimization_assign",
    "minimize_sequence",
    "parse_factor",
    "parse_ratio",
    "regenerate",
    "strata",
    "stratum_index",
    "subject_uniform",
]
