"""Patients for a two-arm log-rank trial by each standard method, side by side.

* ``schoenfeld`` / ``freedman``: events first (Schoenfeld 1981 or Freedman 1982), then
  ``n = D / P_bar`` with the mean event probability (:mod:`oncotrial.design.accrual`; rpact);
* ``lachin-foulkes``: :mod:`oncotrial.design.lachin_foulkes` (exponential survival);
* ``lakatos``: :mod:`oncotrial.design.lakatos` (Markov chain; non-proportional hazards,
  non-compliance, drop-in).

All use unrounded events and report ``n_exact`` and ``n`` (rounded up to the allocation
block, then inflated for inevaluable patients as the other calculators).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from oncotrial.design import _tte_inputs as check
from oncotrial.design.lachin_foulkes import PatientsDesign, lachin_foulkes
from oncotrial.design.lakatos import lakatos
from oncotrial.design.tte import survival_design
from oncotrial.errors import InputError, OncotrialError
from oncotrial.results import Result

PATIENT_METHODS: tuple[str, ...] = ("schoenfeld", "freedman", "lachin-foulkes", "lakatos")

_COMMON = (
    "hr",
    "median_control",
    "median_experimental",
    "hazards_control",
    "hazards_experimental",
    "starts",
    "alpha",
    "power",
    "sides",
    "ratio",
    "accrual_time",
    "follow_up",
    "accrual_starts",
    "accrual_rates",
    "dropout_rate",
    "dropout_time",
    "block",
    "inevaluable",
    "inflation",
)
_ONLY = {
    "lachin-foulkes": ("rate_control", "rate_experimental", "landmark"),
    "schoenfeld": ("rate_control", "rate_experimental", "landmark"),
    "freedman": ("rate_control", "rate_experimental", "landmark"),
    "lakatos": (
        "dropout_control",
        "dropout_experimental",
        "noncompliance",
        "drop_in",
        "intervals_per_unit",
    ),
}


@dataclass(frozen=True)
class EventsFirst(Result):
    """Events by Schoenfeld/Freedman, then patients ``n = D / P_bar`` (no rounding of D)."""

    method: str
    events_exact: float
    event_probability: float
    n_exact: float
    n: int
    n_evaluable: int
    events_expected: float


def _events_first(method: str, kw: dict[str, Any]) -> EventsFirst:
    design = survival_design(method=method, events_rounding="none", **kw)
    p = design.patients
    if p is None:
        raise InputError("patients need accrual_time and follow_up", argument="accrual_time")
    return EventsFirst(
        method,
        design.events_exact,
        p.event_probability,
        p.n_exact,
        p.n,
        p.n_evaluable,
        design.events_exact,
    )


def patients_by_method(method: str, **kwargs: Any) -> PatientsDesign | EventsFirst:
    """Patients for the log-rank test by ``method`` (one of :data:`PATIENT_METHODS`).

    Arguments that the method does not use must be left out (or ``None``/default)."""
    name = check.one_of(method, PATIENT_METHODS, "method", fold_case=True)
    allowed = set(_COMMON) | set(_ONLY[name])
    extra = sorted(k for k, v in kwargs.items() if v is not None and k not in allowed)
    if extra:
        raise InputError(
            f"method {name!r} does not take {', '.join(extra)}",
            argument=extra[0],
            valid=sorted(allowed),
        )
    kw = {k: v for k, v in kwargs.items() if v is not None}
    if name == "lachin-foulkes":
        return lachin_foulkes(**kw)
    if name == "lakatos":
        return lakatos(**kw)
    return _events_first(name, kw)


@dataclass(frozen=True)
class PatientMethodsComparison(Result):
    """``n`` by each method for the same design inputs (None where a method does not apply)."""

    rows: tuple[dict[str, Any], ...]
    inputs: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows))

    def summary(self) -> str:
        return "Patients by method\n" + self.to_frame().to_string(index=False)

    def protocol_text(self) -> str:
        done = [r for r in self.rows if r["n"] is not None]
        return "; ".join(f"{r['method']}: n = {r['n']} ({r['n_exact']:.2f})" for r in done) + "."

    def spec_block(self) -> dict[str, Any]:
        return {k: v for k, v in self.inputs.items() if v is not None}


def compare_patient_methods(**kwargs: Any) -> PatientMethodsComparison:
    """Run every method of :data:`PATIENT_METHODS` that applies to the inputs."""
    rows: list[dict[str, Any]] = []
    for name in PATIENT_METHODS:
        kw = {k: v for k, v in kwargs.items() if k in set(_COMMON) | set(_ONLY[name])}
        try:
            res = patients_by_method(name, **kw)
        except OncotrialError as exc:
            rows.append(
                {
                    "method": name,
                    "n_exact": None,
                    "n": None,
                    "events_expected": None,
                    "note": str(exc),
                }
            )
            continue
        rows.append(
            {
                "method": name,
                "n_exact": res.n_exact,
                "n": res.n_evaluable,
                "events_expected": res.events_expected,
                "note": "",
            }
        )
    base = next((r["n_exact"] for r in rows if r["method"] == "schoenfeld"), None)
    for r in rows:
        r["ratio_to_schoenfeld"] = (
            r["n_exact"] / base if base is not None and r["n_exact"] is not None else None
        )
    return PatientMethodsComparison(tuple(rows), {k: v for k, v in kwargs.items()})
