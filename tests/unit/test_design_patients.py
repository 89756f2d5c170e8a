"""Lachin-Foulkes and Lakatos patient numbers: limits by hand, invariances, CLI, bad input.

The values against the papers' formulas written independently in R are in
tests/conformance/test_design_patients_conformance.py.
"""

from __future__ import annotations

import json
import math

import pytest
from scipy.stats import norm

from oncotrial.cli import main
from oncotrial.design.lachin_foulkes import lachin_foulkes
from oncotrial.design.lakatos import lakatos
from oncotrial.design.patient_methods import compare_patient_methods, patients_by_method
from oncotrial.errors import InputError

WEEK = 7 / 30.4375
ACCRU = dict(
    median_control=12 * WEEK, hr=0.5, alpha=0.1, sides=1, power=0.9, accrual_time=12, follow_up=12
)


def test_lachin_foulkes_with_every_event_observed_by_hand() -> None:
    # all enter at 0 and are followed for ever: P(event) = 1, phi(lambda) = lambda^2
    lam_c, hr, r = 0.2, 0.6, 2.0
    res = lachin_foulkes(
        hazards_control=[lam_c], hr=hr, ratio=r, accrual_time=0, follow_up=1e4, power=0.9
    )
    lam_e = lam_c * hr
    qc, qe = 1 / (1 + r), r / (1 + r)
    lbar = qc * lam_c + qe * lam_e
    za, zb = norm.isf(0.025), norm.ppf(0.9)
    hand = (
        (za * lbar * math.sqrt(1 / qc + 1 / qe) + zb * math.sqrt(lam_c**2 / qc + lam_e**2 / qe))
        / (lam_c - lam_e)
    ) ** 2
    assert res.n_exact == pytest.approx(hand, rel=1e-9)
    assert res.n_evaluable % 3 == 0 and res.n_evaluable >= res.n_exact
    assert res.n_experimental == 2 * res.n_control


def test_lakatos_converges_as_intervals_shrink() -> None:
    coarse = lakatos(**ACCRU, intervals_per_unit=12).n_exact
    fine = lakatos(**ACCRU, intervals_per_unit=200).n_exact
    finer = lakatos(**ACCRU, intervals_per_unit=400).n_exact
    assert abs(finer - fine) < 0.1 * abs(fine - coarse)
    assert abs(finer - fine) / finer < 2e-3


def test_lakatos_near_the_null_agrees_with_schoenfeld_events() -> None:
    # for HR -> 1 the Lakatos drift^2 * n -> Schoenfeld's events (both are the local limit)
    kw = dict(median_control=10.0, hr=0.95, ratio=1.0, accrual_time=12, follow_up=24)
    lk = lakatos(**kw, intervals_per_unit=100)
    sch = patients_by_method("schoenfeld", **kw)
    assert lk.events_expected == pytest.approx(sch.events_expected, rel=0.01)


def test_lakatos_inputs_that_mean_the_same_give_the_same_n() -> None:
    base = lakatos(**ACCRU).n_exact
    lam = math.log(2) / (12 * WEEK)
    same = dict(ACCRU, median_control=None, hr=None)
    explicit = lakatos(
        **same, hazards_control=[lam, lam], hazards_experimental=[lam / 2, lam / 2], starts=[0, 5]
    )
    assert explicit.n_exact == pytest.approx(base, rel=1e-10)
    zeros = lakatos(**ACCRU, noncompliance=[0.0], drop_in=0.0, dropout_control=[0])
    assert zeros.n_exact == pytest.approx(base, rel=1e-12)
    flat = lakatos(**ACCRU, accrual_starts=[0, 4], accrual_rates=[2, 2])
    assert flat.n_exact == pytest.approx(base, rel=1e-10)


def test_lakatos_noncompliance_and_drop_in_dilute_the_effect() -> None:
    base = lakatos(**ACCRU).n_exact
    assert lakatos(**ACCRU, noncompliance=0.05).n_exact > base
    assert lakatos(**ACCRU, drop_in=0.05).n_exact > base
    # a control arm that switches at once to the experimental treatment has no effect left
    with pytest.raises(InputError):
        lakatos(hazards_control=[0.1], hazards_experimental=[0.1], accrual_time=6, follow_up=6)


def test_lakatos_delayed_effect_needs_more_patients_than_proportional() -> None:
    kw = dict(accrual_time=12, follow_up=18, starts=[0, 6], intervals_per_unit=4)
    late = lakatos(hazards_control=[0.1, 0.1], hazards_experimental=[0.1, 0.06], **kw)
    early = lakatos(hazards_control=[0.1, 0.1], hazards_experimental=[0.06, 0.06], **kw)
    assert late.n_exact > 2 * early.n_exact
    assert late.hazard_control is None  # not one exponential model per arm


def test_compare_reports_every_method_and_explains_gaps() -> None:
    cmp = compare_patient_methods(**ACCRU)
    got = {r["method"]: r for r in cmp.rows}
    assert set(got) == {"schoenfeld", "freedman", "lachin-foulkes", "lakatos"}
    assert got["schoenfeld"]["ratio_to_schoenfeld"] == 1.0
    assert got["lachin-foulkes"]["n_exact"] > got["schoenfeld"]["n_exact"]
    nph = compare_patient_methods(
        hazards_control=[0.1, 0.1],
        hazards_experimental=[0.1, 0.06],
        starts=[0, 6],
        accrual_time=12,
        follow_up=18,
    )
    notes = {r["method"]: r["note"] for r in nph.rows}
    assert notes["lakatos"] == "" and "hazard" in notes["schoenfeld"]
    assert "exponential" in notes["lachin-foulkes"] or "hazard" in notes["lachin-foulkes"]
    assert "lakatos" in cmp.protocol_text()


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: patients_by_method("lakotos", **ACCRU), "method"),
        (lambda: patients_by_method("schoenfeld", noncompliance=0.1, **ACCRU), "noncompliance"),
        (
            lambda: lachin_foulkes(
                hazards_control=[0.1, 0.2], starts=[0, 3], hr=0.7, accrual_time=3, follow_up=3
            ),
            "hazards_control",
        ),
        (lambda: lakatos(**ACCRU, noncompliance=[0.1, 0.2, 0.3]), "noncompliance"),
        (lambda: lakatos(**ACCRU, dropout_rate=0.1, dropout_control=0.01), "dropout_rate"),
        (lambda: lakatos(**dict(ACCRU, follow_up=-1)), "follow_up"),
        (lambda: lachin_foulkes(hr=0.7, accrual_time=3, follow_up=3), "median_control"),
        (lambda: lakatos(**ACCRU, intervals_per_unit=0), "intervals_per_unit"),
    ],
)
def test_bad_input_names_the_argument(call: object, argument: str) -> None:
    with pytest.raises(InputError) as info:
        call()  # type: ignore[operator]
    assert info.value.details["argument"] == argument


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict]:
    code = main(args)
    return code, json.loads(capsys.readouterr().out)


ACCRU_ARGS = [
    "design", "survival", "--median-control", str(12 * WEEK), "--hr", "0.5", "--alpha", "0.1",
    "--sides", "1", "--power", "0.9", "--accrual-time", "12", "--follow-up", "12",
]  # fmt: skip


def test_cli_methods_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _json(capsys, [*ACCRU_ARGS, "--method", "lachin-foulkes", "--json"])
    assert code == 0 and out["method"] == "lachin-foulkes"
    assert out["n_exact"] == pytest.approx(lachin_foulkes(**ACCRU).n_exact, rel=1e-12)
    assert out["n"] % 2 == 0 and "Lachin & Foulkes" in out["protocol_text"]
    code, out = _json(
        capsys, [*ACCRU_ARGS, "--method", "lakatos", "--noncompliance", "0.02", "--json"]
    )
    assert code == 0 and out["n_exact"] > lakatos(**ACCRU).n_exact
    code, out = _json(capsys, [*ACCRU_ARGS, "--compare", "--json"])
    assert code == 0 and [r["method"] for r in out["rows"]][2:] == ["lachin-foulkes", "lakatos"]


def test_cli_method_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _json(capsys, [*ACCRU_ARGS, "--method", "lakatos", "--looks", "0.5,1", "--json"])
    assert code == 1 and out["error"]["argument"] == "looks"
    code, out = _json(capsys, [*ACCRU_ARGS, "--drop-in", "0.1", "--json"])
    assert code == 1 and out["error"]["argument"] == "drop_in"
    code, out = _json(
        capsys, ["design", "survival", "--hr", "0.7", "--method", "lakatos", "--json"]
    )
    assert code == 1 and out["error"]["argument"] == "accrual_time"
