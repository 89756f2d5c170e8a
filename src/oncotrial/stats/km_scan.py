"""Kaplan-Meier tables by arm and the log-rank sums in one compiled pass (the fast path).

For unstratified, unweighted :func:`~oncotrial.stats.km_logrank.km_logrank` and for
:func:`~oncotrial.stats.km.kaplan_meier`, the subjects are ordered by arm, then time, then
status, and :func:`oncotrial.stats._scan.scan` (Cython) walks them once:

* **other times**: every subject becomes one 64-bit key,
  ``(arm << time_bits | time key) << 1 | event``, where the time key is the IEEE-754 bit
  pattern of the (non-negative) time less that of the smallest positive time's binade, so
  it orders like the time (see :mod:`oncotrial.stats.risk_table`); one ``np.sort`` of
  the keys then orders everything (they are built to order alike read as doubles, which
  numpy sorts some 15% faster than integers);
* **whole-number times** of moderate range (e.g. days): the key holds the day itself and
  one ``np.bincount`` of the keys counts the subjects per (arm, day, status) without any
  sort; the scan walks the non-empty counts.

Results are exact counts and the curves are bit-identical to the numpy path
(:func:`oncotrial.stats.km.from_risk_table`). :func:`quantile_lookup` reads a confidence
band for the median's CI (R's rule) in one compiled pass too, :func:`quantile_bisect` a
curve that never rises by compiled bisection. When the extension is not compiled
(:data:`COMPILED` is False: e.g. installed where no C compiler was found) or the keys do
not fit in ``_scan.KEY_BITS`` (61) bits, these return None and the callers compute in numpy.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from oncotrial.stats.risk_table import time_key_base, whole_days

try:
    from oncotrial.stats import _scan
except ImportError:  # pragma: no cover - exercised where the extension is not built
    _scan = None  # type: ignore[assignment]

COMPILED = _scan is not None
"""True when the compiled scan is installed (else numpy computes the same results)."""

MAX_ARMS = 16
"""Arms the compiled pass takes (as ``_scan.pyx``); more are counted in numpy."""


@dataclass(frozen=True)
class ArmTables:
    """Per arm ``(time, n_risk, n_event, n_censor, survival, std_err, std_err_cumhaz,
    lower, upper)`` at its distinct times (``lower`` and ``upper`` unwritten, room for the
    pointwise CI) and its number of events, and the log-rank expected events and variance
    matrix of the arms."""

    tables: list[tuple[np.ndarray, ...]]
    events: list[int]
    expected: np.ndarray
    variance: np.ndarray


def scan_arms(
    time: np.ndarray,
    event: np.ndarray,
    arm: np.ndarray,
    k: int,
    time_range: tuple[float, float] | None = None,
) -> ArmTables | None:
    """Tables and log-rank sums of validated inputs (times >= 0, 0/1 int8 events, arm
    codes 0..k-1; ``time_range``: the smallest and largest time, if known); None if the
    extension is missing or the keys do not fit."""
    if _scan is None or not 1 <= k <= MAX_ARMS:
        return None
    # the loops read contiguous memory: a strided view (e.g. t[::2]) is copied, once
    time, event, arm = (np.ascontiguousarray(a) for a in (time, event, arm))
    n = time.shape[0]
    days = whole_days(time, n, k)
    if days is not None:
        return _counted(time, event, arm, k, int(days.max()))
    layout = _time_key_layout(time, _scan.KEY_BITS - 1 - (k - 1).bit_length(), time_range)
    if layout is None:
        return None
    offset, time_bits = layout
    keys, arm_sum = _scan.pack_keys(time, event, arm, offset, time_bits)
    keys.view(np.float64).sort()  # the keys order as doubles too (see pack_keys): quicker
    subjects = _subjects(arm, k, arm_sum)
    bounds = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(subjects, out=bounds[1:])
    block = _table_block(_scan.block_size(n, k))
    return ArmTables(*_scan.scan(keys, bounds, subjects, time_bits, offset, block))


_spare: list[np.ndarray] = []
"""The last block of tables, for the next call to reuse once no result refers to it."""

SPARE_BYTES = 1 << 28
"""Largest block kept for reuse (256 MiB: the tables of ~3.7 million subjects)."""


def _table_block(size: int) -> np.ndarray:
    """A float64 block of ``size`` elements or a little more for :func:`_scan.scan`.

    Every result of :func:`scan_arms` is a set of views of one block. The last block is
    kept and given to the next call if no view of it is alive any more (its only
    references are then this module's, counted exactly by CPython) and it is not more than
    twice the size needed. A caller that keeps a result gets a fresh block. Above about
    32 MiB glibc returns freed memory to the system and the next allocation page-faults
    on every page it writes (the kernel zeroes each page first): at 1e6 subjects the
    tables are ~70 MB, and reusing them saves ~6 ms a call (docs/PERFORMANCE.md).
    """
    if _spare:
        block = _spare[0]
        # references: the list, `block`, getrefcount's argument; any more is a live view
        # or another thread that took it first (each holds it before it counts)
        if sys.getrefcount(block) == 3 and size <= block.shape[0] <= 2 * size:
            return block
        del block
    block = np.empty(size)
    _spare[:] = [block] if block.nbytes <= SPARE_BYTES else []
    return block


def quantile_lookup(curve: np.ndarray, p: float, tol: float) -> tuple[float, int, int, bool] | None:
    """R ``findq``'s lookups on ``(0, 1 - curve)`` in one compiled pass
    (:func:`oncotrial.stats._scan.quantile_lookup`); None if the extension is missing."""
    if _scan is None:
        return None
    return _scan.quantile_lookup(np.asarray(curve, dtype=float), p, tol)


def log_band_lookup(
    band: np.ndarray,
    surv: np.ndarray,
    se_cumhaz: np.ndarray,
    z: float,
    upper: bool,
    p: float,
    tol: float,
) -> tuple[float, int, int, bool] | None:
    """:func:`quantile_lookup` of a log-transform band of the curve ``surv``, reading only the
    blocks of rows that can change the answer (:func:`oncotrial.stats._scan.log_band_lookup`);
    None if the extension is missing."""
    if _scan is None:
        return None
    return _scan.log_band_lookup(band, surv, se_cumhaz, z, upper, p, tol)


def quantile_bisect(curve: np.ndarray, p: float, tol: float) -> tuple[float, int, int] | None:
    """The same lookups on a curve that never rises, by compiled bisection
    (:func:`oncotrial.stats._scan.quantile_bisect`); None if the extension is missing."""
    if _scan is None:
        return None
    return _scan.quantile_bisect(np.asarray(curve, dtype=float), p, tol)


def _time_key_layout(
    time: np.ndarray, room: int, time_range: tuple[float, float] | None = None
) -> tuple[int, int] | None:
    """``(offset, time_bits)`` of the time keys (:func:`~oncotrial.stats.risk_table.
    time_key_base`); None if they need more than ``room`` bits."""
    _, offset, top = time_key_base(time, time_range)
    time_bits = max(top - offset, 1).bit_length()
    return None if time_bits > room else (offset, time_bits)


def _subjects(arm: np.ndarray, k: int, arm_sum: int) -> np.ndarray:
    """Subjects per arm; with two arms, arm 1's are the sum of the codes (from the pass
    that packs the keys), so the codes are not read again."""
    if k == 2:
        return np.array([arm.shape[0] - arm_sum, arm_sum])
    return np.bincount(arm, minlength=k)


def _counted(time: np.ndarray, event: np.ndarray, arm: np.ndarray, k: int, top: int) -> ArmTables:
    """Counting sort of whole-number times (largest ``top``): ``np.bincount`` of the keys
    ``(arm << b | day) << 1 | event``; the non-empty cells, ascending, are the sorted keys,
    with their counts."""
    time_bits = max(top, 1).bit_length()
    keys, arm_sum = _scan.pack_keys(time, event, arm, 0, time_bits, True)
    subjects = _subjects(arm, k, arm_sum)
    counts = np.bincount(keys.view(np.int64))
    cells = np.flatnonzero(counts)
    weights = counts.take(cells)
    starts = np.arange(subjects.shape[0] + 1, dtype=np.int64) << (time_bits + 1)
    bounds = np.searchsorted(cells, starts).astype(np.int64)
    block = _table_block(_scan.block_size(cells.shape[0], subjects.shape[0]))
    return ArmTables(
        *_scan.scan(cells.view(np.uint64), bounds, subjects, time_bits, 0, block, weights, True)
    )
