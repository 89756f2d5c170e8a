"""ADTR (sum of target-lesion diameters per assessment), every value worked by hand.

Subject A: target T1 (non-nodal, longest diameter) and node N1 (short axis).
  baseline 01-01: 30 + 20 = 50                           BASE 50, ABLFL Y
  03-01: 20 + 12 = 32  CHG -18  PCHG -36      NADIR 50   (PR)
  05-01: T1 not measured -> sum unknown       NADIR 32   (AVAL, CHG, PCHG empty)
  07-01: T1 too small (5 mm) + 9 = 14  CHG -36  PCHG -72  NADIR 32 (05-01 does not count)
  09-01: 14 + 11 = 25  CHG -25  PCHG -50      NADIR 14   (25 >= 1.2 x 14 and +11 mm: PD)
Subject B: non-target disease only -> no ADTR row.
Subject C: baseline 33, 03-01: 22 -> CHG -11, PCHG -100/3.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from oncotrial.derive.adtr import derive_adtr
from oncotrial.derive.contracts import ADAM, conform
from oncotrial.derive.pipeline import derive_datasets, derive_trial
from oncotrial.derive.recist import timepoint_responses
from oncotrial.spec import load_spec

MINI = Path(__file__).parents[1] / "data" / "derive" / "mini_trial"


def _lesions() -> pd.DataFrame:
    rows = []

    def add(
        s: str, d: str, lesion: str, klass: str, test: str, n: float | None, c: str = ""
    ) -> None:
        rows.append(
            {"USUBJID": s, "ADT": pd.Timestamp(d), "TRLNKID": lesion, "TRGRPID": klass,
             "TRTESTCD": test, "TRSTRESN": n, "TRSTRESC": c or None,
             "VISIT": "SCREENING" if d == "2024-01-01" else None}
        )  # fmt: skip

    for d, t1, n1, note in (
        ("2024-01-01", 30, 20, ""),
        ("2024-03-01", 20, 12, ""),
        ("2024-05-01", None, 8, "NE"),
        ("2024-07-01", None, 9, "TOO SMALL TO MEASURE"),
        ("2024-09-01", 14, 11, ""),
    ):
        add("A", d, "T1", "TARGET", "LDIAM", t1, note)
        add("A", d, "N1", "TARGET", "LPERP", n1)
    for d in ("2024-01-01", "2024-03-01"):
        add("B", d, "NT1", "NON-TARGET", "TUMSTATE", None, "PRESENT")
    add("C", "2024-01-01", "T1", "TARGET", "LDIAM", 33)
    add("C", "2024-03-01", "T1", "TARGET", "LDIAM", 22)
    return pd.DataFrame(rows)


ADSL = pd.DataFrame({"USUBJID": ["A", "B", "C"], "ARMCD": ["PAL_ET", "ET", "ET"]})


@pytest.fixture(scope="module")
def adtr() -> pd.DataFrame:
    recist = timepoint_responses(_lesions())
    return derive_adtr(recist, ADSL, visits={("A", pd.Timestamp("2024-01-01").date()): "SCREENING"})


def _same(actual: float, expected: float | None) -> bool:
    if expected is None:
        return math.isnan(actual)
    return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-12)


def test_subject_with_nodes_missing_and_too_small(adtr: pd.DataFrame) -> None:
    a = adtr.loc[adtr["USUBJID"] == "A"]
    assert [d.date().isoformat() for d in a["ADT"]] == [
        "2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-09-01"
    ]  # fmt: skip
    expected = {  # AVAL, CHG, PCHG, NADIR
        "2024-01-01": (50, 0, 0, None),
        "2024-03-01": (32, -18, -36, 50),
        "2024-05-01": (None, None, None, 32),
        "2024-07-01": (14, -36, -72, 32),
        "2024-09-01": (25, -25, -50, 14),
    }
    for row in a.itertuples():
        aval, chg, pchg, nadir = expected[row.ADT.date().isoformat()]
        assert _same(row.AVAL, aval) and _same(row.CHG, chg), row
        assert _same(row.PCHG, pchg) and _same(row.NADIR, nadir), row
        assert row.BASE == 50 and row.PARAMCD == "SUMDIAM" and row.AVALU == "mm"
    assert a["ABLFL"].tolist() == ["Y", None, None, None, None]
    assert a["VISIT"].iloc[0] == "SCREENING" and a["ARMCD"].eq("PAL_ET").all()


def test_only_subjects_with_target_lesions(adtr: pd.DataFrame) -> None:
    assert sorted(set(adtr["USUBJID"])) == ["A", "C"]
    c = adtr.loc[adtr["USUBJID"] == "C"].iloc[1]
    assert c.AVAL == 22 and c.CHG == -11 and _same(c.PCHG, -100 / 3) and c.NADIR == 33


def test_subjects_outside_adsl_are_left_out() -> None:
    recist = timepoint_responses(_lesions())
    frame = derive_adtr(recist, ADSL.iloc[:1])
    assert set(frame["USUBJID"]) == {"A"} and frame["VISIT"].isna().all()


def test_no_lesion_data_gives_an_empty_frame_with_the_columns() -> None:
    frame = derive_adtr(None, ADSL)
    assert frame.empty and {"AVAL", "BASE", "CHG", "PCHG", "NADIR", "ABLFL"} <= set(frame)
    conform(frame.assign(STUDYID="X", DCUTDT=None), ADAM["ADTR"])


def test_pipeline_writes_adtr_with_the_cut(tmp_path: Path) -> None:
    # mini trial P01: one target 50 -> 40 -> 30 -> 25 -> 40 mm (tr.csv), PCHG -20, -40, -50,
    # -20; NADIR 50, 40, 30, 25. The 2024-06-01 cut drops the 06-17 and 08-12 scans.
    spec = load_spec("palmira")
    full = derive_datasets(spec, MINI).datasets["ADTR"]
    p01 = full.loc[full["USUBJID"] == "P01"]
    assert p01["AVAL"].tolist() == [50, 40, 30, 25, 40]
    assert p01["PCHG"].tolist() == [0, -20, -40, -50, -20]
    assert p01["NADIR"].tolist()[1:] == [50, 40, 30, 25]
    assert set(full["USUBJID"]) == {"P01", "P02", "P03", "P04", "P06", "P07", "P08"}
    out = tmp_path / "out"
    result = derive_trial(spec, MINI, out, cutoff="2024-06-01")
    cut = pd.read_csv(out / "adtr.csv", dtype=str)
    assert cut.loc[cut["USUBJID"] == "P01", "ADT"].tolist() == [
        "2023-12-20", "2024-02-26", "2024-04-22"
    ]  # fmt: skip
    assert (cut["DCUTDT"] == "2024-06-01").all()
    assert result.log["counts"]["rows"]["ADTR"] == len(cut)
