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
_PROBE = 64
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
            self.time.take(rows),
            n_risk.take(rows)[None],
            n_event.take(rows)[None],
            n_censor.take(rows)[None],
        )

    def labels(self, first: int, count: int) -> RiskTable:
        """The table of labels ``first .. first + count - 1`` at the times where they have
        an event (the rows a log-rank test of those labels uses). When these are all the
        labels the table is returned whole: its other rows add exact zeros to the sums."""
        if first == 0 and count == self.n_risk.shape[0]:
            return self
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
        event: 0/1 array (int8, uint8 or bool).
        label: integer codes in ``[0, n_labels)``; None for one label.
        n_labels: number of labels.
    """
    n = time.shape[0]
    if n == 0:
        empty = np.zeros((n_labels, 0), dtype=np.int64)
        return RiskTable(np.zeros(0), empty, empty, empty.copy())
    ev = event.view(np.uint8) if event.dtype in (np.int8, np.bool_) else event.astype(np.uint8)
    lab = None if label is None or n_labels == 1 else label
    days = whole_days(time, n, n_labels)
    if days is not None:
        return _count_integer(days, ev, lab, n_labels)
    packed = _count_packed(time, ev, lab, n_labels)
    if packed is not None:
        return packed
    return _count_argsort(time, ev, lab, n_labels)


def whole_days(time: np.ndarray, n: int, n_labels: int) -> np.ndarray | None:
    """The times as int64 if every one is a whole number small enough to count by
    ``bincount`` (the count array, ``(max + 1) * 2 * n_labels`` cells, stays within ~16 per
    subject); else None. A few leading times are checked first so that fractional times
    are turned away without a pass over the data."""
    head = time[:_PROBE]
    if not np.array_equal(head, np.floor(head)):
        return None
    top = float(time.max())
    if top > _INT_COUNT_LIMIT or (top + 1) * 2 * n_labels > 16 * n + 4096:
        return None
    days = time.astype(np.int64)
    return days if np.array_equal(days, time) else None


def _count_integer(
    days: np.ndarray, ev: np.ndarray, lab: np.ndarray | None, n_labels: int
) -> RiskTable:
    """Counting by one ``bincount`` of ``((label * 2 + event) * width + day)``, no sort."""
    width = int(days.max()) + 1
    if lab is None:
        code = ev.astype(np.int64)
    else:
        code = np.multiply(lab, 2, dtype=np.int64)
        code += ev
    code *= width
    code += days
    cells = np.bincount(code, minlength=width * n_labels * 2).reshape(n_labels, 2, width)
    total = cells.sum(axis=(0, 1)) if n_labels > 1 else cells[0, 0] + cells[0, 1]
    seen = np.flatnonzero(total)
    return _from_cells(seen.astype(float), cells[:, :, seen])


def _from_cells(times: np.ndarray, cells: np.ndarray) -> RiskTable:
    """Table from counts ``cells[l, status, j]`` (status 0 censored, 1 event), every time
    ``j`` observed; at risk = subjects at that time or later (a reverse cumulative sum)."""
    n_event, n_censor = cells[:, 1], cells[:, 0]
    total = n_event + n_censor
    n_risk = np.empty_like(total)
    np.cumsum(total[:, ::-1], axis=1, out=n_risk[:, ::-1])
    return RiskTable(times, n_risk, n_event, n_censor)


def _packed_keys(
    time: np.ndarray, ev: np.ndarray, lab: np.ndarray | None, low: int
) -> tuple[np.ndarray, int] | None:
    """``(time bits - offset) << low | label << 1 | event`` as uint64, and the offset
    (module docstring); None if the times span too many binary orders of magnitude."""
    bits, offset, top = time_key_base(time)
    if top - offset >= 1 << (64 - low):
        return None
    if offset and int(bits.min()) == 0:  # zeros stay 0; positive times stay above them
        keys = np.maximum(bits, np.uint64(offset))
        keys -= np.uint64(offset)
    else:
        keys = np.subtract(bits, np.uint64(offset))
    keys <<= np.uint64(low)
    if lab is None:
        keys |= ev
    else:
        code = lab.astype(np.uint64)
        code <<= np.uint64(1)
        code |= ev
        keys |= code
    return keys, offset


def time_key_base(
    time: np.ndarray, time_range: tuple[float, float] | None = None
) -> tuple[np.ndarray, int, int]:
    """The times' bit patterns as uint64 (-0.0, the only time >= 0 with its sign bit set,
    read as 0.0), the offset to subtract from the positive ones (the bits of the binade
    below the smallest positive time, so that the keys need as few bits as possible), and
    the largest pattern. ``time_range``: the smallest and largest time, if known; when the
    smallest is positive, the patterns' extremes are theirs (non-negative doubles order
    like their bits) and the times are not read."""
    bits = time.view(np.uint64)
    if time_range is not None and time_range[0] > 0:
        smallest, top = (int(b) for b in np.array(time_range).view(np.uint64))
    else:
        top = int(bits.max())
        if top >> 63:
            bits = bits & _SIGN_MASK
            top = int(bits.max())
        bottom = int(bits.min())
        smallest = bottom if bottom else int(bits.min(where=bits > 0, initial=top))
    exponent = smallest >> _MANTISSA_BITS
    offset = ((exponent - 1) << _MANTISSA_BITS) if exponent > 0 else 0
    return bits, offset, top


@dataclass(frozen=True)
class _Cells:
    """Sorted (time, label, status) cells: runs of equal packed keys after one sort.

    ``start``: position of each cell's first subject in sorted order; ``tkey``: its time
    bits (offset removed); ``code``: ``label * 2 + event``; ``count``: its subjects.
    """

    start: np.ndarray
    tkey: np.ndarray
    code: np.ndarray
    count: np.ndarray
    offset: int
    n: int

    def times(self, cells: np.ndarray) -> np.ndarray:
        """The exact input doubles of the given cells' times."""
        bits = self.tkey.take(cells)
        if self.offset:
            np.add(bits, np.uint64(self.offset), out=bits, where=bits > 0)
        return bits.view(np.float64)

    def new_time(self) -> np.ndarray:
        """True at each cell whose time differs from the previous cell's (and at the first)."""
        flag = np.empty(self.tkey.shape[0], dtype=bool)
        flag[0] = True
        np.not_equal(self.tkey[1:], self.tkey[:-1], out=flag[1:])
        return flag


def _sorted_cells(
    time: np.ndarray, ev: np.ndarray, lab: np.ndarray | None, n_labels: int
) -> _Cells | None:
    """The cells of one sort of packed keys (module docstring); None if they do not fit."""
    low = int(n_labels - 1).bit_length() + 1
    packed = _packed_keys(time, ev, lab, low)
    if packed is None:
        return None
    keys, offset = packed
    keys.sort()
    n = keys.shape[0]
    new_cell = np.empty(n, dtype=bool)
    new_cell[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new_cell[1:])
    start = np.flatnonzero(new_cell)
    del new_cell
    tkey = keys.take(start)
    del keys
    count = np.empty(start.shape[0], dtype=np.int64)
    np.subtract(start[1:], start[:-1], out=count[:-1])
    count[-1] = n - start[-1]
    code = tkey & np.uint64((1 << low) - 1)
    tkey >>= np.uint64(low)
    return _Cells(start, tkey, code, count, offset, n)


def _count_packed(
    time: np.ndarray, ev: np.ndarray, lab: np.ndarray | None, n_labels: int
) -> RiskTable | None:
    """Counting by one sort of packed (time, label, status) keys; None if they do not fit.

    After the sort, runs of equal keys are the (time, label, status) cells with their
    counts; runs of equal time bits among the cells are the distinct times.
    """
    cells = _sorted_cells(time, ev, lab, n_labels)
    if cells is None:
        return None
    new_time = cells.new_time()
    firsts = np.flatnonzero(new_time)
    m = firsts.shape[0]
    if m == new_time.shape[0]:
        row = np.arange(m, dtype=np.uint64)
    else:
        row = np.cumsum(new_time, dtype=np.uint64)
        row -= np.uint64(1)
    del new_time
    index = cells.code * np.uint64(m)
    index += row
    del row
    counts = np.zeros(m * 2 * n_labels, dtype=np.int64)
    counts.put(index.view(np.int64), cells.count)  # each (label, status, time) cell once
    return _from_cells(cells.times(firsts), counts.reshape(n_labels, 2, m))


@dataclass(frozen=True)
class LabelTables:
    """Each label's own one-label :class:`RiskTable` (its distinct times only) and the
    pooled counts at every distinct time of all labels: ``n`` at risk, ``n_risk[l]`` of
    label l at risk, ``n_event`` events (all labels). Log-rank sums read the pooled
    counts (times without events add exact zeros); Kaplan-Meier curves the tables."""

    tables: list[RiskTable]
    n: np.ndarray
    n_risk: list[np.ndarray]
    n_event: np.ndarray


def label_tables(
    time: np.ndarray, event: np.ndarray, label: np.ndarray, n_labels: int
) -> LabelTables | None:
    """:class:`LabelTables` from the cells of one packed-key sort, without a joint
    (label x status x time) count array.

    With exclusive prefix sums over the cells of the events and of each label's subjects,
    label l has ``n_l - (label-l subjects before the cell)`` at risk at any of its cells,
    and a distinct time has ``n - (position of its first subject)`` at risk in all. Each
    label has at most two cells per time (censored first, then events), so its counts per
    time come from its first cell there and the one after it. None for whole-number
    times (:func:`risk_table` counts those without a sort) or keys that do not fit.
    """
    n = time.shape[0]
    ev = event.view(np.uint8) if event.dtype in (np.int8, np.bool_) else event.astype(np.uint8)
    if n == 0 or whole_days(time, n, n_labels) is not None:
        return None
    cells = _sorted_cells(time, ev, label, n_labels)
    if cells is None:
        return None
    c = cells.count.shape[0]
    is_event = cells.code & np.uint64(1)
    label_of = cells.code >> np.uint64(1)
    events_before = _exclusive_sum(cells.count * is_event.view(np.int64))
    before = [np.zeros(0, dtype=np.int64)] * n_labels  # label-l subjects before each cell
    others = np.zeros(c + 1, dtype=np.int64)
    for lab in range(1, n_labels):
        before[lab] = _exclusive_sum(cells.count * (label_of == lab))
        others += before[lab]
    before[0] = np.append(cells.start, n)
    before[0] -= others
    del others
    firsts = np.flatnonzero(cells.new_time())
    n_pooled = n - cells.start.take(firsts)
    n_event = np.diff(events_before.take(np.append(firsts, c)))
    n_risk = [int(before[lab][c]) - before[lab].take(firsts) for lab in range(n_labels)]
    tables = [_one_label(cells, label_of == lab, is_event, before[lab]) for lab in range(n_labels)]
    return LabelTables(tables, n_pooled, n_risk, n_event)


def _exclusive_sum(values: np.ndarray) -> np.ndarray:
    """``out[i] = values[:i].sum()`` for i in 0..len(values), as int64."""
    out = np.empty(values.shape[0] + 1, dtype=np.int64)
    out[0] = 0
    np.cumsum(values, out=out[1:])
    return out


def _one_label(
    cells: _Cells, mine: np.ndarray, is_event: np.ndarray, before: np.ndarray
) -> RiskTable:
    """One label's table from its cells (at most two per time: censored, then events)."""
    own = np.flatnonzero(mine)
    if own.size == 0:
        empty = np.zeros((1, 0), dtype=np.int64)
        return RiskTable(np.zeros(0), empty, empty, empty.copy())
    tkey = cells.tkey.take(own)
    new_time = np.empty(own.shape[0] + 1, dtype=bool)
    new_time[0] = new_time[-1] = True
    np.not_equal(tkey[1:], tkey[:-1], out=new_time[1:-1])
    first = np.flatnonzero(new_time[:-1])
    del tkey
    at = own.take(first)  # the first cell of each time, in all cells
    count = cells.count.take(at)
    event_first = is_event.take(at).view(np.int64)
    second = ~new_time.take(first + 1)  # an event cell follows a censored one
    n_event = cells.count.take(own.take(first + 1, mode="clip"))
    n_event *= second
    n_censor = count * (1 - event_first)
    n_event += count * event_first
    n_risk = int(before[-1]) - before.take(at)
    return RiskTable(cells.times(at), n_risk[None], n_event[None], n_censor[None])


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
    return _from_cells(ts[new_time], cells.reshape(n_labels, 2, m))
