"""IHC flags: every rule at its boundaries, sample selection, traces and bad input.

Expected flags are read off the guidelines by hand: ASCO/CAP 2020 (ER >= 1% positive, 1-10%
"ER Low Positive", PgR >= 1% positive), ASCO/CAP HER2 2018/2023 (0 and 1+ negative, 2+ needs
ISH, 3+ positive; HER2-low = 1+ or 2+/ISH not amplified), St Gallen 2013 (Ki-67 >= 20% high).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oncotrial.derive.contracts import RAW
from oncotrial.derive.datasets import read_dataset
from oncotrial.derive.ihc import derive_ihc_flags, load_ihc_rules
from oncotrial.errors import DataError, InputError, SpecError

COLUMNS = ["USUBJID", "MITESTCD", "MISTRESC", "MISTRESN", "MISPEC", "VISIT", "MIDTC"]
DAY = "2024-01-02"


def mi_frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    """Rows (subject, test, text[, number[, date[, visit]]]) as an MI frame."""
    full = []
    for r in rows:
        subject, test, text = r[:3]
        number = r[3] if len(r) > 3 else None
        date = r[4] if len(r) > 4 else DAY
        visit = r[5] if len(r) > 5 else "BASELINE"
        full.append((subject, test, text, number, "TISSUE", visit, date))
    return pd.DataFrame(full, columns=COLUMNS)


def adsl_of(subjects: list[str], randdt: str | None = "2024-01-10") -> pd.DataFrame:
    return pd.DataFrame(
        {"USUBJID": subjects, "RANDDT": pd.to_datetime(pd.Series([randdt] * len(subjects)))}
    )


def flags(rows: list[tuple[object, ...]], **kw: object) -> pd.DataFrame:
    subjects = list(dict.fromkeys(str(r[0]) for r in rows))
    result = derive_ihc_flags(mi_frame(rows), adsl_of(subjects), **kw)  # type: ignore[arg-type]
    return result.data.set_index("USUBJID")


@pytest.mark.parametrize(
    ("er", "positive", "low"),
    [
        ("0", "N", "N"),
        ("0.5", "N", "N"),  # < 1%: ER negative
        ("1", "Y", "Y"),
        ("10", "Y", "Y"),
        ("10.5", "Y", "N"),  # above 10%: positive, not low
        ("11", "Y", "N"),
        ("100%", "Y", "N"),
    ],
)
def test_er_positive_and_er_low_boundaries(er: str, positive: str, low: str) -> None:
    data = flags([("S1", "ER", er)])
    assert (data.loc["S1", "ERPOSFL"], data.loc["S1", "ERLOWFL"]) == (positive, low)
    assert data.loc["S1", "ERPCT"] == float(er.rstrip("%"))


@pytest.mark.parametrize(("pgr", "positive"), [("0", "N"), ("0.9", "N"), ("1", "Y"), ("70", "Y")])
def test_pgr_positive_boundary(pgr: str, positive: str) -> None:
    assert flags([("S1", "PGR", pgr)]).loc["S1", "PGRPOSFL"] == positive


@pytest.mark.parametrize(
    ("ihc", "ish", "negative", "low"),
    [
        ("0", None, "Y", "N"),
        ("1+", None, "Y", "Y"),
        ("2+", "NOT AMPLIFIED", "Y", "Y"),
        ("2+", "AMPLIFIED", "N", "N"),
        ("2+", None, None, None),  # equivocal without ISH: both flags empty
        ("3+", None, "N", "N"),
        ("3+", "NOT AMPLIFIED", "N", "N"),
        ("1+", "AMPLIFIED", "N", "N"),  # ISH positive is HER2-positive whatever the IHC
        ("0", "NOT AMPLIFIED", "Y", "N"),
        (None, "NOT AMPLIFIED", "Y", None),  # negative, IHC level unknown
        (None, "AMPLIFIED", "N", "N"),
    ],
)
def test_her2_status_and_her2_low(
    ihc: str | None, ish: str | None, negative: str | None, low: str | None
) -> None:
    rows: list[tuple[object, ...]] = [("S1", "ER", "90")]
    if ihc is not None:
        rows.append(("S1", "HER2", ihc))
    if ish is not None:
        rows.append(("S1", "HER2ISH", ish))
    data = flags(rows)
    assert (data.loc["S1", "HER2NEGFL"], data.loc["S1", "HER2LOWFL"]) == (negative, low)
    assert data.loc["S1", "HER2IHC"] == ihc


@pytest.mark.parametrize(
    ("ki67", "threshold", "high"),
    [("19", None, "N"), ("19.9", None, "N"), ("20", None, "Y"), ("21", None, "Y"),
     ("29", 30, "N"), ("30", 30, "Y")],
)  # fmt: skip
def test_ki67_high_at_the_threshold(ki67: str, threshold: float | None, high: str) -> None:
    rules = load_ihc_rules(ki67_threshold=threshold)
    assert flags([("S1", "KI67", ki67)], rules=rules).loc["S1", "KI67HIFL"] == high


def test_traces_name_value_threshold_and_source() -> None:
    rows: list[tuple[object, ...]] = [
        ("S1", "ER", "10", 10),
        ("S1", "HER2", "2+"),
        ("S1", "KI67", "25"),
    ]
    result = derive_ihc_flags(
        mi_frame(rows), adsl_of(["S1"]), rules=load_ihc_rules(ki67_threshold=30)
    )
    text = {t.variable: t.text for t in result.traces}
    assert text["ERLOWFL"] == (
        "ER 10% (MI row 1: TISSUE, BASELINE, 2024-01-02) is within 1-10%: ER low positive. "
        "Source: ASCO/CAP 2020 ER/PgR guideline (Allison KH et al. J Clin Oncol "
        "2020;38:1346-1366)"
    )
    assert "IHC 2+ is equivocal" in text["HER2LOWFL"] and "flag empty" in text["HER2LOWFL"]
    assert "Wolff AC et al. J Clin Oncol 2018;36:2105-2122" in text["HER2NEGFL"]
    assert text["KI67HIFL"].startswith("KI67 25% (MI row 3")
    assert "below the threshold 30%" in text["KI67HIFL"]
    assert "chosen by the user; the default 20% is from St Gallen 2013" in text["KI67HIFL"]
    assert "PgR positive not assessable" in text["PGRPOSFL"]


def test_most_recent_sample_on_or_before_randomization() -> None:
    rows: list[tuple[object, ...]] = [
        ("S1", "ER", "50", None, "2015-05-01"),  # archival primary
        ("S1", "ER", "5", None, "2024-01-03"),  # metastatic biopsy: the one used
        ("S1", "ER", "90", None, "2024-01-20"),  # after randomization: not used
        ("S1", "ER", None, None, "2024-01-05"),  # no result: not evaluable
        ("S1", "ER", "80", None, "2024-01-04", "MONTH 3"),  # another visit
        ("S2", "ER", "0", None, "2024-01-20"),  # only a sample after randomization
    ]
    result = derive_ihc_flags(mi_frame(rows), adsl_of(["S1", "S2"]))
    data = result.data.set_index("USUBJID")
    assert data.loc["S1", "ERLOWFL"] == "Y" and data.loc["S1", "ERPCT"] == 5.0
    assert data.loc["S2", "ERPOSFL"] is None
    s1 = result.explain("S1")[0]
    assert "most recent of 2 samples on or before randomization" in s1
    assert "not used, dated after randomization 2024-01-10: MI row 3 2024-01-20" in s1
    assert "1 row(s) without a result" in s1
    month3 = derive_ihc_flags(mi_frame(rows), adsl_of(["S1", "S2"]), visit="month 3")
    assert month3.data.set_index("USUBJID").loc["S1", "ERPCT"] == 80.0


def test_not_randomized_subject_uses_the_most_recent_sample() -> None:
    rows: list[tuple[object, ...]] = [
        ("S9", "PGR", "0", None, "2023-01-01"),
        ("S9", "PGR", "40", None, "2024-02-01"),
    ]
    result = derive_ihc_flags(mi_frame(rows), adsl_of(["S9"], randdt=None))
    assert result.data.loc[0, "PGRPOSFL"] == "Y"
    assert "(not randomized)" in result.explain("S9")[2]


def test_ish_of_another_sample_is_not_paired() -> None:
    rows: list[tuple[object, ...]] = [
        ("S1", "HER2", "2+", None, "2024-01-03"),
        ("S1", "HER2ISH", "NOT AMPLIFIED", None, "2020-01-01"),  # older sample
    ]
    data = flags(rows)
    assert data.loc["S1", "HER2NEGFL"] is None and data.loc["S1", "HER2LOWFL"] is None


def test_subject_without_mi_has_empty_flags_and_counts() -> None:
    result = derive_ihc_flags(mi_frame([("S1", "ER", "0")]), adsl_of(["S1", "S2"]))
    row = result.data.set_index("USUBJID").loc["S2"]
    assert list(row[["ERPOSFL", "HER2NEGFL", "KI67HIFL"]]) == [None, None, None]
    counts = result.counts().set_index("FLAG")
    assert list(counts.loc["ERPOSFL"]) == [0, 1, 1]
    assert "IHC flags of 2 subjects at BASELINE" in result.summary()


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (("S1", "PDL1", "5"), "MITESTCD", "valid: ER, PGR, KI67, HER2, HER2ISH"),
        (("S1", "HER2", "4+"), "MISTRESC", "valid: 0, 1+, 2+, 3+"),
        (("S1", "HER2", "2+", 3), "MISTRESN", "disagrees with the HER2 score 2+"),
        (("S1", "ER", "high"), "MISTRESC", "valid: a number 0-100"),
        (("S1", "ER", "101"), "MISTRESC", "valid: 0-100"),
        (("S1", "ER", "80", 70), "MISTRESN", "disagrees with MISTRESC '80'"),
        (("S1", "HER2ISH", "EQUIVOCAL"), "MISTRESC", "valid: AMPLIFIED, NOT AMPLIFIED"),
        (("S1", "ER", "5", None, "2024-02"), "MIDTC", "not a full date"),
        (("S7", "ER", "5"), "USUBJID", "is not a subject of ADSL"),
    ],
)
def test_bad_cells_name_dataset_row_column_value(
    row: tuple[object, ...], column: str, words: str
) -> None:
    rows: list[tuple[object, ...]] = [("S1", "ER", "90"), row]
    with pytest.raises(DataError) as info:
        derive_ihc_flags(mi_frame(rows), adsl_of(["S1"]))
    assert info.value.details["dataset"] == "MI"
    assert info.value.details["row"] == 2 and info.value.details["column"] == column
    assert words in str(info.value) and "row 2" in str(info.value)


def test_two_results_for_one_sample_are_an_error() -> None:
    rows: list[tuple[object, ...]] = [("S1", "ER", "90"), ("S1", "ER", "5")]
    with pytest.raises(DataError, match="row 2 repeats the ER result of row 1"):
        derive_ihc_flags(mi_frame(rows), adsl_of(["S1"]))


def test_bad_file_is_named_at_read(tmp_path: Path) -> None:
    path = tmp_path / "mi.csv"
    rows: list[tuple[object, ...]] = [
        ("S1", "ER", "90", 90),
        ("S1", "HER2", "1 +"),
        ("S1", "HER2", "2++", None, "2023-01-01"),
    ]
    mi_frame(rows).to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        read_dataset(path, RAW["MI"])
    assert info.value.details["dataset"] == "MI (mi.csv)" and info.value.details["row"] == 3
    assert "'2++'" in str(info.value)
    mi_frame([("S1", "ER", "90", 90), ("S1", "ER", "90", 90)]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"MI \(mi.csv\): row 2 repeats the ER result of row 1"):
        read_dataset(path, RAW["MI"])
    mi_frame([("S1", "ER", "90", 150)]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"MISTRESN.*is above 100"):
        read_dataset(path, RAW["MI"])


def test_bad_rules(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="ki67_threshold"):
        load_ihc_rules(ki67_threshold=0)
    shipped = (Path(__file__).parents[2] / "src/oncotrial/derive/ihc_rules.yaml").read_text()
    holes = shipped.replace('  - {ihc: "0", ish: ANY', '  - {ihc: "0", ish: AMPLIFIED')
    (tmp_path / "r.yaml").write_text(holes)
    with pytest.raises(SpecError, match="no row for IHC 0, ISH NOT AMPLIFIED"):
        load_ihc_rules(tmp_path / "r.yaml")
    (tmp_path / "r.yaml").write_text(shipped.replace("source: ST_GALLEN_2013", "source: X"))
    with pytest.raises(SpecError, match="flag KI67HIFL: source 'X'"):
        load_ihc_rules(tmp_path / "r.yaml")
    (tmp_path / "r.yaml").write_text(shipped.replace("at_least: 20", "at_least: 20\n    to: 30"))
    with pytest.raises(SpecError, match="either at_least, or from and to"):
        load_ihc_rules(tmp_path / "r.yaml")
    with pytest.raises(InputError, match="cannot read"):
        load_ihc_rules(tmp_path / "absent.yaml")
