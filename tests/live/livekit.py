"""Helpers of the live-server tests: real uvicorn processes on loopback, load clients, checks.

The server is started exactly as an operator starts it (``oncotrial randomize serve``) in its
own process, so ``kill -9`` hits a real process with real open transactions.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "src" / "oncotrial" / "spec" / "examples" / "palmira.yaml"
SEED = 20240617
PASSWORD = "correct-horse-42"

# A PALMIRA subject who meets every inclusion criterion and no exclusion criterion.
ELIGIBLE = {
    "age": "61",
    "hr_positive": "yes",
    "her2_negative": "yes",
    "advanced_disease": "yes",
    "palbociclib_setting": "advanced_first_line",
    "radiological_progression": "yes",
    "prior_best_response": "PR",
    "sd_duration_weeks": "",
    "palbociclib_start_date": "2023-02-01",
    "last_palbociclib_date": "2024-03-01",
    "progression_date": "2024-03-05",
    "screening_date": "2024-03-20",
    "visceral_crisis": "no",
    "prior_chemo_advanced": "no",
    "prior_other_cdk46i": "no",
    "resistant_fulvestrant": "no",
    "resistant_letrozole": "no",
    "active_cns_metastases": "no",
    "leptomeningeal_disease": "no",
}


PG_ENV = "ONCOTRIAL_TEST_PG_URL"


def postgres_admin_url() -> str:
    """The test server's URL: ``$ONCOTRIAL_TEST_PG_URL``, else the one ``.ci/postgres.sh``
    starts (it installs and starts PostgreSQL on loopback, and is idempotent). There is no
    skip: without a server the PostgreSQL tests fail, saying why."""
    url = os.environ.get(PG_ENV)
    if url:
        return url
    proc = subprocess.run(
        ["bash", str(REPO / ".ci" / "postgres.sh")], capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise AssertionError(
            f"PostgreSQL is needed for this test and .ci/postgres.sh could not start it "
            f"(exit {proc.returncode}); set {PG_ENV} to a server's URL instead.\n{proc.stderr}"
        )
    os.environ[PG_ENV] = proc.stdout.strip()
    return os.environ[PG_ENV]


@contextlib.contextmanager
def postgres_database(prefix: str = "oncotrial_test") -> Iterator[str]:
    """URL of a new, empty database on the test server, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(postgres_admin_url())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)


def _drop_database(admin: str, name: str, attempts: int = 100) -> None:
    """``DROP DATABASE ... WITH (FORCE)``, retried while it fails for want of privilege: a
    non-superuser cannot terminate an autovacuum worker that happens to be on the database
    (PostgreSQL < 18), and such a worker leaves within moments."""
    import psycopg

    for attempt in range(attempts):
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``oncotrial ARGS`` in a fresh interpreter (as an operator would)."""
    proc = subprocess.run(
        [sys.executable, "-m", "oncotrial", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_child_env(),
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"oncotrial {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@dataclass
class Server:
    """One ``oncotrial randomize serve`` process on 127.0.0.1:``port``."""

    db_url: str
    port: int
    log_path: Path
    workers: int = 1
    proc: subprocess.Popen[bytes] | None = None
    extra_args: Sequence[str] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Server:
        log = self.log_path.open("ab")
        args = [
            sys.executable,
            "-m",
            "oncotrial",
            "randomize",
            "serve",
            "--db",
            self.db_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *(["--workers", str(self.workers)] if self.workers != 1 else []),
            *self.extra_args,
        ]
        # A new session: kill -9 of the group reaches uvicorn's worker processes too.
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=_child_env(), start_new_session=True
        )
        log.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.proc.returncode}:\n{self.log_path.read_text()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise AssertionError(f"server not ready in {timeout} s:\n{self.log_path.read_text()}")

    def kill9(self) -> None:
        """SIGKILL the whole process group: no shutdown handler runs."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill9()


@contextlib.contextmanager
def running(db_url: str, log_dir: Path, name: str = "server", **kw: Any) -> Iterator[Server]:
    server = Server(db_url, free_port(), log_dir / f"{name}.log", **kw).start()
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- load


@dataclass
class Outcome:
    """What one client learnt about one subject."""

    subject_id: str
    site: str
    strata: dict[str, str]
    key: str
    status: int | None = None
    body: dict[str, Any] | None = None
    url: str | None = None
    replayed: bool = False
    errors: list[str] = field(default_factory=list)


def subject_plan(n: int, sites: Sequence[str], factors: Mapping[str, Sequence[str]], seed: int):
    """``n`` subjects with pseudo-random sites and strata (reproducible from ``seed``)."""
    import random

    rng = random.Random(seed)
    plan = []
    for i in range(n):
        site = sites[i % len(sites)]
        strata = {name: rng.choice(list(levels)) for name, levels in factors.items()}
        plan.append(Outcome(f"{site}-{i:04d}", site, strata, key=str(uuid.uuid4())))
    return plan


def randomize_all(
    urls: Sequence[str],
    tokens: Mapping[str, str],
    plan: Sequence[Outcome],
    n_clients: int = 32,
    retry_until: float | None = None,
    stop: threading.Event | None = None,
) -> list[float]:
    """Randomize ``plan`` with ``n_clients`` threads, each with its own keep-alive client.

    Client ``c`` takes subjects ``c, c + n_clients, ...`` and the URL ``urls[c % len(urls)]``.
    Subjects go through the site's token (``tokens[site]``). On a connection error the request
    is retried with the same idempotency key until ``retry_until`` (monotonic time), so a
    subject whose answer was lost in a crash gets its answer after the restart. Returns the
    latencies (seconds) of the answered requests.
    """
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(c: int) -> None:
        url = urls[c % len(urls)]
        with httpx.Client(base_url=url, timeout=30) as client:
            for o in plan[c::n_clients]:
                if stop is not None and stop.is_set():
                    return
                body = {"subject_id": o.subject_id, "site": o.site, "strata": o.strata}
                headers = {
                    "Authorization": f"Bearer {tokens[o.site]}",
                    "Idempotency-Key": o.key,
                }
                while True:
                    t0 = time.perf_counter()
                    try:
                        r = client.post("/api/v1/randomizations", json=body, headers=headers)
                    except httpx.TransportError as exc:
                        o.errors.append(type(exc).__name__)
                        if retry_until is None or time.monotonic() > retry_until:
                            break
                        time.sleep(0.05)
                        continue
                    dt = time.perf_counter() - t0
                    o.status, o.body, o.url = r.status_code, r.json(), url
                    o.replayed = r.headers.get("Idempotent-Replayed") == "true"
                    with lock:
                        latencies.append(dt)
                    break

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


# --------------------------------------------------------------------------- trial setup

SITES = ("S01", "S02", "S03", "S04")
BLOCK_SIZES = (3, 6)
LIST_SIZE = 400


@dataclass(frozen=True)
class TrialDb:
    """A trial database ready to serve: URL, seed, one site user (token, password) per site."""

    db_url: str
    seed: int
    tokens: dict[str, str]
    users: dict[str, str]
    factors: dict[str, tuple[str, ...]]


def init_trial_db(db_url: str, sites: Sequence[str] = SITES, seed: int = SEED) -> TrialDb:
    """PALMIRA (2:1, two factors, 4 strata) with permuted blocks of 3 and 6, and site users."""
    from oncotrial.randomize.service import RandomizationService, init_trial
    from oncotrial.spec import load_spec

    init_trial(SPEC, db_url, "admin", seed=seed, list_size=LIST_SIZE, block_sizes=BLOCK_SIZES)
    service = RandomizationService.open(db_url)
    tokens, users = {}, {}
    try:
        for code in sites:
            service.create_site("setup", code, f"Hospital {code}")
            user = f"user-{code.lower()}"
            service.create_user("setup", user, "site", code, PASSWORD)
            tokens[code], _ = service.issue_token("setup", user, "live tests")
            users[code] = user
    finally:
        service.close()
    spec = load_spec(SPEC)
    factors = {f.name: tuple(f.levels) for f in spec.stratification}
    return TrialDb(db_url, seed, tokens, users, factors)


def expected_list(seed: int):
    """The allocation list rebuilt here from the spec and seed (not read from the service)."""
    from oncotrial.randomize import ArmRatio, BlockDesign, Factor, generate_list
    from oncotrial.spec import load_spec

    spec = load_spec(SPEC)
    design = BlockDesign(
        ArmRatio(tuple(a.name for a in spec.arms), tuple(a.ratio for a in spec.arms)),
        tuple(Factor(f.name, tuple(f.levels)) for f in spec.stratification),
        BLOCK_SIZES,
    )
    return generate_list(design, per_stratum=LIST_SIZE, seed=seed)


def stored_assignments(db_url: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from oncotrial.randomize.service.db import make_engine, read_session
    from oncotrial.randomize.service.models import Assignment, Site

    engine = make_engine(db_url)
    try:
        with read_session(engine) as s:
            rows = s.execute(
                select(Assignment, Site.code).join(Site, Assignment.site_id == Site.id)
            ).all()
            return [
                {
                    "subject_id": a.subject_id,
                    "site": code,
                    "stratum": a.stratum,
                    "position": a.position,
                    "randno": a.randno,
                    "arm": a.arm,
                    "strata": dict(a.strata),
                }
                for a, code in rows
            ]
    finally:
        engine.dispose()


def table_counts(db_url: str) -> dict[str, int]:
    from oncotrial.randomize.service import RandomizationService

    service = RandomizationService.open(db_url)
    try:
        return service.counts()
    finally:
        service.close()


def check_allocation(trial: TrialDb, answered: Sequence[Outcome]) -> dict[str, Any]:
    """Every answered subject has exactly one assignment, equal to its answer; positions and
    randomization numbers are used once, without gaps; within each stratum the order of
    randomization is the list order and each arm is the list's arm at that position.

    Returns the stored assignments by subject id.
    """
    from oncotrial.randomize.service.db import make_engine
    from oncotrial.randomize.service.trial import load_config

    allocation = expected_list(trial.seed)
    engine = make_engine(trial.db_url)
    try:
        assert load_config(engine).fingerprint == allocation.fingerprint
    finally:
        engine.dispose()

    rows = stored_assignments(trial.db_url)
    by_subject = {r["subject_id"]: r for r in rows}
    assert len(by_subject) == len(rows), "a subject id is stored twice"
    slots = [(r["stratum"], r["position"]) for r in rows]
    assert len(set(slots)) == len(slots), "a list position is used twice"
    randnos = sorted(r["randno"] for r in rows)
    assert randnos == list(range(1, len(rows) + 1)), "randomization numbers have gaps/repeats"

    for o in answered:
        assert o.status == 201, (o.subject_id, o.status, o.body)
        stored = by_subject[o.subject_id]
        assert o.body is not None
        assert o.body["arm"] == stored["arm"]
        assert o.body["randomization_number"] == stored["randno"]
        assert stored["site"] == o.site and stored["strata"] == o.strata
        assert allocation.strata[stored["stratum"]].levels == tuple(o.strata.items())

    for k in range(len(allocation.strata)):
        in_stratum = sorted((r for r in rows if r["stratum"] == k), key=lambda r: r["randno"])
        positions = [r["position"] for r in in_stratum]
        assert positions == list(range(1, len(in_stratum) + 1)), f"stratum {k}: {positions}"
        expected_arms = [s.arm for s in allocation.stratum_slots(k)[: len(in_stratum)]]
        assert [r["arm"] for r in in_stratum] == expected_arms, f"stratum {k} not in list order"
    return by_subject


def count_assignments(engine: Any) -> int:
    """Committed assignments, read through ``engine`` (cheap enough to poll)."""
    from sqlalchemy import func, select

    from oncotrial.randomize.service.models import Assignment

    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Assignment)).scalar_one())
