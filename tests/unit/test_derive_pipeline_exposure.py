"""The spec's ``derivation.starting_dose`` / ``planned_period`` reach ADEX, and every written
dataset types its dates one way.

Hand-worked exposure (mini trial, EX replaced; palbociclib days 1-21 of 28-day cycles):

P01  100 mg 01-02..01-22 (21 d), 75 mg 02-02..02-22 (21 d, 3 days late, DOSE REDUCED)
     CUMDOSE = 100 x 21 + 75 x 21 = 3675 mg; first 01-02, last 02-22: 52 days
     schedule: 21 (cycle 1) + 21 (days 29-52 hold days 1-21 of cycle 2) = 42 dosing days
     elapsed:  (52 + 7 rest days) x 21/28 = 44.25 dosing-day equivalents
       first    / schedule: 100 x 42      = 4200    RDI 87.5
       first    / elapsed:  100 x 44.25   = 4425    RDI 367500/4425 = 83.050847...
       protocol / schedule: 125 x 42      = 5250    RDI 70
       protocol / elapsed:  125 x 44.25   = 5531.25 RDI 367500/5531.25 = 66.440677...
P03  100 mg 02-02..02-22 only: CUMDOSE 2100
       first: PLANDOSE 2100 (both periods: 21 days; (21 + 7) x 3/4 = 21) RDI 100, DOSERED N
       protocol: PLANDOSE 2625, RDI 80, DOSERED Y (100 mg < 125 mg)
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from oncotrial.derive.contracts import ADAM
from oncotrial.derive.datasets import read_dataset
from oncotrial.derive.pipeline import derive_datasets, derive_trial, normalize_types
from oncotrial.spec import TrialSpec, load_spec

MINI = Path(__file__).parents[1] / "data" / "derive" / "mini_trial"
EX = """USUBJID,EXTRT,EXDOSE,EXDOSU,EXSTDTC,EXENDTC,EXADJ
P01,letrozole,2.5,mg,2024-01-02,2024-08-14,
P01,palbociclib,100,mg,2024-01-02,2024-01-22,
P01,palbociclib,75,mg,2024-02-02,2024-02-22,DOSE REDUCED
P02,letrozole,2.5,mg,2024-01-11,2024-03-20,
P03,letrozole,2.5,mg,2024-02-02,2024-03-01,
P03,palbociclib,100,mg,2024-02-02,2024-02-22,
P04,letrozole,2.5,mg,2024-01-16,2024-10-02,
P06,letrozole,2.5,mg,2024-02-16,2024-03-01,
P07,letrozole,2.5,mg,2024-01-06,2024-05-10,
P08,letrozole,2.5,mg,2024-01-09,2024-07-01,
"""


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    for path in MINI.iterdir():
        shutil.copy(path, root / path.name)
    (root / "ex.csv").write_text(EX)
    return root


def _spec(starting_dose: str, planned_period: str) -> TrialSpec:
    spec = load_spec("palmira")
    settings = spec.derivation.model_copy(
        update={"starting_dose": starting_dose, "planned_period": planned_period}
    )
    return spec.model_copy(update={"derivation": settings})


def _palbo(raw: Path, spec: TrialSpec) -> dict[tuple[str, str], object]:
    adex = derive_datasets(spec, raw).datasets["ADEX"]
    rows = adex.loc[adex["EXTRT"] == "palbociclib"]
    return {
        (r.USUBJID, r.PARAMCD): (r.AVALC if isinstance(r.AVALC, str) else r.AVAL)
        for r in rows.itertuples()
    }


def test_palmira_spec_plans_from_the_first_dose_over_elapsed_time() -> None:
    settings = load_spec("palmira").derivation
    assert (settings.starting_dose, settings.planned_period) == ("first", "elapsed")
    default = TrialSpec.model_fields["derivation"].default_factory()  # type: ignore[misc]
    assert (default.starting_dose, default.planned_period) == ("protocol", "schedule")


@pytest.mark.parametrize(
    ("starting", "period", "plan01", "rdi01", "plan03", "rdi03", "red03"),
    [
        ("first", "schedule", 4200, 87.5, 2100, 100, "N"),
        ("first", "elapsed", 4425, 367500 / 4425, 2100, 100, "N"),
        ("protocol", "schedule", 5250, 70, 2625, 80, "Y"),
        ("protocol", "elapsed", 5531.25, 367500 / 5531.25, 2625, 80, "Y"),
    ],
)
def test_starting_dose_and_planned_period_reach_adex(
    raw: Path,
    starting: str,
    period: str,
    plan01: float,
    rdi01: float,
    plan03: float,
    rdi03: float,
    red03: str,
) -> None:
    got = _palbo(raw, _spec(starting, period))
    assert got[("P01", "CUMDOSE")] == 3675 and got[("P03", "CUMDOSE")] == 2100
    assert got[("P01", "PLANDOSE")] == pytest.approx(plan01, rel=1e-12)
    assert got[("P01", "RDI")] == pytest.approx(rdi01, rel=1e-12)
    assert got[("P03", "PLANDOSE")] == pytest.approx(plan03, rel=1e-12)
    assert got[("P03", "RDI")] == pytest.approx(rdi03, rel=1e-12)
    assert got[("P01", "DOSERED")] == "Y" and got[("P03", "DOSERED")] == red03


def test_spec_rejects_an_unknown_starting_dose() -> None:
    from pydantic import ValidationError

    spec = load_spec("palmira")
    with pytest.raises(ValidationError, match="starting_dose"):
        type(spec.derivation).model_validate({"starting_dose": "nominal"})


def test_every_dataset_types_dates_as_datetime(raw: Path, tmp_path: Path) -> None:
    result = derive_trial(
        _spec("first", "elapsed"), raw, tmp_path / "out", formats=["csv", "parquet"]
    )
    for name, frame in result.datasets.items():
        for column in frame.columns:
            series = frame[column]
            assert not isinstance(series.dtype, pd.StringDtype), (name, column)
            if series.dtype == object:
                assert not any(isinstance(v, dt.date) for v in series), (name, column)
        for c in ADAM[name].columns:
            if c.type == "date":
                assert str(frame[c.name].dtype) == "datetime64[ns]", (name, c.name)
        for fmt in ("csv", "parquet"):
            back = read_dataset(tmp_path / "out" / f"{name.lower()}.{fmt}", ADAM[name])
            names = ADAM[name].names
            pd.testing.assert_frame_equal(back[names], frame[names], check_dtype=False)
    adae = result.datasets["ADAE"]
    assert adae.loc[adae["USUBJID"] == "P01", "ASTDT"].iloc[0] == pd.Timestamp("2024-01-20")


def test_normalize_types_turns_date_objects_into_datetimes() -> None:
    frame = pd.DataFrame(
        {
            "WTOXDT": pd.Series([dt.date(2024, 1, 2), None], dtype=object),
            "TEXT": pd.Series(["a", None], dtype="string"),
            "MIXED": pd.Series([dt.date(2024, 1, 2), "x"], dtype=object),
        }
    )
    out = normalize_types(frame)
    assert str(out["WTOXDT"].dtype) == "datetime64[ns]" and pd.isna(out["WTOXDT"].iloc[1])
    assert out["TEXT"].dtype == object and out["TEXT"].tolist() == ["a", None]
    assert out["MIXED"].dtype == object  # not all dates: left as is
