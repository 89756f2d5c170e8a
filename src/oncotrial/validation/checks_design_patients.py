"""Checkers for patient-level log-rank sample sizes (Lachin-Foulkes, Lakatos).

Kinds: ``patients_lachin_foulkes`` (:func:`oncotrial.design.lachin_foulkes.lachin_foulkes`)
and ``patients_lakatos`` (:func:`oncotrial.design.lakatos.lakatos`), both against the
formulas of the papers written independently in R (``tests/conformance/r/patients_methods.R``).
"""

from __future__ import annotations

from oncotrial.design.lachin_foulkes import PatientsDesign, lachin_foulkes
from oncotrial.design.lakatos import lakatos
from oncotrial.validation.registry import Case, Check, case_inputs, checker, compare

_LIST_KEYS = (
    "hazards_control",
    "hazards_experimental",
    "starts",
    "accrual_starts",
    "accrual_rates",
    "dropout_control",
    "dropout_experimental",
    "noncompliance",
    "drop_in",
)


def _checks(case: Case, result: PatientsDesign) -> list[Check]:
    observed = {
        "n_exact": result.n_exact,
        "event_probability_control": result.event_probability_control,
        "event_probability_experimental": result.event_probability_experimental,
        "events_expected": result.events_expected,
    }
    return [compare(case, key, value, observed[key]) for key, value in case["expected"].items()]


@checker("patients_lachin_foulkes")
def check_lachin_foulkes(case: Case) -> list[Check]:
    return _checks(case, lachin_foulkes(**case_inputs(case, _LIST_KEYS)))


@checker("patients_lakatos")
def check_lakatos(case: Case) -> list[Check]:
    return _checks(case, lakatos(**case_inputs(case, _LIST_KEYS)))
