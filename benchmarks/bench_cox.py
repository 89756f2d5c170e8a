"""Benchmark: stratified Cox model, oncotrial vs R survival::coxph vs lifelines.

Not a test. Usage (from the repository root):

    .venv/bin/python benchmarks/bench_cox.py [--sizes 1e5 1e6] [--repeat 3] [--no-r]
                                             [--no-lifelines]

Model: one treatment covariate (0/1, true HR 0.8) and two binary stratification factors
(4 strata), Efron ties. Times are exponential, rounded to 3 decimals (so there are ties),
~20% censored. Each timing is the best of ``--repeat`` runs. R is timed inside R
(``system.time`` around ``coxph`` only, excluding reading the CSV); lifelines
(``CoxPHFitter(strata=...)``, Efron) and oncotrial are timed around the fit call only.
The coefficient each tool finds is printed so the timings compare the same model.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from oncotrial.stats.cox import cox


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    s1, s2 = rng.integers(0, 2, n), rng.integers(0, 2, n)
    rate = np.exp(np.log(0.8) * arm + 0.3 * s1 - 0.2 * s2) / 365.0
    t = np.round(rng.exponential(1 / rate), 3)
    event = (rng.random(n) >= 0.2).astype(np.int8)
    return pd.DataFrame({"time": t, "event": event, "arm": arm, "s1": s1, "s2": s2})


def best(func: Callable[[], float], repeat: int) -> tuple[float, float]:
    times, coef = [], float("nan")
    for _ in range(repeat):
        start = time.perf_counter()
        coef = func()
        times.append(time.perf_counter() - start)
    return min(times), coef


def run_oncotrial(d: pd.DataFrame) -> float:
    fit = cox(d["time"], d["event"], d[["arm"]], strata=d[["s1", "s2"]], ties="efron")
    return fit.terms[0].coef


def run_lifelines(d: pd.DataFrame) -> float:
    from lifelines import CoxPHFitter

    fitter = CoxPHFitter()
    fitter.fit(d, duration_col="time", event_col="event", strata=["s1", "s2"])
    return float(fitter.params_["arm"])


R_SCRIPT = """
suppressMessages(library(survival))
d <- read.csv("{csv}")
best <- Inf
for (i in seq_len({repeat})) {{
  tm <- system.time(f <- coxph(Surv(time, event) ~ arm + strata(s1, s2), data = d,
                               ties = "efron"))[["elapsed"]]
  best <- min(best, tm)
}}
cat(sprintf("%.6f %.10f\\n", best, coef(f)[["arm"]]))
"""


def run_r(d: pd.DataFrame, repeat: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "cox.csv")
        d.to_csv(csv, index=False)
        script = os.path.join(tmp, "bench.R")
        with open(script, "w") as fh:
            fh.write(R_SCRIPT.format(csv=csv, repeat=repeat))
        out = subprocess.run(["Rscript", script], capture_output=True, text=True, check=True)
    seconds, coef = out.stdout.split()
    return float(seconds), float(coef)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--no-lifelines", action="store_true")
    args = parser.parse_args()
    run_oncotrial(make_data(1000))  # warm-up: imports
    print(f"{'n':>10} {'tool':>10} {'seconds':>9} {'coef(arm)':>14}")
    for size in args.sizes:
        n = int(size)
        d = make_data(n)
        rows = [("oncotrial", *best(lambda d=d: run_oncotrial(d), args.repeat))]
        if not args.no_r:
            rows.append(("R coxph", *run_r(d, args.repeat)))
        if not args.no_lifelines:
            rows.append(("lifelines", *best(lambda d=d: run_lifelines(d), args.repeat)))
        for tool, seconds, coef in rows:
            print(f"{n:>10} {tool:>10} {seconds:>9.3f} {coef:>14.8f}")


if __name__ == "__main__":
    main()
