"""Dataset IO: column contracts on read, round trips in CSV, Parquet and XPT, atomic writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from oncotrial.derive.contracts import ADAM, RAW, conform
from oncotrial.derive.datasets import LOG_NAME, read_dataset, read_raw, write_outputs
from oncotrial.errors import DataError, InputError

MINI = Path(__file__).parents[1] / "data" / "derive" / "mini_trial"
ARMS = {"ARMCD": ["PAL_ET", "ET"], "ACTARMCD": ["PAL_ET", "ET"]}


def dm_text(**changes: list[str]) -> pd.DataFrame:
    frame = pd.read_csv(MINI / "dm.csv", dtype=str, keep_default_na=False)
    for column, values in changes.items():
        frame[column] = values + list(frame[column][len(values) :])
    return frame


def typed_dm() -> pd.DataFrame:
    return conform(dm_text(), RAW["DM"], allowed=ARMS)


def test_types_after_conform() -> None:
    dm = typed_dm()
    assert str(dm["RANDDT"].dtype) == "datetime64[ns]"
    assert str(dm["AGE"].dtype) == "Int64"
    assert dm["RANDDT"].iloc[0] == pd.Timestamp("2024-01-01")
    assert pd.isna(dm["DTHDTC"].iloc[0]) and dm["DTHDTC"].iloc[2] == pd.Timestamp("2024-03-10")
    assert dm["ARMCD"].iloc[8] is None


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xpt", "xpt5"])
def test_round_trip(tmp_path: Path, fmt: str) -> None:
    dm = typed_dm()
    dm["palbociclib_duration_months"] = [1.5, None, 3.25, 4, 5, 6, 7, 8, 9]
    dm["age"] = [60.0] * 9  # differs from AGE only by case: SAS names are case-insensitive
    write_outputs(tmp_path / "out", {"DM": dm}, fmt)
    suffix = ".xpt" if fmt.startswith("xpt") else f".{fmt}"
    back = read_dataset(tmp_path / "out" / f"dm{suffix}", RAW["DM"], allowed=ARMS)
    pd.testing.assert_frame_equal(back[RAW["DM"].names], dm[RAW["DM"].names])
    extra = pd.to_numeric(back["palbociclib_duration_months"].replace("", None))
    assert extra.tolist()[:3] == pytest.approx([1.5, float("nan"), 3.25], nan_ok=True)
    assert pd.to_numeric(back["age"]).tolist() == [60.0] * 9


def test_missing_column_is_named(tmp_path: Path) -> None:
    frame = dm_text().drop(columns=["RANDDT"])
    with pytest.raises(DataError, match="required column 'RANDDT' is missing") as info:
        conform(frame, RAW["DM"], allowed=ARMS)
    assert info.value.details["column"] == "RANDDT"


def test_impossible_date_names_dataset_row_column_value() -> None:
    with pytest.raises(DataError) as info:
        conform(dm_text(RANDDT=["", "2024-02-30"]), RAW["DM"], allowed=ARMS)
    e = info.value
    assert (e.details["dataset"], e.details["row"], e.details["column"]) == ("DM", 2, "RANDDT")
    assert e.details["value"] == "2024-02-30"
    assert "not a calendar date" in e.message and "YYYY-MM-DD" in e.message


def test_partial_date_is_refused() -> None:
    with pytest.raises(DataError, match="partial date"):
        conform(dm_text(RFSTDTC=["2024-01"]), RAW["DM"], allowed=ARMS)


def test_wrong_type() -> None:
    with pytest.raises(DataError, match=r"column 'AGE', row 3: value '6O' is not an integer"):
        conform(dm_text(AGE=["60", "55", "6O"]), RAW["DM"], allowed=ARMS)


def test_unknown_code_lists_valid_codes() -> None:
    with pytest.raises(DataError) as info:
        conform(dm_text(ARMCD=["PAL_ET", "PLACEBO"]), RAW["DM"], allowed=ARMS)
    assert info.value.details["row"] == 2
    assert "valid: PAL_ET, ET" in info.value.message


def test_codes_are_case_insensitive_and_canonical() -> None:
    dm = conform(dm_text(ARMCD=["pal_et"]), RAW["DM"], allowed=ARMS)
    assert dm["ARMCD"].iloc[0] == "PAL_ET"


def test_out_of_range_number() -> None:
    ae = pd.read_csv(MINI / "ae.csv", dtype=str, keep_default_na=False)
    ae.loc[1, "AETOXGR"] = "6"
    with pytest.raises(DataError, match=r"AETOXGR', row 2: value '6' is above 5"):
        conform(ae, RAW["AE"])


def test_missing_required_cell() -> None:
    tr = pd.read_csv(MINI / "tr.csv", dtype=str, keep_default_na=False)
    tr.loc[4, "TRDTC"] = ""
    with pytest.raises(DataError, match=r"TRDTC', row 5: value '' is missing"):
        conform(tr, RAW["TR"])


def test_duplicate_key_is_refused() -> None:
    ds = conform(pd.read_csv(MINI / "ds.csv", dtype=str, keep_default_na=False), RAW["DS"])
    ds = pd.concat([ds, ds.iloc[[0]]], ignore_index=True)
    from oncotrial.derive.contracts import check_unique

    with pytest.raises(DataError, match="row 16 repeats the key"):
        check_unique(ds, RAW["DS"])


def test_read_raw_names_the_file_row_and_column(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(MINI, raw)
    text = (raw / "ex.csv").read_text().replace("2024-01-22", "2024-13-22")
    (raw / "ex.csv").write_text(text)
    with pytest.raises(DataError) as info:
        read_raw(raw)
    assert info.value.details["dataset"] == "EX (ex.csv)"
    assert info.value.details["row"] == 2 and info.value.details["column"] == "EXENDTC"


def test_two_files_for_one_domain(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(MINI, raw)
    pd.read_csv(raw / "cm.csv").to_parquet(raw / "cm.parquet")
    with pytest.raises(DataError, match="domain CM is given twice"):
        read_raw(raw)


def test_missing_required_domain(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(MINI, raw)
    (raw / "ae.csv").unlink()
    with pytest.raises(DataError, match=r"required domain\(s\) AE missing"):
        read_raw(raw)


def test_read_raw_lists_absent_and_ignored(tmp_path: Path) -> None:
    raw = read_raw(MINI)
    assert raw.absent == ("RS", "GF", "MI")
    assert raw.ignored == ("truth.csv",)
    assert len(raw.files["DM"]["sha256"]) == 64


def test_nothing_partial_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import oncotrial.derive.datasets as datasets

    out = tmp_path / "out"
    write_outputs(out, {"DM": typed_dm()}, "csv", texts={LOG_NAME: "{}"})
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = datasets.write_dataset

    def failing(df: pd.DataFrame, path: Path, fmt: str, *, name: str) -> dict[str, str]:
        if name == "BAD":
            raise OSError("disk full")
        return real(df, path, fmt, name=name)  # type: ignore[arg-type]

    monkeypatch.setattr(datasets, "write_dataset", failing)
    with pytest.raises(OSError, match="disk full"):
        write_outputs(out, {"DM": typed_dm(), "BAD": typed_dm()}, "parquet")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary directory left


def test_refuses_to_replace_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(InputError, match="not empty"):
        write_outputs(tmp_path, {"DM": typed_dm()}, "csv")
    assert (tmp_path / "mine.txt").read_text() == "keep"


def test_unknown_format() -> None:
    with pytest.raises(InputError, match="valid: csv, parquet, xpt, xpt5"):
        write_outputs("unused", {}, "sas7bdat")


def test_every_contract_column_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "DATA_MODEL.md").read_text()
    for contract in [*RAW.values(), *ADAM.values()]:
        for name in contract.names:
            assert name in doc, f"{contract.name}.{name} is not in docs/DATA_MODEL.md"
