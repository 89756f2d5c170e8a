"""``oncotrial synth``: generate a synthetic trial's raw data from a spec and a seed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from oncotrial.cli._common import JsonOption, default_command_group, emit, note
from oncotrial.spec import load_spec
from oncotrial.synth import generate_trial, write_trial
from oncotrial.synth.writer import FORMATS

app = typer.Typer(
    cls=default_command_group("generate"),
    help="Synthetic trials: raw SDTM-like data of a whole trial from a spec and a seed "
    "(docs/SYNTHETIC_TRIAL.md).",
    no_args_is_help=True,
)


@app.command("generate")
def generate(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC.yaml", help="Trial spec.")],
    out_dir: Annotated[Path, typer.Argument(metavar="OUT_DIR", help="Folder for the files.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (non-negative).")] = 1,
    n: Annotated[
        int | None, typer.Option("--n", help="Randomized subjects (default: the spec's design.n).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help=f"Raw file format: {', '.join(FORMATS)}.")
    ] = "csv",
    json_output: JsonOption = False,
) -> None:
    """Generate a trial's raw domains (DM, SC, DS, EX, TR, RS, AE, LB, GF, CM) and truth.csv."""
    spec = load_spec(spec_path)
    trial = generate_trial(spec, seed, n)
    paths = write_trial(trial, out_dir, fmt)
    note(f"wrote {len(paths)} files to {out_dir}")
    payload = {**trial.to_dict(), "files": [str(p) for p in paths]}

    def render(console: Console) -> None:
        console.print(trial.summary(), markup=False)

    emit(payload, json_mode=json_output, render=render)
