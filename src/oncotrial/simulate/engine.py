"""The vectorized engine: one block of replicates from one ``SeedSequence``, as arrays.

:func:`simulate_block` is a pure function of ``(scenario, seed_sequence, n_rep)``: it makes
one ``numpy.random.Generator`` (PCG64) from the seed sequence and draws, for ``n_rep`` trials
of ``n`` patients at once (rows = trials, columns = patients in order of entry):

1. entry times: ordered uniforms ``U_(i) = G_i / G_{n+1}`` (``G`` cumulative sums of
   ``n + 1`` standard exponentials; Devroye 1986, ch. V.2), mapped through the inverse of the
   accrual distribution function (piecewise linear for piecewise-constant rates);
2. strata: one uniform per patient against the cumulative joint prevalences;
3. arms: simple randomization (one uniform per patient) or stratified permuted blocks
   (:func:`_permuted_blocks`);
4. event times: a standard exponential per patient divided by the stratum's hazard
   multiplier, through the inverse cumulative hazard of the arm's piecewise-exponential model;
5. dropout times: exponential with the dropout hazard (drawn only when it is positive).

The draws are made in this order, whole arrays at a time, so the output depends only on
the seed sequence, the scenario and ``n_rep``. At each look the calendar cut is the time of
the ``k``-th event (``np.partition``) or the planned calendar time; patients who entered
before the cut are censored at it; the statistics come from :mod:`.statistics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial
from typing import Protocol

import numpy as np

from oncotrial.design.effect import PiecewiseExponential
from oncotrial.simulate import statistics as st
from oncotrial.simulate.scenario import Scenario

PATIENTS_PER_BLOCK = 200_000
MAX_BLOCK = 1000
MIN_BLOCK = 8


class _Sized(Protocol):
    @property
    def n(self) -> int: ...


def block_size(scenario: _Sized) -> int:
    """Replicates per seed-sequence block: ``min(1000, 200000 // n)`` (at least 8).

    It depends only on the scenario, never on chunking or workers, so results do not either;
    it bounds one block's arrays to about 200,000 patients (tens of MB).
    """
    return max(MIN_BLOCK, min(MAX_BLOCK, PATIENTS_PER_BLOCK // scenario.n))


@dataclass
class Patients:
    """One block of simulated trials before any analysis (rows trials, columns patients)."""

    entry: np.ndarray
    stratum: np.ndarray
    arm: np.ndarray  # int8, 1 = experimental
    time: np.ndarray  # observed time from entry, without the cut: min(event, dropout)
    event: np.ndarray  # bool: event before dropout
    code: np.ndarray | None = None  # int64 arm << 1 | stratum << 2, set by simulate_block
    all_events: bool = False  # no dropout and no cure: every patient has an event

    def rows(self, sl: slice) -> Patients:
        """The trials ``sl`` (views)."""
        code = None if self.code is None else self.code[sl]
        return Patients(
            self.entry[sl],
            self.stratum[sl],
            self.arm[sl],
            self.time[sl],
            self.event[sl],
            code,
            self.all_events,
        )


@dataclass
class BlockRecords:
    """Per-trial, per-look outputs of one block (arrays of shape (n_rep, looks)).

    Kept compact because dask workers send them back: counts as int32, and no estimate
    arrays (``None``) when the Cox HR and medians were not computed.
    """

    z: np.ndarray  # efficacy-scale statistic z_eff = -z (positive favours experimental)
    cut: np.ndarray  # calendar time of the analysis
    events: np.ndarray  # int32
    enrolled: np.ndarray  # int32
    log_hr: np.ndarray | None  # Cox estimate of log HR experimental:control
    median: np.ndarray | None  # (n_rep, looks, 2): KM medians control, experimental
    reached: np.ndarray  # bool: the look's target events were reached

    @staticmethod
    def concat(parts: list[BlockRecords]) -> BlockRecords:
        def join(name: str) -> np.ndarray | None:
            arrays = [getattr(p, name) for p in parts]
            return None if any(a is None for a in arrays) else np.concatenate(arrays, axis=0)

        return BlockRecords(
            *(
                join(name)
                for name in ("z", "cut", "events", "enrolled", "log_hr", "median", "reached")
            )  # type: ignore[arg-type]
        )

    def take(self, rows: np.ndarray) -> BlockRecords:
        return BlockRecords(
            self.z[rows],
            self.cut[rows],
            self.events[rows],
            self.enrolled[rows],
            None if self.log_hr is None else self.log_hr[rows],
            None if self.median is None else self.median[rows],
            self.reached[rows],
        )


# --------------------------------------------------------------------------- patients


def inverse_cumulative_hazard(model: PiecewiseExponential, h: np.ndarray) -> np.ndarray:
    """``H^{-1}(h)`` of a piecewise-exponential model (inf beyond a final zero hazard)."""
    rates = np.asarray(model.hazards, dtype=float)
    starts = np.asarray(model.starts, dtype=float)
    if rates.size == 1:
        with np.errstate(divide="ignore"):
            return h / rates[0] if rates[0] > 0 else np.full_like(h, np.inf)
    cum = np.concatenate(([0.0], np.cumsum(rates[:-1] * np.diff(starts))))
    piece = np.searchsorted(cum, h, side="right") - 1
    # a zero-hazard piece has cum[j + 1] == cum[j]: searchsorted skips it
    with np.errstate(divide="ignore", invalid="ignore"):
        t = starts[piece] + (h - cum[piece]) / rates[piece]
    return np.where(rates[piece] > 0, t, np.inf)


def _permuted_blocks(
    rng: np.random.Generator, scenario: Scenario, stratum: np.ndarray
) -> np.ndarray:
    """Arms by permuted blocks within strata (``pbr-v1`` in distribution).

    Each trial has one stream of blocks; stratum ``s`` takes whole blocks after those of
    stratum ``s - 1``, enough to hold its patients, and its ``r``-th patient (in entry order)
    gets its ``r``-th slot. Block sizes are drawn with equal probability among the sizes; a
    block's arms are a uniformly random permutation of its template, drawn slot by slot
    without replacement (slot ``p`` is experimental with probability ``remaining
    experimental / remaining slots``).
    """
    b_rep, n = stratum.shape
    sizes = np.asarray(scenario.randomization.block_sizes, dtype=np.int64)
    n_strata = scenario.n_strata
    n_blocks = -(-n // int(sizes[0])) + n_strata
    if sizes.size == 1:
        blk = np.full((b_rep, n_blocks), sizes[0], dtype=np.int64)
    else:
        pick = np.floor(rng.random((b_rep, n_blocks)) * sizes.size).astype(np.int64)
        blk = sizes[np.minimum(pick, sizes.size - 1)]
    share = scenario.allocation[0] / sum(scenario.allocation)
    bmax = int(sizes[-1])
    rem_exp = np.rint(blk * share)
    rem_all = blk.astype(float)
    slot_arm = np.empty((b_rep, n_blocks, bmax), dtype=np.int8)
    u = rng.random((bmax, b_rep, n_blocks))
    for p in range(bmax):
        with np.errstate(divide="ignore", invalid="ignore"):
            take = u[p] * rem_all < rem_exp
        slot_arm[:, :, p] = take
        rem_exp -= take
        rem_all -= 1.0
    end = np.cumsum(blk, axis=1)
    start = end - blk
    rows = np.arange(b_rep)
    slot = np.empty((b_rep, n), dtype=np.int64)
    first_block = np.zeros(b_rep, dtype=np.int64)
    for s in range(n_strata):
        mine = stratum == s if n_strata > 1 else np.ones_like(stratum, dtype=bool)
        rank = np.cumsum(mine, axis=1) - 1
        offset = start[rows, np.minimum(first_block, n_blocks - 1)]
        np.copyto(slot, offset[:, None] + rank, where=mine)
        need = offset + mine.sum(axis=1)
        first_block = np.sum(start < need[:, None], axis=1)
    width = int(end[:, -1].max()) + 1
    flat_end = (end + rows[:, None] * width).ravel()
    block_of = np.searchsorted(flat_end, (slot + rows[:, None] * width).ravel(), side="right")
    block_of = block_of.reshape(b_rep, n) - rows[:, None] * n_blocks
    pos = slot - start[rows[:, None], block_of]
    return slot_arm[rows[:, None], block_of, pos]


def _entry_times(scenario: Scenario, rng: np.random.Generator, n_rep: int) -> np.ndarray:
    n = scenario.n
    times, frac = scenario.accrual.knots(n)
    if scenario.accrual.entry == "regular":
        u = np.arange(1, n + 1) / n
        row = u * times[-1] if times.size == 2 else np.interp(u, frac, times)
        return np.broadcast_to(row, (n_rep, n))
    gaps = rng.standard_exponential((n_rep, n + 1))
    np.cumsum(gaps, axis=1, out=gaps)
    u = gaps[:, :n]
    u /= gaps[:, n:]
    return u * times[-1] if times.size == 2 else np.interp(u, frac, times)


def _event_times(
    scenario: Scenario, h: np.ndarray, arm: np.ndarray, stratum: np.ndarray
) -> np.ndarray:
    """Event times from standard exponentials ``h`` (modified in place when possible)."""
    _, mult, _ = scenario.stratum_table()
    if not np.all(mult == 1.0):
        h /= mult[stratum]
    models = (scenario.control, scenario.experimental)
    if all(m.is_exponential for m in models):
        rate = np.asarray([models[0].hazards[0], models[1].hazards[0]])
        # a fixed pattern is one row broadcast over trials: divide by that row only
        per_patient = rate[arm[:1]] if arm.strides[0] == 0 else np.where(arm == 1, rate[1], rate[0])
        with np.errstate(divide="ignore"):
            h /= per_patient
        return h
    return np.where(
        arm == 1,
        inverse_cumulative_hazard(scenario.experimental, h),
        inverse_cumulative_hazard(scenario.control, h),
    )


def draw_patients(scenario: Scenario, rng: np.random.Generator, n_rep: int) -> Patients:
    """Steps 1-5 of the module docstring for ``n_rep`` trials.

    Only what varies is drawn or stored: regular entry and the fixed allocation pattern are
    one row broadcast over the trials (``np.broadcast_to``), one stratum is a broadcast
    zero, and without dropout or cure every patient has an event (``all_events``).
    """
    n = scenario.n
    entry = _entry_times(scenario, rng, n_rep)
    prev, _, _ = scenario.stratum_table()
    if prev.size > 1:
        cum = np.cumsum(prev)
        stratum = np.minimum(
            np.searchsorted(cum, rng.random((n_rep, n)), side="right"), prev.size - 1
        )
    else:
        stratum = np.broadcast_to(np.zeros(1, dtype=np.int64), (n_rep, n))
    kind = scenario.randomization.kind
    a_exp, a_ctl = scenario.allocation
    if kind == "simple":
        arm = (rng.random((n_rep, n)) < a_exp / (a_exp + a_ctl)).astype(np.int8)
    elif kind == "fixed":
        pattern = np.repeat(np.asarray([1, 0], dtype=np.int8), [a_exp, a_ctl])
        arm = np.broadcast_to(np.resize(pattern, n), (n_rep, n))
    else:
        arm = _permuted_blocks(rng, scenario, stratum)
    t = _event_times(scenario, rng.standard_exponential((n_rep, n)), arm, stratum)
    if scenario.dropout_hazard > 0:
        drop = rng.standard_exponential((n_rep, n)) / scenario.dropout_hazard
        event = t <= drop
        t = np.minimum(t, drop)
        return Patients(entry, stratum, arm, t, event)
    finite = all(m.hazards[-1] > 0 for m in (scenario.control, scenario.experimental))
    event = np.broadcast_to(np.ones(1, dtype=bool), (n_rep, n)) if finite else np.isfinite(t)
    return Patients(entry, stratum, arm, t, event, all_events=finite)


def calendar_event_times(pts: Patients) -> np.ndarray:
    """Calendar time of each patient's event (``inf`` without one)."""
    if pts.all_events:
        return pts.entry + pts.time
    return np.where(pts.event, pts.entry + pts.time, np.inf)


# --------------------------------------------------------------------------- analyses


def analysis_cuts(
    scenario: Scenario, pts: Patients, cal: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Calendar time of each look (n_rep, looks) and whether its target was reached.

    ``cal``: calendar event times (inf for patients without an event). Event-driven looks:
    the ``k``-th smallest calendar event time; a trial that never reaches ``k`` events
    (dropout, cure) is analysed when its last event has happened.
    """
    looks = scenario.plan.looks
    n_rep = pts.entry.shape[0]
    if not scenario.plan.event_driven:
        cuts = np.tile(np.asarray([lk.time for lk in looks], dtype=float), (n_rep, 1))
        return cuts, np.ones_like(cuts, dtype=bool)
    ks = [int(lk.events) - 1 for lk in looks if lk.events is not None]
    part = np.partition(cal, ks, axis=1)
    cuts = part[:, ks]
    reached = np.isfinite(cuts)
    if not reached.all():
        last = np.max(np.where(np.isfinite(cal), cal, -np.inf), axis=1)
        cuts = np.where(reached, cuts, last[:, None])
    return cuts, reached


def code_bits(scenario: Scenario) -> int:
    """Low mantissa bits that carry (event, arm[, stratum]) through the sort."""
    if scenario.test.stratified and scenario.n_strata > 1:
        return 2 + int(scenario.n_strata - 1).bit_length()
    return 2


def set_code(scenario: Scenario, pts: Patients) -> None:
    """``pts.code``: the bits :func:`sort_look` writes into each observed time
    (one broadcast row when the arms are a fixed pattern and unstratified)."""
    arm = pts.arm[:1] if pts.arm.strides[0] == 0 else pts.arm
    code = arm.astype(np.int64) << 1
    if code_bits(scenario) > 2:
        code = code | (pts.stratum.astype(np.int64) << 2)
    pts.code = np.broadcast_to(code, pts.arm.shape)


@dataclass
class SortedLook:
    """One look of ``B`` trials, each row sorted by observed time (not-yet-enrolled first).

    ``event``, ``arm`` and ``stratum`` are decoded from the coded times on first use.
    """

    time: np.ndarray  # float (B, n): observed times, code in the lowest mantissa bits
    bits: int
    enrolled: np.ndarray  # (B,) patients entered by the cut

    @cached_property
    def event(self) -> np.ndarray:  # int64 0/1
        return self.time.view(np.int64) & 1

    @cached_property
    def arm(self) -> np.ndarray:  # int64 0/1
        return (self.time.view(np.int64) >> 1) & 1

    @cached_property
    def stratum(self) -> np.ndarray | None:  # int64, only for stratified tests
        if self.bits <= 2:
            return None
        return (self.time.view(np.int64) >> 2) & ((1 << (self.bits - 2)) - 1)


def sort_look(scenario: Scenario, pts: Patients, cal: np.ndarray, cut: np.ndarray) -> SortedLook:
    """Data at calendar ``cut`` (one per trial), each row sorted by observed time.

    Observed time ``x = min(time, cut - entry)`` (negative for patients not yet entered, who
    sort first and are never at risk); event if the calendar event time is ``<= cut``. The
    event, arm (and stratum) are written into the lowest mantissa bits of ``x`` (a relative
    change below ``2^-(52 - bits)``), so one ``np.sort`` orders everything: the times that
    are sorted, tested and returned are these coded times.
    """
    x = np.subtract(cut[:, None], pts.entry)
    if pts.entry.strides[0] == 0:  # regular entry: one sorted row for all trials
        enrolled = np.searchsorted(pts.entry[0], cut, side="right")
    else:
        enrolled = np.count_nonzero(x >= 0, axis=1)
    np.minimum(pts.time, x, out=x)
    bits = code_bits(scenario)
    xi = x.view(np.int64)
    xi &= ~np.int64((1 << bits) - 1)
    xi |= pts.code
    xi |= np.less_equal(cal, cut[:, None]).view(np.int8)
    x.sort(axis=1)
    return SortedLook(time=x, bits=bits, enrolled=enrolled)


def _reverse_cumsum(a: np.ndarray) -> np.ndarray:
    """``out[:, j] = sum(a[:, j:])`` per row."""
    c = np.cumsum(a, axis=1)
    return c[:, -1:] - c + a


def event_table(scenario: Scenario, lk: SortedLook, times: bool = True) -> st.EventTable:
    """Risk-set sizes at each event time, compressed to (B, max events) arrays (with the
    event times when ``times``; the Kaplan-Meier medians need them, the tests do not)."""
    n_rep, n = lk.time.shape
    n_all = (n - np.arange(n, dtype=np.int64))[None, :]
    n1_all = _reverse_cumsum(lk.arm)
    ev = lk.event.astype(bool, copy=False)
    counts = np.count_nonzero(ev, axis=1)
    flat = np.flatnonzero(ev)
    m = int(counts.max()) if counts.size else 0
    uniform = bool(counts.size) and int(counts.min()) == m
    if uniform:
        cols = flat % n

        def pack(values: np.ndarray, pad: float) -> np.ndarray:
            if values.shape[0] == 1:
                return values[0].take(cols).reshape(n_rep, m)
            return values.ravel().take(flat).reshape(n_rep, m)

        valid = np.ones((n_rep, m), dtype=bool)
    else:
        m = max(m, 1)
        r_idx = flat // n
        c_idx = flat % n
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        j_idx = np.arange(flat.size) - starts[r_idx]
        valid = np.zeros((n_rep, m), dtype=bool)
        valid[r_idx, j_idx] = True

        def pack(values: np.ndarray, pad: float) -> np.ndarray:
            out = np.full((n_rep, m), pad)
            out[r_idx, j_idx] = values[0, c_idx] if values.shape[0] == 1 else values[r_idx, c_idx]
            return out

    arm = pack(lk.arm, 0.0)
    n_e = pack(n_all, 2.0)
    n1_e = pack(n1_all, 0.0)
    if lk.stratum is not None:
        n_st = np.zeros((n_rep, n), dtype=np.int64)
        n1_st = np.zeros((n_rep, n), dtype=np.int64)
        entered = lk.time >= 0
        for s in range(scenario.n_strata):
            mine = (lk.stratum == s) & entered
            np.copyto(n_st, _reverse_cumsum(mine.astype(np.int64)), where=mine)
            np.copyto(n1_st, _reverse_cumsum((mine & (lk.arm == 1)).astype(np.int64)), where=mine)
        n_s, n1_s, stratum = pack(n_st, 2.0), pack(n1_st, 0.0), pack(lk.stratum, 0.0)
    else:
        n_s, n1_s, stratum = n_e, n1_e, np.zeros((n_rep, m))
    return st.EventTable(
        arm=arm,
        n=n_s,
        n1=n1_s,
        n_all=n_e,
        n1_all=n1_e,
        stratum=stratum.astype(np.int64),
        time=pack(lk.time, np.nan) if times else np.empty((0, 0)),
        valid=valid,
        last_time=None,
    )


def last_times(lk: SortedLook) -> np.ndarray:
    """Last observed time per arm (columns control, experimental) of entered patients."""
    out = np.empty((lk.time.shape[0], 2))
    for a in (0, 1):
        out[:, a] = np.max(np.where((lk.arm == a) & (lk.time >= 0), lk.time, -np.inf), axis=1)
    return out


def look_statistics(
    scenario: Scenario, tab: st.EventTable, estimates: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Efficacy-scale statistic ``z_eff = -z`` and the Cox log HR estimate, per trial."""
    test = scenario.test
    strat = test.stratified and scenario.n_strata > 1
    u0, v0 = st.score_and_variance(tab)
    if estimates or test.kind == "cox-wald":
        beta, info = st.cox(tab, u0, v0, strat)
    else:
        beta = info = np.full(u0.shape, np.nan)
    if test.kind == "fh":
        w = st.weights(tab, test.rho, test.gamma, scenario.n_strata if strat else 1)
        z = st.z_from(*st.score_and_variance(tab, w))
    elif test.kind == "cox-wald":
        with np.errstate(invalid="ignore"):
            z = np.where(info > 0, beta * np.sqrt(info), np.nan)
    else:
        z = st.z_from(u0, v0)
    return -z, beta


# trials analysed together: measured best for the CPU cache (log-rank only / with the
# Cox HR and medians, whose (trials x events) tables are wider)
ANALYSIS_ROWS = 256
ANALYSIS_ROWS_ESTIMATES = 128


def _analyse(
    scenario: Scenario, pts: Patients, estimates: bool, rec: BlockRecords, sl: slice
) -> None:
    """Every look of the trials ``sl`` (a few hundred rows, so the working arrays stay in
    the CPU cache); writes into ``rec``."""
    cal = calendar_event_times(pts)
    cuts, reached = analysis_cuts(scenario, pts, cal)
    rec.cut[sl], rec.reached[sl] = cuts, reached
    fast = not estimates and scenario.test.kind in ("logrank", "stratified-logrank")
    fast = fast and code_bits(scenario) == 2
    for j in range(cuts.shape[1]):
        lk = sort_look(scenario, pts, cal, cuts[:, j])
        rec.enrolled[sl, j] = lk.enrolled
        if fast:
            u, v, events = st.logrank_sorted(lk.time)
            rec.z[sl, j] = -st.z_from(u, v)
            rec.events[sl, j] = events
            continue
        tab = event_table(scenario, lk, times=estimates)
        rec.z[sl, j], log_hr = look_statistics(scenario, tab, estimates)
        rec.events[sl, j] = np.count_nonzero(tab.valid, axis=1)
        if rec.log_hr is not None and rec.median is not None:
            rec.log_hr[sl, j] = log_hr
            rec.median[sl, j, :] = st.km_medians(tab, partial(last_times, lk))


def simulate_block(
    scenario: Scenario, seed: np.random.SeedSequence, n_rep: int, estimates: bool = True
) -> BlockRecords:
    """Simulate ``n_rep`` trials of ``scenario`` from ``seed`` (pure; see module docstring).

    All random numbers of the block are drawn first (so they do not depend on how the
    analysis is split); the looks are then analysed a few hundred trials at a time.
    ``estimates=False`` skips the Cox HR and Kaplan-Meier medians (``None`` in the records);
    the unstratified log-rank test then takes :func:`statistics.logrank_sorted`.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    pts = draw_patients(scenario, rng, n_rep)
    set_code(scenario, pts)
    k = len(scenario.plan.looks)
    rec = BlockRecords(
        z=np.empty((n_rep, k)),
        cut=np.empty((n_rep, k)),
        events=np.empty((n_rep, k), dtype=np.int32),
        enrolled=np.empty((n_rep, k), dtype=np.int32),
        log_hr=np.full((n_rep, k), np.nan) if estimates else None,
        median=np.full((n_rep, k, 2), np.nan) if estimates else None,
        reached=np.empty((n_rep, k), dtype=bool),
    )
    step = ANALYSIS_ROWS_ESTIMATES if estimates else ANALYSIS_ROWS
    for lo in range(0, n_rep, step):
        sl = slice(lo, min(lo + step, n_rep))
        _analyse(scenario, pts.rows(sl), estimates, rec, sl)
    return rec
