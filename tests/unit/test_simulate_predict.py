"""Event prediction: data contract, inputs, result object, reproducibility, PALMIRA example.

The distributional checks against exact references live in
tests/conformance/test_simulate_predict_conformance.py.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncotrial.conventions import DAYS_PER_MONTH
from oncotrial.errors import DataError, InputError
from oncotrial.simulate.predict import (
    EventPrediction,
    PredictColumns,
    build_model,
    predict_events,
    read_interim,
    simulate_event_days,
)

ROOT = Path(__file__).parents[2]
INTERIM = ROOT / "src/oncotrial/data/examples/palmira_interim_pfs.csv"


def _frame(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["USUBJID", "ARM", "RANDDT", "STATUS", "ADT"])


SMALL = _frame(
    [
        ("S1", "A", "2024-01-01", "event", "2024-02-01"),
        ("S2", "A", "2024-01-10", "ongoing", "2024-06-30"),
        ("S3", "B", "2024-01-20", "censored", "2024-03-01"),
        ("S4", "B", "2024-02-01", "event", "2024-05-01"),
        ("S5", "B", "2024-02-15", "ongoing", "2024-06-20"),
    ]
)


def test_hand_calculated_two_subjects_median() -> None:
    # 2 subjects at risk, hazard 0.1/month, both events needed: P(T <= t) = (1 - e^{-0.1 t})^2
    # = 1/2 at t = -ln(1 - sqrt(1/2)) / 0.1 = 1.227947 / 0.1 = 12.27947 months (hand calculation)
    data = _frame(
        [
            ("S1", "A", "2024-01-01", "ongoing", "2024-06-30"),
            ("S2", "A", "2024-01-01", "ongoing", "2024-06-30"),
        ]
    )
    result = predict_events(data, 2, hazards=0.1, dropout=0.0, n_sim=20_000, seed=9)
    assert result.median_days / DAYS_PER_MONTH == pytest.approx(12.27947, rel=0.03)
    # the date of a time c days after the cut-off is cut + ceil(c)
    assert result.median_date == dt.date(2024, 6, 30) + dt.timedelta(
        days=math.ceil(result.median_days)
    )
    assert result.events_needed == 2 and result.n_remaining == 0


def test_interim_data_are_read_as_days_relative_to_the_cut() -> None:
    data = read_interim(SMALL)
    assert data.cut_date == dt.date(2024, 6, 30)
    assert data.arms == ("A", "B")
    assert (data.events, data.censored, data.ongoing) == (2, 1, 2)
    # time on study is ADT - RANDDT + 1 (ADaM AVAL in days): S1 = 31 + 1
    assert data.time[0] == 32.0
    assert data.last_day[1] == 0 and data.last_day[4] == -10


def test_custom_columns_and_status_codes() -> None:
    frame = SMALL.rename(columns={"RANDDT": "entry", "ADT": "last", "STATUS": "code"})
    frame["code"] = frame["code"].map({"event": 1, "censored": 2, "ongoing": 0})
    data = read_interim(
        frame,
        columns=PredictColumns(entry="entry", date="last", status="code"),
        status_codes={"1": "event", "2": "censored", "0": "ongoing"},
    )
    assert (data.events, data.censored, data.ongoing) == (2, 1, 2)


@pytest.mark.parametrize(
    ("change", "column", "row", "fragment"),
    [
        (("RANDDT", 2, "2024-13-01"), "RANDDT", 3, "invalid"),
        (("ADT", 1, None), "ADT", 2, "missing date"),
        (("STATUS", 3, "progressed"), "STATUS", 4, "status 'progressed'"),
        (("ADT", 0, "2023-12-01"), "ADT", 1, "before the entry date"),
        (("USUBJID", 4, "S1"), "USUBJID", 5, "appears twice"),
        (("ARM", 2, None), "ARM", 3, "missing arm"),
    ],
)
def test_contract_errors_name_row_column_and_value(
    change: tuple[str, int, object], column: str, row: int, fragment: str
) -> None:
    frame = SMALL.copy()
    col, i, value = change
    frame.loc[i, col] = value
    with pytest.raises(DataError) as err:
        read_interim(frame)
    assert err.value.details["column"] == column
    assert err.value.details["row"] == row
    assert fragment in err.value.message


def test_missing_column_and_date_after_cut() -> None:
    with pytest.raises(DataError, match="column 'ADT' not found"):
        read_interim(SMALL.drop(columns="ADT"))
    with pytest.raises(DataError, match="after the data cut-off 2024-06-01") as err:
        read_interim(SMALL, cut_date="2024-06-01")
    assert err.value.details["row"] == 2
    with pytest.raises(DataError, match="not found"):
        read_interim(ROOT / "no_such_file.csv")


def test_numeric_dates_are_refused() -> None:
    frame = SMALL.copy()
    frame["RANDDT"] = 20240101
    with pytest.raises(DataError, match="is a number, not a date") as err:
        read_interim(frame)
    assert err.value.details["column"] == "RANDDT" and err.value.details["row"] == 1


def test_reads_csv_and_parquet_identically(tmp_path: Path) -> None:
    SMALL.to_csv(tmp_path / "d.csv", index=False)
    SMALL.to_parquet(tmp_path / "d.parquet")
    a, b = read_interim(tmp_path / "d.csv"), read_interim(tmp_path / "d.parquet")
    assert np.array_equal(a.time, b.time) and np.array_equal(a.status, b.status)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"target": 0}, "target"),
        ({"target": 2}, "target"),  # already reached: 2 events observed
        ({"target": 3, "n_planned": 4}, "n_planned"),
        ({"target": 3, "n_planned": 8, "accrual_rate": 0.0}, "accrual_rate"),
        ({"target": 3, "allocation": {"C": 1}}, "allocation"),
        ({"target": 3, "hazards": {"A": 0.1}}, "hazards"),
        ({"target": 3, "hazards": -0.1}, "hazards['A']"),
        ({"target": 3, "medians": {"A": 3.0, "B": 0.0}}, "medians"),
        ({"target": 3, "cuts": [2.0, 1.0]}, "cuts"),
        ({"target": 3, "dropout": "guess"}, "dropout"),
        ({"target": 3, "level": 1.5}, "level"),
        ({"target": 3, "n_sim": 0}, "n_sim"),
    ],
)
def test_bad_inputs_raise_input_errors(kwargs: dict, argument: str) -> None:
    options = {"n_sim": 10, "seed": 1, **kwargs}
    target = options.pop("target")
    with pytest.raises(InputError) as err:
        predict_events(SMALL, target, **options)
    assert err.value.details["argument"] == argument


def test_already_reached_names_the_date() -> None:
    with pytest.raises(InputError, match="the 2th on 2024-05-01"):
        predict_events(SMALL, 2, seed=1)


def test_arm_without_events_cannot_be_fitted_per_arm_but_pooled() -> None:
    frame = SMALL.copy()
    frame.loc[3, "STATUS"] = "ongoing"  # arm B now has no event
    with pytest.raises(InputError, match="event hazard of B"):
        predict_events(frame, 3, n_sim=10, seed=1)
    assert predict_events(frame, 3, pooled=True, n_sim=10, seed=1).hazards[0]["arm"] == "all arms"


def test_too_few_subjects_left_means_never_reached() -> None:
    result = predict_events(SMALL, 5, n_sim=500, seed=1)  # 2 observed + 2 ongoing < 5
    assert result.prob_never == 1.0
    assert result.median_date is None and result.upper_date is None and result.mean_date is None
    assert "cannot be reached" in result.notes[0]
    assert "never" in result.summary()


def test_same_seed_same_result_and_block_prefix_stability() -> None:
    model = build_model(read_interim(INTERIM), 127, n_planned=198)
    a = simulate_event_days(model, 2500, seed=42)
    b = simulate_event_days(model, 2500, seed=42)
    assert np.array_equal(a, b)
    # blocks of 1000 trials draw from SeedSequence(seed).spawn(n)[b]: a prefix is stable
    assert np.array_equal(simulate_event_days(model, 1000, seed=42), a[:1000])
    assert not np.array_equal(simulate_event_days(model, 1000, seed=43), a[:1000])


def test_palmira_example_fits_the_interim_file() -> None:
    frame = pd.read_csv(INTERIM)
    result = predict_events(INTERIM, 127, n_planned=198, n_sim=4000, seed=1, by_date="2022-12-31")
    assert isinstance(result, EventPrediction)
    days = (pd.to_datetime(frame.ADT) - pd.to_datetime(frame.RANDDT)).dt.days + 1
    assert result.events_observed == int((frame.STATUS == "event").sum())
    assert result.events_needed == 127 - result.events_observed
    assert result.n_remaining == 198 - len(frame)
    for row in result.hazards:
        mine = row["arm"] == frame.ARM
        d = int(((frame.STATUS == "event") & mine).sum())
        assert row["per_month"] == pytest.approx(d / days[mine].sum() * DAYS_PER_MONTH, rel=1e-12)
    cut = pd.Timestamp(frame.ADT.max())
    span = (cut - pd.to_datetime(frame.RANDDT).min()).days + 1
    assert result.accrual is not None
    assert result.accrual["per_month"] == pytest.approx(len(frame) / span * DAYS_PER_MONTH)
    assert result.dropout["per_month"] == pytest.approx(
        (frame.STATUS == "censored").sum() / days.sum() * DAYS_PER_MONTH
    )
    assert result.cut_date < result.lower_date <= result.median_date <= result.upper_date
    assert result.prob_by_date is not None and 0 <= result.prob_by_date <= 1


def test_result_is_data() -> None:
    result = predict_events(SMALL, 3, n_planned=7, accrual_rate=2.0, n_sim=300, seed=7)
    doc = json.loads(result.to_json())
    assert doc["target"] == 3 and doc["median_date"] == result.median_date.isoformat()
    frame = result.to_frame()
    assert list(frame.columns) == ["probability", "days_after_cut", "date"]
    assert frame["days_after_cut"].is_monotonic_increasing
    text = result.summary()
    assert "3 events" in text and "prediction interval" in text
    assert result.accrual is not None and result.accrual["source"] == "assumed"


def test_interim_example_file_is_reproducible() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_palmira_interim", ROOT / "scripts/make_palmira_interim.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame, _ = module.make()
    assert frame.equals(pd.read_csv(INTERIM))
