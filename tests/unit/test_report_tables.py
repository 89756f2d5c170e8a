"""Report tables: the model's renderings and the baseline-characteristics table."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from oncotrial.errors import DataError, InputError
from oncotrial.report.tables.baseline import Variable, baseline_table
from oncotrial.report.tables.model import ReportTable, Row, to_csv, to_html, to_rtf

ADSL = pd.DataFrame(
    {
        "ARM": ["P", "P", "P", "E", "E", "E", "E"],
        "AGE": [50, 60, 71, 40, 45, 66, None],
        "ECOG": ["0", "1", "0", "0", "0", None, "1"],
    }
)


def test_categorical_rows_count_each_level_over_the_column_n():
    table = baseline_table(
        ADSL, [Variable("ECOG", "ECOG PS", levels=("0", "1"))], arm_order=["P", "E"]
    )
    frame = table.to_frame().set_index("Characteristic")
    assert table.columns == ("Characteristic", "P (N = 3)", "E (N = 4)", "Total (N = 7)")
    # E: ECOG 0 in 2 of 4 = 50.0%; total: 4 of 7 = 57.142..% -> 57.1
    assert frame.loc["0", "E (N = 4)"] == "2 (50.0)"
    assert frame.loc["0", "Total (N = 7)"] == "4 (57.1)"
    assert frame.loc["1", "P (N = 3)"] == "1 (33.3)"
    assert frame.loc["Missing", "E (N = 4)"] == "1 (25.0)"
    assert frame.loc["Missing", "P (N = 3)"] == "0"


def test_continuous_row_is_median_and_range():
    table = baseline_table(
        ADSL, [Variable("AGE", "Age, years", "continuous")], arm_order=["P", "E"]
    )
    frame = table.to_frame().set_index("Characteristic")
    row = frame.loc["Age, years, median (range)"]
    assert row["P (N = 3)"] == "60.0 (50.0-71.0)"
    assert row["E (N = 4)"] == "45.0 (40.0-66.0)"  # the missing age is left out
    assert row["Total (N = 7)"] == "55.0 (40.0-71.0)"  # median of 40 45 50 60 66 71
    assert frame.loc["Missing", "E (N = 4)"] == "1"


def test_half_up_rounding_of_percentages():
    # 1 of 8 = 12.5% exactly: stays 12.5; 1 of 16 = 6.25% -> 6.3 (half up, not to even)
    frame = pd.DataFrame({"ARM": ["A"] * 16, "X": ["y"] + ["n"] * 15})
    table = baseline_table(frame, [Variable("X", "X", levels=("y",))], total=False)
    assert table.rows[1].cells == ("1 (6.3)",)


def test_missing_column_is_named():
    with pytest.raises(DataError, match="'WEIGHT'"):
        baseline_table(ADSL, [Variable("WEIGHT", "Weight", "continuous")])


def _table() -> ReportTable:
    return ReportTable(
        "t",
        "Title {with braces}",
        ("Item", "A", "B"),
        (Row("Heading", ("", ""), 0), Row("Level \u2265 3", ("1 (10.0)", "2 (20.0)"))),
        ("Footnote.",),
    )


def test_renderings_show_the_same_cells():
    table = _table()
    frame = pd.read_csv(io.StringIO(to_csv(table)), dtype=str, keep_default_na=False)
    assert frame.columns.tolist() == ["Item", "indent", "A", "B"]
    assert frame.iloc[1].tolist() == ["Level \u2265 3", "1", "1 (10.0)", "2 (20.0)"]
    html = to_html(table)
    assert "1 (10.0)" in html and "Footnote." in html and "Title {with braces}" in html
    rtf = to_rtf(table)
    assert rtf.startswith("{\\rtf1") and rtf.rstrip().endswith("}")
    assert "Title \\{with braces\\}" in rtf and "\\u8805?" in rtf and "2 (20.0)" in rtf
    assert rtf.count("\\row") == 3


def test_ragged_rows_are_refused():
    with pytest.raises(InputError, match=r"row 1 .* has 1 cells"):
        ReportTable("t", "T", ("Item", "A", "B"), (Row("x", ("1",)),))
