"""Calibration targets and model parameters of the synthetic PALMIRA-like trial.

Every published number below is from Llombart-Cussac A et al., J Clin Oncol 2025
(doi:10.1200/JCO-24-01865; seed 002): CONSORT and Results text, Table 1 (baseline
characteristics), Table 2 (TEAEs by maximum grade), Fig 2/3 (PFS, subgroups), and the Safety
section (exposure). Numbers the paper does not give are marked ``assumption``; the tuned
hazards are marked ``calibrated`` (docs/SYNTHETIC_TRIAL.md says how they were tuned and what
they achieve).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

PUBLISHED = {
    "randomized": {"PAL_ET": 136, "ET": 62},
    "treated": {"PAL_ET": 135, "ET": 60},
    "pfs_median_months": {"PAL_ET": 4.9, "ET": 3.6},
    "pfs_hazard_ratio": 0.84,
    "pfs_6m_rate": {"PAL_ET": 0.421, "ET": 0.291},
    "pfs_12m_rate": {"PAL_ET": 0.124, "ET": 0.123},
    "pfs_events": 158,
    "os_median_months": {"PAL_ET": 28.3, "ET": 28.8},
    "os_events": 70,
    "orr": {"PAL_ET": 0.044, "ET": 0.016},
    "orr_measurable": {"PAL_ET": 0.064, "ET": 0.023},
    "cbr": {"PAL_ET": 0.419, "ET": 0.274},
    "teae_any": {"PAL_ET": 0.926, "ET": 0.867},
    "teae_grade3plus": {"PAL_ET": 0.474, "ET": 0.100},
    "neutropenia_grade3plus": {"PAL_ET": 0.385, "ET": 0.0},
    "rdi_median": 95.6,
    "dose_reduced": 0.104,
    "dose_interrupted": 0.400,
    "measurable": 0.697,
    "visceral": 0.611,
}
"""The published values the generator is calibrated against (seed 002)."""


@dataclass(frozen=True)
class AeTerm:
    """A TEAE term: per arm, the probability of each maximum grade 1..5 (Table 2 where listed).

    ``lab`` names the LB test whose CTCAE grade follows the AE grade (the AE is the
    investigator's report of that lab abnormality).
    """

    decod: str
    bodsys: str
    grade_probs: dict[str, tuple[float, ...]]
    lab: str | None = None
    related: float = 0.5
    serious_if_grade3: float = 0.15


BLOOD = "Blood and lymphatic system disorders"
INVEST = "Investigations"
GEN = "General disorders and administration site conditions"
MSK = "Musculoskeletal and connective tissue disorders"
GI = "Gastrointestinal disorders"
RESP = "Respiratory, thoracic and mediastinal disorders"
VASC = "Vascular disorders"
NERV = "Nervous system disorders"
SKIN = "Skin and subcutaneous tissue disorders"
META = "Metabolism and nutrition disorders"


def _g(g12: float, g3: float = 0.0, g4: float = 0.0, g5: float = 0.0) -> tuple[float, ...]:
    """Max-grade probabilities; grade 1-2 split 60/40 (assumption: the paper pools them)."""
    return (0.6 * g12, 0.4 * g12, g3, g4, g5)


AE_TERMS: tuple[AeTerm, ...] = (
    # Table 2 (percent of the safety population, any grade minus grade >= 3 = grade 1-2).
    AeTerm(
        "Neutropenia",
        BLOOD,
        {"PAL_ET": _g(0.141, 0.341, 0.044), "ET": _g(0.017)},
        lab="NEUT",
        related=0.95,
    ),
    AeTerm("Anaemia", BLOOD, {"PAL_ET": _g(0.155, 0.030), "ET": _g(0.083)}, lab="HGB", related=0.7),
    AeTerm(
        "Leukopenia", BLOOD, {"PAL_ET": _g(0.067, 0.037), "ET": _g(0.0)}, lab="WBC", related=0.95
    ),
    AeTerm(
        "Thrombocytopenia",
        BLOOD,
        {"PAL_ET": _g(0.05, 0.007), "ET": _g(0.0)},
        lab="PLAT",
        related=0.9,
    ),  # any grade assumption; grade 3 0.7% (Safety text)
    AeTerm(
        "Thrombotic thrombocytopenic purpura",
        BLOOD,
        {"PAL_ET": _g(0.0, 0.0, 0.0, 0.007), "ET": _g(0.0)},
        related=0.0,
    ),
    AeTerm("Fatigue", GEN, {"PAL_ET": _g(0.274), "ET": _g(0.233)}, related=0.6),
    AeTerm("Arthralgia", MSK, {"PAL_ET": _g(0.155, 0.015), "ET": _g(0.117)}, related=0.4),
    AeTerm("Nausea", GI, {"PAL_ET": _g(0.119), "ET": _g(0.117)}, related=0.5),
    AeTerm(
        "Gamma-glutamyltransferase increased",
        INVEST,
        {"PAL_ET": _g(0.015, 0.022, 0.007), "ET": _g(0.017)},
        lab="GGT",
        related=0.3,
    ),
    AeTerm("Colitis ischaemic", GI, {"PAL_ET": _g(0.0, 0.0, 0.007), "ET": _g(0.0)}, related=0.0),
    AeTerm(
        "Pulmonary hypertension",
        RESP,
        {"PAL_ET": _g(0.0, 0.0, 0.0, 0.007), "ET": _g(0.0)},
        related=0.0,
    ),
    # Terms below 10% (not in Table 2): any-grade rates are assumptions; their grade >= 3 rates
    # make up the non-haematological grade >= 3 TEAEs the paper counts (PAL_ET 8.9% grade 3,
    # ET 10.0%) beyond the listed terms.
    AeTerm(
        "Alanine aminotransferase increased",
        INVEST,
        {"PAL_ET": _g(0.06, 0.015), "ET": _g(0.03, 0.017)},
        lab="ALT",
        related=0.4,
    ),
    AeTerm("Hypertension", VASC, {"PAL_ET": _g(0.05, 0.015), "ET": _g(0.05, 0.033)}, related=0.1),
    AeTerm("Back pain", MSK, {"PAL_ET": _g(0.08, 0.007), "ET": _g(0.08, 0.017)}, related=0.05),
    AeTerm("Dyspnoea", RESP, {"PAL_ET": _g(0.06, 0.007), "ET": _g(0.05, 0.017)}, related=0.1),
    AeTerm(
        "Pneumonitis",
        RESP,
        {"PAL_ET": _g(0.007, 0.007), "ET": _g(0.0)},
        related=0.9,
        serious_if_grade3=1.0,
    ),
    AeTerm("Pain in extremity", MSK, {"PAL_ET": _g(0.05), "ET": _g(0.05, 0.017)}, related=0.1),
    AeTerm("Stomatitis", GI, {"PAL_ET": _g(0.09), "ET": _g(0.02)}, related=0.8),
    AeTerm("Diarrhoea", GI, {"PAL_ET": _g(0.09, 0.007), "ET": _g(0.05)}, related=0.5),
    AeTerm("Hot flush", VASC, {"PAL_ET": _g(0.07), "ET": _g(0.08)}, related=0.7),
    AeTerm("Alopecia", SKIN, {"PAL_ET": _g(0.06), "ET": _g(0.01)}, related=0.8),
    AeTerm("Headache", NERV, {"PAL_ET": _g(0.06), "ET": _g(0.06)}, related=0.3),
    AeTerm("Constipation", GI, {"PAL_ET": _g(0.07), "ET": _g(0.06)}, related=0.3),
    AeTerm("Injection site reaction", GEN, {"PAL_ET": _g(0.06), "ET": _g(0.08)}, related=0.9),
    AeTerm("Decreased appetite", META, {"PAL_ET": _g(0.05), "ET": _g(0.05)}, related=0.4),
)


@dataclass(frozen=True)
class SynthParams:
    """Everything the generator draws from besides the spec (defaults: PALMIRA)."""

    # --- enrolment (Results: first and last randomization; 41 sites in six countries)
    accrual_start: dt.date = dt.date(2019, 4, 10)
    accrual_end: dt.date = dt.date(2022, 10, 26)
    data_cutoff: dt.date = dt.date(2023, 2, 2)  # primary efficacy analysis (Results)
    countries: tuple[str, ...] = ("ES", "FR", "GB", "IT", "BE", "DE")  # six; last two assumption
    country_weights: tuple[float, ...] = (0.55, 0.15, 0.12, 0.10, 0.04, 0.04)  # assumption
    n_sites: int = 41
    screen_failure_fraction: float = 0.15  # assumption: failures / screened (not in the text)
    # failing criterion of a screen failure (assumption: the CONSORT figure is not in the text)
    failure_criteria: dict[str, float] = field(
        default_factory=lambda: {
            "I5": 0.30,
            "I6": 0.20,
            "E2": 0.12,
            "E1": 0.10,
            "E5": 0.08,
            "I4": 0.06,
            "E3": 0.05,
            "I2": 0.05,
            "E4": 0.04,
        }
    )
    not_treated_fraction: float = 3 / 198  # CONSORT: 3 randomized, never treated

    # --- baseline (Table 1, all patients)
    age_mean: float = 59.5
    age_sd: float = 11.0
    age_range: tuple[int, int] = (33, 85)
    ecog_probs: tuple[float, float, float] = (0.611, 0.384, 0.005)
    visceral: float = 0.611
    measurable: float = 0.697
    sites3_if_visceral: float = 0.45  # with 0.175 below: P(>= 3 sites) = 0.343 (Table 1)
    sites3_if_not_visceral: float = 0.175
    prior_et_ai: float = 0.899
    adjuvant_setting: float = 0.010
    prior_response_probs: tuple[float, float, float] = (0.066, 0.367, 0.567)  # CR, PR, SD
    pal_duration_median: float = 21.0  # months; range 6.2-64.6; 14.1% < 12 months
    pal_duration_sigma: float = 0.52  # log scale: P(< 12) = 0.141 at median 21
    pal_duration_range: tuple[float, float] = (6.2, 64.6)
    prior_dose_probs: tuple[float, float, float] = (0.586, 0.364, 0.050)  # 125, 100, 75 mg
    premenopausal: float = 0.121
    esr1_baseline: float = 0.30  # assumption (BioPER/PADA-1 range)
    pik3ca_baseline: float = 0.35  # assumption
    esr1_acquired_3m: float = 0.08  # assumption
    # baseline pathology (MI; all assumptions for an HR+/HER2-negative pretreated population)
    er_bands: tuple[float, float, float] = (0.03, 0.12, 0.85)  # ER 1-10%, 15-65%, 70-100%
    pgr_positive: float = 0.70
    her2_probs: tuple[float, float, float] = (0.40, 0.40, 0.20)  # IHC 0, 1+, 2+ (ISH-negative)
    her2_ish_recorded: float = 0.95  # an IHC 2+ sample has its ISH result in MI
    ki67_median: float = 20.0  # percent; log-normal, log-scale sd below, within [1, 90]
    ki67_sigma: float = 0.6
    ki67_done: float = 0.85
    second_sample: float = 0.30  # a recent metastatic biopsy besides the archival sample

    # --- true progression (calibrated; months). Piecewise-exponential hazards per arm
    hazard_breaks: tuple[float, ...] = (2.0, 4.0, 6.0, 9.0, 12.0)
    hazards: dict[str, tuple[float, ...]] = field(
        default_factory=lambda: {
            "PAL_ET": (0.085, 0.140, 0.105, 0.120, 0.145, 0.130),
            "ET": (0.150, 0.160, 0.120, 0.100, 0.090, 0.090),
        }
    )
    # log hazard ratios of covariates (assumption, shaped by Fig 3 subgroup medians)
    loghr_visceral: float = 0.45
    loghr_sites3: float = 0.30
    loghr_ecog1: float = 0.10
    loghr_short_pal: float = 0.25  # first-line palbociclib < 12 months
    death_hazard_pre_pd: float = 0.004  # per month before progression (calibrated)
    post_pd_survival_median: float = 40.0  # months (calibrated to OS ~28.5 months)
    loghr_death_visceral: float = 0.35
    withdrawal_hazard: float = 0.0025  # per month: consent withdrawn / lost (assumption)
    symptomatic_pd: float = 0.35  # progression found at an unscheduled scan (assumption)
    missed_visit: float = 0.04  # a scheduled scan missed (assumption)
    pd_modes_measurable: tuple[float, float, float] = (0.55, 0.30, 0.15)  # target, new, NT
    pd_modes_nonmeasurable: tuple[float, float] = (0.65, 0.35)  # new lesion, NT progression
    # objective response: probability by arm among measurable subjects (calibrated)
    response: dict[str, float] = field(default_factory=lambda: {"PAL_ET": 0.075, "ET": 0.03})
    subsequent_therapy: float = 0.85  # after progression (assumption)
    new_therapy_before_pd: float = 0.5  # after stopping for toxicity/withdrawal (assumption)

    # --- exposure (calibrated to median RDI 95.6%, reductions 10.4%, interruptions 40.0%)
    cycle_delay_days: tuple[float, ...] = (0.62, 0.24, 0.10, 0.04)  # 0..3 days late
    reduce_on_grade3: float = 0.30  # reduction after grade 3 (always after grade 4) neutropenia
    interrupt_other: float = 0.08  # interruption for reasons other than a grade >= 3 TEAE
    ae_discontinuation: dict[str, float] = field(
        default_factory=lambda: {"PAL_ET": 0.037, "ET": 0.017}
    )
    ae_terms: tuple[AeTerm, ...] = AE_TERMS


PALMIRA = SynthParams()
