"""``oncotrial derive`` on the shipped synthetic PALMIRA-like trial, end to end.

Two kinds of reference, neither produced by the derivation code:

* the generator's truth (``truth.csv``, written by :mod:`oncotrial.synth` from its latent
  processes): latent progression date TPROGDT, death DTHDT, the PFS date/status PFS_DT and
  PFS_CNSR it expects, confirmed BOR and CBR, palbociclib RDI (dose per unit time from the
  first dose level) and reduction/interruption flags, maximum TEAE grade;
* the published PALMIRA results (Llombart-Cussac et al., J Clin Oncol 2025), which the
  synthetic trial is calibrated to. Tolerances are about two binomial (or median) standard
  errors for arms of 132 and 66 subjects, since one synthetic trial is one random draw.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from oncotrial.cli import main
from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.derive.event_cutoff import cutoff_for_events
from oncotrial.derive.exposure import exposure_summary
from oncotrial.derive.pipeline import TrialDerivation, derive_trial, read_trial
from oncotrial.spec import example_path, load_spec
from oncotrial.stats.km import kaplan_meier

RAW = Path(__file__).parents[2] / "src" / "oncotrial" / "data" / "examples" / "palmira_trial"
SPEC = load_spec("palmira")


@pytest.fixture(scope="module")
def derived(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrialDerivation, Path]:
    out = tmp_path_factory.mktemp("palmira") / "adam"
    return derive_trial(SPEC, RAW, out), out


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    frame = pd.read_csv(RAW / "truth.csv", dtype=str, keep_default_na=False)
    return frame.loc[frame["RANDOMIZED"] == "Y"].set_index("USUBJID")


def _day(value: object) -> str:
    return pd.Timestamp(value).date().isoformat()  # type: ignore[arg-type]


def test_writes_every_dataset_and_the_log(derived: tuple[TrialDerivation, Path]) -> None:
    out = derived[1]
    names = {p.name for p in out.iterdir()}
    for dataset in ("adsl", "adtte", "adrs", "adtr", "adae", "adlb", "adex"):
        assert f"{dataset}.csv" in names
    assert {"derivation_log.json", "traces.json"} <= names
    log = json.loads((out / "derivation_log.json").read_text())
    assert (
        log["counts"]["subjects"]["ITT"] == 198
        and log["settings"]["derivation"]["starting_dose"] == "first"
    )


def test_true_progression_lies_between_the_bracketing_assessments(
    derived: tuple[TrialDerivation, Path], truth: pd.DataFrame
) -> None:
    adtte = derived[0].datasets["ADTTE"]
    pfs = adtte.loc[adtte["PARAMCD"] == "PFS"].set_index("USUBJID")
    tr = pd.read_csv(RAW / "tr.csv", dtype=str)
    scans = {s: sorted(set(g["TRDTC"])) for s, g in tr.groupby("USUBJID")}
    progressions = pfs.loc[pfs["SRCRULE"] == "R5"]
    assert len(progressions) > 100
    for subject, row in progressions.iterrows():
        pd_date, latent = _day(row["ADT"]), truth.loc[subject, "TPROGDT"]
        before = [d for d in scans[subject] if d < pd_date]
        # the latent date is on or after the last scan before PD and on or before PD
        assert latent and before and before[-1] <= latent <= pd_date, (subject, latent)
    deaths = pfs.loc[pfs["SRCRULE"] == "R6"]
    assert len(deaths) > 0
    for subject, row in deaths.iterrows():
        assert _day(row["ADT"]) == truth.loc[subject, "DTHDT"], subject
    for subject, row in pfs.loc[pfs["CNSR"] == 0].iterrows():
        latent, death = truth.loc[subject, "TPROGDT"], truth.loc[subject, "DTHDT"]
        assert (latent and latent <= _day(row["ADT"])) or death == _day(row["ADT"]), subject


def test_pfs_matches_the_generators_pfs_except_missed_visit_censoring(
    derived: tuple[TrialDerivation, Path], truth: pd.DataFrame
) -> None:
    adtte = derived[0].datasets["ADTTE"]
    pfs = adtte.loc[adtte["PARAMCD"] == "PFS"].set_index("USUBJID")
    assert set(pfs.index) == set(truth.index)
    # FDA 2018 censors an event after >= 2 missed scans (R4); the generator counts it.
    kept = pfs.loc[pfs["SRCRULE"] != "R4"]
    assert len(pfs) - len(kept) <= 5
    for subject, row in kept.iterrows():
        assert _day(row["ADT"]) == truth.loc[subject, "PFS_DT"], subject
        assert (row["CNSR"] > 0) == (truth.loc[subject, "PFS_CNSR"] == "1"), subject


def test_responses_match_the_truth(
    derived: tuple[TrialDerivation, Path], truth: pd.DataFrame
) -> None:
    adrs = derived[0].datasets["ADRS"]
    for paramcd in ("BOR", "CBR"):
        rows = adrs.loc[adrs["PARAMCD"] == paramcd].set_index("USUBJID")["AVALC"]
        assert rows.to_dict() == truth.loc[rows.index, paramcd].to_dict(), paramcd


def test_exposure_and_grades_match_the_truth(
    derived: tuple[TrialDerivation, Path], truth: pd.DataFrame
) -> None:
    adex = derived[0].datasets["ADEX"]
    palbo = adex.loc[adex["EXTRT"] == "palbociclib"]
    wide = palbo.pivot(index="USUBJID", columns="PARAMCD", values=["AVAL", "AVALC"])
    rdi = wide[("AVAL", "RDI")].astype(float)
    assert len(rdi) > 120
    true_rdi = truth.loc[rdi.index, "CDK_RDI"].astype(float)  # rounded to 0.01
    assert (rdi - true_rdi).abs().max() <= 0.005 + 1e-9
    assert wide[("AVALC", "DOSERED")].to_dict() == truth.loc[wide.index, "CDK_REDUCED"].to_dict()
    assert (
        wide[("AVALC", "DOSEINT")].to_dict() == truth.loc[wide.index, "CDK_INTERRUPTED"].to_dict()
    )
    adae, adsl = derived[0].datasets["ADAE"], derived[0].datasets["ADSL"]
    safety = adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"]
    worst = adae.loc[adae["TRTEMFL"] == "Y"].groupby("USUBJID")["AETOXGR"].max()
    worst = worst.reindex(safety).fillna(0).astype(int)
    expected = truth.loc[safety, "AE_MAXGR"].replace("", "0").astype(int)
    assert worst.tolist() == expected.tolist()


def test_near_the_published_results(derived: tuple[TrialDerivation, Path]) -> None:
    data = derived[0].datasets
    adsl = data["ADSL"]
    adtte = data["ADTTE"]
    pfs = adtte.loc[adtte["PARAMCD"] == "PFS"]
    medians = {}
    for arm, group in pfs.groupby("ARMCD"):
        km = kaplan_meier(group["AVAL"] / DAYS_PER_MONTH, group["CNSR"] == 0, profile="sas")
        medians[arm] = km.median
    # published 4.9 and 3.6 months; SE of a median ~0.4-0.5 months at these sizes
    assert medians["PAL_ET"] == pytest.approx(4.9, abs=0.75)
    assert medians["ET"] == pytest.approx(3.6, abs=0.75)
    adrs = data["ADRS"]

    def rate(paramcd: str, arm: str) -> float:
        rows = adrs.loc[(adrs["PARAMCD"] == paramcd) & (adrs["ARMCD"] == arm)]
        return float((rows["AVALC"] == "Y").mean())

    assert rate("ORR", "PAL_ET") == pytest.approx(0.044, abs=0.04)
    assert rate("ORR", "ET") == pytest.approx(0.016, abs=0.04)
    assert rate("CBR", "PAL_ET") == pytest.approx(0.419, abs=0.085)
    assert rate("CBR", "ET") == pytest.approx(0.274, abs=0.11)
    adae = data["ADAE"]
    safety = adsl.loc[adsl["SAFFL"] == "Y"]
    severe = set(adae.loc[(adae["TRTEMFL"] == "Y") & (adae["AETOXGR"] >= 3), "USUBJID"])
    g3 = safety.assign(G3=safety["USUBJID"].isin(severe)).groupby("ACTARMCD")["G3"].mean()
    assert g3["PAL_ET"] == pytest.approx(0.474, abs=0.087)
    assert g3["ET"] == pytest.approx(0.100, abs=0.075)
    summary = exposure_summary(data["ADEX"], arm_column="ACTARMCD").to_frame()
    palbo = summary.loc[summary["EXTRT"] == "palbociclib"].iloc[0]
    assert palbo["MEDRDI"] == pytest.approx(95.6, abs=2.0)
    assert palbo["PCT_RED"] == pytest.approx(10.4, abs=5.5)
    assert palbo["PCT_INT"] == pytest.approx(40.0, abs=8.5)


def test_event_driven_cuts_and_an_earlier_cut_has_fewer_events(
    derived: tuple[TrialDerivation, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trial = read_trial(SPEC, RAW)
    abstract = cutoff_for_events(trial, n_events=155)  # ASCO 2023 abstract
    paper = cutoff_for_events(trial, n_events=158)  # J Clin Oncol 2025
    for cut, n in ((abstract, 155), (paper, 158)):
        assert cut.exact and cut.events_at_cutoff == n and cut.events_day_before < n
    assert abstract.cutoff < paper.cutoff
    full_events = derived[0].log["counts"]["events"]["PFS"]["events"]
    assert abstract.events_without_cut == full_events > 158
    out = tmp_path / "abstract"
    code = main(["derive", str(example_path("palmira")), str(RAW), str(out),
                 "--cutoff", abstract.cutoff.isoformat(), "--json"])  # fmt: skip
    log = json.loads(capsys.readouterr().out)
    assert code == 0 and log["counts"]["events"]["PFS"]["events"] == 155 < full_events
    assert log["cutoff"] == abstract.cutoff.isoformat()
    adtte = pd.read_csv(out / "adtte.csv", dtype=str)
    assert (adtte["DCUTDT"] == abstract.cutoff.isoformat()).all()
    assert adtte["ADT"].max() <= abstract.cutoff.isoformat()
    assert paper.cutoff <= dt.date(2023, 2, 2)  # the paper's data cut (Results)


def test_explain_a_real_subject(
    derived: tuple[TrialDerivation, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    adtte = derived[0].datasets["ADTTE"]
    subject = adtte.loc[(adtte["PARAMCD"] == "PFS") & (adtte["SRCRULE"] == "R5"), "USUBJID"]
    usubjid = str(subject.iloc[0])
    assert main(["derive", "explain", usubjid, "--from", str(derived[1]), "--json"]) == 0
    sections = json.loads(capsys.readouterr().out)["sections"]
    assert any(line.startswith("PFS fda-2018 R5") for line in sections["ADTTE"])
    assert any(line.startswith("BOR = ") for line in sections["ADRS"])
    assert any(line.startswith("TEAE = ") for line in sections["ADAE"])
    assert any(line.startswith("ATOXGR [NEUT") for line in sections["ADLB"])
    assert any(line.startswith("best PCHG") for line in sections["ADTR"])
