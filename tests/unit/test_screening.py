"""Eligibility screening of made-up PALMIRA subjects against hand-derived verdicts.

``tests/data/screening/palmira_expected.csv`` and ``palmira_expected_counts.json`` were
worked out by hand from the PALMIRA criteria (seed 002; rules in
``palmira_eligibility.yaml``), not produced by this code: see the ``why`` column.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from oncotrial.errors import DataError, SpecError
from oncotrial.screening import (
    ELIGIBLE,
    NOT_ELIGIBLE,
    UNDECIDED,
    coerce_records,
    compile_criteria,
    read_screening_file,
    screen,
)
from oncotrial.spec import example_path, load_spec

DATA = Path(__file__).resolve().parents[1] / "data" / "screening"
SUBJECTS = DATA / "palmira_subjects.csv"


@pytest.fixture(scope="module")
def palmira():
    spec = yaml.safe_load((DATA / "palmira_eligibility.yaml").read_text())
    return spec["eligibility"], spec["subject_attributes"]


@pytest.fixture(scope="module")
def result(palmira):
    eligibility, attributes = palmira
    return screen(eligibility, attributes, read_screening_file(SUBJECTS, attributes))


@pytest.fixture(scope="module")
def expected():
    return pd.read_csv(DATA / "palmira_expected.csv", dtype=str, keep_default_na=False)


def _ids(text: str) -> tuple[str, ...]:
    return tuple(text.split(";")) if text else ()


def test_every_subject_matches_the_hand_derived_verdict(result, expected):
    got = result.subjects.set_index("subject_id")
    assert sorted(got.index) == sorted(expected["subject_id"])
    for row in expected.itertuples():
        subject = got.loc[row.subject_id]
        assert subject["verdict"] == row.verdict, (row.subject_id, row.why, subject["reasons"])
        assert subject["failed"] == _ids(row.failed), (row.subject_id, subject["reasons"])
        assert subject["unresolved"] == _ids(row.unresolved), row.subject_id
        first = subject["first_failed"]
        assert (None if pd.isna(first) else first) == (_ids(row.failed) or (None,))[0]


def test_expected_file_covers_every_criterion_and_every_verdict(expected, palmira):
    eligibility, _ = palmira
    ids = {c["id"] for kind in ("inclusion", "exclusion") for c in eligibility[kind]}
    failed = {i for text in expected["failed"] for i in _ids(text)}
    assert failed == ids
    assert set(expected["verdict"]) == {ELIGIBLE, NOT_ELIGIBLE, UNDECIDED}
    assert len(expected) >= 24


def test_consort_counts_match_the_hand_count(result):
    want = json.loads((DATA / "palmira_expected_counts.json").read_text())
    counts = result.counts
    for key in (
        "assessed",
        "eligible",
        "excluded",
        "cannot_tell",
        "not_meeting_inclusion",
        "meeting_exclusion",
    ):
        assert getattr(counts, key) == want[key], key
    for key in ("excluded_by_criterion", "first_failing", "cannot_tell_by_criterion"):
        assert {c.criterion_id: c.n for c in getattr(counts, key)} == want[key], key
    # protocol order: inclusions as listed, then exclusions
    assert [c.criterion_id for c in counts.first_failing] == [
        "I1",
        "I2",
        "I3",
        "I4",
        "I5",
        "I6",
        "E1",
        "E2",
        "E3",
        "E4",
        "E5",
    ]
    assert sum(c.n for c in counts.first_failing) == counts.excluded
    assert counts.assessed == counts.eligible + counts.excluded + counts.cannot_tell


def test_log_is_tidy_with_kind_specific_outcome_names(result):
    log = result.log
    assert list(log.columns) == ["subject_id", "criterion_id", "kind", "outcome", "value", "reason"]
    assert len(log) == 42 * 11
    inclusion = log[log["kind"] == "inclusion"]
    exclusion = log[log["kind"] == "exclusion"]
    assert set(inclusion["outcome"]) == {"met", "not_met", "cannot_tell"}
    assert set(exclusion["outcome"]) == {"applies", "does_not_apply", "cannot_tell"}
    row = log[(log["subject_id"] == "P13") & (log["criterion_id"] == "I6")].iloc[0]
    assert row["outcome"] == "not_met" and row["value"] is False
    assert "days_between(last_palbociclib_date, screening_date) = 57" in row["reason"]
    row = log[(log["subject_id"] == "P33") & (log["criterion_id"] == "E4")].iloc[0]
    assert row["outcome"] == "cannot_tell" and row["value"] is None
    assert row["reason"] == "cannot tell: resistant_letrozole is missing"


def test_reasons_of_boundary_subjects(result):
    subjects = result.subjects.set_index("subject_id")
    assert subjects.loc["P02", "reasons"] == "I1: age = 17 (needs age >= 18)"
    assert (
        "= 11.9918 (needs months_between(palbociclib_start_date, progression_date) >= 12)"
        in subjects.loc["P18", "reasons"]
    )
    assert subjects.loc["P42", "reasons"] == (
        "I1: cannot tell: age is missing; E1: cannot tell: visceral_crisis is missing"
    )


def test_lead_palmira_spec_gives_the_same_verdicts(result):
    spec = load_spec(example_path("palmira"))
    records = read_screening_file(SUBJECTS, spec.subject_attributes)
    from_spec = screen(spec.eligibility, spec.subject_attributes, records)
    pd.testing.assert_frame_equal(from_spec.subjects, result.subjects)


def test_shipped_example_file_gives_the_hand_derived_verdicts(palmira, expected):
    eligibility, attributes = palmira
    path = resources.files("oncotrial") / "data" / "examples" / "palmira_screening.csv"
    with resources.as_file(path) as file:
        shipped = screen(eligibility, attributes, read_screening_file(file, attributes))
    verdicts = dict(zip(shipped.subjects["subject_id"], shipped.subjects["verdict"], strict=True))
    assert verdicts == dict(zip(expected["subject_id"], expected["verdict"], strict=True))


def test_parquet_gives_the_same_verdicts(tmp_path, palmira, result):
    eligibility, attributes = palmira
    typed = read_screening_file(SUBJECTS, attributes)
    for column in ("screening_date", "last_palbociclib_date"):  # real datetime columns
        typed[column] = pd.to_datetime(typed[column])
    typed["age"] = typed["age"].astype(float)  # missing -> NaN
    path = tmp_path / "subjects.parquet"
    typed.to_parquet(path)
    from_parquet = screen(eligibility, attributes, read_screening_file(path, attributes))
    pd.testing.assert_frame_equal(from_parquet.subjects, result.subjects)


def test_result_is_data(result):
    payload = json.loads(result.to_json())
    assert payload["counts"]["excluded"] == 23
    assert payload["subjects"][27]["failed"] == ["I1", "E1", "E2"]
    assert payload["criteria"][0] == {
        "id": "I1",
        "kind": "inclusion",
        "text": "Age 18 years or older",
        "rule": "age >= 18",
    }
    frame = result.to_frame()
    assert frame.loc[frame["subject_id"] == "P28", "failed"].item() == "I1;E1;E2"
    assert result.verdict("P01") == ELIGIBLE
    with pytest.raises(DataError, match="no subject 'P99'"):
        result.verdict("P99")
    text = result.summary()
    assert "Assessed for eligibility: 42" in text and "Excluded: 23" in text
    assert "Eligible: 12" in text and "Cannot tell (missing data): 7" in text


# --------------------------------------------------------------------------- inputs

ATTRS = [
    {"name": "age", "type": "number"},
    {"name": "ecog", "type": "integer"},
    {"name": "crisis", "type": "boolean"},
    {"name": "et", "type": "category", "levels": ["ai", "fulvestrant"]},
    {"name": "entry", "type": "date"},
    {"name": "note", "type": "text"},
]
CRITERIA = {
    "inclusion": [{"id": "I1", "text": "Adult", "rule": "age >= 18"}],
    "exclusion": [{"id": "E1", "text": "Crisis", "rule": "crisis"}],
}


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "subjects.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("column", "bad", "fragment"),
    [
        ("age", "abc", "is not a number such as 18 or 24.5"),
        ("age", "NA", "is not a number"),
        ("age", "nan", "is not a number"),
        ("age", "1,5", "is not a number"),
        ("ecog", "1.5", "is not a whole number"),
        ("crisis", "maybe", "is not one of true, false, yes, no, 1, 0"),
        ("crisis", "2", "is not one of true, false"),
        ("et", "letrozole", "is not one of ai, fulvestrant"),
        ("entry", "03/05/2020", "is not a date written YYYY-MM-DD"),
        ("entry", "2020-02-30", "is not a date written YYYY-MM-DD"),
    ],
)
def test_invalid_values_name_file_row_column_value_and_what_is_valid(
    tmp_path, column, bad, fragment
):
    row = {
        "subject_id": "S2",
        "age": "40",
        "ecog": "1",
        "crisis": "no",
        "et": "ai",
        "entry": "2020-01-01",
        "note": "x",
    }
    row[column] = bad
    header = ",".join(row)
    good = "S1,50,0,false,ai,2020-01-01,ok"
    path = _csv(tmp_path, f"{header}\n{good}\n" + ",".join(f'"{v}"' for v in row.values()) + "\n")
    with pytest.raises(DataError) as info:
        read_screening_file(path, ATTRS)
    error = info.value
    assert str(path) in error.message
    assert f"row 2, column {column!r}: {bad!r} {fragment}" in error.message
    assert "leave the cell empty if the value is missing" in error.message
    assert (error.details["row"], error.details["column"], error.details["value"]) == (
        2,
        column,
        repr(bad),
    )


def test_all_invalid_values_are_reported_together(tmp_path):
    path = _csv(tmp_path, "subject_id,age,crisis\nS1,x,true\nS2,40,perhaps\nS3,y,no\n")
    with pytest.raises(DataError) as info:
        read_screening_file(path, ATTRS)
    assert "3 invalid values" in info.value.message
    assert [(e["row"], e["column"]) for e in info.value.details["errors"]] == [
        (1, "age"),
        (3, "age"),
        (2, "crisis"),
    ]


def test_empty_cells_are_missing_and_never_filled(tmp_path):
    path = _csv(tmp_path, "subject_id,age,ecog,crisis,et,entry,note\nS1, ,,,,,\n")
    records = read_screening_file(path, ATTRS)
    assert records.drop(columns="subject_id").iloc[0].tolist() == [None] * 6
    result = screen(CRITERIA, ATTRS, records)
    assert result.verdict("S1") == UNDECIDED
    assert result.subjects.iloc[0]["unresolved"] == ("I1", "E1")


def test_values_are_typed(tmp_path):
    path = _csv(
        tmp_path,
        "subject_id,age,ecog,crisis,et,entry,note\n"
        "S1,+40.5,2,YES,fulvestrant,2020-01-31,  free text \n",
    )
    row = read_screening_file(path, ATTRS).iloc[0]
    assert row["age"] == 40.5 and isinstance(row["age"], float)
    assert row["ecog"] == 2 and isinstance(row["ecog"], int)
    assert row["crisis"] is True
    assert row["et"] == "fulvestrant"
    assert row["entry"] == dt.date(2020, 1, 31)
    assert row["note"] == "free text "


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("id,age\nS1,40\n", "no subject id column 'subject_id'; columns are id, age"),
        (
            "subject_id,age\nS1,40\nS1,41\n",
            "row 2, column 'subject_id': 'S1' is not a unique subject id (row 1 has it too)",
        ),
        ("subject_id,age\n,40\n", "row 1, column 'subject_id': '' is not a subject id"),
    ],
)
def test_id_column_problems(tmp_path, text, fragment):
    path = _csv(tmp_path, text)
    with pytest.raises(DataError) as info:
        read_screening_file(path, ATTRS)
    assert fragment in info.value.message
    with pytest.raises(DataError) as info:
        screen(CRITERIA, ATTRS, pd.read_csv(path, dtype=str, keep_default_na=False))
    assert fragment in info.value.message


def test_duplicated_columns(tmp_path):
    path = _csv(tmp_path, "subject_id,age,age\nS1,40,41\n")
    with pytest.raises(DataError, match="duplicated column"):
        read_screening_file(path, ATTRS)
    frame = pd.DataFrame([["S1", 40, 41]], columns=["subject_id", "age", "age"])
    with pytest.raises(DataError, match="duplicated column"):
        screen(CRITERIA, ATTRS, frame)


def test_custom_id_column(tmp_path):
    path = _csv(tmp_path, "patient,age,crisis\nA,40,no\n")
    result = screen(
        CRITERIA, ATTRS, read_screening_file(path, ATTRS, id_column="patient"), id_column="patient"
    )
    assert result.verdict("A") == ELIGIBLE


def test_file_problems(tmp_path):
    with pytest.raises(DataError, match="screening file not found"):
        read_screening_file(tmp_path / "nope.csv", ATTRS)
    xlsx = tmp_path / "s.xlsx"
    xlsx.write_text("x")
    with pytest.raises(DataError, match=r"unknown screening file type '\.xlsx'; use \.csv"):
        read_screening_file(xlsx, ATTRS)


def test_missing_attribute_column_is_a_warning_and_all_missing(tmp_path):
    path = _csv(tmp_path, "subject_id,age,extra\nS1,40,1\nS2,16,2\n")
    result = screen(CRITERIA, ATTRS, read_screening_file(path, ATTRS))
    assert result.warnings == (
        "no column for attribute 'crisis': its value is missing for every subject",
        "column 'extra' is not a subject attribute and was ignored",
    )
    assert result.verdict("S1") == UNDECIDED  # adult, crisis unknown
    assert result.verdict("S2") == NOT_ELIGIBLE  # a definite failure outranks missing data
    assert result.subjects.iloc[1]["unresolved"] == ("E1",)


def test_typed_frame_input_without_reading_a_file():
    frame = pd.DataFrame(
        {"subject_id": [1, 2, 3], "age": [40.0, float("nan"), 17], "crisis": [False, None, False]}
    )
    result = screen(CRITERIA, ATTRS, frame)
    assert result.subjects["verdict"].tolist() == [ELIGIBLE, UNDECIDED, NOT_ELIGIBLE]
    assert result.subjects["subject_id"].tolist() == [1, 2, 3]


def test_not_a_frame():
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        coerce_records([{"subject_id": 1}], ATTRS)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- criteria


def test_duck_typed_criteria_and_attributes():
    criteria = SimpleNamespace(
        inclusion=[SimpleNamespace(id="I1", text="Adult", rule="age >= 18")],
        exclusion=[SimpleNamespace(id="E1", text="Crisis", rule="crisis")],
    )
    attributes = [
        SimpleNamespace(name="age", type="number", levels=None, unit="years"),
        SimpleNamespace(name="crisis", type="boolean", levels=None, unit=None),
    ]
    result = screen(
        criteria, attributes, pd.DataFrame({"subject_id": ["a"], "age": [20], "crisis": [True]})
    )
    assert result.verdict("a") == NOT_ELIGIBLE
    assert result.subjects.iloc[0]["failed"] == ("E1",)


def test_criterion_problems_are_spec_errors():
    bad_rule = {"inclusion": [{"id": "I1", "text": "x", "rule": "agee >= 18"}]}
    with pytest.raises(
        SpecError,
        match=r"eligibility\.inclusion\[0\]\.rule \(I1\), column 1: "
        "unknown attribute 'agee'",
    ):
        compile_criteria(bad_rule, ATTRS)
    duplicate = {
        "inclusion": [{"id": "I1", "text": "x", "rule": "age > 1"}],
        "exclusion": [{"id": "I1", "text": "y", "rule": "crisis"}],
    }
    with pytest.raises(SpecError, match="duplicate criterion id 'I1'"):
        compile_criteria(duplicate, ATTRS)
    with pytest.raises(SpecError, match="no inclusion or exclusion criteria"):
        compile_criteria({"inclusion": [], "exclusion": []}, ATTRS)
    with pytest.raises(SpecError, match="needs an id"):
        compile_criteria({"inclusion": [{"text": "x", "rule": "crisis"}]}, ATTRS)
