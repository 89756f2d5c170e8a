"""Vectorized draws for event prediction: residual event times, accrual, the k-th event.

Every function works on a block of ``B`` simulated trials at once (arrays of shape
``(B, n_subjects)``); no Python loop runs over trials or subjects.
"""

from __future__ import annotations

import numpy as np


def residual_times(
    u: np.ndarray, hazards: np.ndarray, cuts: np.ndarray, e: np.ndarray
) -> np.ndarray:
    """Remaining time to the event ``T - u`` given ``T > u``, under piecewise-constant hazards.

    Inverse cumulative hazard (e.g. Walke, "Example for a piecewise constant hazard data
    simulation in R", 2010): with ``E ~ Exp(1)``, ``T = H^-1(H(u) + E)`` has the law of ``T``
    given ``T > u``. ``u``: (n,) time on study; ``hazards``: (B, n, K) per day in the pieces
    ``[0, c1), [c1, c2), ..., [cK-1, inf)``; ``cuts``: (K-1,); ``e``: (B, n) Exp(1) draws.
    A zero hazard from some piece on gives ``inf`` (no event).
    """
    n_pieces = hazards.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        if n_pieces == 1:
            return e / hazards[..., 0]
        lower = np.concatenate([[0.0], cuts])
        widths = np.diff(lower)
        # cumulative hazard at each piece's lower boundary, (B, n, K)
        h_low = np.concatenate(
            [np.zeros((*hazards.shape[:-1], 1)), np.cumsum(hazards[..., :-1] * widths, axis=-1)],
            axis=-1,
        )
        piece_u = np.searchsorted(cuts, u, side="right")
        idx_u = np.broadcast_to(piece_u[None, :, None], (*hazards.shape[:-1], 1))
        h_u = np.take_along_axis(h_low, idx_u, -1)[..., 0] + np.take_along_axis(hazards, idx_u, -1)[
            ..., 0
        ] * (u - lower[piece_u])
        target = h_u + e
        piece = np.count_nonzero(h_low[..., 1:] <= target[..., None], axis=-1)
        idx = piece[..., None]
        h_p = np.take_along_axis(hazards, idx, -1)[..., 0]
        t = lower[piece] + (target - np.take_along_axis(h_low, idx, -1)[..., 0]) / h_p
        return np.where(h_p > 0, t - u, np.inf)


def kth_smallest(times: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th smallest value (1-based) of each row; ``inf`` when a row has fewer than
    ``k`` finite values (or fewer than ``k`` columns)."""
    if times.shape[1] < k:
        return np.full(times.shape[0], np.inf)
    return np.partition(times, k - 1, axis=1)[:, k - 1]


def event_calendar_times(
    rng: np.random.Generator,
    *,
    hazards: np.ndarray,
    cuts: np.ndarray,
    dropout: np.ndarray,
    accrual: np.ndarray,
    ongoing_u: np.ndarray,
    ongoing_last: np.ndarray,
    ongoing_arm: np.ndarray,
    n_new: int,
    allocation: np.ndarray,
) -> np.ndarray:
    """Calendar times (days after the cut-off) of every future event in a block of trials.

    ``hazards`` (B, A, K) per day, ``dropout`` and ``accrual`` (B,) per day. Subjects still
    ongoing are event-free through the end of their last-contact day ``ongoing_last`` (<= 0)
    at time on study ``ongoing_u``; their event and dropout clocks restart there (dropout is
    exponential, so memoryless). ``n_new`` subjects enter after the cut-off as a Poisson
    process with the block's accrual rates, each randomized to arm ``a`` with probability
    ``allocation[a]``. Subjects who drop out first contribute ``inf``. Returns (B, n_o + n_new).
    """
    n_block = hazards.shape[0]
    rows = np.arange(n_block)[:, None]
    n_o = ongoing_u.size
    with np.errstate(divide="ignore"):
        drop_scale = 1.0 / dropout[:, None]
    parts = []
    if n_o:
        r = residual_times(
            ongoing_u, hazards[:, ongoing_arm, :], cuts, rng.standard_exponential((n_block, n_o))
        )
        d = rng.standard_exponential((n_block, n_o)) * drop_scale
        parts.append(np.where(r < d, ongoing_last[None, :] + r, np.inf))
    if n_new:
        with np.errstate(divide="ignore"):
            gaps = rng.standard_exponential((n_block, n_new)) / accrual[:, None]
        entry = np.cumsum(gaps, axis=1)
        arm = rng.choice(allocation.size, size=(n_block, n_new), p=allocation)
        t = residual_times(
            np.zeros(n_new), hazards[rows, arm, :], cuts, rng.standard_exponential((n_block, n_new))
        )
        d = rng.standard_exponential((n_block, n_new)) * drop_scale
        parts.append(np.where(t < d, entry + t, np.inf))
    if not parts:
        return np.empty((n_block, 0))
    return np.concatenate(parts, axis=1)
