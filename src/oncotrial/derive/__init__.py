"""Raw trial data to analysis data: RECIST 1.1 responses, CTCAE v5.0 laboratory grades,
censoring rules, safety, exposure, biomarkers and data cuts.

Pure functions on pandas DataFrames with CDISC column names; every derived value carries a
trace that says which guideline rule produced it (see docs/DERIVATIONS.md). The whole trial:
:func:`derive_trial` (raw directory -> ADSL, ADTTE, ADRS, ADTR, ADAE, ADLB, ADEX files, a
derivation log and traces), :func:`explain_subject` (why a subject's values are what they
are) and :func:`cutoff_for_events` (the data cut at the n-th event). Column contracts:
docs/DATA_MODEL.md and :mod:`oncotrial.derive.contracts`.
"""

from oncotrial.derive.adrs import Responses, ResponseSettings, derive_adrs, derive_responses
from oncotrial.derive.adsl import derive_adsl_core
from oncotrial.derive.adtr import derive_adtr
from oncotrial.derive.adtte import Adtte, apply_rules, derive_adtte, plan_endpoints
from oncotrial.derive.best_response import (
    BestOverallResponse,
    ClinicalBenefit,
    SubjectBestResponse,
    best_overall_response,
    clinical_benefit,
)
from oncotrial.derive.biomarkers import BiomarkerFlags, derive_biomarker_flags
from oncotrial.derive.contracts import ADAM, RAW, Contract, conform
from oncotrial.derive.ctcae import LabGrade, LabGrades, ctcae_lab_terms, grade_labs
from oncotrial.derive.datacut import DataCut, apply_cutoff
from oncotrial.derive.datasets import RawData, read_dataset, read_raw, write_dataset
from oncotrial.derive.event_cutoff import EventCutoff, cutoff_for_events
from oncotrial.derive.explain import (
    SubjectExplanation,
    explain,
    explain_subject,
    explain_written,
)
from oncotrial.derive.exposure import (
    Adex,
    DosePlan,
    derive_adex,
    dose_plans,
    exposure_summary,
)
from oncotrial.derive.labs import Adlb, derive_adlb, shift_table
from oncotrial.derive.options import DerivationOptions, load_options
from oncotrial.derive.pipeline import (
    DATASETS,
    RawTrial,
    TrialDerivation,
    derive_datasets,
    derive_efficacy,
    derive_trial,
    read_trial,
)
from oncotrial.derive.populations import AnalysisSets, SubjectTrace, analysis_sets
from oncotrial.derive.recist import (
    RecistTimepoints,
    TimepointResponse,
    lookup_overall,
    response_tables,
    timepoint_responses,
)
from oncotrial.derive.safety import (
    Adae,
    ae_term_table,
    derive_adae,
    max_grade_by,
    subject_flags,
    teae_overview,
    treatment_emergent,
)

__all__ = [
    "ADAM",
    "DATASETS",
    "RAW",
    "Adae",
    "Adex",
    "Adlb",
    "Adtte",
    "AnalysisSets",
    "BestOverallResponse",
    "BiomarkerFlags",
    "ClinicalBenefit",
    "Contract",
    "DataCut",
    "DerivationOptions",
    "DosePlan",
    "EventCutoff",
    "LabGrade",
    "LabGrades",
    "RawData",
    "RawTrial",
    "RecistTimepoints",
    "ResponseSettings",
    "Responses",
    "SubjectBestResponse",
    "SubjectExplanation",
    "SubjectTrace",
    "TimepointResponse",
    "TrialDerivation",
    "ae_term_table",
    "analysis_sets",
    "apply_cutoff",
    "apply_rules",
    "best_overall_response",
    "clinical_benefit",
    "conform",
    "ctcae_lab_terms",
    "cutoff_for_events",
    "derive_adae",
    "derive_adex",
    "derive_adlb",
    "derive_adrs",
    "derive_adsl_core",
    "derive_adtr",
    "derive_adtte",
    "derive_biomarker_flags",
    "derive_datasets",
    "derive_efficacy",
    "derive_responses",
    "derive_trial",
    "dose_plans",
    "explain",
    "explain_subject",
    "explain_written",
    "exposure_summary",
    "grade_labs",
    "load_options",
    "lookup_overall",
    "max_grade_by",
    "plan_endpoints",
    "read_dataset",
    "read_raw",
    "read_trial",
    "response_tables",
    "shift_table",
    "subject_flags",
    "teae_overview",
    "timepoint_responses",
    "treatment_emergent",
    "write_dataset",
]
