"""``oncotrial design``: sample size, events and group-sequential boundaries.

``oncotrial design survival``    events (and patients) for a two-arm time-to-event trial;
``oncotrial design sequential``  group-sequential boundaries and inflation factor;
``oncotrial design SPEC.yaml``   the designs of a trial spec (``spec`` is the default command).

Other design modules register spec handlers for their ``design.type`` in
:data:`SPEC_HANDLERS` (e.g. ``cli/design_binary.py``) and add their own subcommands to
:data:`app`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from oncotrial.cli._common import JsonOption, default_command_group, emit, note
from oncotrial.design.patient_methods import compare_patient_methods, patients_by_method
from oncotrial.design.sequential import group_sequential
from oncotrial.design.spec_block import SURVIVAL_TYPES, design_from_block
from oncotrial.design.tte import survival_design
from oncotrial.errors import InputError, SpecError
from oncotrial.spec import TrialSpec, load_spec

app = typer.Typer(
    cls=default_command_group("spec"),
    help=(
        "Trial design: required events and patients (survival), group-sequential boundaries "
        "(sequential), or the design of a trial spec (oncotrial design SPEC.yaml)."
    ),
    no_args_is_help=True,
)

SPEC_HANDLERS: dict[str, Callable[[dict[str, Any], str], Any]] = {
    kind: design_from_block for kind in SURVIVAL_TYPES
}
"""``design.type`` -> function(block, where) returning a result with protocol_text()."""


def _floats(text: str | None, name: str) -> list[float] | None:
    if text is None or text == "":
        return None
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise InputError(
            f"--{name} = {text!r}: give comma-separated numbers, e.g. 0.5,1",
            argument=name,
            value=text,
        ) from None


def design_payload(result: Any) -> dict[str, Any]:
    """A design result as JSON: its fields, protocol text and spec ``design:`` block."""
    out = result.to_dict()
    out["protocol_text"] = result.protocol_text()
    out["spec_block"] = result.spec_block()
    return out


def emit_design(result: Any, json_mode: bool) -> None:
    """Print a design result: :func:`design_payload` with ``--json``, else its summary."""
    emit(
        design_payload(result),
        json_mode=json_mode,
        render=lambda console: console.print(result.summary(), markup=False),
    )


Opt = typer.Option


@app.command("survival")
def survival(
    hr: Annotated[float | None, Opt(help="Hazard ratio experimental:control.")] = None,
    median_control: Annotated[float | None, Opt(help="Control median (exponential).")] = None,
    median_experimental: Annotated[float | None, Opt(help="Experimental median.")] = None,
    rate_control: Annotated[float | None, Opt(help="Control survival at --landmark.")] = None,
    rate_experimental: Annotated[
        float | None, Opt(help="Experimental survival at landmark.")
    ] = None,
    landmark: Annotated[float | None, Opt(help="Time of the landmark rates.")] = None,
    alpha: Annotated[float, Opt(help="Type I error (per --sides).")] = 0.05,
    sides: Annotated[int, Opt(help="1 or 2.")] = 2,
    power: Annotated[float, Opt(help="Power (1 - beta).")] = 0.8,
    ratio: Annotated[float, Opt(help="Allocation experimental:control, e.g. 2 for 2:1.")] = 1.0,
    method: Annotated[
        str, Opt(help="schoenfeld, freedman, lachin-foulkes or lakatos.")
    ] = "schoenfeld",
    accrual_time: Annotated[float | None, Opt(help="Accrual duration.")] = None,
    follow_up: Annotated[float | None, Opt(help="Follow-up after the last entry.")] = None,
    dropout_rate: Annotated[float, Opt(help="P(dropout) by --dropout-time.")] = 0.0,
    dropout_time: Annotated[float, Opt(help="Time of the dropout rate.")] = 12.0,
    looks: Annotated[str | None, Opt(help="Information fractions, e.g. 0.5,1.")] = None,
    spending: Annotated[str, Opt(help="of, pocock, hsd or none (no early efficacy).")] = "of",
    gamma: Annotated[float | None, Opt(help="HSD gamma for --spending hsd.")] = None,
    futility: Annotated[str, Opt(help="none, beta-spending or fixed.")] = "none",
    beta_spending: Annotated[str, Opt(help="of, pocock or hsd.")] = "of",
    beta_gamma: Annotated[float | None, Opt(help="HSD gamma for beta spending.")] = None,
    futility_bounds: Annotated[str | None, Opt(help="z bounds at interims, e.g. 0.")] = None,
    binding: Annotated[bool, Opt("--binding/--non-binding", help="Futility binds?")] = False,
    events_rounding: Annotated[str, Opt(help="up or none.")] = "up",
    block: Annotated[int | None, Opt(help="Round patients up to a multiple of this.")] = None,
    inevaluable: Annotated[float, Opt(help="Fraction of inevaluable patients.")] = 0.0,
    inflation: Annotated[
        str, Opt(help="multiply: ceil(n(1+f)); divide: ceil(n/(1-f)).")
    ] = "multiply",
    hazards_control: Annotated[
        str | None, Opt(help="Piecewise control hazards per period, e.g. 0.1,0.08.")
    ] = None,
    hazards_experimental: Annotated[
        str | None, Opt(help="Piecewise experimental hazards (lakatos: any ratio).")
    ] = None,
    starts: Annotated[str | None, Opt(help="Period start times, e.g. 0,6.")] = None,
    dropout_control: Annotated[
        str | None, Opt(help="lakatos: control dropout hazard(s) per period.")
    ] = None,
    dropout_experimental: Annotated[
        str | None, Opt(help="lakatos: experimental dropout hazard(s) per period.")
    ] = None,
    noncompliance: Annotated[
        str | None, Opt(help="lakatos: hazard(s) of switching experimental -> control.")
    ] = None,
    drop_in: Annotated[
        str | None, Opt(help="lakatos: hazard(s) of switching control -> experimental.")
    ] = None,
    intervals_per_unit: Annotated[
        int | None, Opt(help="lakatos: intervals per time unit (default 12).")
    ] = None,
    compare: Annotated[
        bool, Opt("--compare", help="Patients by all four methods side by side.")
    ] = False,
    json_mode: JsonOption = False,
) -> None:
    """Events (and patients, with --accrual-time and --follow-up) for a log-rank test.

    --method lachin-foulkes or lakatos (or --compare) computes patients directly.
    """
    method_name = method.lower()
    common: dict[str, Any] = {  # arguments of every survival calculator
        "hr": hr,
        "median_control": median_control,
        "median_experimental": median_experimental,
        "rate_control": rate_control,
        "rate_experimental": rate_experimental,
        "landmark": landmark,
        "hazards_control": _floats(hazards_control, "hazards-control"),
        "hazards_experimental": _floats(hazards_experimental, "hazards-experimental"),
        "starts": _floats(starts, "starts"),
        "alpha": alpha,
        "power": power,
        "sides": sides,
        "ratio": ratio,
        "accrual_time": accrual_time,
        "follow_up": follow_up,
        "block": block,
        "inflation": inflation,
    }
    if compare or method_name in ("lachin-foulkes", "lakatos"):
        if looks is not None:
            raise InputError(
                "--looks: group-sequential designs use the events-first methods "
                "(schoenfeld, freedman); lachin-foulkes and lakatos are fixed designs",
                argument="looks",
                value=looks,
            )
        if accrual_time is None or follow_up is None:
            raise InputError(
                f"--method {method_name} needs --accrual-time and --follow-up",
                argument="accrual_time" if accrual_time is None else "follow_up",
            )
        patient_kwargs = {
            "dropout_rate": dropout_rate or None,
            "dropout_time": dropout_time if dropout_rate else None,
            "dropout_control": _floats(dropout_control, "dropout-control"),
            "dropout_experimental": _floats(dropout_experimental, "dropout-experimental"),
            "noncompliance": _floats(noncompliance, "noncompliance"),
            "drop_in": _floats(drop_in, "drop-in"),
            "intervals_per_unit": intervals_per_unit,
            "inevaluable": inevaluable or None,
        }
        patients = (
            compare_patient_methods(**common, **patient_kwargs)
            if compare
            else patients_by_method(method_name, **common, **patient_kwargs)
        )
        emit_design(patients, json_mode)
        return
    lakatos_only = {
        "dropout-control": dropout_control,
        "dropout-experimental": dropout_experimental,
        "noncompliance": noncompliance,
        "drop-in": drop_in,
        "intervals-per-unit": intervals_per_unit,
    }
    given = [name for name, value in lakatos_only.items() if value is not None]
    if given:
        raise InputError(
            f"--{given[0]} is used by --method lakatos only (method is {method_name!r})",
            argument=given[0].replace("-", "_"),
            valid="--method lakatos",
        )
    result = survival_design(
        **common,
        method=method,
        looks=_floats(looks, "looks"),
        spending=spending,
        gamma=gamma,
        futility=futility,
        beta_spending=beta_spending,
        beta_gamma=beta_gamma,
        futility_bounds=_floats(futility_bounds, "futility-bounds"),
        binding=binding,
        dropout_rate=dropout_rate,
        dropout_time=dropout_time,
        events_rounding=events_rounding,
        inevaluable=inevaluable,
    )
    emit_design(result, json_mode)


@app.command("sequential")
def sequential(
    looks: Annotated[str, Opt(help="Information fractions, e.g. 0.33,0.67,1.")] = "0.5,1",
    alpha: Annotated[float, Opt(help="Overall type I error (per --sides).")] = 0.025,
    sides: Annotated[int, Opt(help="1 or 2 (symmetric).")] = 1,
    power: Annotated[float, Opt(help="Power (1 - beta).")] = 0.9,
    spending: Annotated[str, Opt(help="of, pocock, hsd or none (no early efficacy).")] = "of",
    gamma: Annotated[float | None, Opt(help="HSD gamma for --spending hsd.")] = None,
    futility: Annotated[str, Opt(help="none, beta-spending or fixed.")] = "none",
    beta_spending: Annotated[str, Opt(help="of, pocock or hsd.")] = "of",
    beta_gamma: Annotated[float | None, Opt(help="HSD gamma for beta spending.")] = None,
    futility_bounds: Annotated[str | None, Opt(help="z bounds at interims, e.g. 0.")] = None,
    binding: Annotated[bool, Opt("--binding/--non-binding", help="Futility binds?")] = False,
    json_mode: JsonOption = False,
) -> None:
    """Group-sequential boundaries (Lan-DeMets spending), futility bounds, inflation factor."""
    fractions = _floats(looks, "looks") or []
    result = group_sequential(
        fractions,
        alpha=alpha,
        power=power,
        sides=sides,
        spending=spending,
        gamma=gamma,
        futility=futility,
        beta_spending=beta_spending,
        beta_gamma=beta_gamma,
        futility_bounds=_floats(futility_bounds, "futility-bounds"),
        binding=binding,
    )
    emit_design(result, json_mode)


def _design_blocks(spec: TrialSpec) -> list[tuple[str, dict[str, Any]]]:
    """Every design block of a validated spec, with its path: design, phase I, cohorts."""
    blocks: list[tuple[str, dict[str, Any]]] = []
    if spec.design is not None:
        blocks.append(("design", spec.design.model_dump()))
    if spec.dose_escalation is not None:
        blocks.append(("dose_escalation.design", spec.dose_escalation.design.model_dump()))
    for i, cohort in enumerate(spec.cohorts):
        blocks.append((f"cohorts[{i}].design", cohort.design.model_dump()))
    return blocks


@app.command("spec")
def spec(
    file: Annotated[
        Path, typer.Argument(help="Trial spec YAML (or a shipped example name, e.g. palmira).")
    ],
    json_mode: JsonOption = False,
) -> None:
    """Compute every design block of a trial spec (top-level design, phase I, cohorts)."""
    trial = load_spec(file)
    blocks = _design_blocks(trial)
    if not blocks:
        raise SpecError(
            f"{file}: no design block (design:, cohorts[].design)", file=str(file), field="design"
        )
    out: list[dict[str, Any]] = []
    for where, block in blocks:
        kind = str(block.get("type", "two-arm-survival"))
        handler = SPEC_HANDLERS.get(kind)
        entry: dict[str, Any] = {
            "where": where,
            "type": kind,
            "published": block.get("published", {}),
        }
        if handler is None:
            entry["status"] = "not computed: no calculator registered for this design type"
            note(f"{where}: design type {kind!r} has no calculator registered; skipped")
        else:
            entry["status"] = "computed"
            entry["result"] = design_payload(handler(block, where))
        out.append(entry)
    payload = {"file": str(file), "designs": out}

    def render(console: Any) -> None:
        for entry in out:
            console.print(f"[bold]{entry['where']}[/] ({entry['type']}): {entry['status']}")
            if "result" in entry:
                console.print(entry["result"]["protocol_text"], markup=False)
            if entry["published"]:
                console.print(f"  published: {entry['published']}", markup=False)

    emit(payload, json_mode=json_mode, render=render)
