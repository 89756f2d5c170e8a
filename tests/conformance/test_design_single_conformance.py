"""Single-arm and dose-escalation designs against R and published references."""

from __future__ import annotations

import pytest

from oncotrial.validation.registry import load_references, run_case

FILES = [
    "single_arm_survival_r",
    "single_arm_published",
    "simon_r",
    "simon_published",
    "dose_r",
    "dose_published",
]
CASES = load_references(FILES)


def test_every_reference_file_has_cases() -> None:
    files = {case["_file"].removesuffix(".json") for case in CASES}
    assert files == set(FILES)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['_file']}:{c['name']}" for c in CASES])
def test_reference_case(case: dict) -> None:
    checks = run_case(case)
    assert checks
    failed = [c for c in checks if not c.passed]
    assert not failed, "\n".join(
        f"{c.quantity}: expected {c.expected}, observed {c.observed} ({c.tolerance})"
        for c in failed
    )
