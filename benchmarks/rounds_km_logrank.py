"""KM + log-rank against argsort at one size, in several rounds: how much the ratio drifts.

Not a test. On a shared machine the best-of-N ratio of ``bench_km_logrank.py`` moves with the
neighbours' load (oncotrial, which writes ~7 MB of tables at 1e5, suffers more than one
argsort). This runs that measurement (``best_interleaved``: argsort and oncotrial
alternately, best CPU time of each) ``--rounds`` times in one process and prints each
round's ratio and their median. Usage (repository root):

    .venv/bin/python benchmarks/rounds_km_logrank.py [--n 1e5] [--rounds 5] [--repeat 41]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from bench_km_logrank import best_interleaved, make_data, run_oncotrial


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=float, default=1e5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=41)
    parser.add_argument("--int", action="store_true", help="whole days instead of float times")
    args = parser.parse_args()
    t, e, g = make_data(int(args.n), args.int)
    ratios = []
    for _ in range(args.rounds):
        best = best_interleaved(
            {"argsort": lambda: np.argsort(t), "oncotrial": lambda: run_oncotrial(t, e, g)},
            args.repeat,
        )
        argsort, oncotrial = best["argsort"][0], best["oncotrial"][0]
        ratios.append(oncotrial / argsort)
        print(
            f"argsort {argsort * 1e3:.3f} ms  oncotrial {oncotrial * 1e3:.3f} ms  "
            f"ratio {ratios[-1]:.3f}",
            flush=True,
        )
    print(f"median ratio {statistics.median(ratios):.3f} ({min(ratios):.3f} to {max(ratios):.3f})")


if __name__ == "__main__":
    main()
