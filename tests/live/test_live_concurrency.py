"""32 concurrent clients randomize hundreds of subjects against real uvicorn servers.

SQLite: one server process. PostgreSQL: two server processes on one database, clients split
between them (no balancer), so only the database can keep the sequence right. Afterwards every
subject has exactly one assignment equal to the answer it got, no list position is used twice,
and within each stratum the assignments follow the list, checked against the list rebuilt
here from the spec and the seed. Eight simultaneous copies of one request under one
Idempotency-Key give one assignment and seven replays of it. The audit chain verifies.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import pytest
from livekit import (
    SITES,
    TrialDb,
    check_allocation,
    randomize_all,
    running,
    subject_plan,
    table_counts,
)

from oncotrial.randomize.service import verify_audit

N_SUBJECTS = 256
N_CLIENTS = 32


@pytest.mark.slow
def test_concurrent_clients_get_the_list_in_order(trial: TrialDb, log_dir: Path) -> None:
    n_servers = 1 if trial.db_url.startswith("sqlite") else 2
    plan = subject_plan(N_SUBJECTS, SITES, trial.factors, seed=7)
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(running(trial.db_url, log_dir, name=f"server{i}"))
            for i in range(n_servers)
        ]
        urls = [s.url for s in servers]
        latencies = randomize_all(urls, trial.tokens, plan, N_CLIENTS)
        # eight clients (on both processes for PostgreSQL) send the SAME request with the
        # same key at once, as a client retrying after a timeout would: one assignment
        twin = subject_plan(1, SITES[:1], trial.factors, seed=3)[0]
        twin.subject_id = "TWIN-0001"
        twins = [replace(twin, errors=[]) for _ in range(8)]
        randomize_all(urls, trial.tokens, twins, n_clients=8)

    answers = [(o.status, o.body) for o in twins]
    assert all(status == 201 for status, _ in answers), answers
    assert len({(b["arm"], b["randomization_number"]) for _, b in answers}) == 1, answers
    assert sum(not o.replayed for o in twins) == 1  # one allocation, seven replays

    assert len(latencies) == N_SUBJECTS
    assert all(not o.errors for o in plan), [o.errors for o in plan if o.errors][:3]
    stored = check_allocation(trial, [*plan, twins[0]])
    n = N_SUBJECTS + 1
    assert len(stored) == n
    # every request carried an idempotency key; every assignment has its audit record
    counts = table_counts(trial.db_url)
    assert counts["assignments"] == counts["idempotency_keys"] == n
    verification = verify_audit(trial.db_url)
    assert verification.ok, verification.summary()
    assert verification.assignments_checked == n
    served = {url: sum(o.url == url for o in plan) for url in (s.url for s in servers)}
    assert all(count >= N_SUBJECTS // (2 * n_servers) for count in served.values()), served
