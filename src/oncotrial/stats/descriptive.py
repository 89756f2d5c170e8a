"""Descriptive summaries by group: counts with percentages, and median with range.

These are the numbers of a baseline-characteristics table (CONSORT 2010 item 15). The
median is the usual sample median (mean of the two middle values for an even count, as SAS
PROC MEANS and R ``median`` give); percentages use the group size as denominator, so a
missing value is counted in a "Missing" level rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from oncotrial.results import Result

MISSING = "Missing"


@dataclass(frozen=True)
class LevelCount(Result):
    level: str
    counts: dict[str, int]
    percents: dict[str, float]


@dataclass(frozen=True)
class ContinuousSummary(Result):
    group: str
    n: int
    missing: int
    mean: float
    sd: float
    median: float
    minimum: float
    maximum: float


def group_sizes(groups: pd.Series, order: Sequence[str]) -> dict[str, int]:
    """Subjects per group, in ``order``."""
    return {g: int((groups == g).sum()) for g in order}


def level_counts(
    values: pd.Series, groups: pd.Series, order: Sequence[str], levels: Sequence[str] | None = None
) -> tuple[LevelCount, ...]:
    """n and percent of each level within each group (denominator: the group size)."""
    text = values.astype("string")
    present = [str(v) for v in pd.unique(text.dropna())]
    wanted = [str(v) for v in levels] if levels is not None else sorted(present)
    sizes = group_sizes(groups, order)
    out = []
    for level in [*wanted, *([MISSING] if text.isna().any() else [])]:
        hit = text.isna() if level == MISSING else (text == level).fillna(False)
        counts = {g: int((hit & (groups == g)).sum()) for g in order}
        percents = {g: 100.0 * counts[g] / sizes[g] if sizes[g] else float("nan") for g in order}
        out.append(LevelCount(level, counts, percents))
    return tuple(out)


def continuous_summaries(
    values: pd.Series, groups: pd.Series, order: Sequence[str]
) -> tuple[ContinuousSummary, ...]:
    """n, missing, mean, SD (n - 1 denominator), median, minimum and maximum per group."""
    numbers = pd.to_numeric(values, errors="raise").astype(float)
    out = []
    for g in order:
        x = numbers[groups == g].to_numpy()
        ok = x[~np.isnan(x)]
        nan = float("nan")
        out.append(
            ContinuousSummary(
                g,
                int(ok.size),
                int(x.size - ok.size),
                float(ok.mean()) if ok.size else nan,
                float(ok.std(ddof=1)) if ok.size > 1 else nan,
                float(np.median(ok)) if ok.size else nan,
                float(ok.min()) if ok.size else nan,
                float(ok.max()) if ok.size else nan,
            )
        )
    return tuple(out)
