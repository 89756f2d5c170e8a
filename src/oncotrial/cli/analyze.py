"""``oncotrial analyze``: analyses from the command line (response proportions; survival)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from oncotrial import analysis as surv
from oncotrial.cli._common import JsonOption, emit
from oncotrial.conventions import CONF_TYPES, PROFILES, TIES
from oncotrial.errors import InputError
from oncotrial.stats import proportions as prop

app = typer.Typer(
    help="Analyses: response proportions, differences and odds ratios; time-to-event "
    "endpoints (Kaplan-Meier, log-rank, Cox).",
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
        field=name,
        value=text,
        valid="integer >= 0",
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
        str,
        typer.Option(
            "--method", help="CI of each proportion: " + ", ".join(prop.ONE_SAMPLE_METHODS) + "."
        ),
    ] = "clopper-pearson",
    diff_method: Annotated[
        str,
        typer.Option(
            "--diff-method",
            help="CI of the difference: " + ", ".join(prop.DIFFERENCE_METHODS) + ".",
        ),
    ] = "newcombe",
    or_method: Annotated[
        str,
        typer.Option("--or-method", help="Odds ratio: " + ", ".join(prop.ODDS_RATIO_METHODS) + "."),
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
            field=missing.lstrip("-"),
            value=None,
        )
    if x2 is None or n2 is None:
        emit(
            _with_text(one),
            json_mode=json_output,
            render=lambda console: console.print(one.summary(), markup=False),
        )
        return
    two = prop.proportion_ci(_number("x2", x2), _number("n2", n2), method, conf_level)
    diff = prop.risk_difference(one.x, one.n, two.x, two.n, diff_method, conf_level)
    odds = prop.odds_ratio(one.x, one.n, two.x, two.n, or_method, conf_level)
    payload = {
        "arm1": _with_text(one),
        "arm2": _with_text(two),
        "difference": _with_text(diff),
        "odds_ratio": _with_text(odds),
    }

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


# ----------------------------------------------------------------------------- survival


def _names(option: str, text: str | None) -> list[str]:
    """A comma-separated list of column names (blank items dropped)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _months(option: str, text: str | None) -> list[float]:
    """Comma-separated months > 0 (e.g. ``6,12``); a bad item is named as typed."""
    values = []
    for part in _names(option, text):
        try:
            number = float(part)
        except ValueError:
            number = float("nan")
        if not (number > 0 and number != float("inf")):
            raise InputError(
                f"{option}: {part!r} is not a number of months > 0; give months separated "
                "by commas, e.g. 6,12",
                field=option.lstrip("-"),
                value=part,
            )
        values.append(number)
    return values


def _choice(option: str, value: str | None, valid: tuple[str, ...]) -> None:
    if value is not None and value not in valid:
        raise InputError(
            f"{option}: unknown value {value!r}; valid: {', '.join(valid)}",
            field=option.lstrip("-"),
            value=value,
            valid=list(valid),
        )


@app.command("survival")
def survival(
    file: Annotated[
        Path,
        typer.Argument(
            help="Analysis data: CSV or Parquet, one row per patient (e.g. an ADTTE parameter)."
        ),
    ],
    time: Annotated[str, typer.Option("--time", help="Time column (e.g. AVAL).")],
    arm: Annotated[str, typer.Option("--arm", help="Treatment column (exactly 2 arms).")],
    event: Annotated[
        str | None, typer.Option("--event", help="Event indicator column: 1 = event, 0 = censored.")
    ] = None,
    censor: Annotated[
        str | None,
        typer.Option(
            "--censor",
            help="Instead of --event: CDISC censoring column (CNSR): 0 = event, "
            "1 or another positive integer = censored.",
        ),
    ] = None,
    strata: Annotated[
        str | None,
        typer.Option(
            "--strata",
            help="Stratification columns, comma-separated (stratified log-rank and Cox).",
        ),
    ] = None,
    subgroups: Annotated[
        str | None,
        typer.Option(
            "--subgroups", help="Subgroup columns for a forest-plot table, comma-separated."
        ),
    ] = None,
    landmarks: Annotated[
        str | None,
        typer.Option("--landmarks", help="Landmark times in MONTHS, comma-separated, e.g. 6,12."),
    ] = None,
    time_unit: Annotated[
        str,
        typer.Option(
            "--time-unit",
            help="Unit of the time column: days (CDISC AVAL; shown in months = "
            "days / 30.4375) or months.",
        ),
    ] = "days",
    reference: Annotated[
        str | None,
        typer.Option(
            "--reference",
            help="Control arm level (HR = other arm vs it); default the first "
            "level in sorted order.",
        ),
    ] = None,
    profile: Annotated[
        str,
        typer.Option(
            "--profile", help="Conventions: r (log CI, Efron) or sas (log-log CI, Breslow)."
        ),
    ] = "r",
    conf_type: Annotated[
        str | None,
        typer.Option(
            "--conf-type",
            help="Survival CI transform: " + ", ".join(CONF_TYPES) + " (default from the profile).",
        ),
    ] = None,
    ties: Annotated[
        str | None,
        typer.Option("--ties", help="Cox ties: efron or breslow (default from the profile)."),
    ] = None,
    conf_level: Annotated[
        float | None,
        typer.Option("--conf-level", help="Two-sided confidence level (default 0.95)."),
    ] = None,
    rmst_tau: Annotated[
        float | None,
        typer.Option("--rmst-tau", help="Also restricted mean survival time to this many months."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Kaplan-Meier medians and landmarks per arm, (stratified) log-rank test and Cox hazard
    ratio of the other arm versus --reference, median follow-up; optional subgroups.

    Give the event as --event (1 = event) or as --censor (CDISC CNSR, 0 = event). Reported
    times are in months (docs/CONVENTIONS.md, "analyze survival")."""
    _choice("--time-unit", time_unit, surv.TIME_UNITS)
    _choice("--profile", profile, PROFILES)
    _choice("--conf-type", conf_type, CONF_TYPES)
    _choice("--ties", ties, TIES)
    result = surv.analyze_survival(
        surv.read_table(file),
        time=time,
        arm=arm,
        event=event,
        censor=censor,
        strata=_names("--strata", strata),
        subgroups=_names("--subgroups", subgroups),
        landmarks=_months("--landmarks", landmarks),
        time_unit=time_unit,
        reference=reference,
        profile=profile,
        conf_type=conf_type,
        ties=ties,
        conf_level=conf_level,
        rmst_tau=rmst_tau,
    )
    emit(result, json_mode=json_output, render=lambda console: _render_survival(result, console))


def _render_survival(result: surv.SurvivalAnalysis, console: Console) -> None:
    """One screen: arms, landmarks with differences, HR and log-rank, footnote."""
    level = f"{result.conventions.conf_level:.0%}"
    exp, ref = result.experimental, result.reference
    console.print(
        f"[bold]{escape(result.data['time'])} by {escape(result.data['arm'])}: "
        f"{escape(exp.arm)} vs {escape(ref.arm)} (reference)[/], "
        f"n = {result.data['n']}"
    )
    arms = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for title in ("Arm", "n", "Events (%)", f"Median, months ({level} CI)"):
        arms.add_column(title, justify="left" if title == "Arm" else "right")
    console.print()
    for a in result.arms:
        share = surv.fmt_number(100.0 * a.events / a.n, 1) if a.n else "NR"
        arms.add_row(
            escape(a.arm), str(a.n), f"{a.events} ({share})", surv.fmt_ci(a.median, a.median_ci, 1)
        )
    console.print(arms)
    console.print()
    if result.landmark_differences:
        marks = Table(
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            title=f"Survival at landmarks, % ({level} CI)",
            title_justify="left",
        )
        for title in ("Month", exp.arm, ref.arm, "Difference", "p"):
            marks.add_column(escape(title), justify="right")
        for i, diff in enumerate(result.landmark_differences):
            e_mark, r_mark = exp.landmarks[i], ref.landmarks[i]
            marks.add_row(
                f"{diff.time:g}",
                _pct(e_mark.survival, e_mark.ci),
                _pct(r_mark.survival, r_mark.ci),
                _pct(diff.difference, diff.ci),
                surv.fmt_p(diff.p),
            )
        console.print(marks)
        console.print()
    _render_tests(result, console, level)
    console.print()
    if result.subgroups is not None:
        _render_subgroups(result, console, level)
        console.print()
    foot = [
        escape(surv.time_footnote(result)),
        escape(surv.methods_footnote(result)),
        result.conventions.footnote(),
    ]
    foot.extend(f"Note: {escape(n)}" for n in result.notes)
    console.print("\n".join(foot), style="dim")


def _pct(est: float, ci: tuple[float, float]) -> str:
    def one(v: float) -> str:
        return surv.fmt_number(v * 100.0, 1)

    return f"{one(est)} ({one(ci[0])} to {one(ci[1])})"


def _render_tests(result: surv.SurvivalAnalysis, console: Console, level: str) -> None:
    hr, lr, fu = result.cox, result.logrank, result.followup
    grid = Table.grid(padding=(0, 2))
    grid.add_column()
    grid.add_column()
    grid.add_row(
        f"Hazard ratio ({level} CI)", f"{surv.fmt_ci(hr.hr, hr.ci, 2)}, p = {surv.fmt_p(hr.p)}"
    )
    grid.add_row(
        f"{'Stratified log-rank' if lr.strata else 'Log-rank'} test",
        f"chi-square {surv.fmt_number(lr.chisq, 2)} on {lr.df} df, p = {surv.fmt_p(lr.p)}",
    )
    grid.add_row(
        "Median follow-up", f"{surv.fmt_ci(fu.median, fu.ci, 1)} months (reverse Kaplan-Meier)"
    )
    if result.rmst is not None:
        r = result.rmst
        grid.add_row(
            f"RMST to {r.tau:g} months",
            " vs ".join(surv.fmt_number(v["rmst"], 2) for v in r.arms.values())
            + f"; difference {surv.fmt_ci(r.difference, r.ci, 2)}, "
            f"p = {surv.fmt_p(r.p)}",
        )
    console.print(grid)


def _render_subgroups(result: surv.SurvivalAnalysis, console: Console, level: str) -> None:
    table = result.subgroups
    assert table is not None
    adjusted = "stratified " if table.strata else ""
    out = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        title_justify="left",
        title=f"Subgroups: {adjusted}HR of {escape(table.experimental_arm)} vs "
        f"{escape(table.control_arm)} ({level} CI)",
    )
    out.add_column("Subgroup", overflow="fold")
    out.add_column("Exp.\nevents/n", justify="right")
    out.add_column("Ref.\nevents/n", justify="right")
    out.add_column("HR", justify="right", no_wrap=True)
    out.add_column("Interaction\np", justify="right")
    for row in table.rows:
        label = f"{row.subgroup}: {row.level}" if row.level else row.subgroup
        out.add_row(
            escape(label),
            f"{row.experimental.events}/{row.experimental.n}",
            f"{row.control.events}/{row.control.n}",
            surv.fmt_ci(row.hr, (row.hr_lower, row.hr_upper), 2),
            "" if row.interaction_p is None else surv.fmt_p(row.interaction_p),
        )
    console.print(out)
