"""Benchmark: oncotrial.simulate against rpact getSimulationSurvival, in one run.

PALMIRA-like trial (issue #5): 198 patients, 2:1, uniform accrual over 24 months, exponential
PFS (control median 6 months, HR 0.59), one analysis at 127 events, log-rank, one-sided 0.025.
Both programs simulate the same model: regular entry times and the fixed allocation pattern
that rpact uses (oncotrial ``Accrual(entry="regular")``, ``Randomization("fixed")``).

Reports trials/s for 1e4 and 1e5 replicates on one core (oncotrial with and without the Cox
HR / KM median estimates) in CPU time -- ``time.process_time`` of this process for oncotrial,
``system.time`` user + system for rpact -- and wall time; each timing is repeated ``REPS``
times on both sides and the least-CPU repetition reported (the machine may be shared). Then
the speed-up with 1 vs 2 dask worker processes (wall, and CPU throughput per worker), and
peak memory (tracemalloc peak of numpy allocations during a 1e5 run, and the process's
maximum resident set size).

Run from the repository root:  .venv/bin/python benchmarks/bench_simulate.py [--json]
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from oncotrial.simulate import (
    Accrual,
    AnalysisPlan,
    PiecewiseExponential,
    Randomization,
    Scenario,
    Statistic,
    simulate,
)
from oncotrial.simulate.runner import local_cluster

LAMBDA_C = math.log(2) / 6
HR = 0.59
REPS = 5  # every timing is repeated; the least-CPU (least disturbed) repetition is reported
DASK_TRIALS = 1_000_000

R_SCRIPT = """
suppressMessages(library(rpact))
d <- getDesignGroupSequential(kMax = 1, alpha = 0.025, sided = 1)
for (rep in seq_len(%(reps)d)) for (m in c(1e4, 1e5)) {
  t <- system.time(s <- getSimulationSurvival(d, lambda2 = %(lc).17g, lambda1 = %(le).17g,
    accrualTime = c(0, 24), maxNumberOfSubjects = 198, allocation1 = 2, allocation2 = 1,
    plannedEvents = 127, directionUpper = FALSE, maxNumberOfIterations = m, seed = 1))
  cat(sprintf("%%d %%.6f %%.6f %%.6f\\n", as.integer(m), t[["elapsed"]],
      t[["user.self"]] + t[["sys.self"]], s$overallReject))
}
cat(sprintf("version %%s\\n", packageVersion("rpact")))
"""


def scenario() -> Scenario:
    return Scenario(
        n=198,
        accrual=Accrual.uniform(24.0, 198, entry="regular"),
        control=PiecewiseExponential.exponential(LAMBDA_C),
        experimental=PiecewiseExponential.exponential(HR * LAMBDA_C),
        plan=AnalysisPlan.fixed(127, alpha=0.05, sides=2),
        allocation=(2, 1),
        test=Statistic("logrank"),
        randomization=Randomization("fixed"),
        name="PALMIRA-like",
    )


def _best(runs: list[dict[str, Any]], m: int) -> dict[str, Any]:
    """The repetition with the least CPU time (the one least disturbed by other load),
    with every repetition's CPU throughput."""
    best = min(runs, key=lambda r: r["cpu_s"])
    return {**best, "cpu_trials_per_s_all": [m / r["cpu_s"] for r in runs]}


def run_rpact() -> dict[str, Any]:
    script = R_SCRIPT % {"lc": LAMBDA_C, "le": HR * LAMBDA_C, "reps": REPS}
    out = subprocess.run(
        ["Rscript", "-e", script], capture_output=True, text=True, check=True
    ).stdout
    res: dict[str, Any] = {}
    runs: dict[int, list[dict[str, Any]]] = {}
    for line in out.splitlines():
        parts = line.split()
        if parts[0] == "version":
            res["version"] = parts[1]
        else:
            m, wall, cpu, power = int(parts[0]), *map(float, parts[1:])
            runs.setdefault(m, []).append(
                {
                    "wall_s": wall,
                    "cpu_s": cpu,
                    "power": power,
                    "trials_per_s_wall": m / wall,
                    "trials_per_s_cpu": m / cpu,
                }
            )
    for m, rs in runs.items():
        res[str(m)] = _best(rs, m)
    return res


def run_oncotrial(sc: Scenario, n_sim: int, estimates: bool) -> dict[str, Any]:
    runs = []
    for _ in range(REPS):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        res = simulate(sc, n_sim, seed=1, estimates=estimates, keep_records=False, progress=False)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        runs.append(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "power": res.power,
                "trials_per_s_wall": n_sim / wall,
                "trials_per_s_cpu": n_sim / cpu,
            }
        )
    return _best(runs, n_sim)


def _worker_cpu(client: Any) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each worker process."""
    return dict(client.run(time.process_time))


def run_dask(sc: Scenario, n_sim: int, workers: int) -> dict[str, Any]:
    """``n_sim`` trials (log-rank only) on a LocalCluster of single-thread worker processes,
    default chunking (about four equal tasks per worker). Wall time from this process; CPU
    time summed over the workers (``time.process_time`` in each), so a loaded machine, where
    a second worker cannot get a free core, shows in wall time but not in the per-worker
    CPU throughput."""
    from distributed import Client

    with local_cluster(workers) as cluster, Client(cluster) as client:
        simulate(sc, 20_000 * workers, seed=2, client=client, estimates=False, keep_records=False)
        runs = []
        for _ in range(REPS):
            cpu0 = _worker_cpu(client)
            load0 = os.getloadavg()[0]
            t0 = time.perf_counter()
            res = simulate(sc, n_sim, seed=1, client=client, estimates=False, keep_records=False)
            wall = time.perf_counter() - t0
            cpu1 = _worker_cpu(client)
            per_worker = [cpu1[w] - cpu0[w] for w in cpu0]
            runs.append(
                {
                    "wall_s": wall,
                    "cpu_s": sum(per_worker),
                    "worker_cpu_s": per_worker,
                    "load_average_1min": load0,
                    "trials_per_s_wall": n_sim / wall,
                    "trials_per_s_cpu_per_worker": n_sim / sum(per_worker),
                    "power": res.power,
                }
            )
    best = min(runs, key=lambda r: r["wall_s"])
    return {"workers": workers, **best, "runs": runs}


def peak_memory(sc: Scenario, n_sim: int) -> dict[str, float]:
    tracemalloc.start()
    simulate(sc, n_sim, seed=1, keep_records=True, progress=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"tracemalloc_peak_mb": peak / 2**20, "max_rss_mb": rss}


def main() -> None:
    sc = scenario()
    simulate(sc, 5_000, seed=3, progress=False)  # warm-up (imports, caches)
    out: dict[str, Any] = {"rpact": run_rpact(), "oncotrial": {}, "dask": []}
    for m in (10_000, 100_000):
        out["oncotrial"][str(m)] = {
            "with_estimates": run_oncotrial(sc, m, True),
            "test_only": run_oncotrial(sc, m, False),
        }
    out["dask"] = [run_dask(sc, DASK_TRIALS, w) for w in (1, 2)]
    one, two = out["dask"]
    out["dask_speedup_2_vs_1"] = one["wall_s"] / two["wall_s"]
    # what 2 workers would give with a free core each: 2 x their per-worker CPU throughput
    out["dask_cpu_speedup_2_vs_1"] = (
        2 * two["trials_per_s_cpu_per_worker"] / one["trials_per_s_cpu_per_worker"]
    )
    out["memory_1e5"] = peak_memory(sc, 100_000)
    for m in ("10000", "100000"):
        r = out["rpact"][m]
        o = out["oncotrial"][m]
        out["oncotrial"][m]["speedup_vs_rpact_cpu"] = {
            k: r["cpu_s"] / o[k]["cpu_s"] for k in ("with_estimates", "test_only")
        }
        out["oncotrial"][m]["speedup_vs_rpact_wall"] = {
            k: r["wall_s"] / o[k]["wall_s"] for k in ("with_estimates", "test_only")
        }
    if "--json" in sys.argv:
        print(json.dumps(out, indent=2))
        return
    print(f"rpact {out['rpact']['version']} vs oncotrial (PALMIRA-like, log-rank at 127 events)")
    print("| replicates | program | trials/s (CPU) | trials/s (wall) | power |")
    print("|---|---|---|---|---|")
    for m in ("10000", "100000"):
        r = out["rpact"][m]
        print(
            f"| {m} | rpact | {r['trials_per_s_cpu']:,.0f} | {r['trials_per_s_wall']:,.0f} "
            f"| {r['power']:.4f} |"
        )
        for k in ("with_estimates", "test_only"):
            o = out["oncotrial"][m][k]
            print(
                f"| {m} | oncotrial ({k}) | {o['trials_per_s_cpu']:,.0f} | "
                f"{o['trials_per_s_wall']:,.0f} | {o['power']:.4f} |"
            )
    for d in out["dask"]:
        print(
            f"dask {d['workers']} worker(s): {d['trials_per_s_wall']:,.0f} trials/s (wall), "
            f"{d['trials_per_s_cpu_per_worker']:,.0f} trials/s per worker CPU second, "
            f"load {d['load_average_1min']:.1f}"
        )
    print(
        f"speed-up 2 vs 1 workers: wall {out['dask_speedup_2_vs_1']:.2f}, "
        f"CPU-bound {out['dask_cpu_speedup_2_vs_1']:.2f}"
    )
    for m in ("10000", "100000"):
        cpu = out["oncotrial"][m]["speedup_vs_rpact_cpu"]
        wall = out["oncotrial"][m]["speedup_vs_rpact_wall"]
        print(
            f"speed-up vs rpact at {m}: CPU {cpu['test_only']:.1f}x (test only), "
            f"{cpu['with_estimates']:.1f}x (with estimates); wall {wall['test_only']:.1f}x, "
            f"{wall['with_estimates']:.1f}x"
        )
    mem = out["memory_1e5"]
    print(
        f"peak memory (1e5): tracemalloc {mem['tracemalloc_peak_mb']:.1f} MB, "
        f"max RSS {mem['max_rss_mb']:.0f} MB"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
