"""Benchmark: Kaplan-Meier by arm + log-rank, oncotrial vs lifelines vs R survival vs argsort.

Not a test. Usage (from the repository root):

    .venv/bin/python benchmarks/bench_km_logrank.py [--sizes 1e5 1e6 1e7] [--no-r] [--no-lifelines]

Timed: ``oncotrial.stats.km_logrank.km_logrank`` (Kaplan-Meier per arm with Greenwood SEs,
log CIs and the median with its CI, and the log-rank test, from one counting pass).

Data: two arms, exponential times (hazard ratio 0.8) rounded to 3 decimals (ties), ~20%
censoring; the "int" variant rounds times to whole days. Each timing is the best of
``--repeat`` runs. R timings are measured inside R (``system.time``), excluding data loading.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Callable

import numpy as np

from oncotrial.stats.km_logrank import km_logrank


def make_data(n: int, integer_days: bool, seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    t = rng.exponential(365.0 / np.where(arm == 1, 0.8, 1.0))
    event = (rng.random(n) >= 0.2).astype(np.int8)
    t = np.floor(t) + 1 if integer_days else np.round(t, 3)
    return t, event, arm


def best(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def run_oncotrial(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> None:
    km_logrank(t, e, g)  # KM per arm (table, SEs, CIs, median with CI) + log-rank


def run_lifelines(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> None:
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    for arm in (0, 1):
        mask = g == arm
        KaplanMeierFitter().fit(t[mask], e[mask])
    logrank_test(t[g == 0], t[g == 1], e[g == 0], e[g == 1])


R_CODE = """
suppressMessages(library(survival))
d <- read.csv("{path}")
best <- Inf
for (i in 1:{repeat}) {{
  s <- system.time({{
    f <- survfit(Surv(t, e) ~ g, data = d)
    x <- survdiff(Surv(t, e) ~ g, data = d)
  }})[["elapsed"]]
  best <- min(best, s)
}}
cat(best)
"""


def run_r(t: np.ndarray, e: np.ndarray, g: np.ndarray, repeat: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.csv")
        np.savetxt(
            path,
            np.column_stack([t, e, g]),
            delimiter=",",
            header="t,e,g",
            comments="",
            fmt=["%.3f", "%d", "%d"],
        )
        out = subprocess.run(
            ["Rscript", "-e", R_CODE.format(path=path, repeat=repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6, 1e7])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--no-lifelines", action="store_true")
    args = parser.parse_args()
    header = (
        f"{'n':>10} {'times':>6} {'argsort':>9} {'oncotrial':>10} {'ratio':>6} "
        f"{'lifelines':>10} {'R survival':>11}"
    )
    print(header)
    for size in args.sizes:
        n = int(size)
        for integer in (False, True):
            t, e, g = make_data(n, integer)
            base = best(lambda t=t: np.argsort(t), args.repeat)
            ours = best(lambda t=t, e=e, g=g: run_oncotrial(t, e, g), args.repeat)
            life = (
                float("nan")
                if args.no_lifelines
                else best(lambda t=t, e=e, g=g: run_lifelines(t, e, g), 1)
            )
            r_time = float("nan") if args.no_r else run_r(t, e, g, 1)
            print(
                f"{n:>10} {'int' if integer else 'float':>6} {base:>9.3f} {ours:>10.3f} "
                f"{ours / base:>6.2f} {life:>10.3f} {r_time:>11.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
