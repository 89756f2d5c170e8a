"""The main job on the shipped PALMIRA example, step by step.

``oncotrial demo`` runs the whole chain: the trial spec (check and synopsis), eligibility
screening of the shipped screening file, the central randomization list the spec implies, the
design check against the published design, PALMIRA's published response rates recomputed from
their counts, the derivation of the analysis datasets from the shipped synthetic PALMIRA-like
raw trial (``oncotrial derive``), the analyses and the report (``oncotrial report``: tables,
figures, CONSORT, one HTML page), and the validation files of the statistics the chain uses
(``oncotrial validate`` runs them all). Each step writes its files into the output folder and
returns a short line for the console.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from oncotrial.results import Result, jsonable
from oncotrial.spec import TrialSpec, load_spec

DEMO_SEED = 20190410
"""Seed of the demo allocation list (the date PALMIRA's accrual opened, as an integer)."""

DEMO_CUTOFF = "2023-02-02"
"""Data cut of the shipped synthetic trial (its README: the generator's data cutoff)."""

QUICK_VALIDATION = (
    "km_r_survival",
    "logrank_r_survival",
    "cox_r_survival",
    "proportions_r",
    "proportions_published",
    "palmira_published",
    "rpact_survival",
    "seed_designs",
)
"""Reference files of the statistics the demo's chain uses (design, survival, proportions);
``oncotrial validate`` runs every file."""


@dataclass(frozen=True)
class DemoStep:
    name: str
    headline: str
    files: tuple[str, ...]
    data: dict[str, Any]
    ok: bool = True


@dataclass(frozen=True)
class DemoResult(Result):
    trial: str
    out_dir: str
    steps: tuple[DemoStep, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        lines = [f"oncotrial demo — {self.trial}"]
        for step in self.steps:
            lines.append(f"  {step.name}: {step.headline}")
        lines.append(f"Files written to {self.out_dir}/")
        return "\n".join(lines)


def shipped_screening_file() -> Path:
    return Path(str(resources.files("oncotrial.data") / "examples" / "palmira_screening.csv"))


def step_spec(spec: TrialSpec, out: Path) -> DemoStep:
    from oncotrial.spec.synopsis import synopsis_text

    (out / "synopsis.txt").write_text(synopsis_text(spec), encoding="utf-8")
    headline = (
        f"{len(spec.arms)} arms {spec.ratio_text}, {len(spec.stratification)} stratification "
        f"factors, {len(spec.criteria)} eligibility criteria, {len(spec.endpoints)} endpoints"
    )
    return DemoStep("trial spec", headline, ("synopsis.txt",), {"trial": spec.trial.id})


def step_screening(spec: TrialSpec, out: Path) -> DemoStep:
    from oncotrial.screening import read_screening_file, screen

    records = read_screening_file(shipped_screening_file(), spec.subject_attributes)
    result = screen(spec.eligibility, spec.subject_attributes, records)
    result.log.to_csv(out / "screening_log.csv", index=False)
    result.to_frame().to_csv(out / "screening_subjects.csv", index=False)
    c = result.counts
    headline = (
        f"{c.assessed} assessed, {c.excluded} excluded, {c.cannot_tell} cannot tell "
        f"(missing data), {c.eligible} eligible"
    )
    return DemoStep(
        "eligibility screening",
        headline,
        ("screening_log.csv", "screening_subjects.csv"),
        c.to_dict(),
    )


def step_randomization(spec: TrialSpec, out: Path) -> DemoStep:
    from oncotrial.randomize.params import ArmRatio, Factor
    from oncotrial.randomize.schemes import BlockDesign, generate_list

    arms = ArmRatio(tuple(a.name for a in spec.arms), tuple(a.ratio for a in spec.arms))
    factors = tuple(Factor(f.name, tuple(f.levels)) for f in spec.stratification)
    n_strata = math.prod(len(f.levels) for f in spec.stratification) or 1
    assert spec.design is not None and spec.design.model_extra is not None
    planned_n = int(spec.design.model_extra["n"])  # 198 for PALMIRA
    block = arms.total
    design = BlockDesign(arms, factors, (block, 2 * block))
    allocation = generate_list(design, per_stratum=math.ceil(planned_n / n_strata), seed=DEMO_SEED)
    (out / "allocation_list.csv").write_text(allocation.to_csv(), encoding="utf-8")
    headline = (
        f"permuted blocks of {block} and {2 * block}, {n_strata} strata, "
        f"{len(allocation.slots)} slots, seed {DEMO_SEED}, sha256 {allocation.fingerprint[:12]}…"
    )
    return DemoStep(
        "randomization list",
        headline,
        ("allocation_list.csv",),
        {"slots": len(allocation.slots), "fingerprint": allocation.fingerprint},
    )


def step_design(spec: TrialSpec, out: Path) -> DemoStep:
    from oncotrial.design.spec_block import design_from_block

    assert spec.design is not None
    result = design_from_block(spec.design.model_dump())
    (out / "design.txt").write_text(result.protocol_text() + "\n", encoding="utf-8")
    published = spec.design.published
    headline = (
        f"{result.events} events for HR {published.get('hazard_ratio')} at "
        f"{published.get('power'):.0%} power, two-sided alpha {published.get('alpha')} "
        f"({result.events_exact:.2f} before rounding; Schoenfeld); {published.get('n')} "
        "patients planned"
    )
    return DemoStep(
        "design check",
        headline,
        ("design.txt",),
        {"events": result.events, "events_exact": result.events_exact},
    )


PUBLISHED_RATES = (
    # (what, arm, x, n, as printed in J Clin Oncol 2025)
    ("ORR", "Palbociclib + ET", 6, 136, "4.4% (1.6 to 9.4)"),
    ("ORR", "ET", 1, 62, "1.6% (0.0 to 8.7)"),
    ("CBR", "Palbociclib + ET", 57, 136, "41.9% (33.5 to 50.7)"),
    ("CBR", "ET", 17, 62, "27.4% (16.9 to 40.2)"),
    ("ORR, measurable disease", "Palbociclib + ET", 6, 94, "6.4% (2.4 to 13.4)"),
    ("ORR, measurable disease", "ET", 1, 44, "2.3% (0.1 to 12.0)"),
)


def step_published_rates(spec: TrialSpec, out: Path) -> DemoStep:
    from oncotrial.stats.proportions import proportion_ci

    rows: list[dict[str, Any]] = []
    for what, arm, x, n, printed in PUBLISHED_RATES:
        ci = proportion_ci(x, n, method="clopper-pearson")
        rows.append(
            {
                "endpoint": what,
                "arm": arm,
                "x": x,
                "n": n,
                "oncotrial": ci.formatted(),
                "published": printed,
                "same": ci.formatted() == printed,
            }
        )
    pd.DataFrame(rows).to_csv(out / "published_rates.csv", index=False)
    same = sum(bool(r["same"]) for r in rows)
    headline = (
        f"{same}/{len(rows)} of PALMIRA's printed response rates reproduced to the "
        "digit (Clopper-Pearson 95% CI)"
    )
    return DemoStep(
        "published response rates",
        headline,
        ("published_rates.csv",),
        {"rows": rows},
        ok=same == len(rows),
    )


def shipped_trial_dir() -> Path:
    return Path(str(resources.files("oncotrial.data") / "examples" / "palmira_trial"))


def step_derivation(spec: TrialSpec, out: Path) -> DemoStep:
    from oncotrial.derive.pipeline import derive_trial

    result = derive_trial(spec, shipped_trial_dir(), out / "adam", cutoff=DEMO_CUTOFF)
    subjects = result.log["counts"]["subjects"]
    events = result.log["counts"]["events"]
    headline = (
        f"{subjects['screened']} screened, {subjects['ITT']} randomized, {subjects['safety']} "
        f"treated; PFS {events['PFS']['events']} events, OS {events['OS']['events']} deaths "
        f"(data cut {DEMO_CUTOFF}; {len(result.datasets)} datasets)"
    )
    files = tuple(f"adam/{name}" for name in result.log["outputs"])
    return DemoStep(
        "derivation",
        headline,
        (*files, "adam/derivation_log.json"),
        {"subjects": subjects, "events": events},
    )


def step_report(spec: TrialSpec, out: Path) -> DemoStep:
    from oncotrial.analysis import fmt_ci, fmt_p
    from oncotrial.report.build import build_report

    report = build_report(spec, out / "adam", out / "report")
    pfs = report.analyses.survival_for(spec.analyses.primary.endpoint, "ITT")
    assert pfs is not None
    a = pfs.analysis
    headline = (
        f"{pfs.endpoint} HR {fmt_ci(a.cox.hr, a.cox.ci, 2)}, stratified log-rank p "
        f"{fmt_p(a.logrank.p)}; {len(report.tables)} tables, {len(report.figures)} figures; "
        f"open {report.html}"
    )
    return DemoStep(
        "analysis and report",
        headline,
        ("report/report.html", "report/results.json"),
        {
            "html": report.html,
            "tables": sorted(report.tables),
            "figures": sorted(report.figures),
            "primary": {"hr": a.cox.hr, "ci": list(a.cox.ci), "logrank_p": a.logrank.p},
        },
    )


def step_validation(spec: TrialSpec, out: Path) -> DemoStep:
    from oncotrial.validation.report import run_validation

    report = run_validation(list(QUICK_VALIDATION))
    report.write(out / "validation")
    counts = report.to_dict()["counts"]
    headline = (
        f"{counts['checks'] - counts['failed']}/{counts['checks']} checks passed against the "
        f"{counts['files']} reference files of the statistics used here (R survival, rpact, "
        "R stats, published tables); `oncotrial validate` runs all of them"
    )
    return DemoStep(
        "validation", headline, ("validation/validation_report.md",), counts, ok=report.passed
    )


Step = Callable[[TrialSpec, Path], DemoStep]
STEPS: tuple[tuple[str, Step], ...] = (
    ("trial spec", step_spec),
    ("eligibility screening", step_screening),
    ("randomization list", step_randomization),
    ("design check", step_design),
    ("published response rates", step_published_rates),
    ("derivation", step_derivation),
    ("analysis and report", step_report),
    ("validation", step_validation),
)


def run_demo(
    out_dir: str | Path = "oncotrial-demo",
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run every demo step on the PALMIRA example, writing files into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec = load_spec("palmira")
    steps: list[DemoStep] = []
    for name, step in STEPS:
        if on_step is not None:
            on_step(name)
        steps.append(step(spec, out))
    result = DemoResult(spec.trial.id, str(out), tuple(steps))
    (out / "demo.json").write_text(
        json.dumps(jsonable(result.to_dict()), indent=2), encoding="utf-8"
    )
    return result
