"""The synthetic trial generator: reproducibility, contract conformance, internal consistency.

Expected values are the published PALMIRA numbers (J Clin Oncol 2025, seed 002) or exact
structural facts (2:1 blocks, CONSORT sums, RECIST rules); nothing here is a number the
generator printed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from oncotrial.derive.best_response import best_overall_response
from oncotrial.derive.contracts import RAW, conform
from oncotrial.derive.ctcae import grade_labs
from oncotrial.derive.recist import timepoint_responses
from oncotrial.errors import InputError, SpecError
from oncotrial.screening import screen
from oncotrial.spec import load_spec
from oncotrial.synth import generate_trial, write_trial
from oncotrial.synth.draws import Draws
from oncotrial.synth.tumour import target_response

SPEC = load_spec("src/oncotrial/spec/examples/palmira.yaml")


@pytest.fixture(scope="module")
def trial():
    return generate_trial(SPEC, 11)


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.replace("", None))


def test_same_seed_same_files_other_seed_other_data(trial, tmp_path):
    again = generate_trial(SPEC, 11)
    a, b = write_trial(trial, tmp_path / "a"), write_trial(again, tmp_path / "b")
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    other = generate_trial(SPEC, 12)
    assert not other.domains["tr"].equals(trial.domains["tr"])


def test_every_domain_conforms_to_the_raw_contract(trial):
    allowed = {"ARMCD": ["PAL_ET", "ET"], "ACTARMCD": ["PAL_ET", "ET"]}
    for code, frame in trial.domains.items():
        typed = conform(frame, RAW[code.upper()], allowed=allowed)
        assert len(typed) == len(frame) > 0, code


@pytest.mark.parametrize("fmt", ["parquet", "xpt"])
def test_other_formats_are_written(trial, tmp_path, fmt):
    paths = write_trial(trial, tmp_path, fmt)
    assert {p.name for p in paths} >= {f"dm.{fmt}", f"tr.{fmt}", "truth.csv"}


def test_consort_counts_add_up(trial):
    c = trial.consort
    dm = trial.domains["dm"]
    assert c["screened"] == len(dm) == c["screen_failures"] + c["randomized"]
    assert c["randomized"] == 198 == sum(c["by_arm"].values())
    assert (dm["ARMCD"] != "").sum() == 198
    assert sum(c["failures_by_first_criterion"].values()) == c["screen_failures"]
    # 2:1 permuted blocks of 3 and 6 in 4 strata: each stratum is at most one block off 2:1
    assert abs(c["by_arm"]["PAL_ET"] - 2 * c["by_arm"]["ET"]) <= 4 * 6
    assert c["treated"] == 198 - 3  # CONSORT: 3 randomized patients never treated
    assert c["treated"] == (dm["ACTARMCD"] != "").sum()


def test_screen_failures_fail_the_spec_rules_and_the_others_pass(trial):
    sc = trial.domains["sc"]
    wide = sc.pivot(index="USUBJID", columns="SCTESTCD", values="SCORRES").reset_index()
    wide = wide.rename(columns={"USUBJID": "subject_id"}).fillna("")
    result = screen(SPEC.eligibility, SPEC.subject_attributes, wide)
    verdict = dict(zip(result.subjects["subject_id"], result.subjects["verdict"], strict=True))
    dm = trial.domains["dm"]
    for usubjid, arm in zip(dm["USUBJID"], dm["ARMCD"], strict=True):
        assert verdict[usubjid] == ("eligible" if arm else "not_eligible"), usubjid


def test_no_event_before_randomization_and_nothing_after_death_or_cutoff(trial):
    dm = trial.domains["dm"].set_index("USUBJID")
    rand = _dates(dm["RANDDT"])
    death = _dates(dm["DTHDTC"])
    cutoff = pd.Timestamp(trial.data_cutoff)
    checks = {
        "tr": "TRDTC",
        "ae": "AESTDTC",
        "lb": "LBDTC",
        "ex": "EXSTDTC",
        "ds": "DSSTDTC",
        "cm": "CMSTDTC",
    }
    for code, column in checks.items():
        frame = trial.domains[code]
        when = _dates(frame[column])
        r = rand.reindex(frame["USUBJID"]).to_numpy()
        d = death.reindex(frame["USUBJID"]).to_numpy()
        assert (when <= cutoff).all(), code
        if code != "tr":  # baseline scans precede randomization by design (28-day window)
            assert (when.to_numpy() >= r).all(), code
        alive = pd.isna(d) | (when.to_numpy() <= d)
        assert alive.all(), code
    tr = trial.domains["tr"]
    post = tr[tr["VISIT"] != "BASELINE"]
    assert (_dates(post["TRDTC"]).to_numpy() > rand.reindex(post["USUBJID"]).to_numpy()).all()
    base = tr[tr["VISIT"] == "BASELINE"]
    gap = rand.reindex(base["USUBJID"]).to_numpy() - _dates(base["TRDTC"]).to_numpy()
    assert (gap <= np.timedelta64(28, "D")).all()


def test_lesion_measurements_reproduce_the_true_responses(trial):
    """RECIST 1.1 derived from TR (oncotrial.derive) equals the generator's scan responses."""
    tr = trial.domains["tr"].rename(columns={"TRDTC": "ADT"})
    tr["TRSTRESN"] = pd.to_numeric(tr["TRSTRESN"])
    tr["ABLFL"] = np.where(tr["VISIT"] == "BASELINE", "Y", "")
    derived = timepoint_responses(tr).to_frame()
    rs = trial.domains["rs"]
    merged = derived.assign(ADT=derived["adt"].astype(str) if "adt" in derived else None)
    got = {(r.usubjid, str(r.adt)): r.overall_response for r in timepoint_responses(tr).responses}
    want = {(u, d): s for u, d, s in zip(rs["USUBJID"], rs["RSDTC"], rs["RSSTRESC"], strict=True)}
    assert got == want
    assert len(merged) == len(rs)


def test_true_bor_matches_recist_confirmed_bor(trial):
    rs = trial.domains["rs"].rename(columns={"RSDTC": "ADT", "RSSTRESC": "AVALC"})
    truth = trial.truth[trial.truth["RANDOMIZED"] == "Y"].set_index("USUBJID")
    refs = {u: dt.date.fromisoformat(d) for u, d in truth["RANDDT"].items()}
    bor = best_overall_response(rs, confirm=True, reference_dates=refs)
    for s in bor.subjects:
        assert s.bor == truth.loc[s.usubjid, "BOR"], s.usubjid


def test_progression_documented_at_first_scan_after_true_progression(trial):
    t = trial.truth[(trial.truth["RANDOMIZED"] == "Y") & (trial.truth["PDDT"] != "")]
    tr = trial.domains["tr"]
    scans = tr[tr["VISIT"] != "BASELINE"].groupby("USUBJID")["TRDTC"].unique()
    assert len(t) > 100
    for row in t.itertuples():
        rand = dt.date.fromisoformat(row.RANDDT)
        days = sorted((dt.date.fromisoformat(d) - rand).days for d in scans[row.USUBJID])
        assert (rand + dt.timedelta(days=days[-1])).isoformat() == row.PDDT
        assert days[-1] >= row.TPROG_DAYS  # latent progression time, continuous days
        assert all(d < row.TPROG_DAYS for d in days[:-1])


def test_lab_grades_agree_with_neutropenia_aes(trial):
    """CTCAE v5 grades of the neutrophil counts (oncotrial.derive.ctcae) match the AE grades."""
    lb = trial.domains["lb"]
    neut_lb = lb[(lb["LBTESTCD"] == "NEUT") & (lb["LBBLFL"] != "Y")].copy()
    graded = grade_labs(neut_lb).to_frame()
    worst = graded.groupby("USUBJID")["GRADE"].max()
    ae = trial.domains["ae"]
    neut = ae[ae["AEDECOD"] == "Neutropenia"].groupby("USUBJID")["AETOXGR"].max()
    both = pd.concat([worst.rename("lab"), neut.rename("ae")], axis=1).fillna(0)
    severe = both[both["lab"] >= 2]
    assert len(severe) > 30
    assert (severe["lab"] == severe["ae"]).all()
    assert (both.loc[both["ae"] >= 2, "lab"] == both.loc[both["ae"] >= 2, "ae"]).all()


def test_bad_arguments_are_named():
    with pytest.raises(InputError, match="seed"):
        generate_trial(SPEC, -1)
    with pytest.raises(InputError, match="n:"):
        generate_trial(SPEC, 1, n=1)
    abemaciclib = load_spec("src/oncotrial/spec/examples/abemaciclib_rechallenge.yaml")
    with pytest.raises(SpecError, match=r"does not model|no assessment"):
        generate_trial(abemaciclib, 1, n=20)


def test_recist_target_rule_boundaries():
    # 20% and 5 mm over the nadir both needed; 30% below baseline is PR (RECIST 1.1 4.3.1)
    assert target_response(60, 100, 50) == "PD"  # +20%, +10 mm
    assert target_response(59, 60, 50) == "SD"  # +18%: not progression, not 30% below 60
    assert target_response(24, 30, 20) == "SD"  # +20% but only +4 mm
    assert target_response(25, 30, 20) == "PD"
    assert target_response(70, 100, 70) == "PR"
    assert target_response(71, 100, 71) == "SD"


def test_draws_use_only_uniforms_and_are_reproducible():
    a, b = Draws(5, 3), Draws(5, 3)
    assert np.array_equal(a.normal(0, 1, 50), b.normal(0, 1, 50))
    raw = np.random.Generator(np.random.PCG64(np.random.SeedSequence(5, spawn_key=(3,))))
    u = raw.random(4)
    c = Draws(5, 3)
    assert np.array_equal(c.integers(1, 6, 4), 1 + np.floor(u * 6).astype(int))


def test_cli_writes_files_and_one_json_document(tmp_path, capsys):
    import json

    from oncotrial.cli import main

    code = main(
        [
            "synth",
            "src/oncotrial/spec/examples/palmira.yaml",
            str(tmp_path),
            "--seed",
            "3",
            "--n",
            "30",
            "--json",
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["n"] == 30 and payload["seed"] == 3
    assert (tmp_path / "dm.csv").is_file() and (tmp_path / "truth.csv").is_file()
    assert (
        main(
            [
                "synth",
                "src/oncotrial/spec/examples/palmira.yaml",
                str(tmp_path),
                "--format",
                "sas",
                "--json",
            ]
        )
        == 1
    )
