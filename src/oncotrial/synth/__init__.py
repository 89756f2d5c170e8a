"""Synthetic trials: raw SDTM-like data of a whole trial from a spec and a seed.

``generate_trial(spec, seed, n)`` runs a trial forward (screening, randomization, true
progression and death, scans and lesions, dosing, adverse events and labs, disposition) and
returns a :class:`SyntheticTrial` with the raw domains of docs/DATA_MODEL.md and a truth table;
``write_trial`` writes them. Model and calibration: docs/SYNTHETIC_TRIAL.md.
"""

from oncotrial.synth.params import PALMIRA, PUBLISHED, SynthParams
from oncotrial.synth.trial import GENERATOR, SyntheticTrial, generate_trial
from oncotrial.synth.writer import write_trial

__all__ = [
    "GENERATOR",
    "PALMIRA",
    "PUBLISHED",
    "SynthParams",
    "SyntheticTrial",
    "generate_trial",
    "write_trial",
]
