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
from oncotrial.simulate.result import SimulationResult, summarize
from oncotrial.simulate.scenario import Scenario

DEFAULT_CHUNK_TRIALS = 20_000
PROGRESS_MIN_TRIALS = 200_000


def block_seed(seed: int | Sequence[int], index: int) -> np.random.SeedSequence:
    """Seed sequence of block ``index``: ``SeedSequence(seed, spawn_key=(index,))``."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


def block_plan(scenario: Scenario, n_sim: int) -> list[tuple[int, int]]:
    """``(block index, replicates)`` of every block; only the last may be partial."""
    size = block_size(scenario)
    count = math.ceil(n_sim / size)
    return [(i, min(size, n_sim - i * size)) for i in range(count)]


def simulate_chunk(
    scenario: Scenario,
    seed: int | Sequence[int],
    blocks: Sequence[tuple[int, int]],
    estimates: bool = True,
) -> BlockRecords:
    """Simulate whole blocks ``(index, replicates)`` in order (pure; a dask task)."""
    parts = [simulate_block(scenario, block_seed(seed, i), m, estimates) for i, m in blocks]
    return BlockRecords.concat(parts)


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
    scenario: Scenario,
    n_sim: int,
    seed: int | Sequence[int] | None = None,
    *,
    chunk_size: int | None = None,
    client: Any = None,
    progress: bool | None = None,
    keep_records: bool = True,
    estimates: bool = True,
) -> SimulationResult:
    """Simulate ``n_sim`` trials of ``scenario`` and summarise their operating characteristics.

    Args:
        scenario: the trial (:class:`Scenario`, e.g. from :func:`scenario_from_spec`).
        n_sim: number of simulated trials.
        seed: integer seed (``None``: fresh entropy, recorded in the result).
        chunk_size: trials per chunk (rounded up to whole blocks); default 20,000. Does not
            change the results.
        client: a ``distributed.Client`` (or a scheduler address) to run chunks as dask
            tasks; ``None`` runs in this process.
        progress: show a progress bar on stderr (default: for 200,000 trials or more on a
            terminal).
        keep_records: keep the per-trial arrays in ``result.records``.
        estimates: compute the Cox HR and Kaplan-Meier medians of every trial (``False``:
            only the test statistics, faster; the estimate summaries are then empty).
    """
    if not isinstance(scenario, Scenario):
        raise InputError(
            f"scenario: {describe_value(scenario)} is not a Scenario; build one or use "
            "scenario_from_spec",
            argument="scenario",
            value=describe_value(scenario),
        )
    n, chunk = _check(n_sim, chunk_size)
    seed_used = _normalise_seed(seed)
    plan = block_plan(scenario, n)
    size = block_size(scenario)
    per_chunk = max(1, math.ceil((chunk or DEFAULT_CHUNK_TRIALS) / size))
    chunks = [plan[i : i + per_chunk] for i in range(0, len(plan), per_chunk)]
    bar = _progress(progress, n)
    start = time.perf_counter()
    dask_client = _client(client)
    parts: list[BlockRecords] = [None] * len(chunks)  # type: ignore[list-item]
    task_id = bar.add_task("simulate", total=n) if bar is not None else None
    if bar is not None:
        bar.start()
    try:
        if dask_client is None:
            for i, blocks in enumerate(chunks):
                parts[i] = simulate_chunk(scenario, seed_used, blocks, estimates)
                if bar is not None:
                    bar.advance(task_id, sum(m for _, m in blocks))
            workers = 1
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
            workers = max(1, len(dask_client.scheduler_info().get("workers", {})))
    finally:
        if bar is not None:
            bar.stop()
        if dask_client is not None and isinstance(client, str):
            dask_client.close()
    records = BlockRecords.concat(parts)
    elapsed = time.perf_counter() - start
    return summarize(
        scenario,
        records,
        seed=seed_used,
        block_size=size,
        elapsed=elapsed,
        workers=workers,
        keep_records=keep_records,
    )
