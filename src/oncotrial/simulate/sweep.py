"""Sweeps: run a grid of scenarios on dask.distributed and gather one tidy table.

Every grid point ``i`` is simulated with the engine (:func:`oncotrial.simulate.simulate_chunk`
over the engine's :func:`~oncotrial.simulate.block_plan`, then the engine's ``summarize``) from
the seed ``[seed, i]``: its block ``b`` draws from ``SeedSequence([seed, i], spawn_key=(b,))``.
The trials of a point, and so every figure of the table, are therefore the same as
``simulate(scenario_i, n_sim, seed=[seed, i])`` and do not depend on the number of workers,
the chunking or the order in which tasks finish.

All chunks of all points are submitted at once (so a grid of small points still keeps every
worker busy) to a ``distributed.LocalCluster`` started for the sweep (``workers`` processes,
one thread each), to an existing cluster given by its scheduler address, or to a given
``Client``; ``workers=0`` runs in this process without dask. A rich progress bar on stderr
counts simulated trials.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from oncotrial.errors import InputError, describe_value
from oncotrial.results import Result
from oncotrial.simulate import (
    BlockRecords,
    Scenario,
    SimulationResult,
    block_plan,
    block_size,
    simulate_chunk,
)
from oncotrial.simulate import summarize as summarize_simulation
from oncotrial.simulate.runner import local_cluster
from oncotrial.simulate.sweep_grid import Grid, load_grid

DEFAULT_CHUNK_TRIALS = 20_000


@dataclass(frozen=True, eq=False)
class SweepResult(Result):
    """Operating characteristics of every grid point: ``table`` has one row per point."""

    name: str
    base: str
    axes: dict[str, list[Any]]
    n_sim: int
    seed: int
    table: pd.DataFrame
    workers: int
    elapsed_seconds: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["points"] = out.pop("table")
        return out

    def summary(self) -> str:
        shown = [c for c in self.table.columns if not c.endswith("_se") and c != "seed"]
        with pd.option_context("display.width", 200, "display.max_columns", 50):
            text = self.table[shown].to_string(index=False, float_format=lambda x: f"{x:.4g}")
        return (
            f"Sweep {self.name}: {len(self.table)} grid points x {self.n_sim} trials "
            f"(base {self.base}, master seed {self.seed}, {self.workers} worker(s), "
            f"{self.elapsed_seconds:.1f} s)\n{text}"
        )


def point_row(index: int, params: dict[str, Any], seed: int, result: SimulationResult) -> dict:
    """One table row: grid index, parameters, power, per-look stopping, expectations, MC SE."""
    row: dict[str, Any] = {"point": index, **params, "seed": f"[{seed}, {index}]"}
    row.update(
        power=result.power,
        power_se=result.power_se,
        power_ignoring_futility=result.power_ignoring_futility,
    )
    for look in result.by_look.itertuples(index=False):
        row[f"p_efficacy_look{look.look}"] = look.p_efficacy
        row[f"p_lower_look{look.look}"] = look.p_lower
    row.update(
        expected_events=result.expected_events,
        expected_events_se=result.expected_events_se,
        expected_patients=result.expected_patients,
        expected_patients_se=result.expected_patients_se,
        expected_duration=result.expected_duration,
        expected_duration_se=result.expected_duration_se,
        hr_median=result.hr.get("q50", math.nan),
        events_not_reached=result.events_not_reached,
    )
    return row


def _chunks(scenario: Scenario, n_sim: int, chunk_size: int) -> list[list[tuple[int, int]]]:
    plan = block_plan(scenario, n_sim)
    per_chunk = max(1, math.ceil(chunk_size / block_size(scenario)))
    return [plan[i : i + per_chunk] for i in range(0, len(plan), per_chunk)]


@contextmanager
def _cluster(
    workers: int | None, scheduler: str | None, client: Any, processes: bool
) -> Iterator[Any]:
    """The dask client to use (None: in-process), closing what this function started."""
    if client is not None:
        yield client
        return
    if workers == 0 and scheduler is None:
        yield None
        return
    from distributed import Client

    if scheduler is not None:
        with Client(scheduler) as remote:
            yield remote
        return
    n = workers or os.cpu_count() or 1
    with local_cluster(n, processes) as cluster, Client(cluster) as local:
        yield local


def _progress(enabled: bool | None, total: int) -> Any:
    import sys

    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("trials"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    bar.add_task("sweep", total=total)
    return bar


def sweep(
    grid: Grid | str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    processes: bool = True,
    chunk_size: int = DEFAULT_CHUNK_TRIALS,
    progress: bool | None = None,
) -> SweepResult:
    """Simulate every point of ``grid`` (a :class:`Grid` or a grid YAML path).

    Args:
        workers: LocalCluster workers (default: CPU count); 0 runs without dask.
        scheduler: address of an existing dask scheduler (``tcp://host:8786``).
        client: an existing ``distributed.Client`` (wins over workers/scheduler).
        processes: LocalCluster workers as processes (default) or threads.
        chunk_size: trials per dask task (rounded up to whole engine blocks); does not
            change the results.
        progress: rich progress bar on stderr (default: when stderr is a terminal).
    """
    if not isinstance(grid, Grid):
        grid = load_grid(grid)
    for name, value in (("workers", workers), ("chunk_size", chunk_size)):
        minimum = 0 if name == "workers" else 1
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < minimum
        ):
            raise InputError(
                f"{name} = {describe_value(value)} is invalid; use an integer >= {minimum}",
                argument=name,
                value=describe_value(value),
            )
    points = grid.points
    scenarios = [grid.scenario(p) for p in points]
    chunks = [_chunks(s, grid.n_sim, chunk_size) for s in scenarios]
    parts: list[list[BlockRecords | None]] = [[None] * len(c) for c in chunks]
    bar = _progress(progress, grid.n_sim * len(points))
    start = time.perf_counter()
    n_workers = 1
    if bar is not None:
        bar.start()
    try:
        with _cluster(workers, scheduler, client, processes) as dask:
            if dask is None:
                for i, (s, cs) in enumerate(zip(scenarios, chunks, strict=True)):
                    for j, blocks in enumerate(cs):
                        parts[i][j] = simulate_chunk(s, [grid.seed, i], blocks)
                        if bar is not None:
                            bar.advance(0, sum(m for _, m in blocks))
            else:
                from distributed import as_completed

                n_workers = max(1, len(dask.scheduler_info().get("workers", {})))
                futures = {
                    dask.submit(simulate_chunk, s, [grid.seed, i], blocks, pure=False): (i, j)
                    for i, (s, cs) in enumerate(zip(scenarios, chunks, strict=True))
                    for j, blocks in enumerate(cs)
                }
                for fut in as_completed(list(futures)):
                    i, j = futures[fut]
                    parts[i][j] = fut.result()
                    if bar is not None:
                        bar.advance(0, sum(m for _, m in chunks[i][j]))
    finally:
        if bar is not None:
            bar.stop()
    elapsed = time.perf_counter() - start
    rows = []
    for i, (params, s) in enumerate(zip(points, scenarios, strict=True)):
        records = BlockRecords.concat([p for p in parts[i] if p is not None])
        result = summarize_simulation(
            s,
            records,
            seed=[grid.seed, i],
            block_size=block_size(s),
            elapsed=elapsed,
            workers=n_workers,
            keep_records=False,
        )
        rows.append(point_row(i, params, grid.seed, result))
    return SweepResult(
        name=grid.name,
        base=grid.base.name,
        axes={name: list(values) for name, values in grid.axes},
        n_sim=grid.n_sim,
        seed=grid.seed,
        table=pd.DataFrame(rows),
        workers=n_workers,
        elapsed_seconds=elapsed,
    )


__all__ = ["Grid", "SweepResult", "load_grid", "point_row", "sweep"]
