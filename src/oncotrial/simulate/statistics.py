"""Test statistics and estimates for many simulated trials at once (rows = trials).

Input is one analysis of ``B`` trials, each row sorted by observed time, compressed to the
event times: at the ``j``-th event of a trial, ``arm`` (1 experimental), the numbers at risk
``n`` (all) and ``n1`` (experimental) in the event's stratum (all patients when unstratified),
the event's stratum and time. Simulated times are continuous, so event times are distinct
(one event per time, ``d_j = 1``), and every formula below is the tie-free case of
:mod:`oncotrial.stats.logrank` / :mod:`oncotrial.stats.cox` (where Breslow and Efron agree):

* log-rank family (Mantel 1966; Harrington & Fleming 1982):
  ``U = sum_j w_j (a_j - n1_j / n_j)``, ``V = sum_j w_j^2 n1_j (n_j - n1_j) / n_j^2``,
  ``z = U / sqrt(V)`` (``z < 0``: fewer experimental events than expected), with
  ``w_j = S(t_j-)^rho (1 - S(t_j-))^gamma``, ``S`` the pooled Kaplan-Meier estimate of the
  event's stratum just before ``t_j``; stratified tests sum ``U`` and ``V`` over strata;
* Cox model with the arm as covariate (Cox 1972), stratified baseline hazards when asked:
  Newton-Raphson on the partial likelihood, ``p_j(b) = n1_j e^b / (n1_j e^b + n_j - n1_j)``,
  score ``sum (a_j - p_j)``, information ``sum p_j (1 - p_j)``, started at the one-step
  log-rank estimate ``U / V`` and run to ``|step| < 1e-12``; Wald ``z = b / sqrt(1 / I(b))``;
* Kaplan-Meier medians per arm, with the R quantile rule of :mod:`oncotrial.stats.km`
  (where the curve sits at exactly 0.5, the midpoint to the next event time, or to the last
  follow-up time of the arm).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

NEWTON_MAX_ITER = 50
NEWTON_TOL = 1e-12


@dataclass
class EventTable:
    """Per-trial event-time arrays, padded to the largest event count (``valid`` marks data).

    Padding rows hold ``arm = 0, n = 2, n1 = 0`` so they add exactly 0 to every sum.
    """

    arm: np.ndarray  # (B, m) float 0/1
    n: np.ndarray  # (B, m) at risk in the event's stratum (or overall)
    n1: np.ndarray  # (B, m) experimental at risk likewise
    n_all: np.ndarray  # (B, m) at risk overall
    n1_all: np.ndarray  # (B, m) experimental at risk overall
    stratum: np.ndarray  # (B, m) int
    time: np.ndarray  # (B, m)
    valid: np.ndarray  # (B, m) bool
    last_time: np.ndarray | None = None  # (B, 2) last follow-up per arm, when known


def weights(tab: EventTable, rho: float, gamma: float, n_strata: int) -> np.ndarray:
    """Fleming-Harrington weights ``S(t_j-)^rho (1 - S(t_j-))^gamma`` (pooled KM of the
    event's stratum in ``tab.n``)."""
    if rho == 0 and gamma == 0:
        return tab.valid.astype(float)
    step = np.where(tab.valid, 1.0 - 1.0 / tab.n, 1.0)
    if n_strata == 1:
        s_left = _exclusive_cumprod(step)
    else:
        s_left = np.ones_like(step)
        for s in range(n_strata):
            mine = tab.stratum == s
            np.copyto(s_left, _exclusive_cumprod(np.where(mine, step, 1.0)), where=mine)
    w = s_left**rho * (1.0 - s_left) ** gamma
    return np.where(tab.valid, w, 0.0)


def _exclusive_cumprod(a: np.ndarray) -> np.ndarray:
    """``out[:, j] = prod(a[:, :j])`` per row (1 for ``j = 0``)."""
    out = np.ones_like(a)
    np.cumprod(a[:, :-1], axis=1, out=out[:, 1:])
    return out


def score_and_variance(
    tab: EventTable, w: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted log-rank ``U = O - E`` and ``V`` of the experimental arm, per trial
    (``w = None``: the log-rank weights 1)."""
    frac = tab.n1 / tab.n
    if w is None:
        u = np.sum(tab.arm, axis=1) - np.sum(frac, axis=1)
        return u, np.einsum("ij,ij->i", frac, 1.0 - frac)
    u = np.einsum("ij,ij->i", w, tab.arm - frac)
    return u, np.einsum("ij,ij->i", w * w, frac * (1.0 - frac))


def _suffix_count(flags: np.ndarray) -> np.ndarray:
    """``out[:, j] = sum(flags[:, j:])`` per row, by log2(n) shifted additions (Hillis &
    Steele 1986): vectorised across the row, unlike ``np.cumsum`` along it."""
    out = flags.copy()
    shift = 1
    while shift < out.shape[1]:
        out[:, :-shift] += out[:, shift:]
        shift *= 2
    return out


def _low_bits(time: np.ndarray) -> np.ndarray:
    """The two lowest bits (event, arm) of each coded float64 time, as uint8."""
    if sys.byteorder == "little":
        return time.view(np.uint8)[:, ::8] & np.uint8(3)
    return (time.view(np.int64) & 3).astype(np.uint8)


def logrank_sorted(time: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unstratified log-rank ``U``, ``V`` and the number of events, per row, straight from
    rows sorted by coded time (event in bit 0, arm in bit 1; see ``engine.sort_look``).

    The same tie-free formulas as :func:`score_and_variance`, summed over all positions
    with the event indicator ``e_j`` instead of over a compressed event table: at sorted
    position ``j`` (0-based) of ``n``, ``n - j`` patients are at risk (patients not yet
    entered sort first and never have an event) and ``n1_j`` experimental ones (a suffix
    count); ``f_j = e_j n1_j / (n - j)``, ``U = O_1 - sum f_j``,
    ``V = sum e_j p_j (1 - p_j) = sum f_j - sum f_j^2``.
    """
    n = time.shape[1]
    low = _low_bits(time)
    event = low & np.uint8(1)
    count_type = np.uint8 if n < 256 else np.uint16 if n < 65536 else np.int64
    n1 = _suffix_count((low >> np.uint8(1)).astype(count_type, copy=False))
    n1 *= event
    f = n1 * (1.0 / (n - np.arange(n, dtype=np.float64)))
    s1 = f.sum(axis=1)
    observed = np.sum(low == 3, axis=1, dtype=np.int32)
    events = np.asarray(np.sum(event, axis=1, dtype=np.int32))
    return observed - s1, s1 - np.einsum("ij,ij->i", f, f), events


def z_from(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``U / sqrt(V)``; NaN where ``V = 0`` (no comparison possible)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, u / np.sqrt(v), np.nan)


def cox(
    tab: EventTable, u: np.ndarray, v: np.ndarray, stratified: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Cox estimate ``beta`` (log HR experimental:control) and its information, per trial.

    ``u`` and ``v`` are the unweighted log-rank score and variance of the same (stratified or
    not) risk sets: the score and information at ``beta = 0``, giving the Newton start.
    """
    n = tab.n if stratified else tab.n_all
    n1 = tab.n1 if stratified else tab.n1_all
    n0 = n - n1
    usable = v > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(usable, u / v, 0.0)
    info = v.copy()
    observed = np.sum(tab.arm, axis=1)
    for _ in range(NEWTON_MAX_ITER):
        e1 = n1 * np.exp(beta)[:, None]
        p = e1 / (e1 + n0)
        score = observed - np.sum(p, axis=1)
        info = np.einsum("ij,ij->i", p, 1.0 - p)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(usable & (info > 0) & (np.abs(beta) < 30), score / info, 0.0)
        # capped steps keep a diverging estimate (all events in one arm) finite
        step = np.clip(step, -5.0, 5.0)
        beta = np.clip(beta + step, -40.0, 40.0)
        if not np.any(np.abs(step) > NEWTON_TOL):
            break
    beta = np.where(usable, np.where(np.abs(beta) >= 30, np.sign(beta) * np.inf, beta), np.nan)
    return beta, info


def km_medians(tab: EventTable, last_time: Callable[[], np.ndarray] | None = None) -> np.ndarray:
    """Kaplan-Meier median per arm (columns control, experimental), R quantile rule.

    ``last_time()`` gives the last follow-up time per arm; it is called only when a curve
    sits at exactly 0.5 after its last event (rare), else ``tab.last_time`` is used.
    """
    last = tab.last_time
    out = np.full((tab.arm.shape[0], 2), np.nan)
    rows = np.arange(tab.arm.shape[0])
    for a in (0, 1):
        mine = tab.valid & (tab.arm == a)
        at_risk = tab.n1_all if a == 1 else tab.n_all - tab.n1_all
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.cumprod(np.where(mine, 1.0 - 1.0 / at_risk, 1.0), axis=1)
        below = mine & (s <= 0.5 + 1e-12)
        hit = below.any(axis=1)
        j = np.argmax(below, axis=1)
        t_j = tab.time[rows, j]
        exact = hit & (np.abs(s[rows, j] - 0.5) < 1e-12)
        later = mine & (np.arange(mine.shape[1]) > j[:, None])
        has_next = later.any(axis=1)
        if (exact & ~has_next).any() and last is None:
            last = last_time() if last_time is not None else np.full((rows.size, 2), np.nan)
        fallback = last[:, a] if last is not None else np.nan
        t_next = np.where(has_next, tab.time[rows, np.argmax(later, axis=1)], fallback)
        out[:, a] = np.where(hit, np.where(exact, (t_j + t_next) / 2.0, t_j), np.nan)
    return out
