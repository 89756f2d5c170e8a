"""Subgroup (forest plot) table: structure, counts, errors and display formatting.

Every number of the table is checked against R in tests/conformance (kind "subgroup_table");
here: the table's shape and columns (PALMIRA Figure 3), edge cases and bad input.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrial.errors import DataError, InputError, OncotrialWarning
from oncotrial.stats.cox import cox
from oncotrial.stats.subgroups import ALL_PATIENTS, interaction_test, subgroup_analysis


def trial(n: int = 240, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n) < 2 / 3, "P+ET", "ET")
    visceral = np.where(rng.random(n) < 0.6, "Yes", "No")
    age = np.where(rng.random(n) < 0.65, "<65 years", ">=65 years")
    rate = 0.2 * np.where(arm == "P+ET", 0.8, 1.0) * np.where(visceral == "Yes", 1.4, 1.0)
    time = rng.exponential(1 / rate)
    cens = rng.uniform(5, 30, n)
    return pd.DataFrame(
        {
            "pfs": np.minimum(time, cens).round(2),
            "progressed": (time <= cens).astype(int),
            "arm": arm,
            "visceral": visceral,
            "age": age,
            "prior_et": np.where(rng.random(n) < 0.8, "Fulvestrant", "Letrozole"),
        }
    )


FIGURE3_COLUMNS = [
    "Subgroup",
    "Level",
    "P+ET Events, No./No. (%)",
    "P+ET Median PFS (95% CI)",
    "ET Events, No./No. (%)",
    "ET Median PFS (95% CI)",
    "HR (95% CI)",
    "Interaction P",
]


def test_table_has_figure3_rows_and_columns() -> None:
    table = subgroup_analysis(
        trial(), "pfs", "progressed", "arm", ["age", "visceral"], reference="ET"
    )
    shown = table.to_frame(formatted=True)
    assert list(shown.columns) == FIGURE3_COLUMNS
    assert shown["Subgroup"].tolist() == [ALL_PATIENTS, "age", "age", "visceral", "visceral"]
    assert shown["Level"].tolist() == ["", "<65 years", ">=65 years", "No", "Yes"]
    # interaction p on the first row of each subgroup only, none on "All patients"
    assert shown["Interaction P"].tolist()[0] == ""
    assert shown["Interaction P"].tolist()[2] == "" and shown["Interaction P"].tolist()[1] != ""
    assert (table.experimental_arm, table.control_arm) == ("P+ET", "ET")
    assert len(table.interactions) == 2 and all(t.df == 1 for t in table.interactions)


def test_counts_add_up_to_all_patients() -> None:
    data = trial()
    frame = subgroup_analysis(
        data, "pfs", "progressed", "arm", ["age", "prior_et"], reference="ET"
    ).to_frame()
    total = frame.iloc[0]
    assert total["experimental_n"] == (data["arm"] == "P+ET").sum()
    assert total["control_events"] == data.loc[data["arm"] == "ET", "progressed"].sum()
    for sub in ("age", "prior_et"):
        part = frame[frame["subgroup"] == sub]
        for col in ("experimental_n", "experimental_events", "control_n", "control_events"):
            assert part[col].sum() == total[col]
    assert total["experimental_percent"] == pytest.approx(
        100 * total["experimental_events"] / total["experimental_n"]
    )


def test_overall_row_is_the_cox_hr_and_strata_make_it_adjusted() -> None:
    data = trial()
    table = subgroup_analysis(
        data, "pfs", "progressed", "arm", ["age"], reference="ET", strata=["visceral", "prior_et"]
    )
    fit = cox(
        data["pfs"],
        data["progressed"],
        data[["arm"]],
        reference={"arm": "ET"},
        strata=data[["visceral", "prior_et"]],
    )
    assert table.rows[0].hr == pytest.approx(fit.terms[0].hr, rel=1e-12)
    assert "Adjusted HR (95% CI)" in table.to_frame(formatted=True).columns
    assert table.strata == ("visceral", "prior_et")


def test_stratification_factor_as_subgroup_keeps_an_interaction_test() -> None:
    data = trial()
    table = subgroup_analysis(
        data, "pfs", "progressed", "arm", ["visceral"], reference="ET", strata=["visceral"]
    )
    test = table.interactions[0]
    assert test.df == 1 and 0.0 <= test.p <= 1.0 and test.stratified


def test_interaction_df_is_levels_minus_one() -> None:
    data = trial()
    data["age3"] = pd.cut(np.arange(len(data)) % 3, [-1, 0, 1, 2], labels=["a", "b", "c"])
    test = interaction_test(
        data["pfs"], data["progressed"], data["arm"], data["age3"], arm_reference="ET", name="age3"
    )
    assert test.df == 2 and test.levels == ("a", "b", "c")
    assert set(test.level_hr) == {"a", "b", "c"}


def test_level_with_one_arm_gets_a_note_not_a_crash() -> None:
    data = trial()
    data.loc[(data["prior_et"] == "Letrozole"), "arm"] = "P+ET"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OncotrialWarning)
        table = subgroup_analysis(data, "pfs", "progressed", "arm", ["prior_et"], reference="ET")
    letrozole = next(r for r in table.rows if r.level == "Letrozole")
    assert math.isnan(letrozole.hr) and "only one arm" in letrozole.note
    assert letrozole.control.n == 0
    assert table.to_frame(formatted=True).iloc[-1]["HR (95% CI)"] == "NA"


def test_missing_subgroup_values_are_left_out_and_noted() -> None:
    data = trial()
    data.loc[:4, "age"] = None
    table = subgroup_analysis(data, "pfs", "progressed", "arm", ["age"], reference="ET")
    frame = table.to_frame()
    part = frame[frame["subgroup"] == "age"]
    assert (part["experimental_n"] + part["control_n"]).sum() == len(data) - 5
    assert any("5 row(s) with a missing value" in n for n in table.notes)


def test_bad_input() -> None:
    data = trial()
    with pytest.raises(DataError, match="column 'ecog' not found"):
        subgroup_analysis(data, "pfs", "progressed", "arm", ["ecog"])
    three = data.assign(arm=np.resize(["A", "B", "C"], len(data)))
    with pytest.raises(DataError, match="has 3 arms"):
        subgroup_analysis(three, "pfs", "progressed", "arm", ["age"])
    with pytest.raises(InputError, match="level 'Placebo' does not occur"):
        subgroup_analysis(data, "pfs", "progressed", "arm", ["age"], reference="Placebo")
    bad = data.copy()
    bad.loc[7, "pfs"] = -1.0
    with pytest.raises(DataError, match="column 'pfs', row 8"):
        subgroup_analysis(bad, "pfs", "progressed", "arm", ["age"])


def test_display_formatting_follows_the_paper() -> None:
    table = subgroup_analysis(
        trial(),
        "pfs",
        "progressed",
        "arm",
        ["age"],
        reference="ET",
        labels={"age": "Age"},
        endpoint="OS",
    )
    shown = table.to_frame(formatted=True)
    assert "P+ET Median OS (95% CI)" in shown.columns
    row = table.rows[1]
    cell = shown.iloc[1]["P+ET Events, No./No. (%)"]
    assert cell.startswith(f"{row.experimental.events} / {row.experimental.n} (")
    assert shown.iloc[1]["Subgroup"] == "Age"
    p = shown.iloc[1]["Interaction P"]
    assert p.startswith(".") or p == "<.001"
    assert "Conventions" in table.summary()


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000))
def test_interaction_p_is_a_probability_and_rows_are_complete(seed: int) -> None:
    data = trial(n=90, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OncotrialWarning)
        table = subgroup_analysis(
            data, "pfs", "progressed", "arm", ["visceral", "age"], reference="ET"
        )
    frame = table.to_frame()
    assert len(frame) == 5
    assert frame["experimental_n"].iloc[1:3].sum() == frame["experimental_n"].iloc[0]
    for test in table.interactions:
        assert math.isnan(test.p) or 0.0 <= test.p <= 1.0


def test_conf_type_and_ties_override_the_profile() -> None:
    from oncotrial.stats.km import kaplan_meier

    df = trial()
    table = subgroup_analysis(
        df,
        "pfs",
        "progressed",
        "arm",
        ["visceral"],
        reference="ET",
        conf_type="log-log",
        ties="breslow",
    )
    assert (table.conventions.conf_type, table.conventions.ties) == ("log-log", "breslow")
    yes = next(r for r in table.rows if r.level == "Yes")
    mask = (df.visceral == "Yes") & (df.arm == "ET")
    km = kaplan_meier(df.pfs[mask], df.progressed[mask], conf_type="log-log")
    plain = kaplan_meier(df.pfs[mask], df.progressed[mask])
    assert (yes.control.median_lower, yes.control.median_upper) == km.median_ci
    assert km.median_ci != plain.median_ci  # the override changes the numbers
    sub = df[df.visceral == "Yes"]
    hr = cox(sub.pfs, sub.progressed, sub[["arm"]], ties="breslow", reference={"arm": "ET"})
    assert yes.hr == pytest.approx(hr.terms[0].hr, rel=1e-12)
