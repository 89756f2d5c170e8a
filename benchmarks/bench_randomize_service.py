"""Benchmark: randomizations per second of the live service with 32 concurrent clients.

Not a test. Usage (from the repository root; PostgreSQL from ``.ci/postgres.sh``):

    export ONCOTRIAL_TEST_PG_URL="$(bash .ci/postgres.sh)"
    .venv/bin/python benchmarks/bench_randomize_service.py [--backend sqlite postgresql]
        [--subjects 3000] [--clients 32] [--workers 1] [--client-procs 4] [--json]

For each backend: a fresh database (SQLite file in a temp dir; a new database on the
PostgreSQL server) initialised with PALMIRA (2:1, 4 strata, blocks of 3 and 6), four sites with
one site user each; ``oncotrial randomize serve --workers W`` on 127.0.0.1; a warm-up of 64
randomizations; then ``--subjects`` randomizations (POST /api/v1/randomizations with an
Idempotency-Key) by ``--clients`` concurrent clients (threads with keep-alive ``http.client``
connections, spread over ``--client-procs`` processes). Reported: sustained rate (subjects /
wall time of the measured phase), p50 / p99 / max latency, and the zero-duplicate check on the
database (every subject once, every (stratum, position) once, randomization numbers 1..N, all 201).

Because a shared machine's other load changes the wall-clock rate, the CPU time spent per
randomization is also reported, split into server processes, PostgreSQL processes and client
processes (from /proc, Linux only), with the CPU-bound rate ``cores / CPU per randomization``
-- the rate this work allows on an otherwise idle machine if nothing else limits it -- and the
1-minute load average before and after the run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "src" / "oncotrial" / "spec" / "examples" / "palmira.yaml"
SITES = ("S01", "S02", "S03", "S04")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(db_url: str, n_total: int) -> dict[str, str]:
    """Initialise the trial; a site user and API token per site."""
    from oncotrial.randomize.service import RandomizationService, init_trial

    init_trial(SPEC, db_url, "admin", seed=1, list_size=n_total, block_sizes=(3, 6))
    service = RandomizationService.open(db_url)
    try:
        tokens = {}
        for code in SITES:
            service.create_site("bench", code, f"Hospital {code}")
            service.create_user("bench", f"u-{code}", "site", code, None)
            tokens[code], _ = service.issue_token("bench", f"u-{code}", "bench")
        return tokens
    finally:
        service.close()


def start_server(db_url: str, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "oncotrial", "randomize", "serve", "--db", db_url]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):  # not listening yet
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        time.sleep(0.1)
    raise SystemExit(f"server not ready:\n{log.read_text()}")


def plan(n: int, prefix: str, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    factors = {
        "prior_et": ("aromatase_inhibitor", "fulvestrant"),
        "visceral_involvement": ("yes", "no"),
    }
    return [
        {
            "subject_id": f"{prefix}{i:06d}",
            "site": SITES[i % len(SITES)],
            "strata": {k: rng.choice(v) for k, v in factors.items()},
        }
        for i in range(n)
    ]


def _client_proc(
    url: str,
    tokens: dict[str, str],
    subjects: list[dict[str, Any]],
    threads: int,
    start_at: float,
    out: Any,
) -> None:
    """One client process: ``threads`` threads, each with its own keep-alive connection."""
    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def work(part: list[dict[str, Any]]) -> None:
        # http.client: a keep-alive connection at a fraction of httpx's CPU per request, so
        # the load generator takes little of the machine the server runs on.
        local = []
        parsed = urlsplit(url)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        while time.time() < start_at:
            time.sleep(0.001)
        for body in part:
            headers = {
                "Authorization": f"Bearer {tokens[body['site']]}",
                "Idempotency-Key": str(uuid.uuid4()),
                "Content-Type": "application/json",
            }
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/randomizations", json.dumps(body), headers)
            response = conn.getresponse()
            response.read()
            local.append((time.perf_counter() - t0, response.status))
        conn.close()
        with lock:
            results.extend(local)

    ts = [threading.Thread(target=work, args=(subjects[i::threads],)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put((time.time(), results))


def load(
    url: str, tokens: dict[str, str], subjects: list[dict[str, Any]], clients: int, procs: int
):
    procs = max(1, min(procs, clients))
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    start_at = time.time() + 1.0
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    # subjects dealt round-robin over all clients
    chunks, c0 = [], 0
    for n in per:
        chunks.append([s for i, s in enumerate(subjects) if c0 <= i % clients < c0 + n])
        c0 += n
    ps = [
        ctx.Process(target=_client_proc, args=(url, tokens, chunk, n, start_at, queue))
        for chunk, n in zip(chunks, per, strict=True)
    ]
    for p in ps:
        p.start()
    finished, results = [], []
    for _ in ps:
        end, res = queue.get()
        finished.append(end)
        results.extend(res)
    for p in ps:
        p.join()
    return max(finished) - start_at, results


def _proc_cpu(select: Any) -> float:
    """CPU seconds (user + system) of the live processes for which
    ``select(comm, process group id, command line)`` is true."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if select(comm, int(fields[2]), cmdline):  # fields[2]: process group id
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def cpu_snapshot(server_pgid: int, database: str | None) -> dict[str, float]:
    """CPU seconds so far of the server processes, the PostgreSQL backends serving the
    benchmark's database (their process title names it; PostgreSQL's shared background
    processes, e.g. the WAL writer, are not counted: other users of the cluster share them),
    and this process's reaped children (the client processes)."""
    t = os.times()
    return {
        "server": _proc_cpu(lambda comm, pgid, cmd: pgid == server_pgid),
        "database": _proc_cpu(
            lambda comm, pgid, cmd: (
                database is not None and comm.startswith("postgres") and f" {database} " in cmd
            )
        ),
        "clients": t.children_user + t.children_system,
    }


def duplicate_check(db_url: str, n: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from oncotrial.randomize.service.db import make_engine, read_session
    from oncotrial.randomize.service.models import Assignment

    engine = make_engine(db_url)
    try:
        with read_session(engine) as s:
            rows = s.execute(
                select(
                    func.count(),
                    func.count(func.distinct(Assignment.subject_id)),
                    func.min(Assignment.randno),
                    func.max(Assignment.randno),
                    func.count(func.distinct(Assignment.randno)),
                )
            ).one()
            positions = s.execute(
                select(func.count()).select_from(
                    select(Assignment.stratum, Assignment.position).distinct().subquery()
                )
            ).scalar_one()
    finally:
        engine.dispose()
    total, subjects, lo, hi, randnos = rows
    ok = total == subjects == randnos == positions == n and lo == 1 and hi == n
    return {
        "stored": total,
        "distinct_subjects": subjects,
        "distinct_positions": positions,
        "randno_range": [lo, hi],
        "zero_duplicates": bool(ok),
    }


def run_backend(backend: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    if backend == "sqlite":
        db_url = f"sqlite:///{tmp / 'bench.db'}"
        drop = None
        name = None
    else:
        import psycopg
        from sqlalchemy.engine import make_url

        base = os.environ.get("ONCOTRIAL_TEST_PG_URL")
        if not base:
            raise SystemExit(
                "set ONCOTRIAL_TEST_PG_URL (export ONCOTRIAL_TEST_PG_URL=$(bash .ci/postgres.sh))"
            )
        url = make_url(base)
        name = f"oncotrial_bench_{uuid.uuid4().hex[:8]}"
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        db_url = url.set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    warm = 64
    try:
        tokens = setup(db_url, args.subjects + warm)
        proc, url = start_server(db_url, args.workers, tmp / f"{backend}.log")
        try:
            load(url, tokens, plan(warm, "W", 1), min(args.clients, warm), 1)
            subjects = plan(args.subjects, "B", 2)
            before, load_before = cpu_snapshot(proc.pid, name), os.getloadavg()[0]
            wall, results = load(url, tokens, subjects, args.clients, args.client_procs)
            after, load_after = cpu_snapshot(proc.pid, name), os.getloadavg()[0]
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        lat = np.array([r[0] for r in results]) * 1000
        statuses = sorted({r[1] for r in results})
        check = duplicate_check(db_url, args.subjects + warm)
        check["zero_duplicates"] = check["zero_duplicates"] and statuses == [201]
        cpu_ms = {k: 1000 * (after[k] - before[k]) / args.subjects for k in after}
        total_ms = sum(cpu_ms.values())
        return {
            "backend": backend,
            "workers": args.workers,
            "clients": args.clients,
            "subjects": args.subjects,
            "seconds": round(wall, 3),
            "per_second": round(args.subjects / wall, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p99_ms": round(float(np.percentile(lat, 99)), 1),
            "max_ms": round(float(lat.max()), 1),
            "statuses": statuses,
            "cpu_ms_per_randomization": {k: round(v, 2) for k, v in cpu_ms.items()},
            "cpu_bound_per_second": round((os.cpu_count() or 1) * 1000 / total_ms, 1),
            "load_average": [round(load_before, 1), round(load_after, 1)],
            **check,
        }
    finally:
        if drop is not None:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--subjects", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--client-procs", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backend:
            rows.append(run_backend(backend, args, Path(tmp)))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"{'backend':<11}{'workers':>8}{'clients':>8}{'subjects':>9}{'rand/s':>9}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'CPU ms':>8}{'CPU-bound/s':>12}"
        f"{'load':>13}  zero duplicates"
    )
    for r in rows:
        cpu = sum(r["cpu_ms_per_randomization"].values())
        print(
            f"{r['backend']:<11}{r['workers']:>8}{r['clients']:>8}{r['subjects']:>9}"
            f"{r['per_second']:>9}{r['p50_ms']:>8}{r['p99_ms']:>8}{r['max_ms']:>8}"
            f"{cpu:>8.2f}{r['cpu_bound_per_second']:>12}{r['load_average']!s:>13}  "
            f"{r['zero_duplicates']} (statuses {r['statuses']})"
        )
        print(f"{'':<11}CPU ms per randomization: {r['cpu_ms_per_randomization']}")


if __name__ == "__main__":
    main()
