"""kill -9 of the server in the middle of a randomization load, then restart.

Sixteen clients randomize continuously; once at least 40 subjects are committed the server's
process group gets SIGKILL (no shutdown code runs, open transactions die with the process).
The clients keep retrying their in-flight request with the same Idempotency-Key until the
server is back (restarted on the same database and port) and then carry on. Afterwards:

* every answer a client ever received is in the database, unchanged (nothing committed lost);
* every assignment is whole: it has its audit record and its idempotency record, the
  randomization numbers run 1..N without a gap, and positions run 1..n in every stratum
  (no half-written assignment, no position skipped or reused);
* the sequence continued after the restart in list order (checked against the list rebuilt
  from the spec and seed);
* ``oncotrial randomize verify-audit`` (a separate process) reports the chain intact.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from livekit import (
    SITES,
    Server,
    TrialDb,
    check_allocation,
    cli,
    count_assignments,
    free_port,
    randomize_all,
    subject_plan,
    table_counts,
)

from oncotrial.randomize.service.db import make_engine

N_SUBJECTS = 160
N_CLIENTS = 16
KILL_AFTER = 40


@pytest.mark.slow
def test_kill9_during_load_loses_nothing_and_continues(trial: TrialDb, log_dir: Path) -> None:
    plan = subject_plan(N_SUBJECTS, SITES, trial.factors, seed=11)
    server = Server(trial.db_url, free_port(), log_dir / "server.log").start()
    outcome: dict[str, object] = {}

    def load() -> None:
        outcome["latencies"] = randomize_all(
            [server.url], trial.tokens, plan, N_CLIENTS, retry_until=time.monotonic() + 120
        )

    clients = threading.Thread(target=load)
    engine = make_engine(trial.db_url)
    clients.start()
    try:
        deadline = time.monotonic() + 60
        while count_assignments(engine) < KILL_AFTER:
            assert time.monotonic() < deadline, "load did not start"
            time.sleep(0.02)
        server.kill9()
        committed_at_kill = count_assignments(engine)
        answered_before = {o.subject_id: dict(o.body or {}) for o in plan if o.status == 201}
        time.sleep(0.5)  # clients now fail to connect and keep retrying
        server.start()  # same database, same port
        clients.join(180)
        assert not clients.is_alive(), "clients did not finish after the restart"
    finally:
        server.stop()
        engine.dispose()

    # the kill interrupted requests in flight (they got a transport error and retried)
    interrupted = [o for o in plan if o.errors]
    assert interrupted, "the kill hit no request in flight"
    assert KILL_AFTER <= committed_at_kill < N_SUBJECTS
    # nothing answered before the kill changed or disappeared
    for subject_id, body in answered_before.items():
        final = next(o for o in plan if o.subject_id == subject_id)
        assert final.body == body
    # every subject answered exactly once in the database, list order kept across the restart
    stored = check_allocation(trial, plan)
    assert len(stored) == N_SUBJECTS
    counts = table_counts(trial.db_url)
    assert counts["assignments"] == counts["idempotency_keys"] == N_SUBJECTS
    verify = cli("randomize", "verify-audit", "--db", trial.db_url, "--json")
    report = json.loads(verify.stdout)
    assert report["ok"] is True, report
    assert report["assignments_checked"] == N_SUBJECTS
    (log_dir / "summary.json").write_text(
        json.dumps(
            {
                "committed_at_kill": committed_at_kill,
                "answered_before_kill": len(answered_before),
                "interrupted_requests": len(interrupted),
                "answered_by_replay": sum(o.replayed for o in plan),
                "verify_audit": report,
            },
            indent=2,
        )
    )
