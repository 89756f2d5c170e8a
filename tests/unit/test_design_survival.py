"""Required events, inverses, effect conversions, events -> patients, CLI (issue #4)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from oncotrial.cli import main
from oncotrial.design.accrual import (
    Accrual,
    allocation_block,
    fraction_with_event,
    inflate,
    patients_for_events,
)
from oncotrial.design.effect import PiecewiseExponential, effect_from
from oncotrial.design.survival import detectable_hr, power_at_events, required_events
from oncotrial.design.tte import survival_design
from oncotrial.errors import InputError, SpecError
from oncotrial.spec import example_path

# ------------------------------------------------------------------ required events


def test_palmira_schoenfeld_by_hand() -> None:
    # D = (z_.975 + z_.80)^2 (1 + 2)^2 / (2 ln(0.59)^2), z from tables: 1.959964, 0.841621
    by_hand = (1.959964 + 0.841621) ** 2 * 9 / (2 * math.log(0.59) ** 2)
    res = required_events(0.59, alpha=0.05, sides=2, power=0.8, ratio=2)
    assert res.events_exact == pytest.approx(by_hand, rel=1e-6)
    assert res.events == 127
    assert "127 events give 80% power" in res.protocol_text()
    assert "2:1" in res.protocol_text()
    assert res.spec_block()["ratio"] == 2


def test_freedman_is_not_symmetric_in_allocation() -> None:
    a = required_events(0.7, ratio=2, method="freedman").events_exact
    b = required_events(0.7, ratio=0.5, method="freedman").events_exact
    s1 = required_events(0.7, ratio=2).events_exact
    s2 = required_events(0.7, ratio=0.5).events_exact
    assert s1 == pytest.approx(s2, rel=1e-12)
    assert a != pytest.approx(b, rel=1e-3)


def test_one_sided_alpha_equals_two_sided_double() -> None:
    one = required_events(0.75, alpha=0.025, sides=1).events_exact
    two = required_events(0.75, alpha=0.05, sides=2).events_exact
    assert one == pytest.approx(two, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    hr=st.floats(0.3, 0.95),
    power=st.floats(0.6, 0.97),
    ratio=st.sampled_from([0.5, 1, 2, 3]),
    method=st.sampled_from(["schoenfeld", "freedman"]),
    sides=st.sampled_from([1, 2]),
)
def test_inverses_round_trip(
    hr: float, power: float, ratio: float, method: str, sides: int
) -> None:
    d = required_events(hr, power=power, ratio=ratio, method=method, sides=sides)
    back = power_at_events(d.events_exact, hr, ratio=ratio, method=method, sides=sides)
    assert back.power == pytest.approx(power, rel=1e-9)
    hr_back = detectable_hr(d.events_exact, power=power, ratio=ratio, method=method, sides=sides)
    assert hr_back.hr == pytest.approx(hr, rel=1e-9)
    assert power_at_events(d.events, hr, ratio=ratio, method=method, sides=sides).power >= power


def test_detectable_hr_above_one() -> None:
    d = required_events(1.5, power=0.9).events_exact
    assert detectable_hr(d, power=0.9, benefit="above").hr == pytest.approx(1.5, rel=1e-9)


# ------------------------------------------------------------------ effect


def test_effect_from_medians_rates_and_piecewise() -> None:
    assert effect_from(median_control=3.0, median_experimental=5.0).hr == pytest.approx(0.6)
    # S(12) = 0.5 vs 0.65: HR = ln 0.65 / ln 0.5
    e = effect_from(rate_control=0.5, rate_experimental=0.65, landmark=12)
    assert e.hr == pytest.approx(math.log(0.65) / math.log(0.5), rel=1e-12)
    assert e.control is not None and e.control.median() == pytest.approx(12.0)
    p = effect_from(hazards_control=[0.2, 0.1], hazards_experimental=[0.14, 0.07], starts=[0, 6])
    assert p.hr == pytest.approx(0.7)
    with pytest.raises(InputError, match="change"):
        effect_from(hazards_control=[0.2, 0.1], hazards_experimental=[0.1, 0.1], starts=[0, 6])


def test_piecewise_survival_by_hand() -> None:
    m = PiecewiseExponential((0.0, 6.0), (0.1, 0.05))
    assert float(m.survival(10.0)) == pytest.approx(math.exp(-0.6 - 0.2), rel=1e-12)
    assert m.median() == pytest.approx(6 + (math.log(2) - 0.6) / 0.05, rel=1e-12)


# ------------------------------------------------------------------ events -> patients


def test_event_probability_uniform_accrual_closed_form() -> None:
    # Lachin & Foulkes (1986) eq. for exponential survival, uniform entry, exponential dropout:
    # P = lam/(lam+eta) * (1 - (exp(-(lam+eta) f) - exp(-(lam+eta)(a+f))) / ((lam+eta) a))
    lam, eta, a, f = 0.1, 0.02, 18.0, 9.0
    k = lam + eta
    closed = lam / k * (1 - (math.exp(-k * f) - math.exp(-k * (a + f))) / (k * a))
    got = fraction_with_event(PiecewiseExponential.exponential(lam), Accrual.make(a), a + f, eta)
    assert got == pytest.approx(closed, rel=1e-12)


def test_rounding_and_inflation_rules() -> None:
    assert inflate(59, 0.1, "multiply") == 65
    assert inflate(59, 0.1, "divide") == 66
    assert allocation_block(2) == 3 and allocation_block(1) == 2 and allocation_block(1.5) == 5
    ctrl = PiecewiseExponential.exponential(math.log(2) / 3.6)
    p = patients_for_events(
        127, ctrl, 0.59, ratio=2, accrual_time=42, follow_up=4, inevaluable=0.1, inflation="divide"
    )
    assert p.n_evaluable % 3 == 0 and p.n % 3 == 0
    assert p.n_evaluable >= p.n_exact and p.n >= p.n_evaluable / 0.9
    assert p.n_experimental == 2 * p.n_control


def test_accru_seed_design_through_the_spec_keys() -> None:
    d = survival_design(
        median_control=12 * 7 / 30.4375,
        median_experimental=24 * 7 / 30.4375,
        alpha=0.1,
        sides=1,
        power=0.9,
        accrual_time=12,
        follow_up=12,
        looks=[0.5, 1],
        spending="none",
        futility="fixed",
        futility_bounds=[0],
    )
    assert (d.events, d.events_by_look) == (58, (29, 58))
    assert d.patients is not None and d.patients.n == 64
    assert d.analysis_times_rounded is not None and d.analysis_times_rounded[0] < 12


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"hr": 0.7, "alpha": 0.0}, "alpha"),
        ({"hr": 0.7, "alpha": 1.2}, "alpha"),
        ({"hr": 0.7, "alpha": 0.05, "power": 0.02}, "power"),
        ({"hr": 1.0}, "hr"),
        ({"hr": -0.5}, "hr"),
        ({"hr": 0.0}, "hr"),
        ({"hr": 0.7, "sides": 3}, "sides"),
        ({"hr": 0.7, "ratio": 0}, "ratio"),
        ({"hr": 0.7, "method": "lakatos"}, "method"),
        ({"median_control": -3, "median_experimental": 5}, "median_control"),
        ({"hr": 0.7, "median_control": 3, "accrual_time": -1, "follow_up": 12}, "accrual_time"),
        ({"hr": 0.7, "median_control": 3, "accrual_time": 12, "follow_up": -2}, "follow_up"),
        (
            {
                "hr": 0.7,
                "median_control": 3,
                "accrual_time": 12,
                "follow_up": 6,
                "dropout_rate": 1.0,
            },
            "dropout_rate",
        ),
        ({"hr": 0.7, "accrual_time": 12, "follow_up": 6}, "median_control"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict, argument: str) -> None:
    with pytest.raises(InputError) as info:
        survival_design(**kwargs)
    assert info.value.details["argument"] == argument
    assert argument in info.value.message


# ------------------------------------------------------------------ CLI


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict]:
    code = main(args)
    return code, json.loads(capsys.readouterr().out)


def test_cli_survival_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _json(
        capsys,
        [
            "design",
            "survival",
            "--hr",
            "0.59",
            "--alpha",
            "0.05",
            "--sides",
            "2",
            "--power",
            "0.8",
            "--ratio",
            "2",
            "--json",
        ],
    )
    assert code == 0
    z = norm.isf(0.025) + norm.ppf(0.8)
    assert out["events_exact"] == pytest.approx(z**2 * 9 / (2 * math.log(0.59) ** 2), rel=1e-12)
    assert out["events"] == 127 and "n" not in out
    assert out["protocol_text"].startswith("With a 2:1 allocation")


def test_cli_survival_with_patients(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _json(
        capsys,
        [
            "design",
            "survival",
            "--hr",
            "0.5",
            "--median-control",
            "3",
            "--alpha",
            "0.1",
            "--sides",
            "1",
            "--power",
            "0.9",
            "--accrual-time",
            "12",
            "--follow-up",
            "12",
            "--json",
        ],
    )
    assert code == 0 and out["n"] % 2 == 0 and out["n"] >= out["events"]


def test_cli_sequential_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _json(
        capsys,
        [
            "design",
            "sequential",
            "--looks",
            "0.5,1",
            "--alpha",
            "0.025",
            "--power",
            "0.9",
            "--json",
        ],
    )
    assert code == 0 and len(out["critical_values"]) == 2
    code, out = _json(capsys, ["design", "survival", "--hr", "1", "--json"])
    assert code == 1 and out["error"]["argument"] == "hr"
    code, out = _json(capsys, ["design", "sequential", "--looks", "0.5,x", "--json"])
    assert code == 1 and out["error"]["argument"] == "looks"


def test_cli_spec_is_the_default_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _json(capsys, ["design", "palmira", "--json"])
    assert code == 0
    (first,) = out["designs"]
    assert first["result"]["events"] == 127 and first["published"]["n"] == 198
    code, out = _json(capsys, ["design", "accru_br_1801", "--json"])
    assert code == 0
    by_where = {d["where"]: d for d in out["designs"]}
    er_pos, er_neg = by_where["cohorts[0].design"], by_where["cohorts[1].design"]
    assert (er_pos["result"]["events"], er_pos["result"]["n"]) == (58, 64)
    assert (er_neg["result"]["events"], er_neg["result"]["n"]) == (48, 50)
    assert by_where["dose_escalation.design"]["type"] == "dose-escalation"


def test_cli_spec_errors_name_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = example_path("palmira").read_text(encoding="utf-8")
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        text.replace(
            "  alpha: 0.05\n  sides: 2\n  power: 0.80\n",
            "  alfa: 0.05\n  sides: 2\n  power: 0.80\n",
            1,
        ),
        encoding="utf-8",
    )
    code, out = _json(capsys, ["design", str(spec), "--json"])
    assert code == 1 and out["error"]["field"] == "design.alfa"
    with pytest.raises(SpecError, match="design: hr"):
        from oncotrial.design.spec_block import design_from_block

        design_from_block({"type": "two-arm-survival", "hazard_ratio": 1})
