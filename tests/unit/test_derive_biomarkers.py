"""Biomarker flags: mutated at baseline, acquired by a later visit, not tested (hand-worked)."""

from __future__ import annotations

import pandas as pd
import pytest

from oncotrial.derive.biomarkers import BiomarkerFlag, default_flags, derive_biomarker_flags
from oncotrial.errors import DataError, InputError

ROWS = [
    # subject, gene, result, specimen, visit
    ("S1", "ESR1", "NOT DETECTED", "CTDNA", "BASELINE"),
    ("S1", "ESR1", "MUTATED", "CTDNA", "MONTH 3"),  # acquired
    ("S1", "PIK3CA", "MUTATED", "TISSUE", "BASELINE"),
    ("S2", "ESR1", "MUTATED", "TISSUE", "BASELINE"),  # tissue mutated, ctDNA not detected
    ("S2", "ESR1", "NOT DETECTED", "CTDNA", "BASELINE"),
    ("S2", "ESR1", "MUTATED", "CTDNA", "MONTH 3"),
    ("S3", "ESR1", "NOT DETECTED", "CTDNA", "BASELINE"),
    ("S3", "ESR1", "NOT DETECTED", "CTDNA", "Month 3"),  # visit spelled in lower case
    ("S3", "PIK3CA", "NOT DETECTED", "CTDNA", "BASELINE"),
    ("S4", "ESR1", None, "CTDNA", "BASELINE"),  # sample without a result
    ("S5", "ESR1", "NOT DETECTED", "CTDNA", "BASELINE"),  # no month-3 sample
]
GF = pd.DataFrame(ROWS, columns=["USUBJID", "GFGENSYM", "GFSTRESC", "GFSPEC", "VISIT"])
SUBJECTS = ["S1", "S2", "S3", "S4", "S5", "S6"]


def test_default_flags_by_hand() -> None:
    result = derive_biomarker_flags(GF, SUBJECTS)
    data = result.data.set_index("USUBJID")
    assert list(data.columns) == ["ESR1MBL", "ESR1ACQ", "PIK3CAMBL", "PIK3CAACQ"]
    assert data["ESR1MBL"].to_dict() == {
        "S1": "N", "S2": "Y", "S3": "N", "S4": None, "S5": "N", "S6": None,
    }  # fmt: skip
    # S2 is ctDNA-negative at baseline but tissue-positive: acquisition is read on ctDNA
    # only (like with like), so S2 counts as acquired in ctDNA
    assert data["ESR1ACQ"].to_dict() == {
        "S1": "Y", "S2": "Y", "S3": "N", "S4": None, "S5": None, "S6": None,
    }  # fmt: skip
    assert data["PIK3CAMBL"].to_dict() == {
        "S1": "Y", "S2": None, "S3": "N", "S4": None, "S5": None, "S6": None,
    }  # fmt: skip
    counts = result.counts().set_index("FLAG")
    assert counts.loc["ESR1MBL"].tolist() == [1, 3, 2]


def test_acquired_on_all_specimens_excludes_baseline_mutated() -> None:
    flags = [
        BiomarkerFlag("ESR1ACQ", "ESR1", "acquired", ("TISSUE", "CTDNA"), "BASELINE", "MONTH 3")
    ]
    result = derive_biomarker_flags(GF, SUBJECTS, flags=flags)
    assert result.data.set_index("USUBJID").loc["S2", "ESR1ACQ"] is None
    [trace] = [t for t in result.traces if t.usubjid == "S2"]
    assert "already mutated, acquisition not defined" in trace.text


def test_configurable_gene_and_time_point() -> None:
    gf = pd.concat(
        [GF, pd.DataFrame([("S3", "ESR1", "MUTATED", "CTDNA", "MONTH 6")], columns=GF.columns)]
    )
    flags = default_flags(["esr1"], later_visit="Month 6")
    assert [f.name for f in flags] == ["ESR1MBL", "ESR1ACQ"]
    data = derive_biomarker_flags(gf, SUBJECTS, flags=flags).data.set_index("USUBJID")
    assert data.loc["S3", "ESR1ACQ"] == "Y"
    assert data.loc["S1", "ESR1ACQ"] is None  # no month-6 sample


def test_traces_name_rows_and_results() -> None:
    gf = GF.assign(GFDTC=["2024-01-02"] + [None] * (len(GF) - 1))
    result = derive_biomarker_flags(gf, SUBJECTS)
    text = dict((t.variable, t.text) for t in result.traces if t.usubjid == "S1")
    assert text["ESR1ACQ"] == (
        "ESR1 at BASELINE (CTDNA) not detected (GF row 1 CTDNA 2024-01-02 NOT DETECTED); "
        "ESR1 at MONTH 3 (CTDNA) mutated (GF row 2 CTDNA MUTATED)"
    )
    s4 = dict((t.variable, t.text) for t in result.traces if t.usubjid == "S4")
    assert s4["ESR1MBL"] == "ESR1 at BASELINE (TISSUE/CTDNA) not tested: 1 row(s) without a result"


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("GFSTRESC", "AMPLIFIED", "not valid"),
        ("GFSPEC", "BLOOD", "not valid"),
        ("USUBJID", "S9", "not a subject"),
        ("VISIT", None, "missing"),
    ],
)
def test_bad_cells(column: str, value: object, problem: str) -> None:
    gf = GF.copy()
    gf.loc[2, column] = value
    with pytest.raises(DataError) as err:
        derive_biomarker_flags(gf, SUBJECTS)
    assert (err.value.details["dataset"], err.value.details["column"]) == ("GF", column)
    assert err.value.details["row"] == 3
    assert problem in err.value.message


def test_bad_flag_definitions() -> None:
    with pytest.raises(InputError, match="needs later_visit"):
        BiomarkerFlag("X", "ESR1", "acquired")
    with pytest.raises(InputError, match="specimens"):
        BiomarkerFlag("X", "ESR1", "baseline", ("URINE",))
    with pytest.raises(InputError, match="not a column name"):
        BiomarkerFlag("1X", "ESR1", "baseline")
    with pytest.raises(InputError, match="repeat"):
        derive_biomarker_flags(GF, SUBJECTS, flags=default_flags(["ESR1", "ESR1"]))
