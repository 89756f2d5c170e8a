"""Run a scenario ``n_sim`` times: blocks of replicates, chunks, dask, progress.

Random-number scheme (``sim-v1``): replicates are cut into blocks of
:func:`~oncotrial.simulate.engine.block_size` trials (fixed by the scenario); block ``i`` is
simulated from ``SeedSequence(seed, spawn_key=(i,))``, which is the ``i``-th child of
``SeedSequence(seed).spawn(...)``. A chunk is a run of whole blocks, so the trials, and
every figure computed from them, are identical whatever the chunk size or the number of
workers; the first ``m`` blocks of a larger run are the same trials as a run of ``m`` blocks.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from oncotrial.errors import InputError, describe_value
from oncotrial.simulate.engine import BlockRecords, block_size, simulate_block
from oncotrial.simulate.result import summarize
from oncotrial.simulate.scenario import Scenario
from oncotrial.simulate.single_arm import (
    SingleArmRecords,
    SingleArmScenario,
    simulate_single_arm_block,
    summarize_single_arm,
)

DEFAULT_CHUNK_TRIALS = 20_000
TASKS_PER_WORKER = 4
MAX_TASK_TRIALS = 100_000
PROGRESS_MIN_TRIALS = 200_000


def block_seed(seed: int | Sequence[int], index: int) -> np.random.SeedSequence:
    """Seed sequence of block ``index``: ``SeedSequence(seed, spawn_key=(index,))``."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


def block_plan(scenario: Scenario | SingleArmScenario, n_sim: int) -> list[tuple[int, int]]:
    """``(block index, replicates)`` of every block; only the last may be partial."""
    size = block_size(scenario)
    count = math.ceil(n_sim / size)
    return [(i, min(size, n_sim - i * size)) for i in range(count)]


def simulate_chunk(
    scenario: Scenario | SingleArmScenario,
    seed: int | Sequence[int],
    blocks: Sequence[tuple[int, int]],
    estimates: bool = True,
) -> Any:
    """Simulate whole blocks ``(index, replicates)`` in order (pure; a dask task):
    :class:`BlockRecords` of a two-arm scenario, :class:`SingleArmRecords` of a single-arm one."""
    if isinstance(scenario, SingleArmScenario):
        single = [simulate_single_arm_block(scenario, block_seed(seed, i), m) for i, m in blocks]
        return SingleArmRecords.concat(single)
    parts = [simulate_block(scenario, block_seed(seed, i), m, estimates) for i, m in blocks]
    return BlockRecords.concat(parts)


# glibc malloc settings for the worker processes of clusters oncotrial starts. dask sets
# MALLOC_TRIM_THRESHOLD_=64 KiB for its workers, which also freezes glibc's mmap threshold at
# 128 KiB: every block's arrays are then mapped, faulted in and unmapped again, which costs
# a worker about a third more CPU time (system time) than the same work in process. Larger
# thresholds keep freed arrays for reuse (measured: system time 1.5 s -> 0.1 s per 5e5 trials).
WORKER_ENV = {"MALLOC_TRIM_THRESHOLD_": str(64 << 20), "MALLOC_MMAP_THRESHOLD_": str(16 << 20)}


def local_cluster(workers: int, processes: bool = True) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` single-thread workers for simulation
    (processes by default, with :data:`WORKER_ENV`)."""
    import dask.config
    from distributed import LocalCluster

    # glibc reads these when a process starts: they must be in the environment the worker
    # processes are spawned with (dask's pre-spawn environment), not set afterwards
    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **WORKER_ENV}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None
        )


def worker_count(client: Any) -> int:
    """Number of dask workers (at least 1)."""
    return max(1, len(client.scheduler_info().get("workers", {})))


def blocks_per_chunk(n_blocks: int, size: int, chunk_size: int | None, workers: int) -> int:
    """Blocks per chunk (task): ``chunk_size`` rounded up to whole blocks when given; in
    process ``DEFAULT_CHUNK_TRIALS``; on ``workers`` dask workers about
    ``TASKS_PER_WORKER`` equal tasks per worker (so no worker idles at the end while another
    finishes a last big chunk), each at most ``MAX_TASK_TRIALS`` trials."""
    if chunk_size is not None:
        return max(1, math.ceil(chunk_size / size))
    if workers <= 0:
        return max(1, math.ceil(DEFAULT_CHUNK_TRIALS / size))
    even = math.ceil(n_blocks / (TASKS_PER_WORKER * workers))
    return max(1, min(even, math.ceil(MAX_TASK_TRIALS / size)))


def _check(n_sim: Any, chunk_size: Any) -> tuple[int, int | None]:
    if isinstance(n_sim, bool) or not isinstance(n_sim, (int, np.integer)) or n_sim < 1:
        raise InputError(
            f"n_sim = {describe_value(n_sim)} is invalid; give a positive integer",
            argument="n_sim",
            value=describe_value(n_sim),
        )
    if chunk_size is not None and (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, (int, np.integer))
        or chunk_size < 1
    ):
        raise InputError(
            f"chunk_size = {describe_value(chunk_size)} is invalid; give a positive integer "
            "(trials per chunk, rounded up to whole blocks)",
            argument="chunk_size",
            value=describe_value(chunk_size),
        )
    return int(n_sim), None if chunk_size is None else int(chunk_size)


def _normalise_seed(seed: Any) -> int | list[int]:
    if seed is None:
        entropy = np.random.SeedSequence().entropy
        assert entropy is not None
        return int(entropy)  # type: ignore[arg-type]
    if isinstance(seed, (list, tuple)):
        return [int(s) for s in seed]
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(
            f"seed = {describe_value(seed)} is invalid; give a non-negative integer",
            argument="seed",
            value=describe_value(seed),
        )
    return int(seed)


def _progress(enabled: bool | None, n_sim: int) -> Any:
    """A rich progress bar on stderr, or None."""
    if enabled is None:
        enabled = n_sim >= PROGRESS_MIN_TRIALS and sys.stderr.isatty()
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} trials"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _client(client: Any) -> Any:
    if client is None or not isinstance(client, str):
        return client
    from distributed import Client

    return Client(client)


def simulate(
    scenario: Scenario | SingleArmScenario,
    n_sim: int,
    seed: int | Sequence[int] | None = None,
    *,
    chunk_size: int | None = None,
    client: Any = None,
    progress: bool | None = None,
    keep_records: bool = True,
    estimates: bool = True,
) -> Any:
    """Simulate ``n_sim`` trials of ``scenario`` and summarise their operating characteristics.

    Returns a :class:`SimulationResult` for a two-arm :class:`Scenario` and a
    :class:`SingleArmSimulationResult` for a :class:`SingleArmScenario`.

    Args:
        scenario: the trial (:class:`Scenario`, e.g. from :func:`scenario_from_spec`).
        n_sim: number of simulated trials.
        seed: integer seed (``None``: fresh entropy, recorded in the result).
        chunk_size: trials per chunk (rounded up to whole blocks); default 20,000 in
            process and, on dask, about four equal chunks per worker. Does not change the
            results.
        client: a ``distributed.Client`` (or a scheduler address) to run chunks as dask
            tasks; ``None`` runs in this process.
        progress: show a progress bar on stderr (default: for 200,000 trials or more on a
            terminal).
        keep_records: keep the per-trial arrays in ``result.records``.
        estimates: compute the Cox HR and Kaplan-Meier medians of every trial (``False``:
            only the test statistics, faster; the estimate summaries are then empty).
    """
    if not isinstance(scenario, (Scenario, SingleArmScenario)):
        raise InputError(
            f"scenario: {describe_value(scenario)} is not a Scenario or SingleArmScenario; "
            "build one or use scenario_from_spec",
            argument="scenario",
            value=describe_value(scenario),
        )
    n, chunk = _check(n_sim, chunk_size)
    seed_used = _normalise_seed(seed)
    plan = block_plan(scenario, n)
    size = block_size(scenario)
    start = time.perf_counter()
    dask_client = _client(client)
    workers = 1 if dask_client is None else worker_count(dask_client)
    per_chunk = blocks_per_chunk(len(plan), size, chunk, 0 if dask_client is None else workers)
    chunks = [plan[i : i + per_chunk] for i in range(0, len(plan), per_chunk)]
    bar = _progress(progress, n)
    parts: list[Any] = [None] * len(chunks)
    task_id = bar.add_task("simulate", total=n) if bar is not None else None
    if bar is not None:
        bar.start()
    try:
        if dask_client is None:
            for i, blocks in enumerate(chunks):
                parts[i] = simulate_chunk(scenario, seed_used, blocks, estimates)
                if bar is not None:
                    bar.advance(task_id, sum(m for _, m in blocks))
        else:
            from distributed import as_completed

            futures = {
                dask_client.submit(
                    simulate_chunk, scenario, seed_used, blocks, estimates, pure=False
                ): i
                for i, blocks in enumerate(chunks)
            }
            for fut in as_completed(list(futures)):
                i = futures[fut]
                parts[i] = fut.result()
                if bar is not None:
                    bar.advance(task_id, sum(m for _, m in chunks[i]))
    finally:
        if bar is not None:
            bar.stop()
        if dask_client is not None and isinstance(client, str):
            dask_client.close()
    elapsed = time.perf_counter() - start
    if isinstance(scenario, SingleArmScenario):
        return summarize_single_arm(
            scenario,
            SingleArmRecords.concat(parts),
            seed=seed_used,
            block_size=size,
            elapsed=elapsed,
            workers=workers,
            keep_records=keep_records,
        )
    records = BlockRecords.concat(parts)
    return summarize(
        scenario,
        records,
        seed=seed_used,
        block_size=size,
        elapsed=elapsed,
        workers=workers,
        keep_records=keep_records,
    )
