"""Checkers for Cox model and treatment-by-subgroup interaction reference cases.

Reference file: ``references/cox_r_survival.json``, written by ``tests/conformance/r/cox.R``
from R ``survival::coxph`` (and ``survfit`` medians for the forest-plot tables). Each case
embeds the columns it uses (``input.data``); a ``cox`` case lists under ``compare`` the
quantities that are well defined for it (with an infinite coefficient only the likelihood,
the score and LR tests, the flags and the finite coefficients are).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.stats.cox import CoxResult, cox
from oncotrial.stats.subgroups import interaction_test, subgroup_analysis
from oncotrial.validation.registry import Case, Check, checker, compare

P_VALUES = {"p", "score_p", "wald_p", "lr_p", "robust_score_p"}


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _frame(data: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({k: _list(v) for k, v in data.items()})


def fit_case(inp: dict[str, Any]) -> tuple[CoxResult, list[warnings.WarningMessage]]:
    """Run oncotrial's Cox model on a case input; also return the warnings it emitted."""
    data = _frame(inp["data"])
    covariates = _list(inp["covariates"])
    strata = _list(inp.get("strata"))
    cluster = inp.get("cluster")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = cox(
            data["time"],
            data["event"],
            data[covariates],
            strata=data[strata] if strata else None,
            ties=inp["ties"],
            robust=bool(inp.get("robust")),
            cluster=data[cluster] if cluster else None,
            reference=inp.get("reference") or None,
            categorical=_list(inp.get("categorical")),
        )
    return fit, list(caught)


def _observed(fit: CoxResult) -> dict[str, Any]:
    terms = fit.terms
    return {
        "coef": [t.coef for t in terms],
        "se": [t.se for t in terms],
        "robust_se": [t.robust_se for t in terms],
        "z": [t.z for t in terms],
        "p": [t.p for t in terms],
        "hr_lower": [t.hr_lower for t in terms],
        "hr_upper": [t.hr_upper for t in terms],
        "loglik_null": fit.loglik_null,
        "loglik": fit.loglik,
        "score": fit.score.statistic,
        "score_p": fit.score.p,
        "wald": fit.wald.statistic,
        "wald_p": fit.wald.p,
        "lr": fit.lr.statistic,
        "lr_p": fit.lr.p,
        "robust_score": fit.robust_score.statistic if fit.robust_score else None,
        "robust_score_p": fit.robust_score.p if fit.robust_score else None,
        "n": fit.n,
        "events": fit.events,
        "infinite": [float(t.infinite) for t in terms],
    }


@checker("cox")
def check_cox(case: Case) -> list[Check]:
    exp = case["expected"]
    fit, caught = fit_case(case["input"])
    obs = _observed(fit)
    names = _list(exp["names"])
    checks = [
        Check(
            case["name"],
            case["kind"],
            "names",
            names,
            fit.names,
            "exact",
            None,
            names == fit.names,
            case.get("_source", ""),
        )
    ]
    for quantity in _list(case["compare"]):
        if quantity == "finite_coef":
            finite = ~np.asarray(_list(exp["infinite"]), dtype=bool)
            checks.append(
                compare(
                    case,
                    quantity,
                    np.asarray(_list(exp["coef"]))[finite],
                    np.asarray(obs["coef"])[finite],
                )
            )
            continue
        if quantity in P_VALUES:
            checks.append(compare(case, quantity, exp[quantity], obs[quantity], rel=0.0, abs_=1e-6))
        else:
            checks.append(compare(case, quantity, exp[quantity], obs[quantity]))
    r_warned = bool(_list(exp.get("warnings")))
    warned = any("infinite" in str(w.message) for w in caught)
    checks.append(
        Check(
            case["name"],
            case["kind"],
            "warns about an infinite coefficient",
            r_warned,
            warned,
            "exact",
            None,
            r_warned == warned,
            case.get("_source", ""),
        )
    )
    return checks


@checker("cox_interaction")
def check_cox_interaction(case: Case) -> list[Check]:
    inp, exp = case["input"], case["expected"]
    data = _frame(inp["data"])
    test = interaction_test(
        data["time"],
        data["event"],
        data["arm"],
        data["sub"],
        arm_reference=inp["arm_reference"],
        subgroup_reference=inp["subgroup_reference"],
        ties=inp["ties"],
    )
    return [
        compare(case, "statistic", exp["statistic"], test.statistic),
        compare(case, "df", exp["df"], test.df),
        compare(case, "p", exp["p"], test.p, rel=0.0, abs_=1e-6),
        compare(
            case,
            "hr within levels",
            exp["hr"],
            [test.level_hr[str(lvl)] for lvl in _list(exp["levels"])],
        ),
    ]


@checker("subgroup_table")
def check_subgroup_table(case: Case) -> list[Check]:
    """Every cell of the forest-plot table against R (coxph per level, survfit medians)."""
    inp, exp = case["input"], case["expected"]
    data = _frame(inp["data"])
    table = subgroup_analysis(
        data,
        "time",
        "event",
        "arm",
        _list(inp["subgroups"]),
        reference=inp["reference"],
        strata=_list(inp.get("strata")) or None,
        ties=inp["ties"],
    ).to_frame()
    rows = exp["rows"]
    checks = [
        Check(
            case["name"],
            case["kind"],
            "rows (subgroup, level)",
            [[r["subgroup"], r["level"]] for r in rows],
            table[["subgroup", "level"]].astype(str).values.tolist(),
            "exact",
            None,
            [[r["subgroup"], r["level"]] for r in rows]
            == table[["subgroup", "level"]].astype(str).values.tolist(),
            case.get("_source", ""),
        )
    ]
    for arm in ("experimental", "control"):
        for j, col in enumerate(("events", "n", "median", "median_lower", "median_upper")):
            checks.append(
                compare(
                    case,
                    f"{arm} {col}",
                    [r[arm][j] for r in rows],
                    table[f"{arm}_{col}"].to_numpy(dtype=float),
                )
            )
    for col in ("hr", "hr_lower", "hr_upper"):
        checks.append(compare(case, col, [r[col] for r in rows], table[col].to_numpy(dtype=float)))
    checks.append(
        compare(
            case,
            "interaction_p",
            [r["interaction_p"] for r in rows],
            table["interaction_p"].to_numpy(dtype=float),
            rel=0.0,
            abs_=1e-6,
        )
    )
    return checks
