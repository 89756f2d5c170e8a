"""Binary single-arm designs: exact probabilities by hand, optimality by brute force."""

from __future__ import annotations

import itertools
import json
from math import comb

import pytest

from oncotrial.cli import main
from oncotrial.design import binary
from oncotrial.errors import InputError


def _pmf(x: int, n: int, p: float) -> float:
    return comb(n, x) * p**x * (1 - p) ** (n - x)


def test_two_stage_probabilities_by_hand() -> None:
    # r1/n1 = 0/2, r/n = 1/3 at p = 0.5: continue with >= 1 of 2; reject with >= 2 of 3
    # P(reject) = P(X1=1) P(X2>=1) + P(X1=2) = 0.5 * 0.5 + 0.25 = 0.5; PET = 0.25
    oc = binary.two_stage_oc(0, 2, 1, 3, 0.5)
    assert oc["reject"][0] == pytest.approx(0.5, abs=1e-15)
    assert oc["pet"][0] == pytest.approx(0.25, abs=1e-15)
    assert oc["en"][0] == pytest.approx(2 + 0.75, abs=1e-15)


def _brute(p0: float, p1: float, alpha: float, beta: float, nmax: int) -> tuple:
    """Every (r1, n1, r, n) by plain loops: (best EN0 design, smallest-n design)."""
    feasible = []
    for n in range(2, nmax + 1):
        for n1 in range(1, n):
            for r1, r in itertools.product(range(n1), range(n + 1)):
                if r < r1:
                    continue

                def rej(p: float, r1=r1, n1=n1, r=r, n=n) -> float:
                    return sum(
                        _pmf(x, n1, p)
                        * sum(_pmf(y, n - n1, p) for y in range(n - n1 + 1) if x + y > r)
                        for x in range(r1 + 1, n1 + 1)
                    )

                if rej(p0) <= alpha and rej(p1) >= 1 - beta:
                    pet = sum(_pmf(x, n1, p0) for x in range(r1 + 1))
                    feasible.append((n1 + (1 - pet) * (n - n1), n, n1, r1, r))
    return feasible


def test_simon_is_optimal_and_minimax_against_brute_force() -> None:
    p0, p1, alpha, beta, nmax = 0.05, 0.45, 0.10, 0.20, 14
    feasible = _brute(p0, p1, alpha, beta, nmax)
    got = binary.simon(p0, p1, alpha, beta, nmax=nmax)
    best_en = min(f[0] for f in feasible)
    assert got.optimal.en0 == pytest.approx(best_en, rel=1e-12)
    n_min = min(f[1] for f in feasible)
    assert got.minimax.n == n_min
    assert got.minimax.en0 == pytest.approx(min(f[0] for f in feasible if f[1] == n_min), rel=1e-12)


def test_single_stage_is_smallest() -> None:
    got = binary.single_stage(0.1, 0.3, 0.05, 0.2)
    size = sum(_pmf(x, got.n, 0.1) for x in range(got.r + 1, got.n + 1))
    power = sum(_pmf(x, got.n, 0.3) for x in range(got.r + 1, got.n + 1))
    assert size <= 0.05 and power >= 0.8
    assert size == pytest.approx(got.actual_alpha, rel=1e-12)
    n = got.n - 1
    assert not any(
        sum(_pmf(x, n, 0.1) for x in range(r + 1, n + 1)) <= 0.05
        and sum(_pmf(x, n, 0.3) for x in range(r + 1, n + 1)) >= 0.8
        for r in range(n + 1)
    )


def test_fleming_oc_against_path_enumeration() -> None:
    got = binary.fleming(0.2, 0.4, 0.05, 0.2, stages=2)
    s1, s2 = got.stage_sizes
    a, r = got.accept, got.reject
    reject = sum(_pmf(x, s1, 0.2) for x in range(s1 + 1) if x >= r[0])
    reject += sum(
        _pmf(x, s1, 0.2) * _pmf(y, s2, 0.2)
        for x in range(s1 + 1)
        for y in range(s2 + 1)
        if a[0] < x < r[0] and x + y >= r[1]
    )
    assert got.actual_alpha == pytest.approx(reject, rel=1e-12)
    assert "Fleming" in got.protocol_text()


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        (dict(p0=0.0), "p0"),
        (dict(p0=1.2), "p0"),
        (dict(p1=0.1), "p1"),
        (dict(p1=1.0), "p1"),
        (dict(alpha=0.0), "alpha"),
        (dict(beta=0.97), "beta"),
        (dict(nmax=1), "nmax"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict, argument: str) -> None:
    args = dict(p0=0.1, p1=0.3, alpha=0.05, beta=0.2, nmax=40)
    args.update(kwargs)
    with pytest.raises(InputError) as err:
        binary.simon(**args)
    assert err.value.details["argument"] == argument


def test_protocol_text_and_spec_block() -> None:
    got = binary.simon(0.1, 0.3, 0.05, 0.2, nmax=40)
    text = got.protocol_text("optimal")
    assert f"{got.optimal.n1} evaluable patients" in text
    assert got.spec_block()["type"] == "simon-two-stage"


def test_cli_simon_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["design", "simon", "--p0", "0.1", "--p1", "0.3", "--nmax", "40", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"optimal", "minimax", "single_stage", "protocol_text"} <= set(out)
    assert out["beta"] == 0.2


def test_cli_simon_rejects_p1_below_p0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["design", "simon", "--p0", "0.3", "--p1", "0.2", "--json"])
    assert code == 1
    assert json.loads(capsys.readouterr().out)["error"]["argument"] == "p1"
