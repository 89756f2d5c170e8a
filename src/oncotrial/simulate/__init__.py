"""Trial simulation: vectorized Monte Carlo of whole two-arm time-to-event trials (and of
single-arm trials tested on a Kaplan-Meier landmark rate).

``simulate(scenario, n_sim, seed)`` runs many trials at once as arrays (docs/SIMULATION.md):
:class:`Scenario` says what a trial is, :func:`scenario_from_spec` builds one from a trial
spec, :func:`simulate_chunk` / :func:`simulate_block` are the pure functions that a dask layer
distributes (one block of replicates per ``SeedSequence`` child).
"""

from oncotrial.design.effect import PiecewiseExponential
from oncotrial.simulate.engine import BlockRecords, block_size, simulate_block
from oncotrial.simulate.result import SimulationResult, decisions, summarize
from oncotrial.simulate.runner import block_plan, block_seed, simulate, simulate_chunk
from oncotrial.simulate.scenario import (
    Accrual,
    AnalysisPlan,
    Look,
    Randomization,
    Scenario,
    Statistic,
    StratumFactor,
)
from oncotrial.simulate.single_arm import SingleArmScenario, SingleArmSimulationResult
from oncotrial.simulate.spec import scenario_from_spec, scenarios_from_spec

__all__ = [
    "Accrual",
    "AnalysisPlan",
    "BlockRecords",
    "Look",
    "PiecewiseExponential",
    "Randomization",
    "Scenario",
    "SimulationResult",
    "SingleArmScenario",
    "SingleArmSimulationResult",
    "Statistic",
    "StratumFactor",
    "block_plan",
    "block_seed",
    "block_size",
    "decisions",
    "scenario_from_spec",
    "scenarios_from_spec",
    "simulate",
    "simulate_block",
    "simulate_chunk",
    "summarize",
]
