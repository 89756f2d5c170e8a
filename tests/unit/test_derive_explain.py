"""``derive explain``: why the best response, the PFS date and rule, each lab grade, the TEAE
flags and the target-lesion sums; from a fresh derivation or from written output.

Expected sentences are checked against the mini trial worked by hand in
test_derive_pipeline.py (P01: PR confirmed, PD 2024-08-12 R5, NEUT grade 3 on 2024-01-20,
one TEAE grade 3 leading to dose reduction; P04: R4 after three missed visits; P05: R1;
P06: no AE).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oncotrial.cli import main
from oncotrial.derive.explain import explain_subject, explain_written
from oncotrial.derive.pipeline import TrialDerivation, derive_trial
from oncotrial.errors import DataError
from oncotrial.spec import load_spec

MINI = Path(__file__).parents[1] / "data" / "derive" / "mini_trial"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrialDerivation, Path]:
    out = tmp_path_factory.mktemp("explain") / "out"
    return derive_trial(load_spec("palmira"), MINI, out), out


def test_best_response_pfs_rule_and_lab_grade(written: tuple[TrialDerivation, Path]) -> None:
    s = explain_subject(written[0], "P01").sections
    assert "BOR = PR: PR on 2024-04-22 confirmed by PR on 2024-06-17 (56 days >= 28)" in s["ADRS"]
    pfs = next(line for line in s["ADTTE"] if line.startswith("PFS"))
    assert "R5" in pfs and "2024-08-12" in pfs and "= 224 days" in pfs
    neut = next(line for line in s["ADLB"] if line.startswith("ATOXGR [NEUT 2024-01-20"))
    assert "= 3:" in neut and "800 /mm3: < 1000 /mm3 and not < 500 /mm3 -> grade 3" in neut
    assert any(line.startswith("SHIFT [NEUT] = 0 to 3") for line in s["ADLB"])


def test_teae_flags_and_subject_summary(written: tuple[TrialDerivation, Path]) -> None:
    s = explain_subject(written[0], "P01").sections["ADAE"]
    assert any(line.startswith("TRTEMFL [AESEQ 1 Neutrophil count decreased] = Y") for line in s)
    assert any(line.startswith("AEREDFL [AESEQ 1 Neutrophil count decreased] = Y") for line in s)
    assert s[-1] == (
        "TEAE = 1: 1 treatment-emergent of 1 AE(s); maximum grade 3 (AESEQ 1 Neutrophil count "
        "decreased); grade >= 3: Y (AESEQ 1); serious: N; related: Y (AESEQ 1); leading to "
        "discontinuation: N"
    )
    none = explain_subject(written[0], "P06").sections["ADAE"]
    assert none == ["TEAE = none: 0 AE(s) recorded, none treatment-emergent"]
    assert explain_subject(written[0], "P05").sections["ADAE"] == []  # never treated


def test_target_sums_and_best_change(written: tuple[TrialDerivation, Path]) -> None:
    s = explain_subject(written[0], "P01").sections["ADTR"]
    assert s[0] == "SUMDIAM [2023-12-20] = 50 mm: baseline sum of diameters (ABLFL = Y)"
    assert s[2] == (
        "SUMDIAM [2024-04-22] = 30 mm: CHG -20 mm, PCHG -40.0% from baseline 50 mm; nadir "
        "before this assessment 40 mm"
    )
    assert s[-1] == (
        "best PCHG = -50.0%: minimum over 4 post-baseline sum(s), on 2024-06-17 (the "
        "waterfall value)"
    )


def test_censoring_reasons(written: tuple[TrialDerivation, Path]) -> None:
    p04 = explain_subject(written[0], "P04").sections["ADTTE"][0]
    assert "R4" in p04 and "2024-05-06, 2024-07-01, 2024-08-26 (3 >= 2)" in p04
    p05 = explain_subject(written[0], "P05").sections["ADTTE"][0]
    assert p05.startswith("PFS fda-2018 R1")


def test_written_output_explains_the_same(written: tuple[TrialDerivation, Path]) -> None:
    derivation, out = written
    for subject in ("P01", "P04", "P09"):
        fresh = explain_subject(derivation, subject)
        again = explain_written(out, subject)
        assert again.sections == fresh.sections and again.subject == fresh.subject
    with pytest.raises(DataError, match=r"traces\.json"):
        explain_written(MINI, "P01")


def test_cli_explain_from_output(
    written: tuple[TrialDerivation, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = written[1]
    assert main(["derive", "explain", "P01", "--from", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["usubjid"] == "P01" and payload["subject"]["MEASFL"] == "Y"
    assert any(line.startswith("best PCHG = -50.0%") for line in payload["sections"]["ADTR"])
    assert main(["derive", "explain", "P01", "--json"]) == 1
    error = json.loads(capsys.readouterr().out)["error"]["message"]
    assert "--spec" in error and "--from" in error
    code = main(["derive", "explain", "P01", "--from", str(out), "--spec", "palmira", "--json"])
    assert code == 1 and "not both" in json.loads(capsys.readouterr().out)["error"]["message"]


def test_cutoff_for_events_on_the_mini_trial(capsys: pytest.CaptureFixture[str]) -> None:
    # PFS events (test_derive_pipeline.py): P03 death 2024-03-10 (R6), P01 PD 2024-08-12 (R5)
    from oncotrial.derive.event_cutoff import cutoff_for_events
    from oncotrial.errors import InputError

    first = cutoff_for_events(MINI, "palmira", 1)
    assert (first.cutoff.isoformat(), first.events_at_cutoff, first.events_day_before) == (
        "2024-03-10", 1, 0
    )  # fmt: skip
    assert first.exact and first.events_without_cut == 2
    assert main(["derive", "cutoff", "palmira", str(MINI), "--events", "2", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["cutoff"] == "2024-08-12" and payload["events_day_before"] == 1
    with pytest.raises(InputError, match="fewer than 3"):
        cutoff_for_events(MINI, "palmira", 3)
    with pytest.raises(InputError, match="not an endpoint"):
        cutoff_for_events(MINI, "palmira", 1, paramcd="EFS")
    with pytest.raises(InputError, match="n_events"):
        cutoff_for_events(MINI, "palmira", 0)
