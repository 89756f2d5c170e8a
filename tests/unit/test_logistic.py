"""Adjusted odds ratio by logistic regression: consistency and bad input (R values are in
the conformance references, kind ``adjusted_odds_ratio``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oncotrial.errors import DataError, InputError
from oncotrial.stats.logistic import adjusted_odds_ratio
from oncotrial.stats.proportions import logistic_odds_ratio, odds_ratio


def _trial(seed: int = 3, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(["A", "B"], n)
    stratum = rng.choice(["s1", "s2", "s3"], n)
    age = rng.normal(60, 8, n).round()
    p = 1 / (1 + np.exp(-(-0.5 + 0.6 * (arm == "B") - 0.3 * (stratum == "s2"))))
    return pd.DataFrame(
        {"resp": (rng.random(n) < p).astype(int), "arm": arm, "s": stratum, "age": age}
    )


def _counts(df: pd.DataFrame) -> tuple[list[int], ...]:
    x1, n1, x2, n2 = [], [], [], []
    for level in sorted(df.s.unique()):
        part = df[df.s == level]
        x1.append(int(part.resp[part.arm == "B"].sum()))
        n1.append(int((part.arm == "B").sum()))
        x2.append(int(part.resp[part.arm == "A"].sum()))
        n2.append(int((part.arm == "A").sum()))
    return x1, n1, x2, n2


def test_strata_only_equals_the_grouped_fit() -> None:
    df = _trial()
    subject = adjusted_odds_ratio(df, "resp", "arm", strata=["s"])
    grouped = logistic_odds_ratio(*_counts(df))
    assert subject.experimental == "B" and subject.reference == "A"
    assert subject.estimate == pytest.approx(grouped.estimate, rel=1e-9)
    assert subject.lower == pytest.approx(grouped.lower, rel=1e-9)
    assert subject.p_value == pytest.approx(grouped.p_value, rel=1e-9)


def test_unadjusted_equals_the_wald_odds_ratio_and_reference_flips() -> None:
    df = _trial(7)
    fit = adjusted_odds_ratio(df, "resp", "arm")
    a = int(df.resp[df.arm == "B"].sum())
    c = int(df.resp[df.arm == "A"].sum())
    wald = odds_ratio(a, int((df.arm == "B").sum()), c, int((df.arm == "A").sum()), "wald")
    assert fit.estimate == pytest.approx(wald.estimate, rel=1e-9)
    assert fit.upper == pytest.approx(wald.upper, rel=1e-9)
    flipped = adjusted_odds_ratio(df, "resp", "arm", reference="B")
    assert flipped.estimate == pytest.approx(1 / fit.estimate, rel=1e-9)
    assert [t.term for t in fit.terms] == ["(Intercept)", "arm=B"]
    assert "Adjusted odds ratio B vs A" in fit.summary()
    assert list(fit.to_frame().columns)[:3] == ["term", "coef", "se"]
    assert fit.to_dict()["estimate"] == fit.estimate


def test_numeric_and_factor_covariates_name_their_terms() -> None:
    fit = adjusted_odds_ratio(_trial(), "resp", "arm", covariates=["age", "s"])
    assert [t.term for t in fit.terms] == ["(Intercept)", "arm=B", "age", "s=s2", "s=s3"]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda d: d.assign(resp=d.resp.where(d.index != 4, 2)), DataError, "row 5"),
        (lambda d: d.assign(arm="A"), DataError, "level"),
        (lambda d: d.assign(arm=np.where(d.index < 3, "C", d.arm)), DataError, "3 levels"),
        (lambda d: d.assign(age=d.age.where(d.index != 9)), DataError, "row 10"),
        (lambda d: d.assign(resp=1), DataError, "same response"),
        (lambda d: d.assign(s2=d.s), InputError, "collinear"),
        (lambda d: d.assign(resp=(d.arm == "B").astype(int)), InputError, "separation"),
    ],
)
def test_bad_input_is_named(change, error, match) -> None:
    df = change(_trial())
    covariates = ["age", "s2"] if "s2" in df else ["age"]
    with pytest.raises(error, match=match):
        adjusted_odds_ratio(df, "resp", "arm", covariates=covariates, strata=["s"])


def test_missing_column_and_bad_level() -> None:
    with pytest.raises(DataError, match="'nope' not found"):
        adjusted_odds_ratio(_trial(), "resp", "arm", covariates=["nope"])
    with pytest.raises(InputError, match="reference"):
        adjusted_odds_ratio(_trial(), "resp", "arm", reference="Z")
    with pytest.raises(InputError, match="conf_level"):
        adjusted_odds_ratio(_trial(), "resp", "arm", conf_level=1.5)
