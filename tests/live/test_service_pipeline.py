"""The PostgreSQL path of the JSON API: pipelined connections, one for lookups, one for
allocations, per process.

:class:`~oncotrial.randomize.service.allocation.PgPipeline` sends every request's statement
on one connection without waiting for the answers before it. These tests drive
:meth:`RandomizationService.randomize_with_token_async` directly on one event loop with many
requests in flight at once, and check what the pipeline must guarantee: each answer goes to
its own request (FIFO matching), an error aborts only its own statement, a twin under the
same Idempotency-Key is answered by a replay, the list order holds in every stratum, the
audit chain verifies, and a lost connection fails only the requests in flight (nothing
half-written) and is replaced by the next request.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import psycopg
import pytest
from livekit import postgres_database

from oncotrial.randomize import regenerate
from oncotrial.randomize.service import RandomizationRequest, RandomizationService, verify_audit
from oncotrial.randomize.service.errors import Conflict
from oncotrial.randomize.service.testing import make_trial

LEVELS = list(itertools.product(("fulvestrant", "aromatase_inhibitor"), ("yes", "no")))


def request(subject: str, stratum: int) -> RandomizationRequest:
    prior, visceral = LEVELS[stratum % 4]
    return RandomizationRequest(
        subject_id=subject,
        site="S01",
        strata={"prior_et": prior, "visceral_involvement": visceral},
    )


async def settle(calls: list[Any]) -> list[Any]:
    return list(await asyncio.gather(*calls, return_exceptions=True))


@pytest.fixture
def trial(tmp_path):
    with postgres_database("oncotrial_pipeline") as url:
        fixture = make_trial(tmp_path, db_url=url, seed=77, list_size=80, sites=("S01",))
        service = RandomizationService.open(url)
        try:
            yield fixture, service
        finally:
            service.close()


def assignments(service: RandomizationService) -> list[tuple[int, int, int, str, str]]:
    """(randno, stratum, position, arm, subject) of every assignment, by randno."""
    with service.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT randno, stratum, position, arm, subject_id FROM assignments ORDER BY randno"
        ).all()
    return [tuple(r) for r in rows]


def test_requests_in_flight_together_get_their_own_answers(trial) -> None:
    fixture, service = trial
    token = fixture.site_tokens["S01"]
    subjects = [(f"P-{i:03d}", i % 4) for i in range(48)]

    async def run() -> list[Any]:
        calls = [
            service.randomize_with_token_async(token, request(s, k), f"key-{s}")
            for s, k in subjects
        ]
        calls.append(  # a subject id also in the batch, another key: one of the two is refused
            service.randomize_with_token_async(token, request("P-007", 3), "other-key")
        )
        calls.append(  # a twin of P-010 under the same key: one answer, the other a replay
            service.randomize_with_token_async(token, request("P-010", 2), "key-P-010")
        )
        try:
            return await settle(calls)
        finally:
            await service.aclose()

    outcomes = asyncio.run(run())
    pair7 = [outcomes[7], outcomes[48]]
    assert sum(isinstance(o, Conflict) for o in pair7) == 1, pair7
    assert "already randomized" in str(next(o for o in pair7 if isinstance(o, Conflict)))
    pair10 = [outcomes[10], outcomes[49]]
    assert sorted(o.replayed for o in pair10) == [False, True], pair10
    assert pair10[0].body == pair10[1].body
    fresh = {
        o.body["subject_id"]: o.body
        for o in outcomes
        if not isinstance(o, BaseException) and not o.replayed
    }
    assert all(not isinstance(o, BaseException) or isinstance(o, Conflict) for o in outcomes)
    assert sorted(fresh) == [s for s, _ in subjects]

    rows = assignments(service)
    assert [r[0] for r in rows] == list(range(1, 49))
    for randno, _, _, arm, subject in rows:  # every answer went to its own request
        assert (fresh[subject]["randomization_number"], fresh[subject]["arm"]) == (randno, arm)
    allocation_list = regenerate(service.config.params)
    for k in range(4):
        taken = sorted((r[2], r[3]) for r in rows if r[1] == k)
        slots = allocation_list.stratum_slots(k)
        assert [p for p, _ in taken] == list(range(1, len(taken) + 1))
        assert [arm for _, arm in taken] == [s.arm for s in slots[: len(taken)]]
    verification = verify_audit(fixture.db_url)
    assert verification.ok, verification.summary()


def test_a_lost_connection_fails_what_is_in_flight_and_is_replaced(trial) -> None:
    fixture, service = trial
    token = fixture.site_tokens["S01"]
    admin = fixture.db_url.replace("postgresql+psycopg://", "postgresql://")

    def terminate(pid: int) -> None:
        """End a backend and wait until it is gone (blocking: the event loop waits too)."""
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", [pid])
            while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                time.sleep(0.01)

    async def run() -> tuple[Any, BaseException | None, list[Any]]:
        try:
            first = await service.randomize_with_token_async(token, request("A-1", 0), "a1")
            writer = service._async_pool._writer
            terminate(writer._conn.pgconn.backend_pid)
            lost: BaseException | None = None
            try:  # sent before the loop has read the server's goodbye: fails, in flight
                await writer.execute(b"oncotrial_randomize", [None] * 27)
            except psycopg.Error as exc:
                lost = exc
            after = [
                await service.randomize_with_token_async(token, request(f"A-{i}", i), f"a{i}")
                for i in (2, 3)
            ]
            terminate(service._async_pool._reader._conn.pgconn.backend_pid)
            # the token lookup is sent on the dead connection: fails, writes nothing
            with pytest.raises(psycopg.OperationalError):
                await service.randomize_with_token_async(token, request("A-4", 0), "a4")
            after.append(await service.randomize_with_token_async(token, request("A-5", 1), "a5"))
            return first, lost, after
        finally:
            await service.aclose()

    first, lost, after = asyncio.run(run())
    assert first.status_code == 201
    assert isinstance(lost, psycopg.OperationalError), lost
    assert [o.status_code for o in after] == [201, 201, 201]
    assert [r[4] for r in assignments(service)] == ["A-1", "A-2", "A-3", "A-5"]
    verification = verify_audit(fixture.db_url)
    assert verification.ok, verification.summary()
