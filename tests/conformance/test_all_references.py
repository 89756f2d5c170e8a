"""Every reference shipped in the package passes: what `oncotrial validate` qualifies is
exactly what CI tests (one test per case, named by file and case)."""

from __future__ import annotations

import pytest

from oncotrial.validation.registry import CHECKERS, load_checkers, load_references, run_case

CASES = load_references()


def test_references_are_shipped() -> None:
    assert CASES, "no reference files found in oncotrial/validation/references"


def test_every_kind_has_a_registered_checker() -> None:
    load_checkers()
    missing = sorted({c["kind"] for c in CASES} - set(CHECKERS))
    assert not missing, f"reference kinds without a checker: {missing}"


def test_every_case_names_its_source() -> None:
    for case in CASES:
        assert case["_source"] and case["_generated_by"], case["_file"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['_file']}:{c['name']}" for c in CASES])
def test_reference_case_passes(case: dict) -> None:
    checks = run_case(case)
    assert checks, "a checker must compare at least one quantity"
    failed = [
        f"{c.quantity}: expected {c.expected}, got {c.observed} ({c.tolerance}) {c.source}"
        for c in checks
        if not c.passed
    ]
    assert not failed, "\n".join(failed)
