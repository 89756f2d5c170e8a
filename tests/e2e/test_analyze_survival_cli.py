"""``oncotrial analyze survival`` end to end: JSON against R, human output, bad input.

R references: tests/conformance/analyze_survival_r.json, written by
tests/conformance/r/analyze_survival.R (survfit, survdiff, coxph on the shipped CSV files).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncotrial.cli import main

ROOT = Path(__file__).parents[2]
PALMIRA = ROOT / "src/oncotrial/data/examples/palmira_like_pfs.csv"
REFERENCES = json.loads((ROOT / "tests/conformance/analyze_survival_r.json").read_text())
PALMIRA_ARGS = [
    "--time",
    "AVAL",
    "--censor",
    "CNSR",
    "--arm",
    "ARM",
    "--strata",
    "PRIOR_ET,VISCERAL",
    "--landmarks",
    "6,12",
    "--reference",
    "ET",
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", "survival", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


# --------------------------------------------------------------------------- against R


def assert_close(expected, actual, where: str, rel: float, p_abs: float = 1e-6) -> None:
    """Recursive comparison: numbers to ``rel`` (p-values also to ``p_abs`` absolute), null
    only where R has NA."""
    if isinstance(expected, dict):
        for key, value in expected.items():
            assert key in actual, f"{where}: {key} missing"
            assert_close(value, actual[key], f"{where}.{key}", rel, p_abs)
    elif isinstance(expected, list):
        assert len(expected) == len(actual), where
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_close(e, a, f"{where}[{i}]", rel, p_abs)
    elif expected is None:
        assert actual is None, f"{where}: expected null (NA in R), got {actual}"
    elif isinstance(expected, str):
        assert str(actual) == expected, where
    else:
        assert actual is not None, f"{where}: expected {expected}, got null"
        tol = p_abs if where.rsplit(".", 1)[-1] in ("p", "score_p", "lr_p") else 0.0
        assert math.isclose(actual, expected, rel_tol=rel, abs_tol=max(tol, 1e-12)), (
            f"{where}: {actual} vs R {expected}"
        )


@pytest.mark.parametrize("case", REFERENCES["cases"], ids=lambda c: c["name"])
def test_json_matches_r(case, capsys):
    doc = run_json(capsys, ROOT / case["input"]["file"], *case["input"]["args"])
    assert_close(case["expected"], doc, case["name"], rel=case["tolerance"]["rel"])
    assert doc["conventions"]["profile"] == case["input"]["profile"]


def test_references_cover_both_profiles_and_strata():
    cases = REFERENCES["cases"]
    assert {c["input"]["profile"] for c in cases} == {"r", "sas"}
    assert any("--censor" in c["input"]["args"] for c in cases)
    assert any("--strata" not in c["input"]["args"] for c in cases)


# --------------------------------------------------------------------------- JSON shape


def test_json_has_the_documented_fields_and_nothing_on_stderr(capsys):
    code, out, err = run(
        capsys, PALMIRA, *PALMIRA_ARGS, "--subgroups", "AGEGR,ECOG", "--rmst-tau", "12", "--json"
    )
    assert code == 0 and err == ""
    doc = json.loads(out)
    for arm in doc["arms"]:
        assert set(arm) >= {"arm", "n", "events", "median", "median_ci", "landmarks"}
        assert len(arm["median_ci"]) == 2
        for mark in arm["landmarks"]:
            assert set(mark) >= {"time", "survival", "ci"}
    assert [a["arm"] for a in doc["arms"]] == ["Palbociclib + ET", "ET"]
    assert sum(a["n"] for a in doc["arms"]) == 198
    assert [a["n"] for a in doc["arms"]] == [132, 66]
    assert set(doc["logrank"]) >= {"chisq", "df", "p", "strata"}
    assert doc["logrank"]["strata"] == ["PRIOR_ET", "VISCERAL"]
    assert set(doc["cox"]) >= {"hr", "ci", "p", "ties"}
    assert doc["conventions"]["ties"] == doc["cox"]["ties"] == "efron"
    assert [d["time"] for d in doc["landmark_differences"]] == [6, 12]
    assert doc["data"]["landmarks_in_data_unit"] == [6 * 30.4375, 12 * 30.4375]
    assert doc["subgroups"]["rows"][0]["subgroup"] == "All patients"
    assert doc["rmst"]["tau"] == 12


def test_median_not_reached_is_null(tmp_path, capsys):
    frame = pd.DataFrame(
        {"t": [1, 2, 3, 4, 5, 6, 7, 8], "e": [1, 0, 0, 0, 1, 1, 1, 0], "arm": ["A"] * 4 + ["B"] * 4}
    )
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    doc = run_json(
        capsys, path, "--time", "t", "--event", "e", "--arm", "arm", "--time-unit", "months"
    )
    arm_a = doc["arms"][1]  # reference A (first sorted level) is listed second
    assert arm_a["arm"] == "A"
    assert arm_a["median"] is None and arm_a["median_ci"][1] is None


def test_sas_profile_and_overrides_reach_every_piece(capsys):
    doc = run_json(capsys, PALMIRA, *PALMIRA_ARGS, "--profile", "sas")
    assert doc["conventions"]["conf_type"] == "log-log" and doc["cox"]["ties"] == "breslow"
    doc = run_json(
        capsys, PALMIRA, *PALMIRA_ARGS, "--profile", "sas", "--ties", "efron", "--conf-type", "log"
    )
    assert doc["conventions"]["profile"] == "custom"
    assert doc["cox"]["ties"] == "efron"
    r = run_json(capsys, PALMIRA, *PALMIRA_ARGS)
    assert doc["cox"]["hr"] == pytest.approx(r["cox"]["hr"], rel=1e-12)
    assert doc["arms"][0]["landmarks"][0]["ci"] == pytest.approx(
        r["arms"][0]["landmarks"][0]["ci"], rel=1e-12
    )


def test_data_in_months_give_the_same_answer(tmp_path, capsys):
    frame = pd.read_csv(PALMIRA)
    frame["AVAL"] = frame["AVAL"] / 30.4375
    path = tmp_path / "months.parquet"
    frame.to_parquet(path)
    months = run_json(capsys, path, *PALMIRA_ARGS, "--time-unit", "months")
    days = run_json(capsys, PALMIRA, *PALMIRA_ARGS)
    for a, b in zip(months["arms"], days["arms"], strict=True):
        assert a["median"] == pytest.approx(b["median"], rel=1e-12)
        assert a["landmarks"][1]["survival"] == pytest.approx(
            b["landmarks"][1]["survival"], rel=1e-12
        )
    assert months["cox"]["hr"] == pytest.approx(days["cox"]["hr"], rel=1e-9)
    assert months["logrank"]["chisq"] == pytest.approx(days["logrank"]["chisq"], rel=1e-9)


def test_event_column_equals_censor_column(tmp_path, capsys):
    frame = pd.read_csv(PALMIRA)
    frame["EVENT"] = 1 - frame["CNSR"]
    frame["CNSR"] = frame["CNSR"] * 2  # ADaM: any positive integer is censored
    path = tmp_path / "e.csv"
    frame.to_csv(path, index=False)
    args = [a if a != "CNSR" else "EVENT" for a in PALMIRA_ARGS]
    args[args.index("--censor")] = "--event"
    with_event = run_json(capsys, path, *args)
    with_censor = run_json(capsys, path, *PALMIRA_ARGS)
    assert with_event["arms"] == with_censor["arms"]
    assert with_event["cox"] == with_censor["cox"]


# --------------------------------------------------------------------------- human output


def test_human_output_one_screen(capsys):
    code, out, err = run(capsys, PALMIRA, *PALMIRA_ARGS)
    assert code == 0, err
    doc = run_json(capsys, PALMIRA, *PALMIRA_ARGS)
    exp, ref = doc["arms"]
    lines = out.splitlines()
    assert len(lines) <= 40
    assert max(len(line) for line in lines) <= 80
    expected_rows = [
        f"Palbociclib + ET   132    {exp['events']} (",
        f"ET                  66    {ref['events']} (",
    ]
    for row in expected_rows:
        assert any(line.startswith(row) for line in lines), row
    for med in (exp, ref):
        lo, hi = med["median_ci"]
        assert f"{med['median']:.1f} ({lo:.1f} to {hi:.1f})" in out
    hr = doc["cox"]
    assert f"{hr['hr']:.2f} ({hr['ci'][0]:.2f} to {hr['ci'][1]:.2f})" in out
    assert "Stratified log-rank test" in out and f"p = {doc['logrank']['p']:.3f}" in out
    six = doc["landmark_differences"][0]
    assert f"{100 * six['difference']:.1f} ({100 * six['ci'][0]:.1f} to" in out
    assert "Conventions: profile r; 95% CI, log transform; ties efron" in out
    assert "AVAL (days) / 30.4375" in out
    assert "PRIOR_ET x VISCERAL (4 strata)" in out


def test_human_output_with_subgroups(capsys):
    code, out, err = run(capsys, PALMIRA, *PALMIRA_ARGS, "--subgroups", "AGEGR,ECOG")
    assert code == 0, err
    assert "Subgroups: stratified HR" in out
    assert "All patients" in out and ">=65" in out and "1-2" in out


# --------------------------------------------------------------------------- bad input


def write(tmp_path: Path, frame: pd.DataFrame, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "T": [5.0, 8, 3, 9, 4, 7],
            "E": [1, 0, 1, 1, 0, 1],
            "ARM": ["A", "B", "A", "B", "A", "B"],
            "S": ["x", "x", "y", "y", "x", "y"],
        }
    )


def fail(capsys, *args: str) -> dict:
    code, out, err = run(capsys, *args, "--json")
    assert code == 1, err
    assert "error:" in err
    return json.loads(out)["error"]


def test_missing_column_names_it_and_lists_the_others(tmp_path, capsys):
    path = write(tmp_path, small())
    error = fail(capsys, path, "--time", "AVAL", "--event", "E", "--arm", "ARM")
    assert error["type"] == "DataError" and error["column"] == "AVAL"
    assert "'AVAL' not found" in error["message"] and "T, E, ARM, S" in error["message"]
    error = fail(capsys, path, "--time", "T", "--event", "E", "--arm", "ARM", "--strata", "S,Z")
    assert error["column"] == "Z" and error["field"] == "strata"


@pytest.mark.parametrize(
    ("column", "row", "value", "fragment"),
    [
        ("T", 3, -1.0, "time -1.0 is invalid"),
        ("T", 2, None, "missing time"),
        ("E", 4, 2, "event code 2 is invalid"),
    ],
)
def test_bad_times_and_event_codes(tmp_path, capsys, column, row, value, fragment):
    frame = small()
    frame[column] = frame[column].astype(object)
    frame.loc[row - 1, column] = value
    error = fail(capsys, write(tmp_path, frame), "--time", "T", "--event", "E", "--arm", "ARM")
    assert error["column"] == column and error["row"] == row
    assert fragment in error["message"]


@pytest.mark.parametrize("value", [-1, 0.5, "x"])
def test_bad_cnsr_codes(tmp_path, capsys, value):
    frame = small().rename(columns={"E": "CNSR"}).astype({"CNSR": object})
    frame.loc[2, "CNSR"] = value
    error = fail(capsys, write(tmp_path, frame), "--time", "T", "--censor", "CNSR", "--arm", "ARM")
    assert error["column"] == "CNSR" and error["row"] == 3
    assert error["value"] == str(value) and "CNSR is 0 for an event" in error["message"]


def test_arm_with_one_level_and_three_levels(tmp_path, capsys):
    frame = small().assign(ARM="A")
    error = fail(capsys, write(tmp_path, frame), "--time", "T", "--event", "E", "--arm", "ARM")
    assert error["column"] == "ARM" and "has 1 level ['A']" in error["message"]
    frame = small()
    frame.loc[0, "ARM"] = "C"
    error = fail(capsys, write(tmp_path, frame), "--time", "T", "--event", "E", "--arm", "ARM")
    assert error["column"] == "ARM" and "exactly 2 arms" in error["message"]


def test_unknown_reference_level(tmp_path, capsys):
    error = fail(
        capsys,
        write(tmp_path, small()),
        "--time",
        "T",
        "--event",
        "E",
        "--arm",
        "ARM",
        "--reference",
        "Placebo",
    )
    assert error["type"] == "InputError" and error["value"] == "Placebo"
    assert error["valid"] == ["A", "B"]


def test_empty_stratum_cell(tmp_path, capsys):
    frame = small().astype({"S": object})
    frame.loc[4, "S"] = None
    error = fail(
        capsys,
        write(tmp_path, frame),
        "--time",
        "T",
        "--event",
        "E",
        "--arm",
        "ARM",
        "--strata",
        "S",
    )
    assert error["column"] == "S" and error["row"] == 5 and "missing value" in error["message"]


def test_event_and_censor_exactly_one(tmp_path, capsys):
    path = write(tmp_path, small())
    error = fail(capsys, path, "--time", "T", "--arm", "ARM")
    assert "exactly one" in error["message"]
    error = fail(capsys, path, "--time", "T", "--arm", "ARM", "--event", "E", "--censor", "E")
    assert "exactly one" in error["message"]


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--landmarks", "x", "landmarks"),
        ("--landmarks", "0", "landmarks"),
        ("--time-unit", "weeks", "time-unit"),
        ("--ties", "exact", "ties"),
        ("--profile", "stata", "profile"),
        ("--conf-type", "probit", "conf-type"),
    ],
)
def test_bad_options(tmp_path, capsys, option, value, field):
    error = fail(
        capsys,
        write(tmp_path, small()),
        "--time",
        "T",
        "--event",
        "E",
        "--arm",
        "ARM",
        option,
        value,
    )
    assert error["field"] == field and error["value"] == value


def test_unreadable_files(tmp_path, capsys):
    error = fail(capsys, tmp_path / "none.csv", "--time", "T", "--event", "E", "--arm", "ARM")
    assert "not found" in error["message"]
    other = tmp_path / "data.xlsx"
    other.write_text("x")
    error = fail(capsys, other, "--time", "T", "--event", "E", "--arm", "ARM")
    assert error["value"] == ".xlsx"


def test_numeric_arm_codes_and_reference(tmp_path, capsys):
    frame = small().assign(ARM=np.where(small()["ARM"] == "A", 1, 2))
    doc = run_json(
        capsys,
        write(tmp_path, frame),
        "--time",
        "T",
        "--event",
        "E",
        "--arm",
        "ARM",
        "--reference",
        "2",
        "--time-unit",
        "months",
    )
    assert [a["arm"] for a in doc["arms"]] == ["1", "2"]
    assert doc["cox"]["experimental"] == "1" and doc["cox"]["reference"] == "2"
