"""Checker for the adjusted odds ratio by logistic regression (oncotrial.stats.logistic).

Kind ``adjusted_odds_ratio``: subject-level data in the case, R ``glm(binomial)`` numbers
(arm OR with Wald CI and p; every coefficient, SE and p) in ``expected``.
"""

from __future__ import annotations

import pandas as pd

from oncotrial.stats.logistic import adjusted_odds_ratio
from oncotrial.validation.registry import Case, Check, checker, compare


@checker("adjusted_odds_ratio")
def check_adjusted_odds_ratio(case: Case) -> list[Check]:
    i = case["input"]
    result = adjusted_odds_ratio(
        pd.DataFrame(i["data"]),
        i["response"],
        i["arm"],
        covariates=i["covariates"],
        strata=i["strata"],
        conf_level=i["conf_level"],
    )
    e = case["expected"]
    checks = [
        compare(case, name, e[name], getattr(result, name))
        for name in ("estimate", "lower", "upper", "p_value")
    ]
    checks.append(compare(case, "coef", e["coef"], [t.coef for t in result.terms]))
    checks.append(compare(case, "se", e["se"], [t.se for t in result.terms]))
    checks.append(compare(case, "term_p", e["term_p"], [t.p_value for t in result.terms]))
    return checks
