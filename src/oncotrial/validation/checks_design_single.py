"""Checkers for single-arm designs: time-to-event, binary (Simon, Fleming) and dose escalation.

References: ``single_arm_*.json``, ``simon_*.json`` and ``dose_*.json`` (R scripts in
``tests/conformance/r/`` and hand-entered published tables).
"""

from __future__ import annotations

import functools

from oncotrial.design import binary, dose, single_arm
from oncotrial.design.accrual import inflate
from oncotrial.validation.registry import Case, Check, checker, compare

_SURVIVAL_KEYS = (
    "median0",
    "median1",
    "accrual",
    "follow_up",
    "alpha",
    "power",
    "sides",
    "method",
    "shape",
    "landmark",
    "transform",
    "variance",
)


def _survival(case: Case) -> single_arm.SingleArmSurvivalDesign:
    kwargs = {k: v for k, v in case["input"].items() if k in _SURVIVAL_KEYS}
    m0, m1 = kwargs.pop("median0"), kwargs.pop("median1")
    return single_arm.single_arm_survival(m0, m1, **kwargs)


@checker("single_arm_survival")
def check_single_arm_survival(case: Case) -> list[Check]:
    got = _survival(case)
    exp = case["expected"]
    return [
        compare(case, "n_exact", exp["n_exact"], got.n_exact),
        compare(case, "n", exp["n"], got.n, rel=0.0),
        compare(case, "achieved_power", exp["achieved_power"], got.achieved_power),
    ]


@checker("single_arm_survival_published")
def check_single_arm_published(case: Case) -> list[Check]:
    got = _survival(case)
    exp = case["expected"]
    return [
        compare(case, "n", exp["n"], got.n, rel=0.0, abs_=0.0),
        compare(case, "achieved_power", exp["achieved_power"], got.achieved_power),
    ]


@checker("dropout_inflation")
def check_dropout_inflation(case: Case) -> list[Check]:
    i = case["input"]
    got = inflate(i["n"], i["rate"], i["rule"])
    return [compare(case, "n_enrolled", case["expected"]["n_enrolled"], got)]


@functools.lru_cache(maxsize=64)
def _simon_search(p0: float, p1: float, alpha: float, beta: float, nmax: int) -> binary.SimonDesign:
    return binary.simon(p0, p1, alpha, beta, nmax=nmax)  # optimal and minimax in one search


def _simon(case: Case) -> binary.SimonStageDesign:
    i = case["input"]
    result = _simon_search(i["p0"], i["p1"], i["alpha"], i["beta"], i["nmax"])
    return result.optimal if i["criterion"] == "optimal" else result.minimax


@checker("simon")
def check_simon(case: Case) -> list[Check]:
    got = _simon(case)
    exp = case["expected"]
    checks = [
        compare(case, key, exp[key], getattr(got, key), rel=0.0, abs_=0.0)
        for key in ("r1", "n1", "r", "n")
    ]
    checks += [
        compare(case, key, exp[key], getattr(got, key))
        for key in ("en0", "pet0", "actual_alpha", "actual_power")
    ]
    return checks


@checker("simon_published")
def check_simon_published(case: Case) -> list[Check]:
    got = _simon(case)
    exp = case["expected"]
    tol = case["tolerance"]
    checks = [
        compare(case, key, exp[key], getattr(got, key), rel=0.0, abs_=0.0)
        for key in ("r1", "n1", "r", "n")
    ]
    checks.append(compare(case, "en0", exp["en0"], got.en0, rel=0.0, abs_=tol["abs_en0"]))
    checks.append(compare(case, "pet0", exp["pet0"], got.pet0, rel=0.0, abs_=tol["abs_pet0"]))
    return checks


@checker("single_stage_binomial")
def check_single_stage(case: Case) -> list[Check]:
    i = case["input"]
    got = binary.single_stage(i["p0"], i["p1"], i["alpha"], i["beta"])
    exp = case["expected"]
    return [
        compare(case, "n", exp["n"], got.n, rel=0.0),
        compare(case, "r", exp["r"], got.r, rel=0.0),
        compare(case, "actual_alpha", exp["actual_alpha"], got.actual_alpha),
        compare(case, "actual_power", exp["actual_power"], got.actual_power),
    ]


@checker("fleming")
def check_fleming(case: Case) -> list[Check]:
    i = case["input"]
    got = binary.fleming(i["p0"], i["p1"], i["alpha"], i["beta"], stages=i["stages"])
    exp = case["expected"]
    checks = [
        compare(case, key, exp[key], list(getattr(got, key)), rel=0.0, abs_=0.0)
        for key in ("stage_sizes", "accept", "reject")
    ]
    checks += [
        compare(case, key, exp[key], getattr(got, key))
        for key in ("actual_alpha", "actual_power", "expected_n0", "expected_n1")
    ]
    checks.append(
        compare(
            case, "stop_probabilities0", exp["stop_probabilities0"], list(got.stop_probabilities0)
        )
    )
    return checks


@checker("a_plus_b_oc")
def check_a_plus_b(case: Case) -> list[Check]:
    i = case["input"]
    design = dose.ABDesign(i["a"], i["b"], i["c"], i["d"], i["e"], i["deescalation"])
    got = dose.escalation_oc(i["dlt_rates"], design)
    exp = case["expected"]
    checks = [
        compare(case, "p_mtd", exp["p_mtd"], list(got.p_mtd)),
        compare(case, "p_pass", exp["p_pass"], list(got.p_pass)),
    ]
    if "expected_patients" in exp:
        checks.append(
            compare(
                case, "expected_patients", exp["expected_patients"], list(got.expected_patients)
            )
        )
    return checks


@checker("boin_table")
def check_boin_table(case: Case) -> list[Check]:
    i = case["input"]
    got = dose.boin_decision_table(i["target"], i["max_n"])
    exp = case["expected"]
    return [
        compare(case, "lambda_e", exp["lambda_e"], got.boundaries.lambda_e),
        compare(case, "lambda_d", exp["lambda_d"], got.boundaries.lambda_d),
        compare(case, "escalate", exp["escalate"], list(got.escalate), rel=0.0, abs_=0.0),
        compare(case, "deescalate", exp["deescalate"], list(got.deescalate), rel=0.0, abs_=0.0),
        compare(case, "eliminate", exp["eliminate"], list(got.eliminate), rel=0.0, abs_=0.0),
    ]


@checker("boin_boundaries_published")
def check_boin_published(case: Case) -> list[Check]:
    """Published boundaries have 3 decimals (tolerance 0.001 covers rounding or truncation)."""
    got = dose.boin_boundaries(case["input"]["target"])
    exp = case["expected"]
    return [
        compare(case, key, exp[key], getattr(got, key), rel=0.0, abs_=0.001)
        for key in ("lambda_e", "lambda_d")
    ]


@checker("boin_table_published")
def check_boin_table_published(case: Case) -> list[Check]:
    i = case["input"]
    got = dose.boin_decision_table(i["target"], max(i["n"]))
    rows = [n - 1 for n in i["n"]]
    exp = case["expected"]
    return [
        compare(case, key, exp[key], [getattr(got, key)[r] for r in rows], rel=0.0, abs_=0.0)
        for key in ("escalate", "deescalate", "eliminate")
    ]


@checker("escalation_probability_hand")
def check_escalation_probability(case: Case) -> list[Check]:
    got = dose.THREE_PLUS_THREE.escalation_probability(case["input"]["p"])
    return [compare(case, "p_pass", case["expected"]["p_pass"], list(got))]
