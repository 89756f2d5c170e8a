"""Raw trial data to analysis data: RECIST 1.1 responses and CTCAE v5.0 laboratory grades.

Pure functions on pandas DataFrames with CDISC column names; every derived value carries a
trace that says which guideline rule produced it (see docs/DERIVATIONS.md).
"""

from oncotrial.derive.best_response import (
    BestOverallResponse,
    ClinicalBenefit,
    SubjectBestResponse,
    best_overall_response,
    clinical_benefit,
)
from oncotrial.derive.ctcae import LabGrade, LabGrades, ctcae_lab_terms, grade_labs
from oncotrial.derive.recist import (
    RecistTimepoints,
    TimepointResponse,
    lookup_overall,
    response_tables,
    timepoint_responses,
)

__all__ = [
    "BestOverallResponse",
    "ClinicalBenefit",
    "LabGrade",
    "LabGrades",
    "RecistTimepoints",
    "SubjectBestResponse",
    "TimepointResponse",
    "best_overall_response",
    "clinical_benefit",
    "ctcae_lab_terms",
    "grade_labs",
    "lookup_overall",
    "response_tables",
    "timepoint_responses",
]
