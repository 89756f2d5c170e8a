"""Floor of Kaplan-Meier + log-rank on this machine: what any implementation must pay.

Not a test. Usage (from the repository root; see docs/PERFORMANCE.md):

    .venv/bin/python benchmarks/floor_km_logrank.py [--sizes 1e5 1e6] [--repeat 9]

Issue #3 asks for KM by arm + log-rank within 1.5x of one ``np.argsort`` of the times.
For times that are not whole numbers any exact method sorts them, and it returns a table
per arm with a row per distinct time. This script measures, on the data of
``bench_km_logrank.py``, the two costs no implementation avoids, next to the yardstick:

* ``argsort``: one ``np.argsort`` of the times (the yardstick);
* ``sort``: one ``np.sort`` of 64-bit keys (the cheapest sort of the times: values, no
  index array);
* ``result memory``: allocating and writing, once, fresh arrays of exactly the size and
  number of the arrays ``km_logrank`` returns (the per-arm tables: time, counts,
  survival, standard errors and CI bounds), freed before the next repetition as a caller
  that drops the result frees them;
* ``oncotrial``: ``km_logrank`` itself.

Each is timed as the best of ``--repeat`` interleaved calls (wall clock), with the minor
page faults of that call (``getrusage``). On a sandboxed kernel a page fault costs several
microseconds, so writing fresh memory costs far more than rewriting memory already mapped;
``argsort``'s one output is reused from the allocator's free memory and does not fault.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable

import numpy as np
from bench_km_logrank import make_data

from oncotrial.stats.km_logrank import km_logrank


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def best(funcs: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, int]]:
    """Best wall time of each function (calls interleaved) and the page faults of that call."""
    for func in funcs.values():
        func()
    out = {name: (float("inf"), 0) for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            faults, start = minor_faults(), time.perf_counter()
            func()
            elapsed = time.perf_counter() - start
            if elapsed < out[name][0]:
                out[name] = (elapsed, minor_faults() - faults)
    return out


def result_sizes(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> list[int]:
    """Element counts of the arrays a ``km_logrank`` result holds (all 8 bytes wide)."""
    result = km_logrank(t, e, g)
    return [
        value.size
        for curve in result.curves.values()
        for value in vars(curve).values()
        if isinstance(value, np.ndarray)
    ]


def touch(sizes: list[int]) -> None:
    """Allocate and write fresh arrays of these sizes; they are freed on return."""
    arrays = [np.empty(size) for size in sizes]
    for array in arrays:
        array.fill(1.0)


def measure(n: int, repeat: int) -> tuple[dict[str, tuple[float, int]], list[int]]:
    """The four timings at ``n`` subjects, and the sizes of the result's arrays."""
    t, e, g = make_data(n, integer_days=False)
    keys = np.random.default_rng(2).integers(0, 2**62, n).astype(np.uint64)
    sizes = result_sizes(t, e, g)
    rows = best(
        {
            "argsort": lambda: np.argsort(t),
            "sort": lambda: np.sort(keys),
            "result memory": lambda: touch(sizes),
            "oncotrial": lambda: km_logrank(t, e, g),
        },
        repeat,
    )
    return rows, sizes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    print(f"{'n':>8} {'step':>14} {'ms':>8} {'x argsort':>9} {'faults':>7}")
    for size in args.sizes:
        n = int(size)
        rows, sizes = measure(n, args.repeat)
        yardstick = rows["argsort"][0]
        for name, (elapsed, faults) in rows.items():
            print(
                f"{n:>8} {name:>14} {elapsed * 1e3:>8.2f} {elapsed / yardstick:>9.2f} {faults:>7}"
            )
        floor = rows["sort"][0] + rows["result memory"][0]
        megabytes = 8 * sum(sizes) / 2**20
        print(
            f"{n:>8} {'floor':>14} {floor * 1e3:>8.2f} {floor / yardstick:>9.2f}"
            f"   (sort + {len(sizes)} result arrays, {megabytes:.1f} MB)"
        )


if __name__ == "__main__":
    main()
