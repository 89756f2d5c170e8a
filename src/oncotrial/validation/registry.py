"""Reference cases and the checkers that compare oncotrial against them.

A *reference file* is a JSON document in ``oncotrial/validation/references/`` made by an
independent source (an R script in ``tests/conformance/r/``, a published paper, a hand
calculation)::

    {"source": "R 4.x survival 3.x survfit()", "generated_by": "tests/conformance/r/km.R",
     "cases": [{"kind": "km", "name": "lung, all subjects",
                "input": {...}, "expected": {...}, "tolerance": {"rel": 1e-6}}]}

A *checker* is a function registered for a ``kind`` with :func:`checker`; it runs oncotrial
on ``case["input"]`` and returns one :class:`Check` per compared quantity (use
:func:`compare`). The conformance tests and ``oncotrial validate`` both call
:func:`run_all`, so what users qualify is exactly what CI tests.

Checker modules are named ``oncotrial/validation/checks_<area>.py`` and are imported by
:func:`load_checkers`.
"""

from __future__ import annotations

import importlib
import json
import math
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from oncotrial.results import Result

Case = dict[str, Any]
Checker = Callable[[Case], list["Check"]]

CHECKERS: dict[str, Checker] = {}


@dataclass(frozen=True)
class Check(Result):
    """One compared quantity of one reference case."""

    case: str
    kind: str
    quantity: str
    expected: Any
    observed: Any
    tolerance: str
    max_difference: float | None
    passed: bool
    source: str = ""


def checker(kind: str) -> Callable[[Checker], Checker]:
    """Register ``func`` as the checker of reference cases of this ``kind``."""

    def register(func: Checker) -> Checker:
        if kind in CHECKERS and CHECKERS[kind] is not func:
            raise RuntimeError(f"two checkers registered for kind {kind!r}")
        CHECKERS[kind] = func
        return func

    return register


def case_inputs(case: Case, list_keys: Iterable[str]) -> dict[str, Any]:
    """The case input, with the ``list_keys`` that jsonlite unboxed (``auto_unbox``: a
    length-1 vector is written as a scalar) back as lists."""
    spec = dict(case["input"])
    for key in list_keys:
        if key in spec and not isinstance(spec[key], list):
            spec[key] = [spec[key]]
    return spec


def failed_check(case: Case, reason: str) -> Check:
    """A failed check of the whole case (no checker, or the checker raised)."""
    return Check(case["name"], case["kind"], "checker", None, None, "-", None, False, reason)


def _as_float_array(value: Any) -> np.ndarray:
    seq = value if isinstance(value, (list, tuple, np.ndarray)) else [value]
    flat = np.ravel(np.asarray(seq, dtype=object))
    return np.array([np.nan if v is None else float(v) for v in flat])


def compare(
    case: Case,
    quantity: str,
    expected: Any,
    observed: Any,
    *,
    rel: float | None = None,
    abs_: float | None = None,
) -> Check:
    """Compare numbers or arrays: ``|obs - exp| <= abs_ + rel * |exp|`` element-wise.

    ``None``/NaN in the reference must be matched by NaN/``None`` (a value that does not
    exist, like an unreached median, must not exist in oncotrial either); +/-inf must match
    exactly. Tolerances default to the case's ``tolerance`` entry, else 1e-6 relative.
    """
    tol = case.get("tolerance", {})
    rel = tol.get("rel", 1e-6) if rel is None else rel
    abs_ = tol.get("abs", 0.0) if abs_ is None else abs_
    exp = _as_float_array(expected)
    obs = _as_float_array(observed)
    tolerance = f"rel {rel:g}, abs {abs_:g}"

    def outcome(max_diff: float | None, passed: bool) -> Check:
        return Check(
            case["name"],
            case["kind"],
            quantity,
            expected,
            observed,
            tolerance,
            max_diff,
            passed,
            case.get("_source", ""),
        )

    if exp.shape != obs.shape:
        return outcome(None, False)
    both_nan = np.isnan(exp) & np.isnan(obs)
    inf_match = np.isinf(exp) & (exp == obs)
    with np.errstate(invalid="ignore"):  # inf - inf where both are the same infinity
        diff = np.where(both_nan | inf_match, 0.0, np.abs(obs - exp))
    ok = np.where(both_nan | inf_match, True, diff <= abs_ + rel * np.abs(exp))
    ok &= ~(np.isnan(exp) ^ np.isnan(obs))
    finite = diff[np.isfinite(diff)]
    max_diff = float(finite.max()) if finite.size else (0.0 if ok.all() else None)
    return outcome(max_diff, bool(ok.all()))


def load_checkers() -> None:
    """Import every ``oncotrial.validation.checks_*`` module (they register on import)."""
    package = importlib.import_module("oncotrial.validation")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("checks_"):
            importlib.import_module(f"oncotrial.validation.{info.name}")


def load_references(names: Iterable[str] | None = None) -> list[Case]:
    """All reference cases shipped in the package, each tagged with its file and source."""
    wanted = set(names) if names is not None else None
    cases: list[Case] = []
    folder = resources.files("oncotrial.validation") / "references"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".json"):
            continue
        if wanted is not None and entry.name.removesuffix(".json") not in wanted:
            continue
        document = json.loads(entry.read_text(encoding="utf-8"))
        for case in document["cases"]:
            case = dict(case)
            case["_file"] = entry.name
            case["_source"] = document.get("source", "")
            case["_generated_by"] = document.get("generated_by", "")
            cases.append(case)
    return cases


def run_case(case: Case) -> list[Check]:
    """Run one reference case through its registered checker."""
    load_checkers()
    func = CHECKERS.get(case["kind"])
    if func is None:
        return [failed_check(case, f"no checker registered for kind {case['kind']!r}")]
    return func(case)


def run_all(names: Iterable[str] | None = None) -> list[Check]:
    """Run every shipped reference case (or those of the named reference files)."""
    checks: list[Check] = []
    for case in load_references(names):
        checks.extend(run_case(case))
    return checks


def is_close(a: float | None, b: float | None, rel: float = 1e-6) -> bool:
    """Scalar helper for tests: both missing, or within ``rel``."""
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= rel * abs(b)
