"""Counting at risk, events and censorings per label at every distinct time, in one pass.

Kaplan-Meier curves by arm and the (stratified) log-rank test need the same table: for every
distinct time ``t_j`` and every label ``l`` (an arm, or an arm within a stratum) the number
of subjects with time >= t_j (at risk), and the events and censorings at exactly ``t_j``.
This module builds it once for all labels, exactly (integer counts), in one of three ways:

* **integer-valued times** of moderate range (e.g. whole days): no sort at all; one
  ``np.bincount`` of the key ``(t * L + l) * 2 + event`` counts every (time, label, status)
  cell, and a reverse cumulative sum over time gives the numbers at risk;
* **other times**: one ``np.sort`` of 64-bit keys that pack the time, the label and the event
  status. A non-negative IEEE-754 double orders like its bit pattern read as an unsigned
  integer; subtracting the exponent offset of the smallest positive time frees the high bits
  (lossless while the times span fewer than ``2**(12 - b)`` binary orders of magnitude, with
  ``b`` the bits used by label and status), and ``(time bits << b) | (label << 1) | event``
  then sorts by time, label and status at once. Sorting values is several times faster than
  an ``argsort`` (no index array is moved), and runs of equal keys give every count;
* otherwise (more labels or a wider dynamic range than the key can hold) one stable
  ``argsort`` of the times.

The keys are decoded back to the exact input doubles: no rounding or tolerance is involved,
so two times are tied exactly when they are equal as numbers (as in R ``survfit``, which
compares doubles exactly once its ``timefix`` rounding is off; see docs/CONVENTIONS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_INT_COUNT_LIMIT = 1 << 26
_SIGN_MASK = np.uint64(0x7FFF_FFFF_FFFF_FFFF)
_MANTISSA_BITS = 52


@dataclass(frozen=True)
class RiskTable:
    """Counts at every distinct time (ascending) for every label, label-major.

    ``n_risk[l, j]``: subjects with label l and time >= ``time[j]``; ``n_event[l, j]`` and
    ``n_censor[l, j]``: events and censorings with label l at exactly ``time[j]``. Counts
    are int64; each label's row is contiguous.
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray

    def columns(self, labels: list[int]) -> RiskTable:
        """The one-label table of the union of ``labels`` (e.g. one arm over all strata),
        restricted to the times at which that union has an observation."""
        n_event, n_censor, n_risk = (
            _add_rows(a, labels) for a in (self.n_event, self.n_censor, self.n_risk)
        )
        rows = np.flatnonzero(n_event + n_censor)
        if rows.size == self.time.size:
            return RiskTable(self.time, n_risk[None], n_event[None], n_censor[None])
        return RiskTable(
            self.time[rows], n_risk[rows][None], n_event[rows][None], n_censor[rows][None]
        )

    def labels(self, first: int, count: int) -> RiskTable:
        """The table of labels ``first .. first + count - 1`` at the times where they have
        an event (the rows a log-rank test of those labels uses)."""
        part = slice(first, first + count)
        n_event = self.n_event[part]
        rows = np.flatnonzero(_add_rows(n_event, list(range(count))))
        return RiskTable(
            self.time[rows],
            self.n_risk[part][:, rows],
            n_event[:, rows],
            self.n_censor[part][:, rows],
        )


def _add_rows(a: np.ndarray, rows: list[int]) -> np.ndarray:
    out = a[rows[0]]
    for r in rows[1:]:
        out = out + a[r]
    return out


def risk_table(
    time: np.ndarray, event: np.ndarray, label: np.ndarray | None = None, n_labels: int = 1
) -> RiskTable:
    """Counts of :class:`RiskTable` for validated inputs.

    Args:
        time: float array of times >= 0 (validated by ``as_times``).
        event: 0/1 array (int8 or bool).
        label: integer codes in ``[0, n_labels)``; None for one label.
        n_labels: number of labels.
    """
    n = time.shape[0]
    if n == 0:
        empty = np.zeros((n_labels, 0), dtype=np.int64)
        return RiskTable(np.zeros(0), empty, empty, empty.copy())
    ev = event.view(np.uint8) if event.dtype in (np.int8, np.bool_) else event.astype(np.uint8)
    lab = None if label is None or n_labels == 1 else label.astype(np.int64, copy=False)
    width = _integer_width(time, n, n_labels)
    if width is not None:
        return _count_integer(time, ev, lab, n_labels, width)
    packed = _count_packed(time, ev, lab, n_labels)
    if packed is not None:
        return packed
    return _count_argsort(time, ev, lab, n_labels)


def _integer_width(time: np.ndarray, n: int, n_labels: int) -> int | None:
    """``max + 1`` if every time is a whole number small enough to count by ``bincount``
    (the count array, ``(max + 1) * 2 * n_labels`` cells, stays within ~16 per subject)."""
    top = float(time.max())
    if top > _INT_COUNT_LIMIT or (top + 1) * 2 * n_labels > 16 * n + 4096:
        return None
    if not np.array_equal(time, np.floor(time)):
        return None
    return int(top) + 1


def _count_integer(
    time: np.ndarray, ev: np.ndarray, lab: np.ndarray | None, n_labels: int, width: int
) -> RiskTable:
    key = time.astype(np.int64)
    code = ev.astype(np.int64) if lab is None else lab * 2 + ev
    code *= width
    key += code
    cells = np.bincount(key, minlength=width * n_labels * 2).reshape(n_labels, 2, width)
    seen = np.flatnonzero(cells.any(axis=(0, 1)) if n_labels > 1 else cells[0, 0] + cells[0, 1])
    return _from_cells(seen.astype(float), cells, seen)


def _from_cells(times: np.ndarray, cells: np.ndarray, rows: np.ndarray | None) -> RiskTable:
    """Table from counts ``cells[l, status, j]`` (status 0 censored, 1 event)."""
    n_event, n_censor = np.ascontiguousarray(cells[:, 1]), np.ascontiguousarray(cells[:, 0])
    total = n_event + n_censor
    n_risk = np.cumsum(total, axis=1)
    np.subtract(n_risk[:, -1:], n_risk, out=n_risk)  # subjects with a later time
    n_risk += total
    if rows is not None:
        n_risk, n_event, n_censor = n_risk[:, rows], n_event[:, rows], n_censor[:, rows]
    return RiskTable(times, n_risk, n_event, n_censor)


def _count_packed(
    time: np.ndarray, ev: np.ndarray, lab: np.ndarray | None, n_labels: int
) -> RiskTable | None:
    """Counting by one sort of packed (time, label, status) keys; None if they do not fit."""
    low = int(n_labels - 1).bit_length() + 1
    keys = time.view(np.uint64) & _SIGN_MASK  # -0.0 reads as 0.0
    smallest = int(keys.min())
    positive = None
    if smallest == 0:
        positive = keys > 0
        smallest = int(keys.min(where=positive, initial=np.iinfo(np.uint64).max))
    exponent = smallest >> _MANTISSA_BITS
    offset = ((exponent - 1) << _MANTISSA_BITS) if exponent > 0 else 0
    if int(keys.max()) - offset >= 1 << (64 - low):
        return None
    if offset:
        np.subtract(keys, np.uint64(offset), out=keys, where=True if positive is None else positive)
    keys <<= np.uint64(low)
    if lab is not None:
        shifted = lab.astype(np.uint64)
        shifted <<= np.uint64(1)
        keys |= shifted
    keys |= ev
    keys.sort()
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.diff(np.append(starts, keys.shape[0]))
    distinct = keys[starts]
    tkey = distinct >> np.uint64(low)
    new_time = np.concatenate(([True], tkey[1:] != tkey[:-1]))
    row = np.cumsum(new_time)
    row -= 1
    m = int(row[-1]) + 1
    code = (distinct & np.uint64((1 << low) - 1)).astype(np.int64)
    code *= m
    code += row
    cells = np.bincount(code, weights=counts, minlength=m * 2 * n_labels)
    utime = tkey[new_time]
    if offset:
        np.add(utime, np.uint64(offset), out=utime, where=utime > 0)
    return _from_cells(utime.view(np.float64), cells.astype(np.int64).reshape(n_labels, 2, m), None)


def _count_argsort(
    time: np.ndarray, ev: np.ndarray, lab: np.ndarray | None, n_labels: int
) -> RiskTable:
    """Counting after one stable argsort of the times (general fallback)."""
    order = np.argsort(time, kind="stable")
    ts = time[order]
    new_time = np.concatenate(([True], ts[1:] != ts[:-1]))
    row = np.cumsum(new_time) - 1
    m = int(row[-1]) + 1
    code = ev[order].astype(np.int64) if lab is None else lab[order] * 2 + ev[order]
    cells = np.bincount(code * m + row, minlength=m * 2 * n_labels)
    return _from_cells(ts[new_time], cells.reshape(n_labels, 2, m), None)
