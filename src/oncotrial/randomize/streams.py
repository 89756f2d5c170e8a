"""Random streams of the allocation schemes: which numpy generator, seeded how.

All schemes draw from numpy's ``Generator`` over the ``PCG64`` bit generator, seeded through
``numpy.random.SeedSequence`` (NEP 19). The PCG64 output stream for a given SeedSequence is
fixed by numpy's stream-compatibility policy for bit generators; oncotrial uses only
:meth:`numpy.random.Generator.random` on top of it, which turns one 64-bit output ``x`` into
the double ``(x >> 11) * 2**-53`` (numpy ``next_double``), so a list can be regenerated from
``random_raw()`` alone (``tests/unit/test_randomize_lists.py`` does exactly that).

* Child stream ``k`` of a seed is ``SeedSequence(seed, spawn_key=(k,))``, which is the same
  object as ``SeedSequence(seed).spawn(K)[k]`` for any ``K > k`` (keyed by index, so adding
  strata never changes the stream of an existing stratum).
* Integer choices use ``floor(u * n)`` of one such double ``u`` (never ``Generator.integers``
  or ``Generator.permutation``, whose algorithms numpy does not promise to keep).
"""

from __future__ import annotations

import numpy as np

from oncotrial.randomize.params import check_seed


def child_generator(seed: int, key: int) -> np.random.Generator:
    """``Generator(PCG64(SeedSequence(seed, spawn_key=(key,))))``: stream ``key`` of ``seed``."""
    check_seed(seed)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


def subject_uniform(seed: int, sequence_number: int) -> float:
    """The one uniform draw of the ``sequence_number``-th (1-based) dynamically allocated subject.

    It is the first ``Generator.random()`` of child stream ``sequence_number`` of ``seed``, so a
    service needs to store only the trial's seed and the subject's sequence number to make
    every minimization decision reproducible and auditable.
    """
    return float(child_generator(seed, sequence_number).random())


def choice_index(u: float, n: int) -> int:
    """``floor(u * n)`` for a uniform ``u`` in [0, 1): an index in ``0..n-1``."""
    return min(int(np.floor(u * n)), n - 1)
