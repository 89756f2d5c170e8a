"""Lachin-Foulkes and Lakatos patient numbers vs the papers' formulas written in R, and the
events-first route vs rpact (tests/conformance/r/patients_methods.R)."""

from __future__ import annotations

import pytest

from oncotrial.validation.registry import load_references, run_case

CASES = load_references(["patients_methods_r"])


def test_reference_file_has_every_method() -> None:
    kinds = [c["kind"] for c in CASES]
    assert kinds.count("patients_lachin_foulkes") >= 5
    assert kinds.count("patients_lakatos") >= 5
    assert kinds.count("rpact_sample_size_survival") >= 2
    assert all(c["tolerance"] == {"rel": 1e-6} for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_matches_reference(case: dict) -> None:
    checks = run_case(case)
    assert len(checks) >= 4
    failed = [(c.quantity, c.expected, c.observed) for c in checks if not c.passed]
    assert not failed, failed
