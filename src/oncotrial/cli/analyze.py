"""``oncotrial analyze``: analyses from the command line (proportions here; survival later)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from oncotrial.cli._common import JsonOption, emit
from oncotrial.errors import InputError
from oncotrial.stats import proportions as prop

app = typer.Typer(
    help="Analyses: response proportions, differences and odds ratios.",
    no_args_is_help=True,
)


def _number(name: str, text: str) -> Any:
    """A count as typed: whole numbers pass, other numbers are left for the statistic to
    reject with its own message (naming the argument, the value and what is valid)."""
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            continue
    raise InputError(
        f"{name}: {text!r} is not a number; counts must be whole numbers >= 0",
        field=name, value=text, valid="integer >= 0",
    )


def _with_text(result: Any) -> dict[str, Any]:
    return {**result.to_dict(), "formatted": result.formatted()}


@app.command("proportion")
def proportion(
    x: Annotated[str, typer.Option("--x", help="Responders (arm 1).")],
    n: Annotated[str, typer.Option("--n", help="Subjects (arm 1).")],
    x2: Annotated[str | None, typer.Option("--x2", help="Responders, arm 2 (comparator).")] = None,
    n2: Annotated[str | None, typer.Option("--n2", help="Subjects, arm 2 (comparator).")] = None,
    method: Annotated[
        str, typer.Option("--method", help="CI of each proportion: "
                          + ", ".join(prop.ONE_SAMPLE_METHODS) + ".")
    ] = "clopper-pearson",
    diff_method: Annotated[
        str, typer.Option("--diff-method", help="CI of the difference: "
                          + ", ".join(prop.DIFFERENCE_METHODS) + ".")
    ] = "newcombe",
    or_method: Annotated[
        str, typer.Option("--or-method", help="Odds ratio: "
                          + ", ".join(prop.ODDS_RATIO_METHODS) + ".")
    ] = "exact",
    conf_level: Annotated[float, typer.Option("--conf-level", help="Two-sided level.")] = 0.95,
    json_output: JsonOption = False,
) -> None:
    """Proportion x/n with its CI; with --x2/--n2 also the difference and odds ratio
    (arm 1 versus arm 2)."""
    one = prop.proportion_ci(_number("x", x), _number("n", n), method, conf_level)
    if (x2 is None) != (n2 is None):
        missing = "--n2" if n2 is None else "--x2"
        raise InputError(
            f"{missing}: missing; a two-sample analysis needs both --x2 and --n2",
            field=missing.lstrip("-"), value=None,
        )
    if x2 is None or n2 is None:
        emit(_with_text(one), json_mode=json_output,
             render=lambda console: console.print(one.summary(), markup=False))
        return
    two = prop.proportion_ci(_number("x2", x2), _number("n2", n2), method, conf_level)
    diff = prop.risk_difference(one.x, one.n, two.x, two.n, diff_method, conf_level)
    odds = prop.odds_ratio(one.x, one.n, two.x, two.n, or_method, conf_level)
    payload = {"arm1": _with_text(one), "arm2": _with_text(two),
               "difference": _with_text(diff), "odds_ratio": _with_text(odds)}

    def render(console: Console) -> None:
        lines = [
            f"Arm 1: {x}/{n} = {one.formatted()}",
            f"Arm 2: {x2}/{n2} = {two.formatted()}",
            f"Difference (arm 1 - arm 2): {diff.formatted()} percentage points",
            f"Odds ratio (arm 1 vs arm 2): {odds.formatted()}, p = {odds.p_value:.3g}",
            f"{conf_level:.0%} CIs. Proportions: {prop.METHOD_TITLES[method]}.",
            f"Difference: {prop.METHOD_TITLES[diff_method]}.",
            f"Odds ratio: {prop.METHOD_TITLES[or_method]}.",
        ]
        console.print("\n".join(lines), markup=False)

    emit(payload, json_mode=json_output, render=render)
