"""`oncotrial analyze proportion`: one JSON document under --json, clear errors, exit codes."""

from __future__ import annotations

import json

import pytest

from oncotrial.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", "proportion", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_one_sample_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--x", "6", "--n", "136", "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["formatted"] == "4.4% (1.6 to 9.4)"  # PALMIRA's printed ORR
    expected = ("clopper-pearson", 0.95, 6, 136)
    assert (doc["method"], doc["conf_level"], doc["x"], doc["n"]) == expected


def test_one_sample_human_output_names_the_method(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--x", "1", "--n", "62", "--method", "wilson", "--conf-level", "0.9")
    assert code == 0
    assert "1/62 = 1.6%" in out and "Wilson" in out and "90% CI" in out


def test_two_sample_json_has_difference_and_odds_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "--x",
        "57",
        "--n",
        "136",
        "--x2",
        "17",
        "--n2",
        "62",
        "--diff-method",
        "miettinen-nurminen",
        "--or-method",
        "wald",
        "--json",
    )
    doc = json.loads(out)
    assert code == 0
    assert doc["arm1"]["formatted"] == "41.9% (33.5 to 50.7)"
    assert doc["arm2"]["formatted"] == "27.4% (16.9 to 40.2)"
    assert doc["difference"]["method"] == "miettinen-nurminen"
    assert doc["difference"]["estimate"] == pytest.approx(57 / 136 - 17 / 62, rel=1e-12)
    assert doc["odds_ratio"]["estimate"] == pytest.approx(57 * 45 / (79 * 17), rel=1e-12)


def test_two_sample_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--x", "57", "--n", "136", "--x2", "17", "--n2", "62")
    assert code == 0
    assert "Difference (arm 1 - arm 2): 14.5" in out and "Odds ratio (arm 1 vs arm 2): 1.90" in out


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        (["--x", "7", "--n", "6"], "x", "between 0 and 6"),
        (["--x", "-1", "--n", "6"], "x", ">= 0"),
        (["--x", "1", "--n", "6", "--conf-level", "1.5"], "conf_level", "outside (0, 1)"),
        (["--x", "1", "--n", "6", "--method", "wald"], "method", "clopper-pearson"),
        (["--x", "1", "--n", "6", "--x2", "3"], "n2", "needs both --x2 and --n2"),
    ],
)
def test_bad_input_is_a_user_error_with_one_json_document(
    capsys: pytest.CaptureFixture[str], args: list[str], field: str, words: str
) -> None:
    code, out, err = run(capsys, *args, "--json")
    error = json.loads(out)["error"]
    assert code == 1
    assert error["type"] == "InputError" and error["field"] == field
    assert words in error["message"] and words in err.replace("\n", " ")


@pytest.mark.parametrize(
    ("value", "words"), [("2.5", "not a whole number"), ("six", "not a number")]
)
def test_non_integer_count_names_the_argument_and_value(
    capsys: pytest.CaptureFixture[str], value: str, words: str
) -> None:
    code, out, _ = run(capsys, "--x", "1", "--n", value, "--json")
    error = json.loads(out)["error"]
    assert code == 1 and error["field"] == "n" and value in error["message"]
    assert words in error["message"]
