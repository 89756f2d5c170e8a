"""Random draws of the synthetic-trial generator, reproducible across numpy versions.

Every draw is built from :meth:`numpy.random.Generator.random` on ``PCG64`` seeded through
``numpy.random.SeedSequence`` (NEP 19), the one numpy stream whose output numpy promises to keep
(the same rule as :mod:`oncotrial.randomize.streams`). Other distributions are inverse-CDF
transforms of those uniforms written here, never numpy's distribution methods (``normal``,
``exponential``, ``integers``...), whose algorithms may change between numpy releases:

* normal: ``statistics.NormalDist.inv_cdf`` (Wichura's AS 241, pure Python, deterministic);
* exponential: ``-log(1 - u) * scale``;
* categorical: the first ``j`` with ``u < p_1 + ... + p_j``;
* integers in ``[lo, hi]``: ``lo + floor(u * (hi - lo + 1))``.

Each part of the generator draws from its own stream ``SeedSequence(seed, spawn_key=(k,))``,
so changing how one part draws never moves the draws of another.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

_STD_NORMAL = NormalDist()
_U_MIN = 1e-12  # keeps inverse CDFs finite


class Draws:
    """A reproducible stream of uniforms and the distributions built on them."""

    def __init__(self, seed: int, key: int) -> None:
        self.seed = seed
        self.key = key
        sequence = np.random.SeedSequence(seed, spawn_key=(key,))
        self._gen = np.random.Generator(np.random.PCG64(sequence))

    def uniform(self, size: int) -> np.ndarray:
        """``size`` uniforms in [0, 1)."""
        return self._gen.random(size)

    def u(self) -> float:
        """One uniform in [0, 1)."""
        return float(self._gen.random())

    def bernoulli(self, p: float | np.ndarray, size: int | None = None) -> np.ndarray:
        """Booleans that are true with probability ``p`` (scalar or one per draw)."""
        p_arr = np.asarray(p, dtype=float)
        n = int(size if size is not None else p_arr.size)
        return self.uniform(n) < p_arr

    def chance(self, p: float) -> bool:
        return self.u() < p

    def normal(self, mean: float | np.ndarray, sd: float | np.ndarray, size: int) -> np.ndarray:
        """Normal draws by the inverse CDF."""
        z = np.array(
            [_STD_NORMAL.inv_cdf(min(max(x, _U_MIN), 1 - _U_MIN)) for x in self.uniform(size)]
        )
        return np.asarray(mean) + np.asarray(sd) * z

    def truncated_normal(
        self, mean: float, sd: float, low: float, high: float, size: int
    ) -> np.ndarray:
        """Normal restricted to ``[low, high]`` by inverting the CDF on that range."""
        lo = _STD_NORMAL.cdf((low - mean) / sd)
        hi = _STD_NORMAL.cdf((high - mean) / sd)
        u = lo + self.uniform(size) * (hi - lo)
        z = np.array([_STD_NORMAL.inv_cdf(min(max(x, _U_MIN), 1 - _U_MIN)) for x in u])
        return np.clip(mean + sd * z, low, high)

    def truncated_lognormal(
        self, median: float, sigma: float, low: float, high: float, size: int
    ) -> np.ndarray:
        """Log-normal with median ``median`` and log-scale ``sigma``, within ``[low, high]``."""
        return np.exp(
            self.truncated_normal(math.log(median), sigma, math.log(low), math.log(high), size)
        )

    def exponential(self, scale: float | np.ndarray, size: int) -> np.ndarray:
        """Exponential draws with mean ``scale``."""
        return -np.log1p(-self.uniform(size)) * np.asarray(scale)

    def categorical(self, probs: Sequence[float], size: int) -> np.ndarray:
        """Indices ``0..len(probs)-1`` drawn with the given probabilities (normalized)."""
        cum = np.cumsum(np.asarray(probs, dtype=float))
        cum /= cum[-1]
        return np.minimum(np.searchsorted(cum, self.uniform(size), side="right"), len(cum) - 1)

    def pick(self, probs: Sequence[float]) -> int:
        return int(self.categorical(probs, 1)[0])

    def integers(self, low: int, high: int, size: int) -> np.ndarray:
        """Integers uniformly in ``[low, high]`` (both included)."""
        return low + np.floor(self.uniform(size) * (high - low + 1)).astype(np.int64)

    def integer(self, low: int, high: int) -> int:
        return int(self.integers(low, high, 1)[0])

    def sample(self, n: int, k: int) -> np.ndarray:
        """``k`` distinct indices of ``range(n)`` (sorted): the ``k`` smallest uniform keys."""
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        keys = self.uniform(n)
        return np.sort(np.argsort(keys, kind="stable")[:k])

    def permutation(self, n: int) -> np.ndarray:
        """A random order of ``range(n)`` (stable sort of uniform keys)."""
        return np.argsort(self.uniform(n), kind="stable")
