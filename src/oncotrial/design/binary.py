"""Single-arm designs for a binary endpoint (response): exact one-stage, Simon, Fleming.

Hypotheses ``H0: p <= p0`` (uninteresting response rate) against ``H1: p >= p1``. Every
operating characteristic here is an exact binomial sum (scipy.stats.binom, vectorised),
never a normal approximation, except Fleming's boundaries, which are defined by one.

* Exact single-stage design (A'Hern, *Stat Med* 2001;20:859-866): the smallest ``n`` with an
  ``r`` such that ``P(X > r | p0) <= alpha`` and ``P(X > r | p1) >= 1 - beta``; the treatment
  is declared promising when more than ``r`` of ``n`` respond.
* Simon two-stage designs (Simon, *Control Clin Trials* 1989;10:1-10): ``n1`` patients; stop
  for futility if at most ``r1`` respond; otherwise treat ``n - n1`` more and declare the
  treatment promising if more than ``r`` of ``n`` respond. Exact enumeration over
  ``n <= nmax``, ``1 <= n1 < n``, ``0 <= r1 < n1``, with ``r`` the smallest value meeting the
  type I error. *Optimal*: minimum expected size under ``p0`` (``EN0``); *minimax*: minimum
  ``n``, ties broken by ``EN0`` (Simon 1989, as in R ``clinfun::ph2simon``).
* Fleming multistage designs (Fleming, *Biometrics* 1982;38:143-151): after stage ``g`` with
  ``n_g`` patients in total, reject ``H0`` if responses ``>= r_g`` and accept it if
  ``<= a_g``, with ``r_g = round(n_g p0 + z_{1-alpha} sqrt(N p0 (1-p0))) + 1`` and
  ``a_g = round(n_g p1 - z_{1-alpha} sqrt(N p1 (1-p1)))``, ``a_K = r_K - 1``; exact size,
  power, stopping probabilities and expected sample size by enumeration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from oncotrial.design import _tte_inputs as check
from oncotrial.errors import InputError, describe_value
from oncotrial.results import Result


def _rates(p0: object, p1: object) -> tuple[float, float]:
    a = check.probability_open(p0, "p0")
    b = check.probability_open(p1, "p1")
    if b <= a:
        raise InputError(
            f"p1 = {b!r} is invalid; the alternative response rate must exceed p0 = {a!r}",
            argument="p1",
            value=b,
            valid=f"{a!r} < p1 < 1",
        )
    return a, b


def _errors(alpha: object, beta: object) -> tuple[float, float]:
    a = check.alpha(alpha)
    b = check.alpha(beta, "beta")
    if 1.0 - b <= a:
        raise InputError(
            f"beta = {b!r} is invalid; power 1 - beta = {1 - b:g} must exceed alpha = {a:g}",
            argument="beta",
            value=b,
            valid=f"0 < beta < {1 - a:g}",
        )
    return a, b


def _nmax(value: object, default: int) -> int:
    if value is None:
        return default
    return check.whole_number(value, "nmax", 2)


@dataclass(frozen=True)
class SingleStageDesign(Result):
    """Exact single-stage design: promising if more than ``r`` of ``n`` respond."""

    p0: float
    p1: float
    alpha: float
    beta: float
    n: int
    r: int
    actual_alpha: float
    actual_power: float

    def protocol_text(self) -> str:
        return (
            f"With an exact single-stage design (A'Hern 2001), {self.n} evaluable patients "
            f"are enrolled; the treatment is considered promising if at least {self.r + 1} "
            f"respond. This tests H0: p <= {self.p0:g} against H1: p >= {self.p1:g} with "
            f"exact type I error {self.actual_alpha:.4f} (nominal {self.alpha:g}) and "
            f"exact power {self.actual_power:.4f} (nominal {1 - self.beta:g})."
        )

    def spec_block(self) -> dict[str, Any]:
        return {
            "type": "single-stage-binomial",
            "p0": self.p0,
            "p1": self.p1,
            "alpha": self.alpha,
            "beta": self.beta,
        }


def single_stage(
    p0: float, p1: float, alpha: float = 0.05, beta: float = 0.2, nmax: int | None = None
) -> SingleStageDesign:
    """Smallest exact single-stage design (A'Hern 2001); ``nmax`` default 1000."""
    a0, a1 = _rates(p0, p1)
    a, b = _errors(alpha, beta)
    top = _nmax(nmax, 1000)
    for n in range(1, top + 1):
        r = np.arange(n + 1)
        size = stats.binom.sf(r, n, a0)
        ok = np.flatnonzero(size <= a)
        if ok.size == 0:
            continue
        r_min = int(ok[0])
        pw = float(stats.binom.sf(r_min, n, a1))
        if pw >= 1.0 - b:
            return SingleStageDesign(a0, a1, a, b, n, r_min, float(size[r_min]), pw)
    raise InputError(
        f"no single-stage design with n <= {top}; raise nmax", argument="nmax", value=top
    )


@dataclass(frozen=True)
class SimonStageDesign(Result):
    """One Simon two-stage design and its exact operating characteristics."""

    criterion: str
    r1: int
    n1: int
    r: int
    n: int
    en0: float
    pet0: float
    actual_alpha: float
    actual_power: float

    def protocol_text(self, p0: float, p1: float, alpha: float, beta: float) -> str:
        return (
            f"A Simon {self.criterion} two-stage design (Simon 1989) is used to test H0: p <= "
            f"{p0:g} against H1: p >= {p1:g}. In stage 1, {self.n1} evaluable patients are "
            f"enrolled; if {self.r1} or fewer respond, the trial stops for futility. Otherwise "
            f"{self.n - self.n1} more patients are enrolled (total {self.n}), and the treatment "
            f"is considered promising if more than {self.r} of {self.n} respond. The exact type "
            f"I error is {self.actual_alpha:.4f} (nominal {alpha:g}) and the exact power "
            f"{self.actual_power:.4f} (nominal {1 - beta:g}); under H0 the probability of early "
            f"termination is {self.pet0:.3f} and the expected sample size {self.en0:.1f}."
        )


@dataclass(frozen=True)
class SimonDesign(Result):
    """The optimal and minimax Simon designs for one set of inputs."""

    p0: float
    p1: float
    alpha: float
    beta: float
    nmax: int
    optimal: SimonStageDesign
    minimax: SimonStageDesign

    def protocol_text(self, criterion: str = "optimal") -> str:
        chosen = self.optimal if criterion == "optimal" else self.minimax
        return chosen.protocol_text(self.p0, self.p1, self.alpha, self.beta)

    def spec_block(self, criterion: str = "optimal") -> dict[str, Any]:
        return {
            "type": "simon-two-stage",
            "criterion": criterion,
            "p0": self.p0,
            "p1": self.p1,
            "alpha": self.alpha,
            "beta": self.beta,
            "nmax": self.nmax,
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.optimal.to_dict(), self.minimax.to_dict()])

    def summary(self) -> str:
        lines = [
            f"Simon two-stage designs: p0 {self.p0:g}, p1 {self.p1:g}, alpha {self.alpha:g}, "
            f"beta {self.beta:g} (n <= {self.nmax})"
        ]
        for d in (self.optimal, self.minimax):
            lines.append(
                f"  {d.criterion:8s} r1/n1 = {d.r1}/{d.n1}, r/n = {d.r}/{d.n}, "
                f"EN0 {d.en0:.2f}, PET0 {d.pet0:.3f}, alpha {d.actual_alpha:.4f}, "
                f"power {d.actual_power:.4f}"
            )
        return "\n".join(lines)


def two_stage_oc(r1: int, n1: int, r: int, n: int, p: float | np.ndarray) -> dict[str, Any]:
    """Exact probabilities of a two-stage design at response rate(s) ``p``.

    ``reject``: P(X1 > r1 and X1 + X2 > r); ``pet``: P(X1 <= r1); ``en``: n1 + (1 - pet) n2.
    """
    pp = np.atleast_1d(np.asarray(p, dtype=float))
    n2 = n - n1
    x1 = np.arange(r1 + 1, n1 + 1)[:, None]
    reject = (stats.binom.pmf(x1, n1, pp) * stats.binom.sf(r - x1, n2, pp)).sum(axis=0)
    pet = stats.binom.cdf(r1, n1, pp)
    return {"reject": reject, "pet": pet, "en": n1 + (1.0 - pet) * n2}


class _Binomials:
    """Binomial pmf and survival tables at one rate for every size up to ``top``."""

    def __init__(self, p: float, top: int) -> None:
        self.top = top
        m = np.arange(top + 1)[:, None]
        self.pmf = stats.binom.pmf(np.arange(top + 1)[None, :], m, p)  # pmf[m, x]
        self.cdf = np.cumsum(self.pmf, axis=1)
        # sf[m, k + top + 1] = P(Bin(m, p) > k) for k in -top-1..top
        self.sf = stats.binom.sf(np.arange(-top - 1, top + 1)[None, :], m, p)


def _candidates(
    n: int, b0: _Binomials, b1: _Binomials, alpha: float, power: float
) -> tuple[float, int, int, int, float, float, float] | None:
    """Best feasible ``(en0, n1, r1, r, pet0, alpha, power)`` with total ``n``, or None.

    Vectorised over ``n1``, ``r1`` and ``r``. For each ``(n1, r1)``, ``r`` is the smallest
    value with exact type I error <= alpha (the size decreases in ``r``, so it is the most
    powerful admissible choice). Ties in EN0 go to the smaller ``n1``.
    """
    n1 = np.arange(1, n)[:, None, None]
    x1 = np.arange(n)[None, :, None]
    rr = np.arange(n + 1)[None, None, :]
    col = rr - x1 + b0.top + 1
    # joint[n1, x1, r] = P(X1 = x1) P(X2 > r - x1); tail sums over x1 > r1 give the size
    j0 = b0.pmf[n1, x1] * b0.sf[n - n1, col]
    j1 = b1.pmf[n1, x1] * b1.sf[n - n1, col]
    size = np.cumsum(j0[:, ::-1], axis=1)[:, ::-1][:, 1:, :]  # size[n1, r1, r], r1 = 0..n-2
    pw = np.cumsum(j1[:, ::-1], axis=1)[:, ::-1][:, 1:, :]
    r1 = np.arange(n - 1)[None, :, None]
    valid = (size <= alpha) & (rr >= r1) & (r1 < n1)
    has = valid.any(axis=2)
    first = np.argmax(valid, axis=2)
    i1, ir1 = np.nonzero(has)
    r = first[i1, ir1]
    ok = pw[i1, ir1, r] >= power
    if not ok.any():
        return None
    i1, ir1, r = i1[ok], ir1[ok], r[ok]
    nn1 = i1 + 1
    pet0 = b0.cdf[nn1, ir1]
    en0 = nn1 + (1.0 - pet0) * (n - nn1)
    best = np.lexsort((nn1, en0))[0]
    return (
        float(en0[best]),
        int(nn1[best]),
        int(ir1[best]),
        int(r[best]),
        float(pet0[best]),
        float(size[i1[best], ir1[best], r[best]]),
        float(pw[i1[best], ir1[best], r[best]]),
    )


def simon(
    p0: float, p1: float, alpha: float = 0.05, beta: float = 0.2, nmax: int | None = None
) -> SimonDesign:
    """Simon (1989) optimal and minimax two-stage designs by exact enumeration.

    ``nmax`` bounds the total sample size (default 100, as R ``clinfun::ph2simon``); every
    ``n`` from 2 to ``nmax`` is examined, so no design is skipped. Ties in ``EN0`` are broken
    by smaller ``n``, then smaller ``n1``.
    """
    a0, a1 = _rates(p0, p1)
    a, b = _errors(alpha, beta)
    top = _nmax(nmax, 100)
    best_opt: tuple[Any, ...] | None = None
    best_mm: tuple[Any, ...] | None = None
    b0, b1 = _Binomials(a0, top), _Binomials(a1, top)
    for n in range(2, top + 1):
        local = _candidates(n, b0, b1, a, 1.0 - b)
        if local is None:
            continue
        if best_mm is None:
            best_mm = (n, *local)
        if best_opt is None or local[0] < best_opt[1] - 1e-12:
            best_opt = (n, *local)
    if best_opt is None or best_mm is None:
        raise InputError(f"no Simon design with n <= {top}; raise nmax", argument="nmax", value=top)

    def make(criterion: str, c: tuple[Any, ...]) -> SimonStageDesign:
        n, en0, n1, r1, r, pet0, size, pw = c
        return SimonStageDesign(criterion, r1, n1, r, n, en0, pet0, size, pw)

    return SimonDesign(a0, a1, a, b, top, make("optimal", best_opt), make("minimax", best_mm))


@dataclass(frozen=True)
class FlemingDesign(Result):
    """Fleming (1982) multistage design with exact operating characteristics.

    ``accept[g]`` / ``reject[g]``: stop after stage ``g`` accepting H0 if cumulative responses
    ``<= accept[g]``, rejecting it if ``>= reject[g]``.
    """

    p0: float
    p1: float
    alpha: float
    stage_sizes: tuple[int, ...]
    accept: tuple[int, ...]
    reject: tuple[int, ...]
    actual_alpha: float
    actual_power: float
    expected_n0: float
    expected_n1: float
    stop_probabilities0: tuple[float, ...]
    stop_probabilities1: tuple[float, ...]

    def protocol_text(self) -> str:
        cum = np.cumsum(self.stage_sizes)
        rules = "; ".join(
            f"after {int(c)} patients, stop for futility with {a} or fewer responses"
            + (
                f" and for efficacy with {r} or more"
                if g < len(cum) - 1
                else f", and declare the treatment promising with {r} or more"
            )
            for g, (c, a, r) in enumerate(zip(cum, self.accept, self.reject, strict=True))
        )
        return (
            f"A Fleming (1982) {len(cum)}-stage design tests H0: p <= {self.p0:g} against "
            f"H1: p >= {self.p1:g}: {rules}. Exact type I error {self.actual_alpha:.4f}, "
            f"exact power {self.actual_power:.4f}; expected sample size "
            f"{self.expected_n0:.1f} under H0 and {self.expected_n1:.1f} under H1."
        )

    def spec_block(self) -> dict[str, Any]:
        return {
            "type": "fleming_multistage",
            "p0": self.p0,
            "p1": self.p1,
            "alpha": self.alpha,
            "stage_sizes": list(self.stage_sizes),
        }


def multistage_oc(
    stage_sizes: Sequence[int], accept: Sequence[int], reject: Sequence[int], p: float
) -> tuple[float, float, list[float]]:
    """Exact P(reject H0), expected sample size and P(stop after each stage) at rate ``p``.

    Forward recursion over the distribution of cumulative responses among trials that have
    not stopped.
    """
    dist = np.array([1.0])  # P(cumulative responses = s, still running)
    rejected, en, stops = 0.0, 0.0, []
    for size, a, r in zip(stage_sizes, accept, reject, strict=True):
        pmf = stats.binom.pmf(np.arange(size + 1), size, p)
        dist = np.convolve(dist, pmf)
        s = np.arange(dist.size)
        rej = float(dist[s >= r].sum())
        acc = float(dist[s <= a].sum())
        rejected += rej
        stops.append(rej + acc)
        en += size * (1.0 - sum(stops[:-1]))
        dist = np.where((s > a) & (s < r), dist, 0.0)
    return rejected, en, stops


def _nearest(x: float) -> int:
    """Nearest integer, halves rounded up (Fleming's ``[x]``)."""
    return math.floor(x + 0.5)


def fleming(
    p0: float,
    p1: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    stages: int = 2,
    n: int | None = None,
) -> FlemingDesign:
    """Fleming (1982) design with ``stages`` equal stages and total ``n``.

    ``n`` defaults to the single-stage normal-approximation size
    ``ceil(((z_{1-alpha} sqrt(p0 q0) + z_{1-beta} sqrt(p1 q1)) / (p1 - p0))^2)``
    (Fleming 1982, sec. 2); stage sizes differ by at most one, earlier stages smaller.
    """
    a0, a1 = _rates(p0, p1)
    a, b = _errors(alpha, beta)
    stages = check.whole_number(stages, "stages", 1)
    za, zb = float(stats.norm.ppf(1 - a)), float(stats.norm.ppf(1 - b))
    total = (
        n
        if n is not None
        else math.ceil(
            ((za * math.sqrt(a0 * (1 - a0)) + zb * math.sqrt(a1 * (1 - a1))) / (a1 - a0)) ** 2
        )
    )
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total < stages:
        raise InputError(
            f"n = {describe_value(total)} is invalid; it must be a whole number >= "
            f"stages ({stages})",
            argument="n",
            value=str(total),
        )
    base, extra = divmod(int(total), stages)
    sizes = tuple(base + (1 if g >= stages - extra else 0) for g in range(stages))
    cum = np.cumsum(sizes)
    reject = [_nearest(c * a0 + za * math.sqrt(total * a0 * (1 - a0))) + 1 for c in cum]
    accept = [_nearest(c * a1 - za * math.sqrt(total * a1 * (1 - a1))) for c in cum]
    accept[-1] = reject[-1] - 1
    size, en0, stop0 = multistage_oc(sizes, accept, reject, a0)
    pw, en1, stop1 = multistage_oc(sizes, accept, reject, a1)
    return FlemingDesign(
        a0,
        a1,
        a,
        sizes,
        tuple(accept),
        tuple(reject),
        size,
        pw,
        en0,
        en1,
        tuple(stop0),
        tuple(stop1),
    )
