"""``oncotrial demo``: the main job on the shipped PALMIRA example."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from oncotrial.cli._common import JsonOption, emit, stderr
from oncotrial.demo import STEPS, DemoResult, run_demo


def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's files (created if needed).")
    ] = Path("oncotrial-demo"),
    json_output: JsonOption = False,
) -> None:
    """Run the main job on the shipped PALMIRA example and say where its files are."""
    with stderr.status("starting") as status:
        names = [name for name, _ in STEPS]

        def on_step(name: str) -> None:
            status.update(f"[{names.index(name) + 1}/{len(names)}] {name}")

        result = run_demo(out, on_step=on_step)

    def render(console: Console) -> None:
        _render(result, console)

    emit(result, json_mode=json_output, render=render)


def _render(result: DemoResult, console: Console) -> None:
    console.print(f"[bold]oncotrial demo[/] — {result.trial}")
    for step in result.steps:
        mark = "[green]✓[/]" if step.ok else "[red]✗[/]"
        console.print(f"  {mark} [bold]{step.name}[/]: {step.headline}")
    console.print(
        f"Files written to [bold]{result.out_dir}/[/]: "
        + ", ".join(f for step in result.steps for f in step.files)
        + ", demo.json"
    )
