"""Single-arm and dose-escalation subcommands of ``oncotrial design``.

``single-arm-survival``  evaluable patients vs a historical median (one-sample log-rank...);
``simon``                Simon optimal/minimax two-stage designs (and the exact single stage);
``dose-escalation``      exact 3+3 / A+B operating characteristics, or ``--next`` decision;
``boin``                 BOIN boundaries, decision table and simulated operating characteristics.

Also registers trial-spec handlers for ``single-arm-survival``, ``simon-two-stage``,
``single-stage-binomial`` and ``dose-escalation`` design blocks.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from oncotrial.cli._common import JsonOption, emit
from oncotrial.cli.design import SPEC_HANDLERS, app, design_payload, emit_design
from oncotrial.design import binary, dose, single_arm
from oncotrial.errors import InputError

Opt = typer.Option


def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(
            f"--{name} = {text!r}: give comma-separated numbers, e.g. 0.05,0.1",
            argument=name,
            value=text,
        ) from None


def _cohorts(text: str) -> list[tuple[int, int, int]]:
    """``"1:3:0,2:3:1"`` -> [(1, 3, 0), (2, 3, 1)] (dose:patients:dlts)."""
    out = []
    for i, item in enumerate(x for x in text.split(",") if x.strip()):
        parts = item.split(":")
        try:
            dose_, pts, dlts = (int(p) for p in parts)
        except ValueError:
            raise InputError(
                f"--next cohort {i + 1} = {item!r} is invalid; write "
                "dose:patients:dlts, e.g. 1:3:0",
                argument="next",
                row=i + 1,
                value=item,
            ) from None
        out.append((dose_, pts, dlts))
    return out


@app.command("single-arm-survival")
def single_arm_survival_cmd(
    median0: Annotated[float, Opt(help="Historical (null) median.")],
    median1: Annotated[float, Opt(help="Expected median with the study treatment.")],
    accrual: Annotated[float, Opt(help="Uniform accrual duration.")],
    follow_up: Annotated[float, Opt(help="Follow-up after the last entry.")],
    alpha: Annotated[float, Opt(help="Type I error (per --sides).")] = 0.05,
    sides: Annotated[int, Opt(help="1 or 2.")] = 2,
    power: Annotated[float, Opt(help="Power.")] = 0.8,
    method: Annotated[str, Opt(help=", ".join(single_arm.METHODS))] = "one_sample_logrank",
    shape: Annotated[float, Opt(help="Weibull shape (1 = exponential).")] = 1.0,
    landmark: Annotated[float | None, Opt(help="Landmark time for km_landmark.")] = None,
    transform: Annotated[str, Opt(help=", ".join(single_arm.TRANSFORMS))] = "arcsine",
    variance: Annotated[str, Opt(help="null_alt or null.")] = "null_alt",
    inevaluable: Annotated[float, Opt(help="Fraction of inevaluable patients.")] = 0.0,
    inflation: Annotated[
        str, Opt(help="multiply: ceil(n(1+f)); divide: ceil(n/(1-f)).")
    ] = "multiply",
    compare: Annotated[bool, Opt("--compare", help="Every method side by side.")] = False,
    json_mode: JsonOption = False,
) -> None:
    """Evaluable patients for a single-arm time-to-event trial vs a historical median."""
    if compare:
        results = single_arm.compare_methods(
            median0,
            median1,
            accrual=accrual,
            follow_up=follow_up,
            alpha=alpha,
            power=power,
            sides=sides,
            landmark=landmark,
        )
        rows = [design_payload(r) for r in results]

        def render(console: Any) -> None:
            for r in results:
                label = r.method + (f" ({r.transform})" if r.transform else "")
                console.print(f"{label:32s} n exact {r.n_exact:9.3f}  n {r.n:5d}", markup=False)

        emit({"designs": rows}, json_mode=json_mode, render=render)
        return
    result = single_arm.single_arm_survival(
        median0,
        median1,
        accrual=accrual,
        follow_up=follow_up,
        alpha=alpha,
        power=power,
        sides=sides,
        method=method,
        shape=shape,
        landmark=landmark,
        transform=transform,
        variance=variance,
        dropout=inevaluable,
        inflation=inflation,
    )
    emit_design(result, json_mode)


@app.command("simon")
def simon_cmd(
    p0: Annotated[float, Opt(help="Uninteresting response rate (H0).")],
    p1: Annotated[float, Opt(help="Target response rate (H1).")],
    alpha: Annotated[float, Opt(help="One-sided type I error.")] = 0.05,
    power: Annotated[float, Opt(help="Power (1 - beta).")] = 0.8,
    nmax: Annotated[int, Opt(help="Largest total sample size searched.")] = 100,
    criterion: Annotated[str, Opt(help="optimal or minimax (for protocol text).")] = "optimal",
    json_mode: JsonOption = False,
) -> None:
    """Simon (1989) optimal and minimax two-stage designs, and the exact single stage."""
    if criterion not in ("optimal", "minimax"):
        raise InputError(
            f"--criterion = {criterion!r} is invalid; use optimal or minimax",
            argument="criterion",
            value=criterion,
        )
    beta = round(1.0 - power, 12)  # 1 - 0.8 = 0.19999999999999996 in floating point
    result = binary.simon(p0, p1, alpha, beta, nmax=nmax)
    single = binary.single_stage(p0, p1, alpha, beta)
    payload = result.to_dict()
    payload["protocol_text"] = result.protocol_text(criterion)
    payload["spec_block"] = result.spec_block(criterion)
    payload["single_stage"] = design_payload(single)

    def render(console: Any) -> None:
        console.print(result.summary(), markup=False)
        console.print(f"  single-stage: reject H0 if > {single.r}/{single.n}", markup=False)
        console.print(result.protocol_text(criterion), markup=False)

    emit(payload, json_mode=json_mode, render=render)


@app.command("dose-escalation")
def dose_escalation_cmd(
    dlt_rates: Annotated[
        str | None, Opt(help="True DLT rates per dose, e.g. 0.1,0.2,0.35.")
    ] = None,
    doses: Annotated[str | None, Opt(help="Dose labels, e.g. 50mg,100mg,150mg.")] = None,
    n_doses: Annotated[int | None, Opt(help="Number of dose levels (for --next).")] = None,
    next_: Annotated[
        str | None,
        Opt(
            "--next",
            help="Cohorts so far as dose:patients:dlts, e.g. 1:3:0,2:3:1; prints the next step.",
        ),
    ] = None,
    a: Annotated[int, Opt(help="A: first cohort size.")] = 3,
    b: Annotated[int, Opt(help="B: expansion size.")] = 3,
    c: Annotated[int, Opt(help="Escalate if DLTs < C of A.")] = 1,
    d: Annotated[int, Opt(help="Too toxic if DLTs > D of A.")] = 1,
    e: Annotated[int, Opt(help="Escalate if DLTs <= E of A+B.")] = 1,
    deescalation: Annotated[
        bool,
        Opt("--deescalation/--no-deescalation", help="Expand the dose below a too-toxic dose."),
    ] = True,
    json_mode: JsonOption = False,
) -> None:
    """Exact operating characteristics of a 3+3 (A+B) design, or the next step (--next)."""
    design = dose.ABDesign(a, b, c, d, e, deescalation)
    labels = [x.strip() for x in doses.split(",")] if doses else None
    if next_ is not None:
        k = n_doses if n_doses is not None else (len(labels) if labels else None)
        if k is None:
            raise InputError("--next needs --n-doses (or --doses)", argument="n_doses")
        step = dose.next_step(_cohorts(next_), k, design)
        emit(
            {**step.to_dict(), "design": design.name},
            json_mode=json_mode,
            render=lambda console: console.print(
                f"{step.action} ({step.step}): {step.reason}", markup=False
            ),
        )
        return
    if dlt_rates is None:
        raise InputError(
            "give --dlt-rates (operating characteristics) or --next (decision)",
            argument="dlt_rates",
        )
    oc = dose.escalation_oc(_floats(dlt_rates, "dlt-rates"), design, labels)
    emit_design(oc, json_mode)


@app.command("boin")
def boin_cmd(
    target: Annotated[float, Opt(help="Target DLT rate.")] = 0.3,
    max_n: Annotated[int, Opt(help="Rows of the decision table.")] = 18,
    dlt_rates: Annotated[
        str | None, Opt(help="True DLT rates to simulate, e.g. 0.05,0.1,0.3,0.5.")
    ] = None,
    cohort_size: Annotated[int, Opt(help="Cohort size.")] = 3,
    n_cohorts: Annotated[int, Opt(help="Cohorts per trial.")] = 10,
    n_trials: Annotated[int, Opt(help="Simulated trials.")] = 1000,
    seed: Annotated[int, Opt(help="Random seed.")] = 1,
    json_mode: JsonOption = False,
) -> None:
    """BOIN boundaries and decision table; simulated operating characteristics with
    --dlt-rates."""
    table = dose.boin_decision_table(target, max_n)
    payload: dict[str, Any] = design_payload(table)
    sim = None
    if dlt_rates is not None:
        sim = dose.boin_simulate(
            _floats(dlt_rates, "dlt-rates"),
            target,
            cohort_size=cohort_size,
            n_cohorts=n_cohorts,
            n_trials=n_trials,
            seed=seed,
        )
        payload["simulation"] = design_payload(sim)

    def render(console: Any) -> None:
        console.print(table.summary(), markup=False)
        if sim is not None:
            console.print(sim.summary(), markup=False)

    emit(payload, json_mode=json_mode, render=render)


def _spec_single_arm(block: dict[str, Any], where: str) -> Any:
    return single_arm.from_spec_block(block)


class _StageWithText:
    """A Simon stage design whose protocol text and spec block need no arguments."""

    def __init__(self, design: binary.SimonDesign, criterion: str) -> None:
        self._design, self._criterion = design, criterion

    def to_dict(self) -> dict[str, Any]:
        return self._design.to_dict()

    def protocol_text(self) -> str:
        return self._design.protocol_text(self._criterion)

    def spec_block(self) -> dict[str, Any]:
        return self._design.spec_block(self._criterion)


def _spec_simon_block(block: dict[str, Any], where: str) -> Any:
    crit = block.get("criterion", "optimal")
    result = binary.simon(
        block["p0"],
        block["p1"],
        block.get("alpha", 0.05),
        block.get("beta", 0.2),
        nmax=block.get("nmax", 100),
    )
    return _StageWithText(result, crit)


def _spec_single_stage(block: dict[str, Any], where: str) -> Any:
    return binary.single_stage(
        block["p0"], block["p1"], block.get("alpha", 0.05), block.get("beta", 0.2)
    )


def _spec_dose(block: dict[str, Any], where: str) -> Any:
    rule = str(block.get("rule", "3+3"))
    if rule.upper() == "BOIN":
        return dose.boin_boundaries(block.get("target", 0.3))
    return dose.ABDesign(
        block.get("a", 3),
        block.get("b", 3),
        block.get("c", 1),
        block.get("d", 1),
        block.get("e", 1),
        block.get("deescalation", True),
    )


SPEC_HANDLERS.setdefault("single-arm-survival", _spec_single_arm)
SPEC_HANDLERS.setdefault("simon-two-stage", _spec_simon_block)
SPEC_HANDLERS.setdefault("single-stage-binomial", _spec_single_stage)
SPEC_HANDLERS.setdefault("dose-escalation", _spec_dose)
