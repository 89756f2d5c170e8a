"""``oncotrial randomize``: allocation lists, scheme assessment, and the randomization service.

``list`` and ``assess`` are pure computations. ``init``, ``serve``, ``verify-audit``,
``export``, ``add-site`` and ``add-user`` run the central service
(:mod:`oncotrial.randomize.service`, docs/RANDOMIZATION.md); they import it lazily.
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


# --------------------------------------------------------------------------- the service
# (oncotrial.randomize.service; imported inside the commands so the CLI starts fast)

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        help="Database: a SQLite file path, sqlite:///PATH or postgresql+psycopg://USER@HOST/DB.",
    ),
]


@app.command("init")
def init_command(
    spec: Annotated[Path, typer.Option("--spec", help="Trial spec YAML (arms, ratio, strata).")],
    admin: Annotated[str, typer.Option("--admin", help="Username of the first admin.")],
    db: DbOption = "randomization.db",
    seed: Annotated[
        int | None, typer.Option("--seed", help="List seed (default: a fresh random 63-bit one).")
    ] = None,
    list_size: Annotated[
        int | None,
        typer.Option("--list-size", help="Minimum slots per stratum (default: the spec's n)."),
    ] = None,
    scheme: Annotated[
        str, typer.Option("--scheme", help="pbr (permuted blocks) or simple.")
    ] = "pbr",
    block_sizes: Annotated[
        str | None,
        typer.Option("--block-sizes", help="pbr block sizes (default: ratio sum and twice it)."),
    ] = None,
    blinded: Annotated[
        bool, typer.Option("--blinded", help="Hide arms from site users (emergency unblinding).")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Create the database, the trial, its allocation list and the first admin (token shown
    once)."""
    from oncotrial.randomize.service.trial import init_trial

    sizes = _int_list(block_sizes, "block_sizes") if block_sizes else None
    result = init_trial(
        spec,
        db,
        admin,
        seed=seed,
        list_size=list_size,
        scheme=scheme,
        block_sizes=sizes,
        blinded=blinded,
    )
    emit(result, json_mode=json_output, render=lambda c: c.print(result.summary(), markup=False))


@app.command("serve")
def serve_command(
    db: DbOption,
    spec: Annotated[
        Path | None, typer.Option("--spec", help="Must be the spec used at init (checked).")
    ] = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="uvicorn worker processes.")] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="uvicorn's line per HTTP request on stderr (off by default: the audit "
            "trail records every randomization).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Serve the randomization API (and web page) with uvicorn.

    uvicorn picks its C HTTP parser (httptools) and event loop (uvloop) when they are
    installed, else the pure-Python h11 parser and asyncio's loop; same answers either way.
    """
    import os

    import uvicorn

    from oncotrial.randomize.service.app import DB_ENV, SPEC_ENV, create_app
    from oncotrial.randomize.service.db import normalize_url

    url = normalize_url(db)
    app_obj = create_app(url, spec)  # fails fast on a bad database or spec
    http, loop = _uvicorn_implementations()
    if json_output:
        emit(
            {"url": f"http://{host}:{port}/api/v1", "db": url, "http": http, "loop": loop},
            json_mode=True,
        )
    else:
        note(
            f"serving {app_obj.title} on http://{host}:{port} (API under /api/v1; "
            f"HTTP parser {http}, event loop {loop})"
        )
    options = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": access_log,
        "http": http,
        "loop": loop,
    }
    if workers > 1:
        os.environ[DB_ENV] = url
        os.environ[SPEC_ENV] = str(spec) if spec else ""
        uvicorn.run(
            "oncotrial.randomize.service.app:app_from_env",
            factory=True,
            workers=workers,
            **options,  # type: ignore[arg-type]
        )
    else:
        uvicorn.run(app_obj, **options)  # type: ignore[arg-type]


def _uvicorn_implementations() -> tuple[str, str]:
    """uvicorn's ``http`` and ``loop`` choices: the C implementations when installed (what
    uvicorn's "auto" picks), named so that ``serve`` can say which one runs."""
    import importlib.util

    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return http, loop


@app.command("verify-audit")
def verify_audit_command(db: DbOption, json_output: JsonOption = False) -> None:
    """Recompute the audit hash chain and cross-check assignments and list; exit 1 on a break."""
    from oncotrial.randomize.service.audit import verify_audit

    result = verify_audit(db)
    emit(result, json_mode=json_output, render=lambda c: c.print(result.summary(), markup=False))
    if not result.ok:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    db: DbOption,
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet.")],
    json_output: JsonOption = False,
) -> None:
    """Write the assignments with CDISC names (USUBJID, SITEID, ARMCD, ARM, RANDDT, strata)."""
    from oncotrial.randomize.service.core import RandomizationService

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise InputError(
            f"--out: {out} must end in .csv or .parquet", argument="out", value=str(out)
        )
    service = RandomizationService.open(db)
    try:
        data = service.export_bytes("cli", fmt)
    finally:
        service.close()
    out.write_bytes(data)
    payload = {"out": str(out), "format": fmt, "bytes": len(data)}
    note(f"wrote {out}")
    emit(payload, json_mode=json_output)


@app.command("add-site")
def add_site_command(
    db: DbOption,
    code: Annotated[str, typer.Option("--code", help="Site code, e.g. S01.")],
    name: Annotated[str, typer.Option("--name", help="Site name.")],
    json_output: JsonOption = False,
) -> None:
    """Add a site (audited with actor 'cli')."""
    from oncotrial.randomize.service.core import RandomizationService

    service = RandomizationService.open(db)
    try:
        site = service.create_site("cli", code, name)
    finally:
        service.close()
    emit(site, json_mode=json_output)


@app.command("add-user")
def add_user_command(
    db: DbOption,
    username: Annotated[str, typer.Option("--username")],
    role: Annotated[str, typer.Option("--role", help="admin, statistician or site.")],
    site: Annotated[str | None, typer.Option("--site", help="Site code (role site).")] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env", help="Name of an environment variable holding a web password."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Add a user and print an API token for them once (audited with actor 'cli')."""
    import os

    from oncotrial.randomize.service.core import RandomizationService

    password = None
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise InputError(
                f"--password-env: environment variable {password_env!r} is not set",
                argument="password_env",
                value=password_env,
            )
    service = RandomizationService.open(db)
    try:
        user = service.create_user("cli", username, role, site, password)
        token, _ = service.issue_token("cli", username, "cli")
    finally:
        service.close()
    payload = {**user, "token": token}
    emit(
        payload,
        json_mode=json_output,
        render=lambda c: c.print(
            f"user {username!r} ({role}{', site ' + site if site else ''}); API token (shown "
            f"once):\n  {token}",
            markup=False,
        ),
    )
