"""``oncotrial randomize``: generate allocation lists and assess schemes before go-live.

The service commands (``serve``, ``init``, ``verify-audit``) are added to this group by the
randomization-service module; the commands here are pure computations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oncotrial.cli._common import JsonOption, emit, note
from oncotrial.errors import InputError
from oncotrial.randomize.assessment import CohortModel, Design, assess
from oncotrial.randomize.minimization import MinimizationDesign
from oncotrial.randomize.params import ArmRatio, Factor, parse_factor, parse_ratio
from oncotrial.randomize.schemes import BlockDesign, SimpleDesign, generate_list

app = typer.Typer(
    help="Randomization: allocation lists (permuted blocks, simple), minimization, "
    "pre-go-live assessment.",
    no_args_is_help=True,
)

ArmsOption = Annotated[
    str, typer.Option("--arms", help='Arm names in order, comma-separated, e.g. "P+ET,ET".')
]
RatioOption = Annotated[
    str, typer.Option("--ratio", help="Allocation ratio, one share per arm, e.g. 2:1.")
]
FactorOption = Annotated[
    list[str] | None,
    typer.Option(
        "--factor",
        help="Stratification factor NAME=LEVEL1,LEVEL2 (repeatable), e.g. "
        '"visceral=yes,no". Strata: cross product, first factor slowest.',
    ),
]
BlockSizesOption = Annotated[
    str, typer.Option("--block-sizes", help="Block sizes, multiples of the ratio sum, e.g. 3,6.")
]
SeedOption = Annotated[int, typer.Option("--seed", help="The recorded seed (integer >= 0).")]


def _arms(arms: str, ratio: str) -> ArmRatio:
    names = tuple(a.strip() for a in arms.split(","))
    return ArmRatio(names, parse_ratio(ratio, len(names)))


def _factors(factor: list[str] | None) -> tuple[Factor, ...]:
    return tuple(parse_factor(f) for f in factor or [])


def _int_list(text: str, argument: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise InputError(
            f"{argument}: {text!r} is not valid; expected comma-separated positive integers",
            argument=argument,
            value=text,
        )
    return tuple(int(p) for p in parts)


def _float_list(text: str, argument: str) -> tuple[float, ...]:
    try:
        return tuple(float(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise InputError(
            f"{argument}: {text!r} is not valid; expected comma-separated numbers",
            argument=argument,
            value=text,
        ) from None


def _named_values(items: list[str] | None, argument: str) -> dict[str, tuple[float, ...]]:
    out: dict[str, tuple[float, ...]] = {}
    for item in items or []:
        name, sep, values = item.partition("=")
        if not sep:
            raise InputError(
                f"{argument}: {item!r} is not valid; expected NAME=VALUE[,VALUE...]",
                argument=argument,
                value=item,
            )
        out[name.strip()] = _float_list(values, argument)
    return out


def _check_names(
    given: dict[str, tuple[float, ...]], factors: tuple[Factor, ...], argument: str
) -> None:
    known = [f.name for f in factors]
    for name in given:
        if name not in known:
            raise InputError(
                f"{argument}: factor {name!r} is not one of the --factor names {known!r}",
                argument=argument,
                value=name,
            )


@app.command("list")
def list_command(
    arms: ArmsOption,
    ratio: RatioOption,
    seed: SeedOption,
    per_stratum: Annotated[
        int, typer.Option("--per-stratum", help="Minimum slots per stratum (blocks are never cut).")
    ],
    factor: FactorOption = None,
    block_sizes: Annotated[
        str | None,
        typer.Option(
            "--block-sizes",
            help="Block sizes, multiples of the ratio sum, e.g. 3,6 (required for --scheme pbr).",
        ),
    ] = None,
    scheme: Annotated[
        str, typer.Option("--scheme", help="pbr (permuted blocks, pbr-v1) or simple (simple-v1).")
    ] = "pbr",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the canonical CSV here; its SHA-256 is the fingerprint."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Generate an allocation list from a recorded seed (docs/RANDOMIZATION.md)."""
    arm_ratio = _arms(arms, ratio)
    factors = _factors(factor)
    design: BlockDesign | SimpleDesign
    if scheme == "pbr":
        if block_sizes is None:
            raise InputError(
                f"--block-sizes: required for --scheme pbr; e.g. {arm_ratio.total},"
                f"{2 * arm_ratio.total} (multiples of the ratio sum {arm_ratio.total})",
                argument="block_sizes",
            )
        design = BlockDesign(arm_ratio, factors, _int_list(block_sizes, "block_sizes"))
    elif scheme == "simple":
        design = SimpleDesign(arm_ratio, factors)
    else:
        raise InputError(
            f"--scheme: {scheme!r} is not valid; choose pbr or simple",
            argument="scheme",
            value=scheme,
        )
    allocation = generate_list(design, per_stratum=per_stratum, seed=seed)
    payload = allocation.to_dict()
    if out is not None:
        out.write_bytes(allocation.to_csv().encode("utf-8"))
        payload["out"] = str(out)
        note(f"wrote {len(allocation.slots)} slots to {out} (sha256 {allocation.fingerprint})")
    emit(
        payload, json_mode=json_output, render=lambda c: c.print(allocation.summary(), markup=False)
    )


@app.command("assess")
def assess_command(
    arms: ArmsOption,
    ratio: RatioOption,
    n: Annotated[int, typer.Option("--n", help="Subjects per simulated cohort.")],
    factor: FactorOption = None,
    block_sizes: Annotated[
        str | None, typer.Option("--block-sizes", help="Block sizes of the pbr scheme, e.g. 3,6.")
    ] = None,
    schemes: Annotated[
        str,
        typer.Option(
            "--schemes", help="Schemes to compare, comma-separated: pbr, minimization, simple."
        ),
    ] = "pbr,minimization,simple",
    p: Annotated[
        float,
        typer.Option("--p", help="Minimization: probability of the imbalance-minimising arm."),
    ] = 0.8,
    imbalance: Annotated[
        str, typer.Option("--imbalance", help="Minimization imbalance measure: range or variance.")
    ] = "range",
    weight: Annotated[
        list[str] | None,
        typer.Option("--weight", help="Minimization factor weight NAME=W (repeatable; default 1)."),
    ] = None,
    prob: Annotated[
        list[str] | None,
        typer.Option("--prob", help="Level probabilities NAME=P1,P2 (repeatable; default equal)."),
    ] = None,
    sites: Annotated[
        str | None,
        typer.Option("--sites", help="Relative site sizes, e.g. 30,20,10 (default one site)."),
    ] = None,
    sims: Annotated[int, typer.Option("--sims", help="Simulated cohorts.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Simulation seed.")] = 1,
    json_output: JsonOption = False,
) -> None:
    """Simulate cohorts and compare imbalance and predictability of schemes."""
    arm_ratio = _arms(arms, ratio)
    factors = _factors(factor)
    weights = _named_values(weight, "weight")
    probs = _named_values(prob, "prob")
    _check_names(weights, factors, "weight")
    _check_names(probs, factors, "prob")
    for name, w in weights.items():
        if len(w) != 1:
            raise InputError(
                f"--weight: {name}={w} must be one number", argument="weight", value=name
            )
    designs: list[Design] = []
    for name in (s.strip() for s in schemes.split(",") if s.strip()):
        if name == "pbr":
            if block_sizes is None:
                raise InputError(
                    "--block-sizes: required when --schemes includes pbr", argument="block_sizes"
                )
            designs.append(BlockDesign(arm_ratio, factors, _int_list(block_sizes, "block_sizes")))
        elif name == "minimization":
            designs.append(
                MinimizationDesign(
                    arm_ratio,
                    factors,
                    tuple(weights.get(f.name, (1.0,))[0] for f in factors),
                    imbalance,  # type: ignore[arg-type]  # checked by MinimizationDesign
                    p,
                )
            )
        elif name == "simple":
            designs.append(SimpleDesign(arm_ratio, factors))
        else:
            raise InputError(
                f"--schemes: {name!r} is not valid; choose from pbr, minimization, simple",
                argument="schemes",
                value=name,
            )
    cohort = CohortModel(
        factors,
        n,
        tuple(probs.get(f.name, tuple(1 / len(f.levels) for _ in f.levels)) for f in factors),
        _float_list(sites, "sites") if sites else (),
    )
    result = assess(designs, cohort, n_sims=sims, seed=seed)
    emit(result, json_mode=json_output, render=lambda c: c.print(result.summary(), markup=False))
