"""Checkers for Kaplan-Meier, RMST, follow-up and log-rank reference cases.

Reference files: ``references/km_*.json`` and ``references/logrank_*.json``, written by
``tests/conformance/r/km.R`` and ``logrank.R`` from R ``survival`` (and ``survMisc`` for
Fleming-Harrington gamma). Case inputs name a data set shipped in ``validation/datasets``
(CSV copies exported by ``export_datasets.R``), optionally filtered, or give the arrays.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.conventions import resolve
from oncotrial.stats.km import kaplan_meier, landmark_difference
from oncotrial.stats.logrank import logrank
from oncotrial.stats.rmst import median_followup, rmst, rmst_difference
from oncotrial.validation.registry import Case, Check, checker, compare


@cache
def load_dataset(name: str) -> pd.DataFrame:
    """A shipped CSV copy of an R data set (see tests/conformance/r/export_datasets.R)."""
    path = resources.files("oncotrial.validation") / "datasets" / f"{name}.csv"
    with resources.as_file(path) as file:
        return pd.read_csv(file)


def case_data(spec: dict[str, Any]) -> pd.DataFrame:
    """The rows a case refers to: a filtered data set, or inline arrays."""
    if "dataset" in spec:
        frame = load_dataset(spec["dataset"])
        for column, value in (spec.get("where") or {}).items():
            frame = frame[frame[column] == value]
        return frame.reset_index(drop=True)
    return pd.DataFrame({k: np.atleast_1d(v) for k, v in spec.items()})


def _conventions(inp: dict[str, Any]) -> Any:
    return resolve(inp.get("profile", "r"), conf_type=inp.get("conf_type"))


@checker("km")
def check_km(case: Case) -> list[Check]:
    inp, exp = case["input"], case["expected"]
    data = case_data(inp["data"])
    km = kaplan_meier(data["time"], data["event"], conventions=_conventions(inp))
    checks = [
        compare(case, name, exp[name], getattr(km, name))
        for name in ("time", "n_risk", "n_event", "n_censor", "survival", "lower", "upper")
    ]
    finite_se = np.where(np.isinf(km.std_err_cumhaz), np.nan, km.std_err_cumhaz)
    checks.append(compare(case, "std_err_cumhaz", exp["std_err_cumhaz"], finite_se))
    checks.append(
        compare(
            case,
            "std_err_cumhaz is infinite",
            np.atleast_1d(exp["std_err_cumhaz_infinite"]).astype(float),
            np.isinf(km.std_err_cumhaz).astype(float),
        )
    )
    marks = km.survival_at(np.atleast_1d(inp["times"]))
    for name in ("survival", "std_err", "lower", "upper", "n_risk"):
        checks.append(
            compare(case, f"landmark_{name}", exp[f"landmark_{name}"], getattr(marks, name))
        )
    area = rmst(km, float(inp["tau"]))
    checks.append(compare(case, "rmean", exp["rmean"], area.estimate))
    checks.append(compare(case, "rmean_se", exp["rmean_se"], area.std_err))
    if "quantile_estimate" in exp:
        found = np.array([km.quantile(float(p)) for p in np.atleast_1d(inp["probs"])])
        for j, part in enumerate(("estimate", "lower", "upper")):
            checks.append(compare(case, f"quantile_{part}", exp[f"quantile_{part}"], found[:, j]))
    return checks


@checker("km_difference")
def check_km_difference(case: Case) -> list[Check]:
    inp, exp = case["input"], case["expected"]
    data = case_data({"dataset": inp["dataset"]})
    conv = _conventions(inp)
    arms = []
    for value in (inp["a"], inp["b"]):
        rows = data[data[inp["column"]] == value]
        arms.append(kaplan_meier(rows["time"], rows["event"], conventions=conv))
    land = landmark_difference(arms[0], arms[1], float(inp["t"]))
    area = rmst_difference(arms[0], arms[1], float(inp["tau"]))
    pairs = {
        "landmark_difference": land.difference,
        "landmark_std_err": land.std_err,
        "landmark_lower": land.lower,
        "landmark_upper": land.upper,
        "rmst_a": area.rmst_a,
        "rmst_b": area.rmst_b,
        "rmst_difference": area.estimate,
        "rmst_std_err": area.std_err,
        "rmst_lower": area.lower,
        "rmst_upper": area.upper,
    }
    checks = [compare(case, k, exp[k], v) for k, v in pairs.items()]
    checks.append(compare(case, "landmark_p", exp["landmark_p"], land.p_value, rel=0, abs_=1e-6))
    checks.append(compare(case, "rmst_p", exp["rmst_p"], area.p_value, rel=0, abs_=1e-6))
    return checks


@checker("km_followup")
def check_km_followup(case: Case) -> list[Check]:
    inp, exp = case["input"], case["expected"]
    data = case_data(inp["data"])
    fu = median_followup(data["time"], data["event"], conventions=_conventions(inp))
    return [compare(case, k, exp[k], getattr(fu, k)) for k in ("median", "lower", "upper")]


@checker("logrank")
def check_logrank(case: Case) -> list[Check]:
    inp, exp = case["input"], case["expected"]
    data = case_data(inp["data"])
    strata = data[inp["strata"]].to_numpy() if inp.get("strata") else None
    result = logrank(
        data["time"],
        data["event"],
        data[inp["group"]].to_numpy(),
        strata=strata,
        rho=float(inp.get("rho", 0.0)),
        gamma=float(inp.get("gamma", 0.0)),
    )
    checks = [
        compare(
            case,
            "groups",
            np.arange(len(exp["groups"])),
            [list(map(str, exp["groups"])).index(str(g)) for g in result.groups],
            rel=0,
        )
    ]
    if "observed" in exp:
        checks += [
            compare(case, "observed", exp["observed"], result.observed),
            compare(case, "expected", exp["expected"], result.expected),
            compare(case, "variance", exp["variance"], result.variance.ravel()),
            compare(case, "chisq", exp["chisq"], result.chisq),
            compare(case, "df", exp["df"], result.df, rel=0),
            compare(case, "p_value", exp["p_value"], result.p_value, rel=0, abs_=1e-6),
        ]
    if "z" in exp:
        second = 1
        o_minus_e = result.observed[second] - result.expected[second]
        checks += [
            compare(case, "o_minus_e", exp["o_minus_e"], o_minus_e),
            compare(case, "z_variance", exp["z_variance"], result.variance[second, second]),
            compare(case, "z", exp["z"], result.z),
            compare(case, "p_one_sided", exp["p_one_sided"], result.p_one_sided, rel=0, abs_=1e-6),
        ]
    return checks
