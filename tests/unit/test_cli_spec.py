"""``oncotrial spec`` commands: human output, --json discipline, exit codes."""

from __future__ import annotations

import json

import pytest

from oncotrial.cli import main
from oncotrial.spec import example_path


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", ["palmira", "abemaciclib_rechallenge", "accru_br_1801"])
def test_check_and_show_json(capsys, name):
    code, out, _ = run(capsys, "spec", "check", str(example_path(name)), "--json")
    assert code == 0 and json.loads(out)["valid"] is True
    code, out, _ = run(capsys, "spec", "show", name, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["spec"]["trial"]["id"] and doc["synopsis"]


def test_show_prints_a_synopsis(capsys):
    code, out, _ = run(capsys, "spec", "show", "palmira")
    assert code == 0
    for heading in (
        "Arms",
        "Stratification",
        "Eligibility",
        "Schedule",
        "Endpoints",
        "Design",
        "Analyses",
        "Conventions",
    ):
        assert heading in out
    assert "every 8 weeks up to month 12" in out


def test_calendar_json(capsys):
    code, out, err = run(capsys, "spec", "calendar", "palmira", "--start", "2024-03-01", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["start"] == "2024-03-01"
    assert any(e["name"] == "tumour" and e["date"] == "2024-04-26" for e in doc["entries"])
    assert "calendar" in err  # the human note goes to stderr


def test_bad_spec_exit_1_with_json_error(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(example_path("palmira").read_text().replace("    ratio: 1\n", "    ratio: 0\n"))
    code, out, err = run(capsys, "spec", "check", str(bad), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["error"]["problems"][0]["path"] == "arms[1].ratio"
    assert "arms[1].ratio" in err


def test_bad_date_is_a_user_error(capsys):
    code, out, _ = run(capsys, "spec", "calendar", "palmira", "--start", "01/03/2024", "--json")
    assert code == 1 and "YYYY-MM-DD" in json.loads(out)["error"]["message"]


def test_missing_file_is_a_user_error(capsys):
    code, _, err = run(capsys, "spec", "check", "no-such-file.yaml")
    assert code == 1 and "no such file" in err


def test_usage_error_exit_1(capsys):
    code, out, _ = run(capsys, "spec", "calendar", "palmira", "--json")  # --start missing
    assert code == 1 and json.loads(out)["error"]["type"] == "UsageError"


def test_help_reads_well(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "spec" in out and "--json" in out
    code, out, _ = run(capsys, "spec", "--help")
    assert code == 0 and "calendar" in out
