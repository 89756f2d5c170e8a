"""Dose escalation: 3+3 / A+B exact OCs against hand formulas, the decision tool, BOIN."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from oncotrial.cli import main
from oncotrial.design import dose
from oncotrial.errors import InputError

RATES = [0.05, 0.10, 0.20, 0.35, 0.50]


def test_classic_3_plus_3_escalation_probability_by_hand() -> None:
    for p in (0.0, 0.1, 0.25, 0.5, 0.9):
        hand = (1 - p) ** 3 + 3 * p * (1 - p) ** 2 * (1 - p) ** 3
        got = dose.THREE_PLUS_THREE.escalation_probability(p)[0]
        assert got == pytest.approx(hand, rel=1e-12, abs=1e-15)


def test_without_deescalation_matches_product_formula() -> None:
    design = dose.ABDesign(deescalation=False)
    oc = dose.escalation_oc(RATES, design)
    q = [(1 - p) ** 3 + 3 * p * (1 - p) ** 5 for p in RATES]
    reach = [math.prod(q[:i]) for i in range(len(q) + 1)]
    hand = [reach[i] * (1 - q[i]) for i in range(len(q))] + [reach[-1]]
    assert oc.p_mtd == pytest.approx(hand, rel=1e-12)
    # patients at dose i: reached * (3 + 3 * P(exactly one DLT in 3))
    ep = [reach[i] * (3 + 3 * 3 * p * (1 - p) ** 2) for i, p in enumerate(RATES)]
    assert oc.expected_patients == pytest.approx(ep, rel=1e-12)
    dl = [reach[i] * (3 * p + 3 * p * 3 * p * (1 - p) ** 2) for i, p in enumerate(RATES)]
    assert oc.expected_dlts == pytest.approx(dl, rel=1e-12)


def test_probabilities_sum_to_one_and_sizes_add_up() -> None:
    oc = dose.escalation_oc(RATES)
    assert sum(oc.p_mtd) == pytest.approx(1.0, abs=1e-12)
    assert sum(oc.p_size.values()) == pytest.approx(1.0, abs=1e-12)
    assert sum(k * v for k, v in oc.p_size.items()) == pytest.approx(oc.expected_total)


def test_certain_outcomes() -> None:
    assert dose.escalation_oc([0.0, 0.0, 0.0]).p_mtd == pytest.approx([0, 0, 0, 1])
    assert dose.escalation_oc([1.0, 1.0]).p_mtd == pytest.approx([1, 0, 0])
    oc = dose.escalation_oc([0.0, 1.0, 1.0])  # dose 1 expanded to 6 after dose 2 fails
    assert oc.p_mtd == pytest.approx([0, 1, 0, 0])
    assert oc.expected_patients == pytest.approx([6, 3, 0])


@pytest.mark.parametrize(
    ("cohorts", "deesc", "expected"),
    [
        ([], True, ("treat", "start", 1, None)),
        ([(1, 3, 0)], True, ("treat", "escalate", 2, None)),
        ([(1, 3, 1)], True, ("treat", "add", 1, None)),
        ([(1, 3, 1), (1, 3, 0)], True, ("treat", "escalate", 2, None)),
        ([(1, 3, 1), (1, 3, 1)], True, ("stop", "mtd", None, 0)),
        ([(1, 3, 2)], True, ("stop", "mtd", None, 0)),
        ([(1, 3, 0), (2, 3, 2)], True, ("treat", "de-escalate", 1, None)),
        ([(1, 3, 0), (2, 3, 2)], False, ("stop", "mtd", None, 1)),
        ([(1, 3, 0), (2, 3, 2), (1, 3, 0)], True, ("stop", "mtd", None, 1)),
        ([(1, 3, 0), (2, 3, 2), (1, 3, 2)], True, ("stop", "mtd", None, 0)),
        ([(1, 3, 0), (2, 3, 0), (3, 3, 0)], True, ("treat", "add", 3, None)),
        ([(1, 3, 0), (2, 3, 0), (3, 3, 0), (3, 3, 1)], True, ("stop", "mtd", None, 3)),
        ([(1, 3, 0), (2, 3, 0), (3, 3, 0)], False, ("stop", "mtd", None, 3)),
    ],
)
def test_next_step(cohorts: list, deesc: bool, expected: tuple) -> None:
    step = dose.next_step(cohorts, 3, dose.ABDesign(deescalation=deesc))
    assert (step.action, step.step, step.dose, step.mtd) == expected


def test_next_step_rejects_inconsistent_cohorts() -> None:
    with pytest.raises(InputError) as err:
        dose.next_step([(1, 4, 0)], 3)
    assert err.value.details["argument"] == "cohorts"
    with pytest.raises(InputError):
        dose.next_step([(4, 3, 0)], 3)
    with pytest.raises(InputError):
        dose.next_step([(1, 3, 4)], 3)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: dose.escalation_oc([0.1, 1.2]), "dlt_rates[1]"),
        (lambda: dose.escalation_oc([-0.1]), "dlt_rates[0]"),
        (lambda: dose.boin_boundaries(0.0), "target"),
        (lambda: dose.boin_boundaries(0.3, phi1=0.35), "phi1"),
        (lambda: dose.boin_boundaries(0.3, phi2=0.2), "phi2"),
        (lambda: dose.ABDesign(a=0), "a"),
    ],
)
def test_bad_input_names_the_argument(call, argument: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as err:
        call()
    assert err.value.details["argument"] == argument


def test_boin_boundaries_formula() -> None:
    b = dose.boin_boundaries(0.25)
    phi, p1, p2 = 0.25, 0.15, 0.35
    assert b.lambda_e == pytest.approx(
        math.log((1 - p1) / (1 - phi)) / math.log(phi * (1 - p1) / (p1 * (1 - phi))), rel=1e-12
    )
    assert b.lambda_d == pytest.approx(
        math.log((1 - phi) / (1 - p2)) / math.log(p2 * (1 - phi) / (phi * (1 - p2))), rel=1e-12
    )


def test_isotonic_pools_violators() -> None:
    fit = dose.isotonic(np.array([0.1, 0.3, 0.2, 0.4]), np.array([1.0, 1.0, 1.0, 2.0]))
    assert fit == pytest.approx([0.1, 0.25, 0.25, 0.4])


def test_boin_simulation_is_seeded_and_sensible() -> None:
    a = dose.boin_simulate([0.05, 0.1, 0.3, 0.5], 0.3, n_trials=300, seed=7)
    b = dose.boin_simulate([0.05, 0.1, 0.3, 0.5], 0.3, n_trials=300, seed=7)
    assert a == b
    assert sum(a.p_select) == pytest.approx(1.0)
    assert a.p_select[3] == max(a.p_select)  # the dose at the target is chosen most
    assert sum(a.mean_patients) == pytest.approx(30.0)  # 10 cohorts of 3, no early stop
    toxic = dose.boin_simulate([0.7, 0.8], 0.3, n_trials=200, seed=1)
    assert toxic.p_select[0] > 0.9 and toxic.p_early_stop == toxic.p_select[0]


def test_cli_dose_escalation_and_next(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "design",
            "dose-escalation",
            "--dlt-rates",
            "0.05,0.1,0.3",
            "--doses",
            "50mg,100mg,150mg",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and len(out["p_mtd"]) == 4 and "3+3" in out["protocol_text"]
    code = main(["design", "dose-escalation", "--next", "1:3:0,2:3:2", "--n-doses", "3", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["step"] == "de-escalate" and out["dose"] == 1


def test_cli_boin(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "design",
            "boin",
            "--target",
            "0.3",
            "--dlt-rates",
            "0.1,0.3",
            "--n-trials",
            "50",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["escalate"][2] == 0 and "simulation" in out
