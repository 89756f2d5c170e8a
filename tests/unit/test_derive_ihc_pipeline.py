"""IHC flags in the trial pipeline (with and without MI, data cut, explain, log), as a
subgroup and Cox covariate on derived data, and the generator's MI distributions.

The mini trial (tests/data/derive/mini_trial) is copied with an mi.csv whose flags are worked
by hand below; the shipped synthetic PALMIRA trial (seed 36) carries the generated mi.csv.
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncotrial.cli import main
from oncotrial.derive.explain import explain_subject
from oncotrial.derive.pipeline import derive_datasets, derive_trial
from oncotrial.spec import load_spec
from oncotrial.stats.cox import cox
from oncotrial.stats.subgroups import subgroup_analysis
from oncotrial.synth.draws import Draws
from oncotrial.synth.params import PALMIRA
from oncotrial.synth.pathology import mi_records
from oncotrial.synth.trial import STREAMS

MINI = Path(__file__).parents[1] / "data" / "derive" / "mini_trial"
SHIPPED = Path(__file__).parents[2] / "src" / "oncotrial" / "data" / "examples" / "palmira_trial"
SPEC = load_spec("palmira")

# RANDDT: P01 2024-01-01, P02 2024-01-10, P03 2024-02-01, P04 2024-01-15, P09 not randomized
MI_CSV = """USUBJID,MITESTCD,MISTRESC,MISTRESN,MISPEC,VISIT,MIDTC
P01,ER,5,5,TISSUE,BASELINE,2023-12-20
P01,PGR,0,0,TISSUE,BASELINE,2023-12-20
P01,HER2,1+,,TISSUE,BASELINE,2023-12-20
P01,KI67,20,20,TISSUE,BASELINE,2023-12-20
P01,ER,95,95,TISSUE,PROGRESSION,2024-08-20
P02,ER,90,90,TISSUE,BASELINE,2019-03-01
P02,ER,11%,,TISSUE,BASELINE,2024-01-05
P02,HER2,2+,,TISSUE,BASELINE,2024-01-05
P02,KI67,19,19,TISSUE,BASELINE,2024-01-05
P03,HER2,2+,,TISSUE,BASELINE,2024-01-20
P03,HER2ISH,NOT AMPLIFIED,,TISSUE,BASELINE,2024-01-20
P09,ER,0,0,TISSUE,BASELINE,2024-01-03
"""
FLAGS = ["ERPOSFL", "ERLOWFL", "PGRPOSFL", "HER2NEGFL", "HER2LOWFL", "KI67HIFL"]
EXPECTED = {  # by hand from MI_CSV and the ASCO/CAP and St Gallen rules
    "P01": ["Y", "Y", "N", "Y", "Y", "Y"],  # ER 5% low; PgR 0; HER2 1+; Ki-67 20 = threshold
    "P02": ["Y", "N", None, None, None, "N"],  # latest ER 11%; HER2 2+ without ISH; Ki-67 19
    "P03": [None, None, None, "Y", "Y", None],  # HER2 2+ / ISH not amplified
    "P04": [None] * 6,  # no MI
    "P09": ["N", "N", None, None, None, None],  # screen failure: ER 0%
}


@pytest.fixture(scope="module")
def raw_with_mi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("mini") / "raw"
    shutil.copytree(MINI, raw)
    (raw / "mi.csv").write_text(MI_CSV)
    return raw


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    result = derive_datasets(SPEC, SHIPPED)
    pfs = result.datasets["ADTTE"].query("PARAMCD == 'PFS'")[["USUBJID", "AVAL", "CNSR"]]
    return result.datasets["ADSL"].merge(pfs, on="USUBJID")


def test_flags_in_adsl_traces_and_log(raw_with_mi: Path) -> None:
    result = derive_datasets(SPEC, raw_with_mi)
    adsl = result.datasets["ADSL"].set_index("USUBJID")
    for subject, flags in EXPECTED.items():
        assert list(adsl.loc[subject, FLAGS]) == flags, subject
    assert adsl.loc["P02", "ERPCT"] == 11.0 and adsl.loc["P01", "HER2IHC"] == "1+"
    assert adsl["KI67PCT"].isna()["P04"]
    adsl_lines = explain_subject(result, "P02").sections["ADSL"]
    assert any(
        line.startswith("ERLOWFL = N: ER 11% (MI row 7: TISSUE, BASELINE, 2024-01-05; most "
                        "recent of 2 samples on or before randomization) is outside 1-10%")
        for line in adsl_lines
    )  # fmt: skip
    settings = result.log["settings"]["ihc"]
    assert settings["flags"]["KI67HIFL"]["rule"] == "KI67 >= 20%"
    assert "Goldhirsch" in settings["flags"]["KI67HIFL"]["source"]
    assert not any("MI" in w for w in result.log["warnings"])


def test_without_mi_the_flags_are_skipped_with_a_note() -> None:
    result = derive_datasets(SPEC, MINI)
    assert "optional domain MI absent: derivations using it skipped" in result.log["warnings"]
    assert "MI" in result.log["absent_domains"]
    assert not set(FLAGS) & set(result.datasets["ADSL"].columns)
    assert "ihc" not in result.log["settings"]


def test_data_cut_drops_later_samples_and_files_are_written(
    raw_with_mi: Path, tmp_path: Path
) -> None:
    result = derive_trial(SPEC, raw_with_mi, tmp_path / "out", cutoff="2024-06-01")
    assert result.log["data_cut"]["dropped"]["MI"] == 1  # the 2024-08-20 progression sample
    back = pd.read_csv(tmp_path / "out" / "adsl.csv", dtype=str, keep_default_na=False)
    assert list(back.set_index("USUBJID").loc["P01", FLAGS].replace("", None)) == EXPECTED["P01"]
    assert back.set_index("USUBJID").loc["P04", "ERPOSFL"] == ""


def test_cli_explain_shows_ihc_flags(raw_with_mi: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["derive", "explain", "P03", "--spec", "palmira", "--raw", str(raw_with_mi),
                 "--json"])  # fmt: skip
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    line = next(x for x in payload["sections"]["ADSL"] if x.startswith("HER2LOWFL"))
    assert "HER2 IHC 2+" in line and "ISH NOT AMPLIFIED (MI row 11, same sample)" in line


def test_shipped_mi_looks_like_an_hr_positive_her2_negative_population(
    shipped: pd.DataFrame,
) -> None:
    itt = shipped[shipped["ITTFL"] == "Y"]
    assert len(itt) == 198
    assert (itt["ERPOSFL"] == "Y").all()  # eligibility: HR-positive
    assert not (itt["HER2NEGFL"] == "N").any()  # eligibility: HER2-negative
    assert abs((itt["PGRPOSFL"] == "Y").mean() - 0.70) < 0.1
    assert abs((itt["HER2IHC"] == "0").mean() - 0.40) < 0.1
    assert abs(itt["KI67PCT"].median() - 20) <= 5


def test_flag_as_subgroup_and_cox_covariate_on_derived_data(shipped: pd.DataFrame) -> None:
    itt = shipped[shipped["ITTFL"] == "Y"].reset_index(drop=True)
    itt["EVENT"] = (itt["CNSR"] == 0).astype(int)
    table = subgroup_analysis(
        itt, "AVAL", "EVENT", "ARMCD", ["HER2LOWFL", "KI67HIFL"], reference="ET"
    )
    rows = {(r.subgroup, r.level): r for r in table.rows}
    for flag in ("HER2LOWFL", "KI67HIFL"):
        missing = int(itt[flag].isna().sum())
        assert any(f"{flag}: {missing} row(s) with a missing value" in n for n in table.notes)
        for level in ("Y", "N"):
            subset = itt[itt[flag] == level]
            row = rows[(flag, level)]
            for arm, summary in (("PAL_ET", row.experimental), ("ET", row.control)):
                part = subset[subset["ARMCD"] == arm]
                assert (summary.n, summary.events) == (len(part), int(part["EVENT"].sum()))
            fit = cox(
                subset["AVAL"].to_numpy(float),
                subset["EVENT"].to_numpy(),
                {"pal": (subset["ARMCD"] == "PAL_ET").astype(int).to_numpy()},
            )
            assert row.hr == pytest.approx(fit.terms[0].hr, rel=1e-9)
    tested = itt[itt["KI67HIFL"].notna()]
    model = cox(
        tested["AVAL"].to_numpy(float),
        tested["EVENT"].to_numpy(),
        {
            "pal": (tested["ARMCD"] == "PAL_ET").astype(int).to_numpy(),
            "ki67_high": (tested["KI67HIFL"] == "Y").astype(int).to_numpy(),
        },
    )
    assert [t.name for t in model.terms] == ["pal", "ki67_high"]
    assert all(np.isfinite(t.hr) and t.hr > 0 for t in model.terms)


def test_generator_mi_distributions_match_its_parameters() -> None:
    """4000 subjects from the pathology stream: proportions within 4 binomial SEs of the
    parameters (docs/SYNTHETIC_TRIAL.md), and the eligibility facts hold for every sample."""
    assert len(set(STREAMS.values())) == len(STREAMS)
    draws = Draws(7, STREAMS["pathology"])
    rand = pd.Timestamp("2021-06-01").date()
    rows = [r for k in range(4000) for r in mi_records(f"S{k}", rand, PALMIRA, draws)]
    mi = pd.DataFrame(rows)
    assert (mi["MIDTC"] < rand.isoformat()).all()
    samples = mi.groupby(["USUBJID", "MIDTC"]).ngroups
    second = samples / 4000 - 1

    def close(observed: float, p: float, n: int) -> bool:
        return abs(observed - p) < 4 * (p * (1 - p) / n) ** 0.5

    assert close(second, PALMIRA.second_sample, 4000)
    er = mi.loc[mi["MITESTCD"] == "ER", "MISTRESN"].astype(float)
    assert er.min() >= 1 and er.max() <= 100
    assert close(float((er <= 10).mean()), PALMIRA.er_bands[0], len(er))
    pgr = mi.loc[mi["MITESTCD"] == "PGR", "MISTRESN"].astype(float)
    assert close(float((pgr >= 1).mean()), PALMIRA.pgr_positive, len(pgr))
    her2 = mi.loc[mi["MITESTCD"] == "HER2", "MISTRESC"]
    assert set(her2) == {"0", "1+", "2+"}
    for score, p in zip(("0", "1+", "2+"), PALMIRA.her2_probs, strict=True):
        assert close(float((her2 == score).mean()), p, len(her2))
    ish = mi[mi["MITESTCD"] == "HER2ISH"]
    assert set(ish["MISTRESC"]) == {"NOT AMPLIFIED"}
    assert close(len(ish) / int((her2 == "2+").sum()), PALMIRA.her2_ish_recorded, len(ish))
    ki67 = mi.loc[mi["MITESTCD"] == "KI67", "MISTRESN"].astype(float)
    assert close(len(ki67) / len(her2), PALMIRA.ki67_done, len(her2))
    assert abs(statistics.median(ki67) - PALMIRA.ki67_median) <= 1.5
