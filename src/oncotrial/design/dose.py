"""Dose escalation: A+B (3+3) rules, their exact operating characteristics, and BOIN.

A+B designs (Lin & Shih, *Biostatistics* 2001;2:203-215), with ``C <= D`` and ``D <= E``:
treat ``A`` patients at the current dose. With fewer than ``C`` DLTs escalate; with more than
``D`` the dose is too toxic; otherwise treat ``B`` more, and escalate if at most ``E`` of the
``A + B`` have a DLT, else the dose is too toxic. The 3+3 design is ``A = B = 3``,
``C = D = E = 1``.

* Without de-escalation, the MTD is the dose below the first too-toxic dose (it may have
  only ``A`` patients); if the highest dose passes it is declared the MTD.
* With de-escalation (Lin & Shih's "A+B with dose de-escalation", the usual 3+3 protocol
  wording "the MTD is the highest dose at which at most 1 of 6 patients has a DLT"), a
  too-toxic dose sends the trial to the dose below: if it has ``A`` patients, ``B`` more are
  treated there; the MTD is the highest dose below every too-toxic dose with ``A + B``
  patients and at most ``E`` DLTs (0 = no dose tolerated). A pass with ``A`` patients at the
  highest dose is confirmed with ``B`` more.

Exact operating characteristics are computed by propagating probability mass over the
states of the trial (doses' patients and DLTs), branching on the binomial outcomes of each
cohort; the same :func:`next_step` rule drives the decision tool and the enumeration, so the
tool and the operating characteristics cannot disagree.

BOIN (Liu & Yuan, *J R Stat Soc C* 2015;64:507-523): escalate when the observed DLT rate at
the current dose is ``<= lambda_e``, de-escalate when ``>= lambda_d``,
``lambda_e = log((1-phi1)/(1-phi)) / log(phi (1-phi1) / (phi1 (1-phi)))`` and
``lambda_d = log((1-phi)/(1-phi2)) / log(phi2 (1-phi) / (phi (1-phi2)))``; a dose and all
higher doses are eliminated when ``P(p > phi | data) > 0.95`` under a Beta(1, 1) prior with at
least 3 patients treated. The MTD is selected by isotonic regression (pooled adjacent
violators) of the observed rates, the dose whose estimate is closest to ``phi`` (ties: the
higher dose if the estimate is below ``phi``, else the lower), the approach of the R package
BOIN (``select.mtd``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from oncotrial.design import _tte_inputs as check
from oncotrial.errors import InputError, describe_value
from oncotrial.results import Result


def _probability(value: object, name: str, *, closed: bool = True) -> float:
    try:
        p = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(
            f"{name} = {describe_value(value)} is not a number", argument=name, value=str(value)
        ) from None
    ok = (0.0 <= p <= 1.0) if closed else (0.0 < p < 1.0)
    if not ok or math.isnan(p):
        valid = "0 <= value <= 1" if closed else "0 < value < 1"
        raise InputError(
            f"{name} = {p!r} is invalid; it must satisfy {valid}",
            argument=name,
            value=p,
            valid=valid,
        )
    return p


@dataclass(frozen=True)
class ABDesign(Result):
    """An A+B escalation rule (3+3 by default); see the module docstring."""

    a: int = 3
    b: int = 3
    c: int = 1
    d: int = 1
    e: int = 1
    deescalation: bool = True

    def __post_init__(self) -> None:
        for name in ("a", "b"):
            check.whole_number(getattr(self, name), name, 1)
        for name in ("c", "d", "e"):
            check.whole_number(getattr(self, name), name, 0)
        if not (self.c <= self.d + 1 and self.c <= self.a):
            raise InputError(
                f"c = {self.c} is invalid; it must be <= d + 1 and <= a", argument="c", value=self.c
            )
        if not (self.d <= self.e < self.a + self.b):
            raise InputError(
                f"e = {self.e} is invalid; it must satisfy d <= e < a + b",
                argument="e",
                value=self.e,
            )

    @property
    def name(self) -> str:
        base = (
            "3+3"
            if (self.a, self.b, self.c, self.d, self.e) == (3, 3, 1, 1, 1)
            else f"{self.a}+{self.b} (C={self.c}, D={self.d}, E={self.e})"
        )
        return base + (" with de-escalation" if self.deescalation else " without de-escalation")

    def stage1_pass(self, x: int) -> bool:
        return x < self.c

    def toxic(self, n: int, x: int) -> bool:
        return (n == self.a and x > self.d) or (n == self.a + self.b and x > self.e)

    def escalation_probability(self, p: float | np.ndarray) -> np.ndarray:
        """P(a dose with DLT probability ``p`` is passed): ``P(X1 < C) + P(C <= X1 <= D,
        X1 + X2 <= E)``; for 3+3 ``(1-p)^3 + 3p(1-p)^2 (1-p)^3``."""
        pp = np.atleast_1d(np.asarray(p, dtype=float))
        first = stats.binom.cdf(self.c - 1, self.a, pp)
        x1 = np.arange(self.c, self.d + 1)[:, None]
        second = (stats.binom.pmf(x1, self.a, pp) * stats.binom.cdf(self.e - x1, self.b, pp)).sum(
            axis=0
        )
        return np.asarray(first + second)

    def protocol_text(self, doses: Sequence[str] | None = None) -> str:
        levels = f" ({', '.join(doses)})" if doses else ""
        if (self.a, self.b, self.c, self.d, self.e) == (3, 3, 1, 1, 1):
            text = (
                "Dose escalation follows the standard 3+3 design" + levels + ". Three "
                "patients are treated at a dose level. If none has a dose-limiting toxicity "
                "(DLT), the dose is escalated; if one has a DLT, three more patients are "
                "treated at that dose, and the dose is escalated if no further DLT occurs "
                "(at most 1 of 6); if two or more patients have a DLT, the dose is "
                "considered to exceed the maximum tolerated dose (MTD)."
            )
        else:
            text = (
                f"Dose escalation follows an A+B design (Lin & Shih 2001) with A = {self.a}, "
                f"B = {self.b}{levels}: with fewer than {self.c} DLTs among {self.a} "
                f"patients the dose is escalated; with more than {self.d} it exceeds the "
                f"MTD; otherwise {self.b} more patients are treated and the dose is "
                f"escalated if at most {self.e} of {self.a + self.b} have a DLT."
            )
        if self.deescalation:
            text += (
                f" When a dose exceeds the MTD, the next lower dose is expanded to "
                f"{self.a + self.b} patients if fewer were treated; the MTD is the highest "
                f"dose at which at most {self.e} of {self.a + self.b} patients have a DLT."
            )
        else:
            text += " The MTD is the dose level immediately below the one that exceeds it."
        return text

    def spec_block(self) -> dict[str, Any]:
        rule = "3+3" if (self.a, self.b, self.c, self.d, self.e) == (3, 3, 1, 1, 1) else "A+B"
        return {
            "type": "dose-escalation",
            "rule": rule,
            "a": self.a,
            "b": self.b,
            "c": self.c,
            "d": self.d,
            "e": self.e,
            "deescalation": self.deescalation,
        }


THREE_PLUS_THREE = ABDesign()


@dataclass(frozen=True)
class Decision(Result):
    """The next step of an A+B trial given the data so far.

    ``action``: ``treat`` (``patients`` more at ``dose``: start, add patients, escalate or
    de-escalate, named by ``step``) or ``stop`` with ``mtd`` declared (0: no dose tolerated).
    Doses are numbered 1..K.
    """

    action: str
    step: str
    dose: int | None
    patients: int
    mtd: int | None
    reason: str


def _tally(cohorts: Sequence[Sequence[int]], n_doses: int) -> tuple[list[int], list[int], int]:
    """Per-dose patients and DLTs from ``(dose, patients, dlts)`` cohorts; and the last dose."""
    n = [0] * (n_doses + 1)
    x = [0] * (n_doses + 1)
    for i, cohort in enumerate(cohorts):
        if len(cohort) != 3:
            raise InputError(
                f"cohorts[{i}] = {describe_value(cohort)} is invalid; give (dose, patients, dlts)",
                argument="cohorts",
                row=i + 1,
                value=str(cohort),
            )
        dose, pts, dlt = (
            check.whole_number(v, f"cohorts[{i}].{k}")
            for v, k in zip(cohort, ("dose", "patients", "dlts"), strict=True)
        )
        if not 1 <= dose <= n_doses:
            raise InputError(
                f"cohorts[{i}].dose = {dose} is invalid; doses are 1..{n_doses}",
                argument="cohorts",
                row=i + 1,
                value=dose,
                valid=f"1..{n_doses}",
            )
        if dlt > pts:
            raise InputError(
                f"cohorts[{i}].dlts = {dlt} exceeds its patients ({pts})",
                argument="cohorts",
                row=i + 1,
                value=dlt,
                valid=f"0..{pts}",
            )
        n[dose] += pts
        x[dose] += dlt
    last = int(cohorts[-1][0]) if cohorts else 1
    return n, x, last


def next_step(
    cohorts: Sequence[Sequence[int]], n_doses: int, design: ABDesign = THREE_PLUS_THREE
) -> Decision:
    """What an A+B trial does next after ``cohorts`` (list of ``(dose, patients, dlts)``).

    The current dose is the dose of the last cohort; with no cohorts the trial starts at
    dose 1. Patients per dose must be 0, ``A`` or ``A + B`` (the rule's cohort sizes).
    """
    k = check.whole_number(n_doses, "n_doses", 1)
    n, x, cur = _tally(cohorts, k)
    for dose in range(1, k + 1):
        if n[dose] not in (0, design.a, design.a + design.b):
            raise InputError(
                f"dose {dose} has {n[dose]} patients; the {design.name} rule "
                f"treats 0, {design.a} or {design.a + design.b} per dose",
                argument="cohorts",
                value=n[dose],
                valid=f"0, {design.a} or {design.a + design.b}",
            )
    return _decide(n, x, cur, k, design)


def _decide(n: Sequence[int], x: Sequence[int], cur: int, k: int, design: ABDesign) -> Decision:
    a, b = design.a, design.b
    if n[cur] == 0:
        return Decision(
            "treat",
            "start" if cur == 1 else "escalate",
            cur,
            a,
            None,
            f"no patients yet at dose {cur}",
        )
    toxic_above = any(design.toxic(n[j], x[j]) for j in range(cur + 1, k + 1))
    if design.toxic(n[cur], x[cur]):
        return _after_toxic(n, x, cur, design)
    if n[cur] == a and not design.stage1_pass(x[cur]):
        return Decision(
            "treat", "add", cur, b, None, f"{x[cur]}/{a} DLTs at dose {cur}: treat {b} more"
        )
    confirmed = n[cur] == a + b
    if not confirmed and design.deescalation and (toxic_above or cur == k):
        why = "a higher dose is too toxic" if toxic_above else "it is the highest dose"
        return Decision(
            "treat",
            "add",
            cur,
            b,
            None,
            f"{x[cur]}/{a} DLTs at dose {cur} and {why}: confirm with {b} more",
        )
    if toxic_above:
        return Decision(
            "stop",
            "mtd",
            None,
            0,
            cur,
            f"{x[cur]}/{n[cur]} DLTs at dose {cur}, the dose above is too toxic",
        )
    if cur == k:
        return Decision(
            "stop",
            "mtd",
            None,
            0,
            cur,
            f"{x[cur]}/{n[cur]} DLTs at the highest dose {cur}: it is declared the "
            "MTD (the true MTD may be higher)",
        )
    return Decision(
        "treat", "escalate", cur + 1, a, None, f"{x[cur]}/{n[cur]} DLTs at dose {cur}: escalate"
    )


def _after_toxic(n: Sequence[int], x: Sequence[int], cur: int, design: ABDesign) -> Decision:
    below = cur - 1
    why = f"{x[cur]}/{n[cur]} DLTs at dose {cur} (too toxic)"
    if below == 0:
        return Decision("stop", "mtd", None, 0, 0, why + "; no lower dose: no dose tolerated")
    if not design.deescalation:
        return Decision("stop", "mtd", None, 0, below, why + f"; MTD is dose {below}")
    if n[below] == design.a + design.b:
        return Decision(
            "stop",
            "mtd",
            None,
            0,
            below,
            why + f"; dose {below} had {x[below]}/{n[below]}: MTD is dose {below}",
        )
    return Decision(
        "treat",
        "de-escalate",
        below,
        design.b,
        None,
        why + f"; de-escalate and treat {design.b} more at dose {below}",
    )


@dataclass(frozen=True)
class EscalationOC(Result):
    """Exact operating characteristics of an A+B design at true DLT rates ``dlt_rates``.

    ``p_mtd[i]``: probability that dose ``i`` is declared the MTD (index 0: none tolerated);
    ``expected_patients`` / ``expected_dlts`` per dose (1..K); ``p_pass`` the probability
    that each dose, once reached, is passed (escalation probability).
    """

    design: ABDesign
    dlt_rates: tuple[float, ...]
    doses: tuple[str, ...]
    p_mtd: tuple[float, ...]
    expected_patients: tuple[float, ...]
    expected_dlts: tuple[float, ...]
    p_pass: tuple[float, ...]
    expected_total: float
    p_size: dict[int, float] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        rows = [
            {
                "dose": "none",
                "dlt_rate": None,
                "p_mtd": self.p_mtd[0],
                "expected_patients": 0.0,
                "expected_dlts": 0.0,
                "p_pass": None,
            }
        ]
        for i, label in enumerate(self.doses):
            rows.append(
                {
                    "dose": label,
                    "dlt_rate": self.dlt_rates[i],
                    "p_mtd": self.p_mtd[i + 1],
                    "expected_patients": self.expected_patients[i],
                    "expected_dlts": self.expected_dlts[i],
                    "p_pass": self.p_pass[i],
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        head = (
            f"{self.design.name}: exact operating characteristics "
            f"(expected patients {self.expected_total:.2f})"
        )
        return head + "\n" + self.to_frame().to_string(index=False)

    def protocol_text(self) -> str:
        best = int(np.argmax(self.p_mtd))
        where = "no dose" if best == 0 else f"dose {self.doses[best - 1]}"
        rates = ", ".join(f"{d}: {r:g}" for d, r in zip(self.doses, self.dlt_rates, strict=True))
        return (
            self.design.protocol_text(list(self.doses)) + f" If the true DLT probabilities "
            f"are {rates}, the design declares {where} the MTD with probability "
            f"{self.p_mtd[best]:.3f} and treats {self.expected_total:.1f} patients on "
            "average (exact calculation)."
        )

    def spec_block(self) -> dict[str, Any]:
        return {
            **self.design.spec_block(),
            "doses": list(self.doses),
            "dlt_rates": list(self.dlt_rates),
        }


def escalation_oc(
    dlt_rates: Sequence[float],
    design: ABDesign = THREE_PLUS_THREE,
    doses: Sequence[str] | None = None,
) -> EscalationOC:
    """Exact operating characteristics of ``design`` by enumeration (no simulation)."""
    rates = tuple(_probability(p, f"dlt_rates[{i}]") for i, p in enumerate(dlt_rates))
    if not rates:
        raise InputError(
            "dlt_rates is empty; give one DLT probability per dose", argument="dlt_rates"
        )
    k = len(rates)
    labels = tuple(doses) if doses is not None else tuple(str(i + 1) for i in range(k))
    if len(labels) != k:
        raise InputError(
            f"doses has {len(labels)} labels for {k} dlt_rates",
            argument="doses",
            value=len(labels),
            valid=str(k),
        )
    p_mtd = np.zeros(k + 1)
    pts = np.zeros(k + 1)
    dlts = np.zeros(k + 1)
    sizes: dict[int, float] = {}
    # state: (patients per dose, dlts per dose, current dose) -> probability
    start = ((0,) * (k + 1), (0,) * (k + 1), 1)
    frontier: dict[int, dict[tuple[Any, ...], float]] = {0: {start: 1.0}}
    while frontier:
        total = min(frontier)
        layer = frontier.pop(total)
        for (n, x, cur), mass in layer.items():
            step = _decide(n, x, cur, k, design)
            if step.action == "stop":
                assert step.mtd is not None
                p_mtd[step.mtd] += mass
                sizes[total] = sizes.get(total, 0.0) + mass
                continue
            dose, m = step.dose, step.patients
            assert dose is not None
            pmf = stats.binom.pmf(np.arange(m + 1), m, rates[dose - 1])
            pts[dose] += mass * m
            dlts[dose] += mass * float(np.arange(m + 1) @ pmf)
            for y in range(m + 1):
                if pmf[y] == 0.0:
                    continue
                n2 = list(n)
                x2 = list(x)
                n2[dose] += m
                x2[dose] += y
                key = (tuple(n2), tuple(x2), dose)
                bucket = frontier.setdefault(total + m, {})
                bucket[key] = bucket.get(key, 0.0) + mass * float(pmf[y])
    return EscalationOC(
        design,
        rates,
        labels,
        tuple(p_mtd),
        tuple(pts[1:]),
        tuple(dlts[1:]),
        tuple(float(v) for v in design.escalation_probability(np.array(rates))),
        float(pts.sum()),
        dict(sorted(sizes.items())),
    )


# ------------------------------------------------------------------------------------ BOIN


@dataclass(frozen=True)
class BoinBoundaries(Result):
    """BOIN escalation / de-escalation boundaries for a target DLT rate."""

    target: float
    phi1: float
    phi2: float
    lambda_e: float
    lambda_d: float

    def protocol_text(self) -> str:
        return (
            f"Dose finding uses the Bayesian optimal interval (BOIN) design (Liu & Yuan "
            f"2015) with target DLT rate {self.target:g}: the dose is escalated if the "
            f"observed DLT rate at the current dose is <= {self.lambda_e:.3f}, de-escalated "
            f"if it is >= {self.lambda_d:.3f}, and otherwise retained (phi1 = "
            f"{self.phi1:g}, phi2 = {self.phi2:g}). A dose and all higher doses are "
            "eliminated if the posterior probability (Beta(1, 1) prior) that its DLT rate "
            "exceeds the target is above 0.95 with at least 3 patients treated."
        )

    def spec_block(self) -> dict[str, Any]:
        return {
            "type": "dose-escalation",
            "rule": "BOIN",
            "target": self.target,
            "phi1": self.phi1,
            "phi2": self.phi2,
        }


def boin_boundaries(
    target: float, phi1: float | None = None, phi2: float | None = None
) -> BoinBoundaries:
    """BOIN boundaries (Liu & Yuan 2015, eq. 2); defaults ``phi1 = 0.6 phi``, ``phi2 = 1.4 phi``."""
    phi = _probability(target, "target", closed=False)
    p1 = 0.6 * phi if phi1 is None else _probability(phi1, "phi1", closed=False)
    p2 = 1.4 * phi if phi2 is None else _probability(phi2, "phi2", closed=False)
    if not p1 < phi:
        raise InputError(
            f"phi1 = {p1!r} is invalid; it must be below the target {phi!r}",
            argument="phi1",
            value=p1,
            valid=f"0 < phi1 < {phi!r}",
        )
    if not phi < p2 < 1:
        raise InputError(
            f"phi2 = {p2!r} is invalid; it must be above the target {phi!r}",
            argument="phi2",
            value=p2,
            valid=f"{phi!r} < phi2 < 1",
        )
    lam_e = math.log((1 - p1) / (1 - phi)) / math.log(phi * (1 - p1) / (p1 * (1 - phi)))
    lam_d = math.log((1 - phi) / (1 - p2)) / math.log(p2 * (1 - phi) / (phi * (1 - p2)))
    return BoinBoundaries(phi, p1, p2, lam_e, lam_d)


@dataclass(frozen=True)
class BoinDecisionTable(Result):
    """Per number of patients ``n``: escalate if DLTs <= ``escalate``, de-escalate if DLTs >=
    ``deescalate``, eliminate the dose if DLTs >= ``eliminate`` (None: never)."""

    boundaries: BoinBoundaries
    n: tuple[int, ...]
    escalate: tuple[int, ...]
    deescalate: tuple[int, ...]
    eliminate: tuple[int | None, ...]
    cutoff: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "n": self.n,
                "escalate_if_dlt_le": self.escalate,
                "deescalate_if_dlt_ge": self.deescalate,
                "eliminate_if_dlt_ge": self.eliminate,
            }
        )

    def summary(self) -> str:
        b = self.boundaries
        return (
            f"BOIN target {b.target:g}: lambda_e {b.lambda_e:.4f}, lambda_d "
            f"{b.lambda_d:.4f}\n" + self.to_frame().to_string(index=False)
        )

    def protocol_text(self) -> str:
        return self.boundaries.protocol_text()

    def spec_block(self) -> dict[str, Any]:
        return {**self.boundaries.spec_block(), "elimination_cutoff": self.cutoff}


def eliminated(n: int, x: int, target: float, cutoff: float = 0.95) -> bool:
    """BOIN safety rule: ``n >= 3`` and ``P(p > target | x of n, Beta(1,1)) > cutoff``."""
    return n >= 3 and float(stats.beta.sf(target, 1 + x, 1 + n - x)) > cutoff


def boin_decision_table(
    target: float,
    max_n: int = 18,
    phi1: float | None = None,
    phi2: float | None = None,
    cutoff: float = 0.95,
) -> BoinDecisionTable:
    """BOIN decision table for ``n = 1..max_n`` patients at a dose."""
    bounds = boin_boundaries(target, phi1, phi2)
    top = check.whole_number(max_n, "max_n", 1)
    c = _probability(cutoff, "cutoff", closed=False)
    ns = tuple(range(1, top + 1))
    esc = tuple(math.floor(n * bounds.lambda_e + 1e-12) for n in ns)
    dee = tuple(math.ceil(n * bounds.lambda_d - 1e-12) for n in ns)
    elim = tuple(
        next((x for x in range(n + 1) if eliminated(n, x, bounds.target, c)), None) for n in ns
    )
    return BoinDecisionTable(bounds, ns, esc, dee, elim, c)


def isotonic(rates: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pooled adjacent violators: non-decreasing weighted least-squares fit."""
    blocks: list[list[float]] = []  # [value, weight, count]
    for r, w in zip(rates, weights, strict=True):
        blocks.append([float(r), float(w), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    return np.concatenate([[v] * int(c) for v, _, c in blocks])


def boin_select_mtd(
    n: Sequence[int] | np.ndarray,
    x: Sequence[int] | np.ndarray,
    target: float,
    cutoff: float = 0.95,
) -> int:
    """MTD selection after a BOIN trial (1-based; 0 = none): isotonic estimate closest to
    ``target`` among tried, non-eliminated doses."""
    nn = np.asarray(n, dtype=float)
    xx = np.asarray(x, dtype=float)
    if nn[0] > 0 and eliminated(int(nn[0]), int(xx[0]), target, cutoff):
        return 0
    elim = [eliminated(int(a), int(b), target, cutoff) for a, b in zip(nn, xx, strict=True)]
    stop = next((i for i, e in enumerate(elim) if e), len(nn))
    tried = np.flatnonzero(nn[:stop] > 0)
    if tried.size == 0:
        return 0
    # Beta(0.05, 0.05)-smoothed rates as in the BOIN package's select.mtd()
    phat = (xx[tried] + 0.05) / (nn[tried] + 0.1)
    var = (
        (xx[tried] + 0.05)
        * (nn[tried] - xx[tried] + 0.05)
        / ((nn[tried] + 0.1) ** 2 * (nn[tried] + 0.1 + 1))
    )
    fit = isotonic(phat, 1.0 / var) + 1e-5 * np.arange(tried.size)  # break ties upwards
    best = int(np.argmin(np.abs(fit - target)))
    if fit[best] > target:
        close = np.flatnonzero(np.abs(fit - target) <= np.abs(fit[best] - target) + 1e-12)
        best = int(close.min())
    return int(tried[best]) + 1


@dataclass(frozen=True)
class BoinOC(Result):
    """Simulated operating characteristics of BOIN (seeded numpy Generator)."""

    target: float
    dlt_rates: tuple[float, ...]
    cohort_size: int
    n_cohorts: int
    n_trials: int
    seed: int
    p_select: tuple[float, ...]
    mean_patients: tuple[float, ...]
    mean_dlts: tuple[float, ...]
    p_early_stop: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "dose": range(1, len(self.dlt_rates) + 1),
                "dlt_rate": self.dlt_rates,
                "p_select": self.p_select[1:],
                "mean_patients": self.mean_patients,
                "mean_dlts": self.mean_dlts,
            }
        )

    def summary(self) -> str:
        return (
            f"BOIN target {self.target:g}, {self.n_trials} simulated trials (seed "
            f"{self.seed}); P(no MTD) {self.p_select[0]:.3f}\n"
            + self.to_frame().to_string(index=False)
        )

    def protocol_text(self) -> str:
        best = int(np.argmax(self.p_select[1:])) + 1
        return (
            boin_boundaries(self.target).protocol_text() + f" In {self.n_trials} simulated "
            f"trials of {self.n_cohorts} cohorts of {self.cohort_size} with true DLT "
            f"probabilities {', '.join(f'{r:g}' for r in self.dlt_rates)}, dose {best} was "
            f"selected as the MTD in {100 * self.p_select[best]:.1f}% of trials."
        )

    def spec_block(self) -> dict[str, Any]:
        return {
            "type": "dose-escalation",
            "rule": "BOIN",
            "target": self.target,
            "cohort_size": self.cohort_size,
            "n_cohorts": self.n_cohorts,
        }


def boin_simulate(
    dlt_rates: Sequence[float],
    target: float,
    *,
    cohort_size: int = 3,
    n_cohorts: int = 10,
    n_trials: int = 1000,
    seed: int = 1,
    start: int = 1,
    cutoff: float = 0.95,
    n_earlystop: int = 100,
) -> BoinOC:
    """Simulate BOIN trials (Liu & Yuan 2015; rules of the R package BOIN ``get.oc``)."""
    rates = np.array([_probability(p, f"dlt_rates[{i}]") for i, p in enumerate(dlt_rates)])
    bounds = boin_boundaries(target)
    size = check.whole_number(cohort_size, "cohort_size", 1)
    cohorts = check.whole_number(n_cohorts, "n_cohorts", 1)
    trials = check.whole_number(n_trials, "n_trials", 1)
    k = rates.size
    rng = np.random.default_rng(seed)
    most = size * cohorts
    first_elim = [
        next((x for x in range(m + 1) if eliminated(m, x, bounds.target, cutoff)), m + 1)
        for m in range(most + 1)
    ]
    select = np.zeros(k + 1)
    pts = np.zeros(k)
    tox = np.zeros(k)
    early = 0
    for _ in range(trials):
        n = np.zeros(k, dtype=int)
        x = np.zeros(k, dtype=int)
        elim = np.zeros(k, dtype=bool)
        d = check.whole_number(start, "start", 1) - 1
        stopped = False
        for _c in range(cohorts):
            if n[d] >= n_earlystop:
                break
            y = int(rng.binomial(size, rates[d]))
            n[d] += size
            x[d] += y
            if x[d] >= first_elim[n[d]]:
                elim[d:] = True
                if d == 0:
                    stopped = True
                    break
            rate = x[d] / n[d]
            if rate <= bounds.lambda_e and d < k - 1 and not elim[d + 1]:
                d += 1
            elif rate >= bounds.lambda_d and d > 0:
                d -= 1
        pts += n
        tox += x
        if stopped:
            early += 1
            select[0] += 1
        else:
            select[boin_select_mtd(n, x, bounds.target, cutoff)] += 1
    return BoinOC(
        bounds.target,
        tuple(float(r) for r in rates),
        size,
        cohorts,
        trials,
        seed,
        tuple(select / trials),
        tuple(pts / trials),
        tuple(tox / trials),
        early / trials,
    )
