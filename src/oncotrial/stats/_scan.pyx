# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled loops of Kaplan-Meier by arm + log-rank, over times sorted by arm.

:mod:`oncotrial.stats.km_scan` packs each subject into a 64-bit key (:func:`pack_keys`),
orders the keys with one ``np.sort`` (or, for whole-number times, counts them with one
``np.bincount``) and calls :func:`scan`, which

* walks each arm's keys once and writes its table, one row per distinct time: time,
  numbers at risk, events, censorings, the Kaplan-Meier product ``S *= 1 - d / n``, the
  standard error of ``-log S`` ``sqrt(G)``, Greenwood's sum ``G += d / ((n - d) n)``,
  and that of S, ``S sqrt(G)`` (Kaplan & Meier 1958; Greenwood 1926);
* merges the arms' tables by time and adds, at every time, ``E_g += (n_g / n) d`` and
  ``V += c (diag(p) - p p')`` with ``p_g = n_g / n`` and ``c = d (n - d) / max(n - 1, 1)``
  (Mantel 1966; R ``survival::survdiff``); a time without events adds exact zeros.

The curves are computed with the floating-point operations of
:func:`oncotrial.stats.km.from_risk_table`, in the same order (compiled without
contraction into fused multiply-adds), so they equal the numpy path's to the last bit; the
log-rank sums add the same terms in another order than numpy's pairwise sums and agree
with them to about 1e-15 relative.
"""

import numpy as np

from libc.math cimport INFINITY, exp, fabs, sqrt
from libc.stdint cimport int8_t, int64_t, uint64_t
from libc.string cimport memcpy


KEY_BITS = 61
"""Bits a key of times that are not whole numbers may use (see :func:`pack_keys`)."""

cdef uint64_t FLOAT_ORDER = <uint64_t>1 << 62


cdef enum:
    MAX_ARMS = 16  # as oncotrial.stats.logrank.JOINT_LABELS
    # time, n_risk, n_event, n_censor, survival, std_err, std_err_cumhaz, lower, upper
    FIELDS = 9


def pack_keys(
    object time, const int8_t[::1] event, const int64_t[::1] arm, uint64_t offset,
    int time_bits, bint whole=False,
):
    """``(arm << time_bits | time key) << 1 | event`` per subject, as uint64, and the sum
    of the arm codes (with two arms, the subjects of arm 1). ``time``: a contiguous float64
    array.

    A time >= 0 orders like its IEEE-754 bits read as an unsigned integer; ``time key`` is
    those bits less ``offset`` (0.0 and -0.0 give 0), below ``2 ** time_bits``
    (:mod:`oncotrial.stats.km_scan` checks that it fits); if ``whole``, the times are whole
    numbers below ``2 ** time_bits`` and the key is the time itself. Sorting the keys sorts
    by arm, then time, then censored before events.

    Other times' keys must fit in :data:`KEY_BITS` bits, and bit 62 is set in each: read
    as float64 they are then positive normal numbers (exponent field 0x400 to 0x5ff) that
    order like the integers, and ``np.sort`` sorts them as doubles, which numpy does faster
    than 64-bit integers (its AVX-512 float sort). :func:`scan` masks the bit off.
    """
    cdef const double[::1] times = time
    # the bit patterns read as integers (no memcpy: the loop then vectorizes)
    cdef const uint64_t[::1] pattern = None if whole else time.view(np.uint64)
    cdef Py_ssize_t i, n = times.shape[0]
    cdef uint64_t bits, sign = <uint64_t>1 << 63
    cdef int64_t arm_sum = 0
    if event.shape[0] != n or arm.shape[0] != n:
        raise ValueError("time, event, arm: one value per subject each")
    out = np.empty(n, dtype=np.uint64)
    if n == 0:
        return out, 0
    cdef uint64_t[::1] key_view = out
    cdef uint64_t* keys = &key_view[0]
    cdef const int64_t* codes = &arm[0]
    cdef const int8_t* status = &event[0]
    cdef const uint64_t* patterns = &pattern[0] if not whole else NULL
    cdef const double* values = &times[0]
    with nogil:
        if whole:
            for i in range(n):
                bits = <uint64_t>values[i]
                keys[i] = ((<uint64_t>codes[i] << time_bits | bits) << 1) | <uint64_t>status[i]
                arm_sum += codes[i]
        else:
            for i in range(n):
                bits = patterns[i] & ~sign
                # bits - offset, but 0 stays 0, without a 64-bit compare (SSE2 has none, so
                # that the loop vectorizes): (bits | -bits) >> 63 is 1 unless bits is 0
                bits -= offset & (0 - ((bits | (0 - bits)) >> 63))
                bits = (<uint64_t>codes[i] << time_bits | bits) << 1
                keys[i] = bits | <uint64_t>status[i] | FLOAT_ORDER
                arm_sum += codes[i]
    return out, arm_sum


cdef inline double decode(uint64_t tkey, uint64_t offset) noexcept nogil:
    """The input double of a time key (its bits less ``offset``; 0 stays 0.0)."""
    cdef uint64_t bits = tkey + offset if tkey else 0
    cdef double t
    memcpy(&t, &bits, sizeof(double))
    return t


cdef struct Table:
    # one arm's rows; each array has one spare row after the last, a sentinel for the merge
    Py_ssize_t rows
    double* time
    int64_t* n_risk
    int64_t* n_event
    int64_t* n_censor
    double* surv
    double* std_err
    double* std_err_cumhaz
    int64_t events  # all its events


cdef Py_ssize_t arm_table(
    Table* tab, const uint64_t* keys, const int64_t* weight, Py_ssize_t lo, Py_ssize_t hi,
    int64_t subjects, uint64_t tmask, uint64_t offset, bint whole,
) noexcept nogil:
    """Rows of keys[lo:hi] (one arm, sorted), each key carrying ``weight[i]`` subjects (1
    if ``weight`` is NULL); ``subjects`` in all. The time key is the time itself if
    ``whole``, else its bits less ``offset``. Returns the number of rows."""
    cdef Py_ssize_t i, row = 0
    cdef uint64_t key, tkey, prev
    cdef int64_t w, ev, d = 0, c = 0, left = subjects, events = 0
    cdef double s = 1.0, g = 0.0, r, df, se
    if hi > lo:
        prev = keys[lo] >> 1  # arm and time: the arm is the same throughout
        for i in range(lo, hi + 1):
            key = keys[i] if i < hi else 0
            tkey = key >> 1 if i < hi else prev + 1
            if tkey != prev:  # every subject at time `prev` is counted: close its row
                tab.time[row] = <double>(prev & tmask) if whole else decode(prev & tmask, offset)
                tab.n_risk[row] = left
                tab.n_event[row] = d
                tab.n_censor[row] = c
                r = <double>left
                df = <double>d
                s *= 1.0 - df / r
                g += df / ((r - df) * r)
                se = sqrt(g)
                tab.surv[row] = s
                tab.std_err[row] = s * se
                tab.std_err_cumhaz[row] = se
                left -= d + c
                events += d
                d = 0
                c = 0
                row += 1
                prev = tkey
            if i < hi:
                w = weight[i] if weight != NULL else 1
                ev = <int64_t>(key & 1) * w
                d += ev
                c += w - ev
    tab.time[row] = INFINITY  # the sentinel row
    tab.n_risk[row] = 0
    tab.n_event[row] = 0
    tab.events = events
    return row


cdef void two_arm_sums(Table* t0, Table* t1, double* expected, double* variance) noexcept nogil:
    """Log-rank E and V of two arms: a merge of their tables without branches on the data
    (each step takes the earlier head, or both if tied; the sentinels end each table).

    The times are compared as 64-bit integers: non-negative doubles (+inf the sentinel)
    order like their bit patterns, and an integer comparison is quicker than a
    floating-point one on the chain that carries the loop (load a head, compare, advance).
    One division per time: with ``w = d / (n^2 max(n - 1, 1))``,
    ``E_0 += n_0 d / n = n_0 w n max(n - 1, 1)`` and
    ``V += d (n - d) / max(n - 1, 1) (n_0 / n) (n_1 / n) = (n - d) n_0 n_1 w``;
    ``E_1 = sum(d) - E_0``.
    """
    cdef Py_ssize_t i = 0, j = 0
    cdef const int64_t* time0 = <const int64_t*>t0.time
    cdef const int64_t* time1 = <const int64_t*>t1.time
    cdef double nf, df, below, w, e0 = 0.0, deaths = 0.0, v = 0.0
    cdef int64_t a, b, take0, take1, r0, r1, d
    while i < t0.rows or j < t1.rows:
        a = time0[i]
        b = time1[j]
        take0 = a <= b
        take1 = b <= a
        r0 = t0.n_risk[i]
        r1 = t1.n_risk[j]
        d = take0 * t0.n_event[i] + take1 * t1.n_event[j]
        i += take0
        j += take1
        nf = <double>(r0 + r1)
        df = <double>d
        below = nf - 1.0 if nf > 1.0 else 1.0
        w = df / (nf * nf * below)
        e0 += <double>r0 * w * nf * below
        deaths += df
        v += (nf - df) * <double>r0 * <double>r1 * w
    expected[0] = e0
    expected[1] = deaths - e0
    variance[0] = variance[3] = v
    variance[1] = variance[2] = -v


cdef void k_arm_sums(Table* tabs, int k, double* expected, double* variance) noexcept nogil:
    """Log-rank E and V of k arms: a merge of their tables by time."""
    cdef Py_ssize_t at[MAX_ARMS]
    cdef int64_t r[MAX_ARMS]
    cdef double p[MAX_ARMS]
    cdef double first, nf, df, cf, v
    cdef int64_t m, d
    cdef int a, b
    for a in range(k):
        at[a] = 0
    while True:
        first = INFINITY
        for a in range(k):
            if tabs[a].time[at[a]] < first:
                first = tabs[a].time[at[a]]
        if first == INFINITY:
            return
        m = 0
        d = 0
        for a in range(k):
            r[a] = tabs[a].n_risk[at[a]]
            m += r[a]
            if tabs[a].time[at[a]] == first:
                d += tabs[a].n_event[at[a]]
                at[a] += 1
        nf = <double>m
        df = <double>d
        cf = (nf - df) * df / (nf - 1.0 if nf > 1.0 else 1.0)
        for a in range(k):
            p[a] = <double>r[a] / nf
            expected[a] += p[a] * df
        for a in range(k):
            variance[a * k + a] += cf * p[a] * (1.0 - p[a])
            for b in range(a + 1, k):
                v = cf * p[a] * p[b]
                variance[a * k + b] -= v
                variance[b * k + a] -= v


def block_size(Py_ssize_t keys, int k):
    """Elements of the block that :func:`scan` writes the tables of ``k`` arms from
    ``keys`` sorted keys into (a row per key at most, and a sentinel row per arm)."""
    return FIELDS * (keys + k)


def scan(
    const uint64_t[::1] keys, const int64_t[::1] bounds, const int64_t[::1] subjects,
    int time_bits, uint64_t offset, object out, object counts=None, bint whole=False,
):
    """Each arm's table and Kaplan-Meier columns, and the log-rank E and V of the arms.

    ``keys``: from :func:`pack_keys`, sorted (or whole-number times in the same layout);
    arm g's keys are ``keys[bounds[g]:bounds[g + 1]]`` and it has ``subjects[g]``
    subjects; ``counts[i]`` (int64): subjects with key i (one each if None); ``whole``: the
    time keys are whole-number times, not bits. Returns ``(tables, events, expected,
    variance)`` with per arm ``(time, n_risk, n_event, n_censor, survival, std_err,
    std_err_cumhaz, lower, upper)`` and its number of events; ``lower`` and ``upper`` are
    left unwritten, room for the pointwise CI
    (:func:`oncotrial.stats.km.pointwise_ci`). The arrays are views of ``out``, one float64
    block of at least :func:`block_size` elements (:mod:`oncotrial.stats.km_scan` reuses
    it from call to call when no result refers to it any more).
    """
    cdef int k = bounds.shape[0] - 1, a, f
    if not 1 <= k <= MAX_ARMS or subjects.shape[0] != k:
        raise ValueError(f"bounds, subjects: 1 to {MAX_ARMS} arms, one count each")
    cdef const int64_t* weight = NULL
    cdef const int64_t[::1] weights
    if counts is not None:
        weights = counts
        if weights.shape[0] != keys.shape[0]:
            raise ValueError("counts: one per key")
        if weights.shape[0]:
            weight = &weights[0]
    cdef const uint64_t* key_data = &keys[0] if keys.shape[0] else NULL
    cdef Py_ssize_t size, start = 0
    cdef double[::1] block = out
    if block.shape[0] < block_size(bounds[k] - bounds[0], k):
        raise ValueError("out: too small, see block_size")
    cdef Table tabs[MAX_ARMS]
    cdef uint64_t tmask = (<uint64_t>1 << time_bits) - 1
    memory = out
    tables = []
    for a in range(k):
        size = bounds[a + 1] - bounds[a] + 1
        tabs[a].time = &block[start]
        tabs[a].n_risk = <int64_t*>&block[start + size]
        tabs[a].n_event = <int64_t*>&block[start + 2 * size]
        tabs[a].n_censor = <int64_t*>&block[start + 3 * size]
        tabs[a].surv = &block[start + 4 * size]
        tabs[a].std_err = &block[start + 5 * size]
        tabs[a].std_err_cumhaz = &block[start + 6 * size]
        with nogil:
            tabs[a].rows = arm_table(
                &tabs[a], key_data, weight, bounds[a], bounds[a + 1], subjects[a], tmask, offset,
                whole,
            )
        parts = []
        for f in range(FIELDS):
            part = memory[start + f * size : start + f * size + tabs[a].rows]
            parts.append(part.view(np.int64) if 1 <= f <= 3 else part)
        tables.append(tuple(parts))
        start += FIELDS * size
    expected = np.zeros(k)
    variance = np.zeros((k, k))
    cdef double[::1] e = expected
    cdef double[:, ::1] v = variance
    if k == 2:
        with nogil:
            two_arm_sums(&tabs[0], &tabs[1], &e[0], &v[0, 0])
    elif k > 2:
        with nogil:
            k_arm_sums(tabs, k, &e[0], &v[0, 0])
    return tables, [tabs[a].events for a in range(k)], expected, variance


cdef struct Lookup:
    # R findq's two lookups folded over y = (0, 1 - curve), one value at a time
    double top, bottom, best1, best2
    Py_ssize_t i1, i2
    bint near


cdef void lookup_start(Lookup* s, double p, double tol) noexcept nogil:
    """The state after ``y[0] = 0`` (the origin)."""
    s.top = s.bottom = 0.0
    s.best1 = s.best2 = INFINITY
    s.i1 = s.i2 = -1
    s.near = fabs(p) < tol
    if tol >= p:
        s.best1, s.i1 = 0.0, 0
    if -tol >= p:
        s.best2, s.i2 = 0.0, 0


cdef void lookup_fold(
    Lookup* s, const double[:] curve, Py_ssize_t start, Py_ssize_t stop, double p, double tol
) noexcept nogil:
    """Fold ``y[j + 1] = 1 - curve[j]`` for ``start <= j < stop`` into the state (NaN
    values change nothing: every comparison with them is false)."""
    cdef Py_ssize_t j, i1 = s.i1, i2 = s.i2
    cdef double y, top = s.top, bottom = s.bottom, best1 = s.best1, best2 = s.best2
    cdef bint near = s.near
    for j in range(start, stop):  # the state in locals: registers, not memory
        y = 1.0 - curve[j]
        if y > top:
            top = y
        if y < bottom:
            bottom = y
        if y + tol >= p and y < best1:
            best1 = y
            i1 = j + 1
        if y - tol >= p and y < best2:
            best2 = y
            i2 = j + 1
        if fabs(y - p) < tol:
            near = True
    s.top, s.bottom, s.best1, s.best2 = top, bottom, best1, best2
    s.i1, s.i2, s.near = i1, i2, near


cdef tuple lookup_result(Lookup* s, double p, double tol):
    """``(top, i1, i2, near)``, an index -1 where ``p`` lies outside the range it needs."""
    if p < s.bottom + tol or p > s.top + tol:
        s.i1 = -1
    if p < s.bottom - tol or p > s.top - tol:
        s.i2 = -1
    return s.top, s.i1, s.i2, s.near


def quantile_lookup(const double[:] curve, double p, double tol):
    """R ``findq``'s two lookups on ``y = (0, 1 - curve)`` in one pass (survival 3.5).

    Returns ``(top, i1, i2, near)``: ``top`` the largest ``y`` (NaN ignored, as
    ``np.fmax``); ``i1`` (``i2``) the index in ``y`` of the smallest value with
    ``y + tol >= p`` (``y - tol >= p``), at its first occurrence, or -1 if ``p`` lies
    outside ``[min y + tol, max y + tol]`` (``- tol``); ``near``: some ``y`` is within
    ``tol`` of ``p``. The same comparisons as :func:`oncotrial.stats.km._lookup_r`.
    """
    cdef Lookup s
    lookup_start(&s, p, tol)
    with nogil:
        lookup_fold(&s, curve, 0, curve.shape[0], p, tol)
    return lookup_result(&s, p, tol)


cdef double BOUND_MARGIN = 1e-12
"""Relative margin of a block's bounds: covers the rounding of the band's products and the
difference between numpy's ``exp`` and libm's (a few units in the last place, ~1e-16)."""


def log_band_lookup(
    const double[:] band, const double[:] surv, const double[:] se_cumhaz, double z,
    bint upper, double p, double tol, Py_ssize_t block=512,
):
    """:func:`quantile_lookup` of a log-transform pointwise band, reading only the blocks
    of rows that can change its answer.

    ``band`` must be what :func:`oncotrial.stats.km.pointwise_ci` wrote for the curve
    ``surv`` (never rising) with the standard errors ``se_cumhaz`` (never falling):
    ``min(S e, 1)`` (``upper``) or ``S / e`` with ``e = exp(z se_cumhaz)``, ``z >= 0``.
    On rows ``a..b`` of a block, S lies in ``[S_b, S_a]`` and e in ``[e_a, e_b]``, so the
    band lies within ``[S_b e_a, S_a e_b]`` (upper) or ``[S_b / e_b, S_a / e_a]`` (lower),
    widened by :data:`BOUND_MARGIN`; ``e_a`` is taken as the previous block's ``e_b``,
    which is not larger (one ``exp`` a block). A block is skipped when all its
    ``y = 1 - band`` lie below ``p - tol`` (no lookup takes them, and not ``near``), or
    above the smallest ``y >= p + tol`` found so far (no lookup prefers them and they are
    not ``near``). ``i1``, ``i2`` and ``near`` are then those of :func:`quantile_lookup`;
    ``top`` is the largest ``y`` read, and answers the tests made of it (``top >= p``,
    ``p > top +/- tol``) as the largest of all would: blocks are skipped only with every
    ``y`` below ``p - tol``, or once a ``y >= p + tol`` has been read. A block whose bounds
    are NaN is never skipped (comparisons with NaN are false), and a NaN band value changes
    no lookup anyway. Both bands lie within [0, 1], so a skipped ``y`` is never below the
    origin's 0, the smallest ``y`` the range tests use.
    """
    cdef Py_ssize_t m = band.shape[0], a, b
    cdef double e_a, e_b, low, high, y_low, y_high
    cdef Lookup s
    if surv.shape[0] != m or se_cumhaz.shape[0] != m or block < 1:
        raise ValueError("band, surv, se_cumhaz: one value per row each; block >= 1")
    lookup_start(&s, p, tol)
    with nogil:
        e_a = exp(z * se_cumhaz[0]) if m else 1.0
        a = 0
        while a < m:
            b = min(a + block, m) - 1
            e_b = exp(z * se_cumhaz[b])
            if upper:
                low, high = surv[b] * e_a, surv[a] * e_b
            else:
                low, high = surv[b] / e_b, surv[a] / e_a
            y_low = 1.0 - high * (1.0 + BOUND_MARGIN)
            y_high = 1.0 - low * (1.0 - BOUND_MARGIN)
            e_a = e_b
            # skipped: all y below p - tol (not reached yet), or above the smallest y >= p + tol
            # found so far (infinite until one is)
            if not (y_high < p - tol or y_low > s.best2):
                lookup_fold(&s, band, a, b + 1, p, tol)
            a = b + 1
    return lookup_result(&s, p, tol)


def quantile_bisect(const double[:] curve, double p, double tol):
    """:func:`quantile_lookup` for a curve that never rises and has no NaN, by bisection:
    ``(last, i1, i2)`` with ``last`` the last ``y`` and ``i1``, ``i2`` the first indices
    in ``y = (0, 1 - curve)`` with ``y + tol >= p`` and ``y - tol >= p`` (-1: none, or
    ``p`` outside ``[0 +/- tol, last +/- tol]``), the same comparisons as
    :func:`oncotrial.stats.km._findq_r_sorted`."""
    cdef Py_ssize_t m = curve.shape[0]
    cdef double last = 1.0 - curve[m - 1] if m else 0.0
    return last, first_reaching(curve, p, tol, last), first_reaching(curve, p, -tol, last)


cdef Py_ssize_t first_reaching(
    const double[:] curve, double p, double shift, double last
) noexcept:
    """First index i of ``y = (0, 1 - curve)`` (non-decreasing) with ``y[i] + shift >= p``;
    -1 if ``p < 0 + shift`` or ``p > last + shift``."""
    cdef Py_ssize_t lo = 0, hi = curve.shape[0] + 1, mid
    if p < 0.0 + shift or p > last + shift:
        return -1
    while lo < hi:
        mid = (lo + hi) // 2
        if (0.0 if mid == 0 else 1.0 - curve[mid - 1]) + shift < p:
            lo = mid + 1
        else:
            hi = mid
    return lo
