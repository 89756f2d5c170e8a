"""Benchmark: Kaplan-Meier by arm + log-rank, oncotrial vs lifelines vs R survival vs argsort.

Not a test. Usage (from the repository root, lifelines lives in ``.venv-bench``; see
docs/PERFORMANCE.md):

    .venv-bench/bin/python benchmarks/bench_km_logrank.py [--sizes 1e5 1e6 1e7]
        [--repeat 7] [--min-time 1] [--no-r] [--no-lifelines] [--json FILE]

Timed: ``oncotrial.stats.km_logrank.km_logrank`` (Kaplan-Meier per arm with Greenwood SEs,
log CIs and the median with its CI, and the log-rank test, from one counting pass), and one
``np.argsort`` of the same times, the yardstick of issue #3.

Data: two arms, exponential times (hazard ratio 0.8) rounded to 3 decimals (ties), ~20%
censoring; the "int" variant uses whole days.

Measurement, made for a shared machine: after one warm-up call each, argsort and oncotrial
are timed alternately (interleaved, so a burst of load hits both), ``--repeat`` times and
more until each has run ``--min-time`` CPU seconds (default 1: some 400 calls each at 1e5,
the 7 rounds at 1e7), and the best of each is kept, both as CPU time
(``time.process_time``, this process only, all threads) and as wall time
(``time.perf_counter``). The 1-minute load average is recorded before and after each row.
lifelines and R are slow, so they run ``--slow-repeat`` times (default 1); R is timed
inside R (``system.time``: elapsed, and user + system CPU), excluding reading the data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from oncotrial.stats.km_logrank import km_logrank


def make_data(n: int, integer_days: bool, seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    t = rng.exponential(365.0 / np.where(arm == 1, 0.8, 1.0))
    event = (rng.random(n) >= 0.2).astype(np.int8)
    t = np.floor(t) + 1 if integer_days else np.round(t, 3)
    return t, event, arm


def timed(func: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    func()
    return time.process_time() - cpu, time.perf_counter() - wall


def best_interleaved(
    funcs: dict[str, Callable[[], object]], repeat: int, min_time: float = 0.0
) -> dict[str, tuple[float, float]]:
    """Best CPU and best wall time of each function, calls alternating between them: at
    least ``repeat`` rounds, and more until every function has run ``min_time`` CPU
    seconds in all (as ``timeit``'s autorange: short calls get more samples)."""
    for func in funcs.values():
        func()  # warm-up: imports, first-touch allocations
    best = {name: (float("inf"), float("inf")) for name in funcs}
    spent = dict.fromkeys(funcs, 0.0)
    rounds = 0
    while rounds < repeat or min(spent.values()) < min_time:
        for name, func in funcs.items():
            cpu, wall = timed(func)
            spent[name] += cpu
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
        rounds += 1
    return best


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
best <- c(Inf, Inf)
for (i in 1:{repeat}) {{
  s <- system.time({{
    f <- survfit(Surv(t, e) ~ g, data = d)
    x <- survdiff(Surv(t, e) ~ g, data = d)
  }})
  best <- pmin(best, c(s[["user.self"]] + s[["sys.self"]], s[["elapsed"]]))
}}
cat(best)
"""


def run_r(t: np.ndarray, e: np.ndarray, g: np.ndarray, repeat: int) -> tuple[float, float]:
    """(CPU, wall) seconds of R survfit + survdiff, best of ``repeat``."""
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
        cpu, wall = (float(v) for v in out.stdout.split())
        return cpu, wall


def bench_row(
    n: int,
    integer: bool,
    repeat: int,
    min_time: float,
    slow_repeat: int,
    r: bool,
    lifelines: bool,
) -> dict[str, Any]:
    t, e, g = make_data(n, integer)
    load_before = os.getloadavg()[0]
    fast = best_interleaved(
        {"argsort": lambda: np.argsort(t), "oncotrial": lambda: run_oncotrial(t, e, g)},
        repeat,
        min_time,
    )
    row: dict[str, Any] = {"n": n, "times": "int" if integer else "float"}
    for name, (cpu, wall) in fast.items():
        row[f"{name}_cpu"], row[f"{name}_wall"] = cpu, wall
    row["ratio_cpu"] = row["oncotrial_cpu"] / row["argsort_cpu"]
    row["ratio_wall"] = row["oncotrial_wall"] / row["argsort_wall"]
    nan = float("nan")
    row["lifelines_cpu"] = row["lifelines_wall"] = nan
    if lifelines:
        runs = [timed(lambda: run_lifelines(t, e, g)) for _ in range(slow_repeat)]
        row["lifelines_cpu"] = min(c for c, _ in runs)
        row["lifelines_wall"] = min(w for _, w in runs)
    row["r_cpu"], row["r_wall"] = run_r(t, e, g, slow_repeat) if r else (nan, nan)
    row["load"] = [load_before, os.getloadavg()[0]]
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6, 1e7])
    parser.add_argument("--repeat", type=int, default=7, help="rounds at least")
    parser.add_argument(
        "--min-time",
        type=float,
        default=1.0,
        help="CPU seconds each of argsort and oncotrial runs at least (more rounds if needed)",
    )
    parser.add_argument("--slow-repeat", type=int, default=1)
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--no-lifelines", action="store_true")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    print(
        f"{'n':>9} {'times':>5} | {'argsort':>8} {'oncotrial':>9} {'ratio':>5} | "
        f"{'argsort':>8} {'oncotrial':>9} {'ratio':>5} | {'lifelines':>9} {'R':>8} | load"
    )
    print(f"{'':>15} | {'CPU seconds (best)':^25} | {'wall seconds (best)':^25} | {'wall':^18} |")
    if not args.no_lifelines:
        import lifelines.statistics  # noqa: F401  (import time is not timed)
    rows = []
    for size in args.sizes:
        for integer in (False, True):
            row = bench_row(
                int(size),
                integer,
                args.repeat,
                args.min_time,
                args.slow_repeat,
                not args.no_r,
                not args.no_lifelines,
            )
            rows.append(row)
            print(
                f"{row['n']:>9} {row['times']:>5} | {row['argsort_cpu']:>8.4f} "
                f"{row['oncotrial_cpu']:>9.4f} {row['ratio_cpu']:>5.2f} | "
                f"{row['argsort_wall']:>8.4f} {row['oncotrial_wall']:>9.4f} "
                f"{row['ratio_wall']:>5.2f} | {row['lifelines_wall']:>9.3f} "
                f"{row['r_wall']:>8.3f} | {row['load'][0]:.1f}-{row['load'][1]:.1f}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()
