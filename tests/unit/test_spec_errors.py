"""Bad specs give errors naming the YAML path, the bad value, what is valid, and the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oncotrial.errors import SpecError
from oncotrial.spec import example_path, parse_spec

PALMIRA = Path(example_path("palmira")).read_text(encoding="utf-8")


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing ``needle`` (found by hand, not by code)."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[occurrence - 1]


def error_of(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_spec(text, filename="bad.yaml")
    return info.value


def test_bad_ratio_names_path_value_and_line():
    text = PALMIRA.replace("    ratio: 1\n", "    ratio: 0\n", 1)
    err = error_of(text)
    problem = err.details["problems"][0]
    assert problem["path"] == "arms[1].ratio"
    assert problem["value"] == 0
    assert "greater than or equal to 1" in problem["message"]
    assert problem["line"] == line_of(text, "ratio: 0")
    assert f"bad.yaml:{problem['line']}: arms[1].ratio" in err.message


def test_unknown_key_is_reported_not_ignored():
    text = PALMIRA.replace("    ratio: 2\n", "    ratoi: 2\n", 1)
    err = error_of(text)
    paths = {p["path"]: p for p in err.details["problems"]}
    assert "arms[0].ratoi" in paths and "unknown field" in paths["arms[0].ratoi"]["message"]
    assert "arms[0].ratio" in paths and "missing" in paths["arms[0].ratio"]["message"]


def test_wrong_enum_value_lists_valid_values():
    text = PALMIRA.replace("  phase: II\n", "  phase: 2b\n", 1)
    problem = error_of(text).details["problems"][0]
    assert problem["path"] == "trial.phase" and problem["value"] == "2b"
    assert "'I', 'I/II', 'II', 'II/III' or 'III'" in problem["message"]
    assert problem["line"] == line_of(text, "phase: 2b")


def test_yaml_syntax_error_has_line_and_column():
    text = PALMIRA.replace("  phase: II\n", "  phase: [II\n", 1)
    err = error_of(text)
    assert "YAML syntax error" in err.message
    assert err.details["line"] is not None and err.details["column"] is not None


def test_analysis_must_name_an_existing_endpoint():
    text = PALMIRA.replace("    endpoint: PFS\n", "    endpoint: EFS\n", 1)
    problem = error_of(text).details["problems"][0]
    assert problem["path"] == "analyses.primary.endpoint"
    assert "'EFS' is not an endpoint" in problem["message"] and "PFS" in problem["message"]
    assert problem["line"] == line_of(text, "endpoint: EFS")


def test_stratified_by_must_be_a_factor():
    text = PALMIRA.replace(
        "stratified_by: [prior_et, visceral_involvement]", "stratified_by: [prior_et, liver]", 1
    )
    problem = error_of(text).details["problems"][0]
    assert problem["path"] == "analyses.primary.stratified_by[1]"
    assert "'liver'" in problem["message"] and "visceral_involvement" in problem["message"]


def test_rule_with_undeclared_attribute_is_reported_at_its_path():
    text = PALMIRA.replace('rule: "age >= 18"', 'rule: "age_years >= 18"', 1)
    problem = error_of(text).details["problems"][0]
    assert problem["path"] == "eligibility.inclusion[0].rule"
    assert "age_years" in problem["message"]
    assert problem["line"] == line_of(text, "age_years >= 18")


def test_unsafe_rule_is_rejected():
    text = PALMIRA.replace('rule: "visceral_crisis"', "rule: \"__import__('os')\"", 1)
    problem = error_of(text).details["problems"][0]
    assert problem["path"] == "eligibility.exclusion[0].rule"


def test_unknown_censoring_rule_set():
    text = PALMIRA.replace("censoring: fda-2018", "censoring: fda-2099", 1)
    problem = error_of(text).details["problems"][0]
    assert problem["path"] == "endpoints[0].censoring"
    assert "fda-2018" in problem["message"]


def test_duplicate_ids_are_rejected():
    text = PALMIRA.replace("{id: E1,", "{id: I1,", 1)
    problem = error_of(text).details["problems"][0]
    assert re.match(r"eligibility\[\d+\]\.id", problem["path"])
    assert "used twice" in problem["message"]


def test_schedule_period_needs_exactly_one_interval():
    text = PALMIRA.replace(
        "{every_weeks: 24, window_days: 7}", "{every_weeks: 24, every_days: 3, window_days: 7}", 1
    )
    problem = error_of(text).details["problems"][0]
    assert problem["path"] == "assessments[1].periods[0]"
    assert "exactly one of" in problem["message"]


def test_all_problems_are_reported_together():
    text = PALMIRA.replace("    ratio: 1\n", "    ratio: 0\n", 1).replace(
        "  phase: II\n", "  phase: 2b\n", 1
    )
    assert len(error_of(text).details["problems"]) == 2


def test_not_a_mapping():
    assert "YAML mapping" in error_of("- just\n- a list\n").message
