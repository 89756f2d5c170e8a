"""Single-arm time-to-event designs: hand calculations, properties and bad input."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from oncotrial.cli import main
from oncotrial.design import single_arm as sa
from oncotrial.design.accrual import inflate
from oncotrial.errors import InputError

SEED = dict(accrual=24.0, follow_up=12.0)


def test_dropout_inflation_rules_of_the_seed() -> None:
    # seed 000: 59 evaluable, 10% inevaluable -> 65 planned (59 * 1.1 = 64.9 -> 65)
    assert inflate(59, 0.10, "multiply") == 65
    assert inflate(59, 0.10, "divide") == 66  # 59 / 0.9 = 65.56
    assert inflate(50, 0.10, "multiply") == 55  # not 56 from 55.000000000000007


def test_exponential_normal_matches_closed_form_hand_calculation() -> None:
    lam1 = math.log(2) / 5.0
    p_event = 1 - (math.exp(-lam1 * 12) - math.exp(-lam1 * 36)) / (lam1 * 24)
    d = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) ** 2 / math.log(0.6) ** 2
    got = sa.single_arm_survival(3, 5, method="exponential_normal", **SEED)
    assert got.n_exact == pytest.approx(d / p_event, rel=1e-9)
    assert got.n == math.ceil(d / p_event)
    assert got.event_probability == pytest.approx(p_event, rel=1e-9)


def test_exact_events_are_the_smallest_with_the_power() -> None:
    got = sa.single_arm_survival(3, 5, method="exponential_exact", **SEED)
    d = int(got.events)

    def power(k: int) -> float:  # reject if 2 lambda0 T > chi2_{2k,.975}; T ~ chi2(2k)/2lambda1
        return float(stats.chi2.sf(stats.chi2.isf(0.025, 2 * k) * 0.6, 2 * k))

    assert power(d) >= 0.8 > power(d - 1)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(10, 200), method=st.sampled_from(["exponential_normal", "one_sample_logrank"]))
def test_power_increases_with_n(n: int, method: str) -> None:
    p1 = sa.single_arm_survival_power(n, 3, 5, method=method, **SEED)
    p2 = sa.single_arm_survival_power(n + 5, 3, 5, method=method, **SEED)
    assert 0 < p1 < p2 < 1


@pytest.mark.parametrize("method", ["exponential_normal", "one_sample_logrank", "km_landmark"])
def test_sample_size_reaches_power_and_one_less_does_not(method: str) -> None:
    kw = dict(method=method, landmark=6.0 if method == "km_landmark" else None, **SEED)
    got = sa.single_arm_survival(3, 5, **kw)
    assert got.achieved_power >= 0.8
    assert sa.single_arm_survival_power(got.n - 1, 3, 5, **kw) < 0.8


def test_spec_block_round_trip_and_protocol_text() -> None:
    got = sa.single_arm_survival(3, 5, dropout=0.1, **SEED)
    again = sa.from_spec_block(got.spec_block())
    assert again == got
    text = got.protocol_text()
    assert f"{got.n} evaluable patients" in text and f"{got.n_enrolled} patients" in text


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        (dict(median0=-3), "median0"),
        (dict(median1=3), "median1"),
        (dict(alpha=1.5), "alpha"),
        (dict(alpha=0.05, power=0.01), "power"),
        (dict(follow_up=-1), "follow_up"),
        (dict(accrual=-2), "accrual"),
        (dict(method="km_landmark", landmark=40), "landmark"),
        (dict(method="km_landmark", landmark=None), "landmark"),
        (dict(method="magic"), "method"),
        (dict(transform="probit"), "transform"),
        (dict(dropout=1.0), "dropout"),
        (dict(method="exponential_exact", shape=1.3), "shape"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict, argument: str) -> None:
    args = dict(median0=3, median1=5, **SEED)
    args.update(kwargs)
    m0, m1 = args.pop("median0"), args.pop("median1")
    with pytest.raises(InputError) as err:
        sa.single_arm_survival(m0, m1, **args)
    assert err.value.details["argument"] == argument
    assert argument in err.value.message


def test_cli_single_arm_survival_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "design",
            "single-arm-survival",
            "--median0",
            "3",
            "--median1",
            "5",
            "--accrual",
            "24",
            "--follow-up",
            "12",
            "--inevaluable",
            "0.1",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["method"] == "one_sample_logrank" and out["n_enrolled"] >= out["n"]
    assert out["spec_block"]["type"] == "single-arm-survival"


def test_cli_bad_input_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "design",
            "single-arm-survival",
            "--median0",
            "3",
            "--median1",
            "5",
            "--accrual",
            "24",
            "--follow-up",
            "-12",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["error"]["argument"] == "follow_up"
