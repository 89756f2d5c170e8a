"""Cox models, interaction tests and forest-plot tables agree with R survival::coxph
(references made by tests/conformance/r/cox.R; no R needed to run this)."""

from __future__ import annotations

import pytest

from oncotrial.validation.registry import load_references, run_case

FILES = ["cox_r_survival"]
CASES = load_references(FILES)


def test_reference_file_covers_the_required_cases() -> None:
    kinds = {case["kind"] for case in CASES}
    assert kinds == {"cox", "cox_interaction", "subgroup_table"}
    names = " ".join(case["name"] for case in CASES)
    for dataset in ("lung", "veteran", "ovarian", "colon", "gbsg"):
        assert dataset in names
    cox_inputs = [case["input"] for case in CASES if case["kind"] == "cox"]
    assert {inp["ties"] for inp in cox_inputs} == {"efron", "breslow"}
    assert any(inp["strata"] for inp in cox_inputs)
    assert any(inp["robust"] for inp in cox_inputs)
    assert any(inp["cluster"] for inp in cox_inputs)
    assert any(inp["categorical"] for inp in cox_inputs)
    monotone = [
        c
        for c in CASES
        if c["kind"] == "cox" and "Loglik converged" in str(c["expected"]["warnings"])
    ]
    assert len(monotone) == 2


@pytest.mark.parametrize("case", CASES, ids=[f"{c['kind']}: {c['name']}" for c in CASES])
def test_case(case: dict) -> None:
    checks = run_case(case)
    assert len(checks) >= 4
    failed = [c for c in checks if not c.passed]
    assert not failed, "\n".join(
        f"{c.quantity}: expected {c.expected} observed {c.observed} ({c.tolerance})" for c in failed
    )
