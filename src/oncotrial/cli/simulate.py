"""``oncotrial simulate``: Monte Carlo operating characteristics of a trial spec's design.

``oncotrial simulate SPEC.yaml --n-sim 100000``  simulate every two-arm survival design and
single-arm Kaplan-Meier landmark design of the spec (``run`` is the default command, so the
file can follow ``simulate`` directly); ``--look-time`` analyses at calendar times.

Other simulation commands (``sweep``, ``predict-events``) are added to :data:`app` below, in
the section marked for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from oncotrial.cli._common import JsonOption, default_command_group, emit, note
from oncotrial.errors import InputError
from oncotrial.simulate import scenario_from_spec, scenarios_from_spec, simulate
from oncotrial.simulate.runner import local_cluster
from oncotrial.spec import load_spec

app = typer.Typer(
    cls=default_command_group("run"),
    help=(
        "Trial simulation: operating characteristics of a spec's design by vectorized Monte "
        "Carlo (oncotrial simulate SPEC.yaml --n-sim 100000), on dask if asked."
    ),
    no_args_is_help=True,
)

Opt = typer.Option


def open_client(workers: int | None, scheduler: str | None) -> Any:
    """A dask client: a LocalCluster of ``workers`` single-thread processes, or the cluster
    at ``scheduler``; ``None`` when neither is given (run in this process)."""
    if workers is not None and scheduler is not None:
        raise InputError(
            "--workers and --scheduler: give one or the other, not both",
            argument="workers",
        )
    if scheduler is not None:
        from distributed import Client

        return Client(scheduler)
    if workers is None or workers == 0:
        return None
    if workers < 0:
        raise InputError(
            f"--workers = {workers} is invalid; give a positive number of processes (0: none)",
            argument="workers",
            value=workers,
        )
    from distributed import Client

    return Client(local_cluster(workers))


@app.command("run")
def run(
    file: Annotated[
        Path, typer.Argument(help="Trial spec YAML (or a shipped example name, e.g. palmira).")
    ],
    n_sim: Annotated[int, Opt("--n-sim", help="Number of simulated trials.")] = 100_000,
    seed: Annotated[int | None, Opt(help="Seed (default: fresh, reported).")] = None,
    chunk_size: Annotated[
        int | None, Opt("--chunk-size", help="Trials per chunk (does not change results).")
    ] = None,
    workers: Annotated[
        int | None, Opt(help="Run on a dask LocalCluster of N worker processes.")
    ] = None,
    scheduler: Annotated[
        str | None, Opt(help="Run on the dask cluster at this address (tcp://host:8786).")
    ] = None,
    cohort: Annotated[str | None, Opt(help="Only this cohort (id) of a multi-cohort spec.")] = None,
    progress: Annotated[
        bool | None, Opt("--progress/--no-progress", help="Progress bar on stderr.")
    ] = None,
    look_time: Annotated[
        list[float] | None,
        Opt(
            "--look-time",
            help="Analyse at this calendar time (months) instead of the designed event count; "
            "repeat once per look (the design's bounds are kept).",
        ),
    ] = None,
    json_mode: JsonOption = False,
) -> None:
    """Simulate every design of a spec that can be simulated (cohorts included): two-arm
    survival designs and single-arm Kaplan-Meier landmark designs."""
    spec = load_spec(file)
    assume = {"look_times": list(look_time)} if look_time else None
    if cohort is not None:
        scenarios = {f"cohort {cohort}": scenario_from_spec(spec, cohort=cohort, assume=assume)}
    else:
        scenarios = scenarios_from_spec(spec, assume=assume)
    client = open_client(workers, scheduler)
    out: list[dict[str, Any]] = []
    try:
        for where, scenario in scenarios.items():
            note(f"{where}: simulating {n_sim:,} trials of {scenario.name}")
            result = simulate(
                scenario,
                n_sim,
                seed,
                chunk_size=chunk_size,
                client=client,
                progress=progress,
                keep_records=False,
            )
            out.append({"where": where, "result": result})
    finally:
        if client is not None:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None and workers:
                cluster.close()
    payload = {"file": str(file), "n_sim": n_sim, "simulations": out}

    def render(console: Any) -> None:
        for entry in out:
            console.print(f"[bold]{entry['where']}[/]")
            console.print(entry["result"].scenario.summary(), markup=False)
            console.print(entry["result"].summary(), markup=False)

    emit(payload, json_mode=json_mode, render=render)


# --------------------------------------------------------------------------- more commands
# SIM-PREDICT: `sweep` and `predict-events` are registered here, each as
# `@app.command("sweep")` / `@app.command("predict-events")` defined in this section (or
# imported from their own module and added with app.command(...)(function)).
from oncotrial.cli.simulate_predict import predict_events_command, sweep_command  # noqa: E402

app.command("predict-events")(predict_events_command)
app.command("sweep")(sweep_command)
