"""Two-arm survival designs and group-sequential boundaries vs rpact and the seed abstracts."""

from __future__ import annotations

import pytest

from oncotrial.validation.registry import load_references, run_case

FILES = ("rpact_designs", "rpact_survival", "seed_designs")
CASES = load_references(FILES)


def test_reference_files_are_shipped_with_enough_cases() -> None:
    kinds = [c["kind"] for c in CASES]
    assert kinds.count("rpact_group_sequential") >= 10
    assert kinds.count("rpact_sample_size_survival") >= 10
    assert kinds.count("seed_design") >= 2


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_matches_reference(case: dict) -> None:
    checks = run_case(case)
    assert checks
    failed = [(c.quantity, c.expected, c.observed, c.tolerance) for c in checks if not c.passed]
    assert not failed, failed


def test_tolerances_are_tight() -> None:
    """1e-6 relative everywhere except quantities with a documented reason."""
    for case in CASES:
        tol = case.get("tolerance", {})
        assert tol.get("rel", 1e-6) <= 1e-6 and tol.get("abs", 0.0) == 0.0, case["name"]
        for quantity, special in tol.get("by_quantity", {}).items():
            assert special.get("rel", 0) <= 1e-5, (case["name"], quantity)
            assert tol.get("note"), f"{case['name']}: widened tolerance without a note"
