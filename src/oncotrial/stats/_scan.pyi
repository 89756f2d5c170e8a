"""Types of the compiled module ``_scan.pyx`` (see its docstring)."""

import numpy as np

KEY_BITS: int

def pack_keys(
    time: np.ndarray,
    event: np.ndarray,
    arm: np.ndarray,
    offset: int,
    time_bits: int,
    whole: bool = ...,
) -> tuple[np.ndarray, int]: ...
def block_size(keys: int, k: int) -> int: ...
def scan(
    keys: np.ndarray,
    bounds: np.ndarray,
    subjects: np.ndarray,
    time_bits: int,
    offset: int,
    out: np.ndarray,
    counts: np.ndarray | None = ...,
    whole: bool = ...,
) -> tuple[list[tuple[np.ndarray, ...]], list[int], np.ndarray, np.ndarray]: ...
def quantile_lookup(curve: np.ndarray, p: float, tol: float) -> tuple[float, int, int, bool]: ...
def log_band_lookup(
    band: np.ndarray,
    surv: np.ndarray,
    se_cumhaz: np.ndarray,
    z: float,
    upper: bool,
    p: float,
    tol: float,
    block: int = ...,
) -> tuple[float, int, int, bool]: ...
def quantile_bisect(curve: np.ndarray, p: float, tol: float) -> tuple[float, int, int]: ...
