"""Kaplan-Meier, RMST, follow-up and log-rank agree with R (references made by
tests/conformance/r/km.R and logrank.R; no R needed to run this)."""

from __future__ import annotations

import pytest

from oncotrial.validation.registry import load_references, run_all, run_case

FILES = ["km_r_survival", "logrank_r_survival"]
CASES = load_references(FILES)


def test_reference_files_cover_every_kind() -> None:
    kinds = {case["kind"] for case in CASES}
    assert kinds == {"km", "km_difference", "km_followup", "logrank"}
    assert len(CASES) >= 100


def test_run_all_passes() -> None:
    checks = run_all(FILES)
    assert len(checks) > 1500
    assert all(check.passed for check in checks)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['kind']}: {c['name']}" for c in CASES])
def test_case(case: dict) -> None:
    failed = [c for c in run_case(case) if not c.passed]
    assert not failed, "\n".join(
        f"{c.quantity}: expected {c.expected} observed {c.observed} ({c.tolerance})" for c in failed
    )
