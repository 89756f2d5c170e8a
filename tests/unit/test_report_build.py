"""The report shows the statistics core's numbers: results.json and the rendered CSV tables
are compared with direct calls on the same analysis files, read here with plain pandas.

The trial is a small synthetic PALMIRA-like trial (60 subjects, seed 5) derived with a data
cut, so the whole chain runs in a few seconds.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from oncotrial.analysis import analyze_survival
from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.derive.pipeline import derive_trial
from oncotrial.errors import DataError, InputError
from oncotrial.report.adam import read_adam
from oncotrial.report.analyses import run_analyses
from oncotrial.report.build import build_report
from oncotrial.report.figures.km_plot import km_plot_data
from oncotrial.spec import load_spec
from oncotrial.stats.proportions import odds_ratio
from oncotrial.synth import generate_trial, write_trial

CUTOFF = "2022-06-30"
STRATA = ["prior_et", "visceral_involvement"]


@pytest.fixture(scope="module")
def spec():
    return load_spec("palmira")


@pytest.fixture(scope="module")
def adam_dir(spec, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report_trial")
    write_trial(generate_trial(spec, 5, 60), root / "raw", "csv")
    derive_trial(spec, root / "raw", root / "adam", cutoff=CUTOFF)
    return root / "adam"


@pytest.fixture(scope="module")
def report(spec, adam_dir, tmp_path_factory):
    return build_report(spec, adam_dir, tmp_path_factory.mktemp("out") / "report")


@pytest.fixture(scope="module")
def results(report) -> dict:
    return json.loads(Path(report.results).read_text())


def _csv(report, name: str) -> pd.DataFrame:
    frame = pd.read_csv(Path(report.out_dir) / "tables" / f"{name}.csv", dtype=str).fillna("")
    return frame.drop(columns="indent")


def _itt_rows(adam_dir: Path, paramcd: str, flags=("ITTFL",)) -> pd.DataFrame:
    adsl = pd.read_csv(adam_dir / "adsl.csv", dtype=str)
    keep = np.ones(len(adsl), dtype=bool)
    for flag in flags:
        keep &= (adsl[flag] == "Y").to_numpy()
    ids = set(adsl.loc[keep, "USUBJID"])
    adtte = pd.read_csv(adam_dir / "adtte.csv", dtype={"prior_et": str})
    return adtte[(adtte["PARAMCD"] == paramcd) & adtte["USUBJID"].isin(ids)]


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)]


def _close_to_display(shown: str, values: list[float], scale: float = 1.0) -> None:
    """Each printed number is its value rounded to the printed decimals (half a unit)."""
    printed = re.findall(r"-?\d+(?:\.\d+)?", shown)
    assert len(printed) == len(values), (shown, values)
    for text, value in zip(printed, values, strict=True):
        decimals = len(text.split(".")[1]) if "." in text else 0
        assert abs(float(text) - value * scale) <= 0.5 * 10**-decimals + 1e-9, (shown, values)


@pytest.mark.parametrize("paramcd", ["PFS", "OS"])
def test_survival_results_equal_a_direct_core_call(adam_dir, results, report, paramcd):
    rows = _itt_rows(adam_dir, paramcd)
    direct = analyze_survival(
        rows, time="AVAL", censor="CNSR", arm="ARMCD", strata=STRATA, landmarks=[6, 12],
        reference="ET", profile="sas",
    )  # fmt: skip
    shown = next(
        s["analysis"]
        for s in results["survival"]
        if s["endpoint"] == paramcd and s["population"] == "ITT"
    )
    assert shown["cox"]["hr"] == pytest.approx(direct.cox.hr, rel=1e-12)
    assert shown["cox"]["ci"] == pytest.approx(list(direct.cox.ci), rel=1e-12)
    assert shown["logrank"]["p"] == pytest.approx(direct.logrank.p, abs=1e-12)
    for arm_shown, arm in zip(shown["arms"], direct.arms, strict=True):
        assert (arm_shown["arm"], arm_shown["n"], arm_shown["events"]) == (
            arm.arm,
            arm.n,
            arm.events,
        )
        for mark_shown, mark in zip(arm_shown["landmarks"], arm.landmarks, strict=True):
            assert mark_shown["survival"] == pytest.approx(mark.survival, rel=1e-12)
    for d_shown, d in zip(shown["landmark_differences"], direct.landmark_differences, strict=True):
        assert d_shown["difference"] == pytest.approx(d.difference, rel=1e-12, abs=1e-15)

    # the rendered table prints the same numbers, rounded
    table = _csv(report, "efficacy_itt")
    label = table.columns[0]
    start = table.index[table[label].str.startswith(
        "Progression-free" if paramcd == "PFS" else "Overall survival")][0]  # fmt: skip
    block = table.iloc[start : start + 7].set_index(label)
    exp = direct.arms[0]
    events = block.iloc[1, 0]
    assert events.startswith(f"{exp.events}/{exp.n} (")
    _close_to_display(events.split(" ")[1], [100 * exp.events / exp.n])
    hr_row = next(r for r in block.index if r.startswith("Hazard ratio"))
    _close_to_display(block.loc[hr_row].iloc[2], [direct.cox.hr, *direct.cox.ci])
    p_row = next(r for r in block.index if r.endswith("log-rank P"))
    _close_to_display(block.loc[p_row].iloc[2], [direct.logrank.p])
    six = next(r for r in block.index if r.startswith("6-month"))
    mark = exp.landmarks[0]
    _close_to_display(block.loc[six].iloc[0], [mark.survival, *mark.ci], scale=100)


def test_medians_shown_are_the_kaplan_meier_medians(adam_dir, report):
    rows = _itt_rows(adam_dir, "PFS")
    table = _csv(report, "efficacy_itt")
    median_cells = table[table.iloc[:, 0].str.startswith("Median")].iloc[0]
    for column, arm in ((1, "PAL_ET"), (2, "ET")):
        t = rows.loc[rows["ARMCD"] == arm, "AVAL"].to_numpy(float) / DAYS_PER_MONTH
        e = (rows.loc[rows["ARMCD"] == arm, "CNSR"] == 0).to_numpy()
        # product-limit estimate by hand: the SAS median is the first time S(t) < 0.5
        # (or the midpoint where S(t) = 0.5 exactly on a flat stretch)
        survival, median = 1.0, float("nan")
        times = np.unique(t[e])
        for i, time in enumerate(times):
            survival *= 1 - (e & (t == time)).sum() / (t >= time).sum()
            if abs(survival - 0.5) < 1e-12 and i + 1 < len(times):
                median = (time + times[i + 1]) / 2
                break
            if survival < 0.5:
                median = time
                break
        shown = median_cells.iloc[column].split(" (")[0]
        _close_to_display(shown, [median])


@pytest.mark.parametrize(
    "population,flags", [("ITT", ("ITTFL",)), ("measurable", ("ITTFL", "MEASFL"))]
)
def test_response_rates_equal_direct_counts_and_exact_limits(adam_dir, results, population, flags):
    adsl = pd.read_csv(adam_dir / "adsl.csv", dtype=str)
    adrs = pd.read_csv(adam_dir / "adrs.csv", dtype=str)
    keep = np.logical_and.reduce([(adsl[f] == "Y").to_numpy() for f in flags])
    subjects = adsl[keep]
    for endpoint in ("ORR", "CBR"):
        yes = set(adrs.loc[(adrs["PARAMCD"] == endpoint) & (adrs["AVALC"] == "Y"), "USUBJID"])
        shown = next(
            r for r in results["responses"]
            if r["endpoint"] == endpoint and r["population"] == population
        )  # fmt: skip
        counts = {}
        for arm in ("PAL_ET", "ET"):
            ids = subjects.loc[subjects["ARMCD"] == arm, "USUBJID"]
            x, n = int(ids.isin(yes).sum()), len(ids)
            counts[arm] = (x, n)
            got = shown["arms"][arm]
            assert (got["x"], got["n"]) == (x, n)
            # Clopper-Pearson limits as beta quantiles (Clopper & Pearson 1934)
            lower = 0.0 if x == 0 else stats.beta.ppf(0.025, x, n - x + 1)
            upper = 1.0 if x == n else stats.beta.ppf(0.975, x + 1, n - x)
            assert got["lower"] == pytest.approx(lower, abs=1e-10)
            assert got["upper"] == pytest.approx(upper, abs=1e-10)
        direct = odds_ratio(*counts["PAL_ET"], *counts["ET"], "exact")
        assert shown["odds_ratio"]["p_value"] == pytest.approx(direct.p_value, abs=1e-12)
        # Fisher's exact p by scipy, an independent implementation
        (x1, n1), (x2, n2) = counts["PAL_ET"], counts["ET"]
        fisher = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue
        assert shown["odds_ratio"]["p_value"] == pytest.approx(fisher, abs=1e-9)


def test_ae_table_counts_subjects_at_their_maximum_grade(adam_dir, report):
    adsl = pd.read_csv(adam_dir / "adsl.csv", dtype=str)
    adae = pd.read_csv(adam_dir / "adae.csv", dtype={"AETOXGR": float})
    safety = adsl[adsl["SAFFL"] == "Y"]
    arms = {"PAL_ET": "Palbociclib + ET", "ET": "ET"}
    big_n = safety["ARMCD"].value_counts()
    teae = adae[(adae["TRTEMFL"] == "Y") & adae["USUBJID"].isin(safety["USUBJID"])]
    worst = teae.groupby(["AEDECOD", "USUBJID"])["AETOXGR"].max().reset_index()
    worst["ARMCD"] = worst["USUBJID"].map(safety.set_index("USUBJID")["ARMCD"])
    expected_terms = set()
    for term, g in worst.groupby("AEDECOD"):
        frequent = any((g["ARMCD"] == a).sum() / big_n[a] >= 0.10 for a in arms)
        if frequent or (g["AETOXGR"] >= 4).any():
            expected_terms.add(term)
    table = _csv(report, "ae_by_grade").set_index("Adverse event")
    assert set(table.index) == expected_terms
    for term in expected_terms:
        g = worst[worst["AEDECOD"] == term]
        for code, label in arms.items():
            mine = g[g["ARMCD"] == code]
            for column, mask in (
                ("Any grade", np.ones(len(mine), dtype=bool)),
                ("Grade 3", (mine["AETOXGR"] == 3).to_numpy()),
                ("Grade 4", (mine["AETOXGR"] == 4).to_numpy()),
                ("Grade 5", (mine["AETOXGR"] == 5).to_numpy()),
            ):
                n = int(mask.sum())
                cell = table.loc[term, f"{label}: {column}"]
                assert int(cell.split(" ")[0]) == n
                if n:
                    _close_to_display(cell.split(" ")[1], [100 * n / big_n[code]])


def test_exposure_table_shows_median_rdi_per_agent(adam_dir, report):
    adex = pd.read_csv(adam_dir / "adex.csv", dtype=str)
    rdi = adex[(adex["PARAMCD"] == "RDI") & (adex["EXTRT"] == "palbociclib")]
    values = rdi.loc[rdi["ARMCD"] == "PAL_ET", "AVAL"].astype(float)
    table = _csv(report, "exposure")
    start = table.index[table["Agent"] == "palbociclib"][0]
    row = table.iloc[start + 2]
    assert row["Agent"].startswith("Relative dose intensity")
    _close_to_display(row["Palbociclib + ET"], [float(np.median(values))])
    assert row["ET"] == "-"


def test_consort_boxes_add_up_from_adsl(adam_dir, results):
    adsl = pd.read_csv(adam_dir / "adsl.csv", dtype=str)
    consort = results["consort"]
    assert consort["assessed"] == len(adsl)
    randomized = adsl[adsl["ITTFL"] == "Y"]
    assert consort["assessed"] - sum(consort["excluded"].values()) == len(randomized)
    for arm, code in zip(consort["arms"], ("PAL_ET", "ET"), strict=True):
        mine = randomized[randomized["ARMCD"] == code]
        assert arm["allocated"] == len(mine)
        treated = mine[mine["TRTSDT"].notna()]
        assert arm["allocated"] - sum(arm["not_treated"].values()) == len(treated)
        assert sum(arm["discontinued"].values()) == int((treated["EOTSTT"] == "DISCONTINUED").sum())


def test_km_figure_risk_table_counts_subjects_still_followed(adam_dir, report):
    result = next(s for s in report.analyses.survival if s.endpoint == "PFS")
    data = km_plot_data(result.analysis, tick_every=3)
    rows = _itt_rows(adam_dir, "PFS")
    for curve in data.curves:
        times = rows.loc[rows["ARMCD"] == curve.arm, "AVAL"].to_numpy(float)
        assert curve.at_risk.tolist() == [
            (times >= t * DAYS_PER_MONTH).sum() for t in data.risk_times
        ]


def test_every_table_and_figure_names_cut_set_and_conventions(report, results):
    for name, table in results["tables"].items():
        notes = " ".join(table["footnotes"])
        assert f"Data cut: {CUTOFF}" in notes, name
        assert "Analysis set" in notes or "population" in notes.lower(), name
        assert "Conventions: profile sas" in notes, name
    html = Path(report.html).read_text()
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S)
    assert len(captions) == len(report.figures) >= 4
    for caption in captions:
        assert f"Data cut: {CUTOFF}" in caption and "Conventions: profile sas" in caption


def test_every_file_is_written(report):
    root = Path(report.out_dir)
    for files in (*report.tables.values(), *report.figures.values()):
        for path in files.values():
            assert (root / path).stat().st_size > 0
    html = Path(report.html).read_text()
    assert html.count('src="data:image/svg+xml;base64,') == len(report.figures)
    assert "@media print" in html and 'id="toc"' in html
    for name in report.tables:
        assert f'href="#table-{name}"' in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # self-contained


def test_profile_r_changes_the_conventions_not_the_counts(spec, adam_dir, results):
    adam = read_adam(adam_dir, spec)
    r = run_analyses(spec, adam, profile="r")
    assert r.conventions.profile == "r" and r.conventions.ties == "efron"
    pfs = r.survival_for("PFS", "ITT")
    assert pfs is not None and pfs.analysis.cox.ties == "efron"
    assert [a.events for a in pfs.analysis.arms] == [
        a["events"] for a in results["survival"][0]["analysis"]["arms"]
    ]


def test_missing_dataset_is_named_and_nothing_is_written(spec, adam_dir, tmp_path):
    broken = tmp_path / "adam"
    shutil.copytree(adam_dir, broken)
    (broken / "adae.csv").unlink()
    out = tmp_path / "report"
    with pytest.raises(DataError, match="ADAE missing"):
        build_report(spec, broken, out)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report")]


def test_missing_column_is_named(spec, adam_dir, tmp_path):
    broken = tmp_path / "adam"
    shutil.copytree(adam_dir, broken)
    adtte = pd.read_csv(broken / "adtte.csv", dtype=str)
    adtte.drop(columns="CNSR").to_csv(broken / "adtte.csv", index=False)
    with pytest.raises(DataError, match="'CNSR'") as info:
        build_report(spec, broken, tmp_path / "report")
    assert info.value.details["column"] == "CNSR"


def test_refuses_to_replace_a_folder_that_is_not_a_report(spec, adam_dir, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        build_report(spec, adam_dir, out)
    assert (out / "thesis.txt").read_text() == "keep me"
