"""One randomization as one database transaction, run on the database driver directly.

The hot path of :meth:`~.core.RandomizationService.randomize` bypasses the ORM and sends a
few fixed SQL statements through the driver's connection (psycopg 3 or sqlite3), taken from
the engine's pool; everything else in the service uses SQLAlchemy. Both backends keep the
guarantees of docs/RANDOMIZATION.md ("Concurrency and crash safety"): the subject's list
slot, its randomization number, the assignment, its audit record and its idempotency record
are written in one transaction or not at all.

**PostgreSQL** (READ COMMITTED). :class:`PgTransaction`: three client-server round trips,
each ONE simple-protocol
query of server-side prepared statements (``PREPARE``d once per connection, parameters bound
on the client by psycopg's ``ClientCursor``; no pipeline, no implicit ``BEGIN``):

1. ``BEGIN`` + the token lookup (:meth:`PgTransaction.principal`);
2. the stratum's counter is advanced with ``UPDATE ... RETURNING`` (its row lock is the
   stratum lock; the allocation list gives the arm at the returned position), then, as a
   separate statement with a fresh snapshot, the idempotency record of (user, key) is read:
   a twin that committed while this request waited for the lock is seen;
3. ONE statement that takes the next randomization number (``UPDATE trial ... RETURNING``,
   with ``clock_timestamp()`` as the randomization time), moves the audit head
   (``UPDATE audit_head ... RETURNING``; the record's SHA-256 is computed by the server,
   ``sha256(convert_to(text, 'UTF8'))``, from the canonical JSON that Python built with
   holes for the randomization number, previous hash, sequence number and time, see
   :func:`split_template`) and inserts the assignment, the audit record and the idempotency
   record; then ``COMMIT`` in the same query. The trial-wide section (trial row and audit
   head locked) is therefore one statement and the commit, with no client round trip and
   no Python code inside it, and allocations in different strata overlap until then.

The web page and direct calls run these queries through SQLAlchemy's pool
(:class:`PgTransaction`). The JSON API runs on the event loop (:class:`AsyncPgPool`,
psycopg's asyncio connections driven through libpq directly: no thread-pool hop, no GIL
hand-offs) in TWO round trips: the token and the idempotency record are read by one
statement (``oncotrial_lookup``, autocommit); then ONE statement,
``oncotrial_randomize``, does the whole allocation and is its own transaction: it advances
the stratum's counter (only while a list slot is left), joins the list for the arm, then
does what ``oncotrial_allocate`` does, the slot's position and arm filling two more holes of
the templates (:data:`POSITION_HOLE`, :data:`ARM_HOLE`). A twin that committed between the
two round trips is caught by the unique constraint on (user, key) and answered by a replay;
a stratum without a free slot writes nothing and is answered by the transaction above.
Every process sends all its ``oncotrial_randomize`` statements on ONE connection in libpq
pipeline mode (:class:`PgPipeline`), and its lookups on another: one backend runs the
allocations back to back, so no two allocations of a process ever wait for each other's row
locks inside PostgreSQL.

Lock order: stratum counter, trial row, audit head (every other audit append locks only the
head), so transactions never deadlock.

**SQLite**: the token is read in autocommit mode; the allocation runs under the process's
writer mutex and ``BEGIN IMMEDIATE`` (the database write lock) as plain statements, the hash
computed in Python (:func:`~.audit.record_hash`).

A duplicate subject is not looked up beforehand: the unique constraint on
``assignments.subject_id`` refuses it and the caller answers 409 after the rollback (nothing
written). The times and JSON texts written here are those SQLAlchemy writes for the same
columns (SQLite: ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC and ``json.dumps`` text).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from oncotrial.randomize.service.accounts import Principal, principal_from_row
from oncotrial.randomize.service.audit import canonical_json, format_ts, record_hash
from oncotrial.randomize.service.db import is_sqlite, writer_lock
from oncotrial.randomize.service.models import utcnow
from oncotrial.randomize.service.security import token_digest

RANDNO_HOLE = "\x00randno\x00"
PREV_HOLE = "\x00prev_hash\x00"
SEQ_HOLE = "\x00seq\x00"
TS_HOLE = "\x00ts\x00"
POSITION_HOLE = "\x00position\x00"
ARM_HOLE = "\x00arm\x00"
LABEL_HOLE = "\x00arm_label\x00"


def split_template(text: str, holes: Sequence[tuple[str, bool]]) -> list[str]:
    """Split canonical JSON at placeholder values, in order: ``len(holes) + 1`` parts.

    Each hole is ``(marker, quoted)``: the marker string (with a NUL character, which request
    values cannot contain) was put where a value goes; ``quoted`` holes are strings (the
    quotes stay in the parts), the others numbers (the quotes go). Joining the parts with the
    values' JSON texts gives ``canonical_json`` of the record with the values.
    """
    parts: list[str] = []
    rest = text
    for marker, quoted in holes:
        token = json.dumps(marker)
        if quoted:
            token = token[1:-1]
        if text.count(token) != 1 or token not in rest:
            raise RuntimeError(f"template: marker {marker!r} is not in place exactly once")
        before, rest = rest.split(token)
        parts.append(before)
    parts.append(rest)
    return parts


@dataclass(frozen=True)
class Claim:
    """The stratum's slot taken under its lock, and the idempotency record of (user, key)."""

    position: int
    size: int
    label: str
    arm: str | None
    earlier: tuple[str, int, Any] | None
    """(request hash, status code, response) stored under the same key, if any."""


@dataclass(frozen=True)
class Draft:
    """An allocation before the trial-wide section: all but number, time and audit seq."""

    user: Principal
    subject_id: str
    site: str
    stratum: int
    position: int | str
    """The list position, or :data:`POSITION_HOLE` when the statement takes the slot."""
    arm: str
    """The arm, or :data:`ARM_HOLE` when the statement takes the slot."""
    strata: dict[str, str]
    eligibility: dict[str, Any] | None
    key: str | None
    digest: str
    respond: Callable[[int, str], dict[str, Any]]
    """The response body for (randomization number, randomization time text)."""

    @property
    def entity(self) -> str:
        return f"subject:{self.subject_id}"

    def audit_new(self, randno: Any) -> dict[str, Any]:
        """The ``new`` value of the ``randomize`` audit record (checked by verify-audit)."""
        return {
            "subject_id": self.subject_id,
            "site": self.site,
            "strata": self.strata,
            "stratum": self.stratum + 1,
            "position": self.position,
            "arm": self.arm,
            "randno": randno,
            "eligibility": self.eligibility,
        }

    def audit_payload(self, randno: Any, seq: Any, prev_hash: str, ts: str) -> dict[str, Any]:
        return {
            "seq": seq,
            "ts": ts,
            "actor": self.user.username,
            "action": "randomize",
            "entity": self.entity,
            "old": None,
            "new": self.audit_new(randno),
            "reason": None,
            "prev_hash": prev_hash,
        }


class Transaction(ABC):
    """One request's connection: the token lookup, then at most one allocation.

    Implemented by :class:`PgTransaction` and :class:`SqliteTransaction`.
    """

    @abstractmethod
    def principal(self, token: str | None) -> Principal: ...

    @abstractmethod
    def claim(self, stratum: int, user_id: int, key: str | None) -> Claim: ...

    @abstractmethod
    def finish(self, draft: Draft) -> dict[str, Any]:
        """Write the allocation and commit; returns the response body."""

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Give the connection back in the state the pool expects."""


def _lookup_principal(row: Any, parse_time: Callable[[Any], dt.datetime | None]) -> Principal:
    if row is None:
        return principal_from_row(None)
    revoked_at, expires_at, *rest = row
    return principal_from_row((parse_time(revoked_at), parse_time(expires_at), *rest))


# --------------------------------------------------------------------------- PostgreSQL

_PG_PREPARE = {
    "oncotrial_token": """
PREPARE oncotrial_token(text) AS
SELECT t.revoked_at, t.expires_at, u.id, u.username, u.role, u.site_id, u.active, s.code
FROM api_tokens t JOIN users u ON t.user_id = u.id LEFT JOIN sites s ON u.site_id = s.id
WHERE t.token_hash = $1
""",
    "oncotrial_claim": """
PREPARE oncotrial_claim(integer) AS
WITH c AS (
    UPDATE stratum_counters SET next_position = next_position + 1
    WHERE stratum = $1
    RETURNING next_position - 1 AS position, size, label
)
SELECT c.position, c.size, c.label, l.arm
FROM c LEFT JOIN allocation_list l ON l.stratum = $1 AND l.position = c.position
""",
    "oncotrial_earlier": """
PREPARE oncotrial_earlier(integer, text) AS
SELECT request_hash, status_code, response FROM idempotency_keys
WHERE user_id = $1 AND key = $2
""",
    # $1-$5 audit-hash template parts, $6-$7 audit `new` template parts, $8 subject id,
    # $9 site id, $10 stratum, $11 position, $12 strata JSON, $13 arm, $14 user id,
    # $15 eligibility JSON, $16 actor, $17 entity, $18 idempotency key (NULL: none),
    # $19 request hash, $20-$22 response template parts
    "oncotrial_allocate": """
PREPARE oncotrial_allocate(text, text, text, text, text, text, text, text, integer, integer,
                           integer, text, text, integer, text, text, text, text, text, text,
                           text, text) AS
WITH t AS (
    UPDATE trial SET next_randno = next_randno + 1 WHERE id = 1
    RETURNING next_randno - 1 AS randno, clock_timestamp() AS ts
), n AS (
    SELECT randno, ts, randno::text AS randno_text,
           to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00' AS ts_text
    FROM t
), h AS (
    UPDATE audit_head SET
        seq = audit_head.seq + 1,
        prev_hash = audit_head.hash,
        hash = encode(sha256(convert_to(
            $1 || n.randno_text || $2 || audit_head.hash || $3
            || (audit_head.seq + 1)::text || $4 || n.ts_text || $5, 'UTF8')), 'hex')
    FROM n WHERE audit_head.id = 1
    RETURNING audit_head.seq, audit_head.prev_hash, audit_head.hash
), a AS (
    INSERT INTO assignments (subject_id, randno, site_id, stratum, position, strata, arm,
                             randomized_at, user_id, eligibility, unblinded_at)
    SELECT $8, n.randno, $9, $10, $11, $12::json, $13, n.ts, $14, $15::json, NULL FROM n
), l AS (
    INSERT INTO audit_log (seq, ts, actor, action, entity, old_value, new_value, reason,
                           prev_hash, hash)
    SELECT h.seq, n.ts, $16, 'randomize', $17, 'null'::json,
           ($6 || n.randno_text || $7)::json, NULL, h.prev_hash, h.hash
    FROM h, n
), i AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response, created_at)
    SELECT $14, $18, $19, 201, ($20 || n.randno_text || $21 || n.ts_text || $22)::json, n.ts
    FROM n WHERE $18 IS NOT NULL
)
SELECT n.randno, n.ts_text FROM n, h
""",
    "oncotrial_lookup": """
PREPARE oncotrial_lookup(text, text) AS
SELECT t.revoked_at, t.expires_at, u.id, u.username, u.role, u.site_id, u.active, s.code,
       i.request_hash, i.status_code, i.response
FROM api_tokens t JOIN users u ON t.user_id = u.id LEFT JOIN sites s ON u.site_id = s.id
LEFT JOIN idempotency_keys i ON i.user_id = u.id AND i.key = $2
WHERE t.token_hash = $1
""",
    # $1 stratum, $2 arm texts (jsonb: arm -> [response arm, response label, audit arm]),
    # $3-$9 audit-hash template parts, $10-$13 audit `new` template parts, $14 subject id,
    # $15 site id, $16 strata JSON, $17 user id, $18 eligibility JSON, $19 actor, $20 entity,
    # $21 idempotency key (NULL: none), $22 request hash, $23-$27 response template parts
    "oncotrial_randomize": """
PREPARE oncotrial_randomize(integer, jsonb, text, text, text, text, text, text, text, text,
                            text, text, text, text, integer, text, integer, text, text, text,
                            text, text, text, text, text, text, text) AS
WITH c AS (
    UPDATE stratum_counters SET next_position = next_position + 1
    WHERE stratum = $1 AND next_position <= size AND EXISTS (
        SELECT FROM allocation_list l
        WHERE l.stratum = $1 AND l.position = stratum_counters.next_position)
    RETURNING next_position - 1 AS position
), s AS (
    SELECT c.position, l.arm, $2 -> l.arm AS texts
    FROM c JOIN allocation_list l ON l.stratum = $1 AND l.position = c.position
), t AS (
    UPDATE trial SET next_randno = next_randno + 1 FROM s WHERE trial.id = 1
    RETURNING next_randno - 1 AS randno, clock_timestamp() AS ts
), n AS (
    SELECT t.randno, t.ts, t.randno::text AS randno_text,
           to_char(t.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00' AS ts_text,
           s.position, s.position::text AS position_text, s.arm,
           s.texts ->> 0 AS arm_shown, s.texts ->> 1 AS label_shown, s.texts ->> 2 AS arm_text
    FROM t, s
), h AS (
    UPDATE audit_head SET
        seq = audit_head.seq + 1,
        prev_hash = audit_head.hash,
        hash = encode(sha256(convert_to(
            $3 || n.arm_text || $4 || n.position_text || $5 || n.randno_text || $6
            || audit_head.hash || $7 || (audit_head.seq + 1)::text || $8 || n.ts_text || $9,
            'UTF8')), 'hex')
    FROM n WHERE audit_head.id = 1
    RETURNING audit_head.seq, audit_head.prev_hash, audit_head.hash
), a AS (
    INSERT INTO assignments (subject_id, randno, site_id, stratum, position, strata, arm,
                             randomized_at, user_id, eligibility, unblinded_at)
    SELECT $14, n.randno, $15, $1, n.position, $16::json, n.arm, n.ts, $17, $18::json, NULL
    FROM n
), l AS (
    INSERT INTO audit_log (seq, ts, actor, action, entity, old_value, new_value, reason,
                           prev_hash, hash)
    SELECT h.seq, n.ts, $19, 'randomize', $20, 'null'::json,
           ($10 || n.arm_text || $11 || n.position_text || $12 || n.randno_text || $13)::json,
           NULL, h.prev_hash, h.hash
    FROM h, n
), i AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response, created_at)
    SELECT $17, $21, $22, 201, ($23 || n.arm_shown || $24 || n.label_shown || $25
                                || n.randno_text || $26 || n.ts_text || $27)::json, n.ts
    FROM n WHERE $21 IS NOT NULL
)
SELECT n.randno, n.ts_text, n.arm FROM n, h
""",
}
"""Server-side prepared statements of the hot path (prepared once per connection)."""

_PREPARED = "oncotrial_prepared"


def _pg_time(value: dt.datetime | None) -> dt.datetime | None:
    return value  # psycopg returns time-zone-aware datetimes


def _pg_claim_query(stratum: int, user_id: int, key: str | None) -> tuple[str, list[Any]]:
    # the idempotency record is read by a second statement: a fresh snapshot taken after the
    # counter's lock was granted, so a twin that committed meanwhile is seen
    query = "EXECUTE oncotrial_claim(%s)"
    params: list[Any] = [stratum]
    if key is not None:
        query += "; EXECUTE oncotrial_earlier(%s, %s)"
        params += [user_id, key]
    return query, params


def _pg_claim(results: list[list[tuple[Any, ...]]], key: str | None) -> Claim:
    position, size, label, arm = results[0][0]
    found = results[1][0] if key is not None and results[1] else None
    return Claim(position, size, label, arm, tuple(found) if found else None)


def _pg_allocate_query(draft: Draft) -> tuple[str, list[Any]]:
    """``EXECUTE oncotrial_allocate(...); COMMIT``: the trial-wide section and the commit in
    one round trip, no client code in between."""
    h = split_template(
        canonical_json(draft.audit_payload(RANDNO_HOLE, SEQ_HOLE, PREV_HOLE, TS_HOLE)),
        [(RANDNO_HOLE, False), (PREV_HOLE, True), (SEQ_HOLE, False), (TS_HOLE, True)],
    )
    n = split_template(canonical_json(draft.audit_new(RANDNO_HOLE)), [(RANDNO_HOLE, False)])
    r: list[str | None] = [None, None, None]
    if draft.key is not None:
        r = list(
            split_template(
                canonical_json(draft.respond(RANDNO_HOLE, TS_HOLE)),  # type: ignore[arg-type]
                [(RANDNO_HOLE, False), (TS_HOLE, True)],
            )
        )
    params = [
        *h,
        *n,
        draft.subject_id,
        draft.user.site_id,
        draft.stratum,
        draft.position,
        json.dumps(draft.strata),
        draft.arm,
        draft.user.user_id,
        json.dumps(draft.eligibility),
        draft.user.username,
        draft.entity,
        draft.key,
        draft.digest if draft.key is not None else None,
        *r,
    ]
    marks = ", ".join(["%s"] * len(params))
    return f"EXECUTE oncotrial_allocate({marks}); COMMIT", params


def _pg_randomize_params(draft: Draft, arm_texts: str) -> list[Any]:
    """The parameters of ``oncotrial_randomize``, the whole allocation as one statement (its
    own transaction in autocommit mode). ``draft`` has :data:`POSITION_HOLE` and
    :data:`ARM_HOLE` for the slot, and its response has :data:`ARM_HOLE` and
    :data:`LABEL_HOLE` for the arm as the caller may see it; ``arm_texts`` is the JSON object
    giving, per arm, the JSON texts [response arm, response arm label, audit arm]."""
    slot = [(ARM_HOLE, False), (POSITION_HOLE, False), (RANDNO_HOLE, False)]
    h = split_template(
        canonical_json(draft.audit_payload(RANDNO_HOLE, SEQ_HOLE, PREV_HOLE, TS_HOLE)),
        [*slot, (PREV_HOLE, True), (SEQ_HOLE, False), (TS_HOLE, True)],
    )
    n = split_template(canonical_json(draft.audit_new(RANDNO_HOLE)), slot)
    r: list[str | None] = [None] * 5
    if draft.key is not None:
        r = list(
            split_template(
                canonical_json(draft.respond(RANDNO_HOLE, TS_HOLE)),  # type: ignore[arg-type]
                [(ARM_HOLE, False), (LABEL_HOLE, False), (RANDNO_HOLE, False), (TS_HOLE, True)],
            )
        )
    return [
        draft.stratum,
        arm_texts,
        *h,
        *n,
        draft.subject_id,
        draft.user.site_id,
        json.dumps(draft.strata),
        draft.user.user_id,
        json.dumps(draft.eligibility),
        draft.user.username,
        draft.entity,
        draft.key,
        draft.digest if draft.key is not None else None,
        *r,
    ]


def _fetch_results(cur: Any) -> list[list[tuple[Any, ...]]]:
    """The rows of every statement of the query just run, in order."""
    results = []
    while True:
        results.append(cur.fetchall() if cur.description is not None else [])
        if not cur.nextset():
            return results


class PgTransaction(Transaction):
    """Each step is ONE simple-protocol query (several statements, parameters bound on the
    client by psycopg's ``ClientCursor``) that executes prepared statements: one round trip
    per step, no pipeline, no implicit ``BEGIN`` (the connection is in autocommit mode while
    this object uses it, and the transaction is delimited by the queries' own ``BEGIN`` and
    ``COMMIT``)."""

    def __init__(self, pg: Any, info: dict[str, Any]) -> None:
        import psycopg

        self.pg = pg
        self.pg.autocommit = True
        if not info.get(_PREPARED):
            for statement in _PG_PREPARE.values():
                self.pg.execute(statement)
            info[_PREPARED] = True
        self.cur = psycopg.ClientCursor(pg)
        self.begun = False

    def _run(self, query: str, params: Sequence[Any]) -> list[list[tuple[Any, ...]]]:
        """Run the statements of ``query`` (after ``BEGIN`` if the transaction has not
        begun) in one round trip; the rows of each statement, ``BEGIN`` left out."""
        begin = not self.begun
        self.cur.execute(("BEGIN; " if begin else "") + query, params)
        self.begun = True
        results = _fetch_results(self.cur)
        return results[1:] if begin else results

    def principal(self, token: str | None) -> Principal:
        if not token:
            return principal_from_row(None, missing=True)
        (rows,) = self._run("EXECUTE oncotrial_token(%s)", [token_digest(token)])
        return _lookup_principal(rows[0] if rows else None, _pg_time)

    def claim(self, stratum: int, user_id: int, key: str | None) -> Claim:
        return _pg_claim(self._run(*_pg_claim_query(stratum, user_id, key)), key)

    def finish(self, draft: Draft) -> dict[str, Any]:
        results = self._run(*_pg_allocate_query(draft))
        self.begun = False
        randno, ts_text = results[0][0]
        return draft.respond(randno, ts_text)

    def rollback(self) -> None:
        self.begun = False
        self.pg.rollback()  # nothing to do when idle (psycopg checks the status)

    def close(self) -> None:
        self.cur.close()
        self.pg.autocommit = False


class PgPipeline:
    """ONE connection of the event loop in libpq pipeline mode, for prepared statements that
    are each their own transaction.

    Every request's statement is sent as soon as the request is ready, followed by a sync
    point, without waiting for the answers to the statements before it; one PostgreSQL
    backend runs them one after the other, each in autocommit mode (the sync point ends its
    transaction, so an error aborts only that statement). Answers come back in the order
    sent (FIFO) and are matched to the waiting requests. The backend does not go idle and
    wake up between statements, and many answers are read per system call.

    For the allocations (``oncotrial_randomize``) this means that within a process no
    backend ever waits for another's row lock (a wait, wake-up and re-check of the locked
    row cost more CPU than the statement itself) and, unlike a lock held in the event loop,
    the next statement is already queued at the server when one commits. Across processes
    the row locks order the writers as before.

    PostgreSQL: "Pipeline Mode", libpq documentation, section 34.5.
    """

    def __init__(self, conninfo: str, statements: Sequence[str]) -> None:
        self.conninfo = conninfo
        self.statements = tuple(statements)
        """The names (keys of :data:`_PG_PREPARE`) prepared on the connection."""
        self._conn: Any = None
        self._fd = -1
        """The connection's socket, as registered with the loop (libpq no longer reports
        it once the connection is lost)."""
        self._connecting: Any = None
        self._pending: Any = None
        self._results: list[Any] = []

    async def _connection(self) -> Any:
        import asyncio
        import collections

        import psycopg

        if self._conn is not None:
            return self._conn
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._conn is None:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                for name in self.statements:
                    await conn.execute(_PG_PREPARE[name])
                conn.pgconn.enter_pipeline_mode()
                self._pending, self._results = collections.deque(), []
                self._fd = conn.pgconn.socket
                asyncio.get_running_loop().add_reader(self._fd, self._on_readable)
                self._conn = conn
        return self._conn

    async def execute(self, name: bytes, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of the prepared statement ``name`` with ``params`` (sent as text), run
        as its own transaction after the statements queued before it; loaded as psycopg's
        cursor loads them, and an error result raises what a cursor would raise."""
        import asyncio

        from psycopg import errors, pq
        from psycopg.adapt import Transformer

        conn = await self._connection()
        pgconn = conn.pgconn
        future = asyncio.get_running_loop().create_future()
        try:
            pgconn.send_query_prepared(name, _text_values(params))
            pgconn.pipeline_sync()
            self._pending.append(future)
            if pgconn.flush():
                asyncio.get_running_loop().add_writer(self._fd, self._on_writable)
        except Exception as exc:
            self._fail(exc)
            raise
        return _rows(await future, Transformer(conn), errors, pq)

    def _on_writable(self) -> None:
        try:
            if not self._conn.pgconn.flush():
                self._remove(writer=True)
        except Exception as exc:
            self._fail(exc)

    def _on_readable(self) -> None:
        """Read what the server sent: each request's results end at its sync point."""
        from psycopg import pq

        try:
            pgconn = self._conn.pgconn
            pgconn.consume_input()
            while not pgconn.is_busy():
                result = pgconn.get_result()
                if result is None:
                    if not self._results:
                        break
                    continue
                if result.status != pq.ExecStatus.PIPELINE_SYNC:
                    self._results.append(result)
                    continue
                results, self._results = self._results, []
                future = self._pending.popleft()
                if not future.done():  # a cancelled request: its statement ran anyway
                    future.set_result(results)
            if pgconn.status != pq.ConnStatus.OK:  # e.g. the server ended the session
                raise OSError(pgconn.get_error_message() or "connection to the server lost")
        except Exception as exc:
            self._fail(exc)

    def _remove(self, *, writer: bool = False) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        loop.remove_writer(self._fd)
        if not writer:
            loop.remove_reader(self._fd)

    def _fail(self, exc: BaseException) -> None:
        """A broken connection: every waiting request gets the error (whether its statement
        committed is unknown, as after a crash; a retry with the same Idempotency-Key
        gives the first answer), and the next request connects afresh."""
        import psycopg

        if self._conn is None:
            return
        self._remove()
        conn, self._conn = self._conn, None
        pending, self._pending, self._results = self._pending, None, []
        error = exc if isinstance(exc, psycopg.Error) else psycopg.OperationalError(str(exc))
        for future in pending or ():
            if not future.done():
                future.set_exception(error)
        with contextlib.suppress(Exception):
            conn.pgconn.finish()

    async def close(self) -> None:
        if self._conn is not None:
            self._remove()
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                conn.pgconn.finish()


def _text_values(params: Sequence[Any]) -> list[bytes | None]:
    return [None if v is None else str(v).encode() for v in params]


def _rows(results: list[Any], loader: Any, errors: Any, pq: Any) -> list[tuple[Any, ...]]:
    """The rows of the last result, loaded as psycopg's cursor loads them; an error result
    raises the psycopg exception a cursor would raise (e.g. ``UniqueViolation``)."""
    rows: list[tuple[Any, ...]] = []
    for result in results:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding="utf-8")
        if result.status == pq.ExecStatus.TUPLES_OK:
            loader.set_pgresult(result)
            rows = loader.load_rows(0, result.ntuples, tuple)
    return rows


class AsyncPgPool:
    """The JSON API's PostgreSQL connections of one event loop: two :class:`PgPipeline`
    connections, one for the token lookups and one for the allocations (so a lookup never
    queues behind a commit).

    Bound to the running loop at first use; used from another loop (a new test client) it
    starts afresh. A broken connection fails the requests in flight and is replaced.
    """

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._loop: Any = None
        self._reader = PgPipeline(conninfo, ["oncotrial_lookup"])
        self._writer = PgPipeline(conninfo, ["oncotrial_randomize"])

    def _bind(self) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._reader = PgPipeline(self.conninfo, ["oncotrial_lookup"])
            self._writer = PgPipeline(self.conninfo, ["oncotrial_randomize"])

    async def lookup(
        self, token: str | None, key: str | None
    ) -> tuple[Principal, tuple[str, int, Any] | None]:
        """The caller, and the idempotency record of (caller, ``key``) if any: ONE statement
        (``oncotrial_lookup``), Bind/Execute/Sync of the statement ``PREPARE``d at connect,
        the server binding the values instead of parsing them as literals."""
        if not token:
            return principal_from_row(None, missing=True), None
        self._bind()
        rows = await self._reader.execute(b"oncotrial_lookup", [token_digest(token), key])
        row = rows[0] if rows else None
        user = _lookup_principal(row[:8] if row is not None else None, _pg_time)
        if row is None or row[8] is None:
            return user, None
        return user, (row[8], row[9], row[10])

    async def randomize(self, draft: Draft, arm_texts: str) -> tuple[int, str, str] | None:
        """Take the stratum's next slot and write the allocation, in ONE statement that is
        its own transaction, on the allocations' pipeline: (randomization number, time
        text, arm), or None when the stratum has no free list slot (nothing written). A
        unique violation (duplicate subject, concurrent twin under the same key) raises;
        nothing is written.

        ``oncotrial_randomize`` (:data:`_PG_PREPARE`): the stratum's counter row is locked
        and advanced, the list gives the arm, then the trial row and the audit head (the
        trial-wide section: no client round trip and no Python inside it), the assignment,
        audit and idempotency records; commit."""
        self._bind()
        rows = await self._writer.execute(
            b"oncotrial_randomize", _pg_randomize_params(draft, arm_texts)
        )
        if not rows:
            return None
        randno, ts_text, arm = rows[0]
        return randno, ts_text, arm

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()


# --------------------------------------------------------------------------- SQLite

_SQLITE_TOKEN = """
SELECT t.revoked_at, t.expires_at, u.id, u.username, u.role, u.site_id, u.active, s.code
FROM api_tokens t JOIN users u ON t.user_id = u.id LEFT JOIN sites s ON u.site_id = s.id
WHERE t.token_hash = :token_hash
"""

_SQLITE_CLAIM = """
SELECT c.next_position, c.size, c.label, l.arm
FROM stratum_counters c
LEFT JOIN allocation_list l ON l.stratum = c.stratum AND l.position = c.next_position
WHERE c.stratum = :k
"""

_SQLITE_EARLIER = """
SELECT request_hash, status_code, response FROM idempotency_keys
WHERE user_id = :uid AND key = :key
"""


def _sqlite_time(value: Any) -> dt.datetime | None:
    """A time as SQLAlchemy stores it on SQLite (UTC text without offset)."""
    if value is None:
        return None
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def sqlite_time_text(when: dt.datetime) -> str:
    """How SQLAlchemy's ``DateTime`` writes a (UTC) time on SQLite."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class SqliteTransaction(Transaction):
    def __init__(self, con: Any, lock: Any) -> None:
        self.con = con
        self.lock = lock
        self.locked = False

    def principal(self, token: str | None) -> Principal:
        if not token:
            return principal_from_row(None, missing=True)
        row = self.con.execute(_SQLITE_TOKEN, {"token_hash": token_digest(token)}).fetchone()
        return _lookup_principal(row, _sqlite_time)

    def claim(self, stratum: int, user_id: int, key: str | None) -> Claim:
        if self.lock is not None:
            self.lock.acquire()
        self.locked = True
        self.con.execute("BEGIN IMMEDIATE")  # the database write lock, before any read
        position, size, label, arm = self.con.execute(_SQLITE_CLAIM, {"k": stratum}).fetchone()
        found = None
        if key is not None:
            found = self.con.execute(_SQLITE_EARLIER, {"uid": user_id, "key": key}).fetchone()
            if found is not None:
                found = (found[0], found[1], json.loads(found[2]))
        return Claim(position, size, label, arm, found)

    def finish(self, draft: Draft) -> dict[str, Any]:
        con = self.con
        con.execute(  # the position claimed under this BEGIN IMMEDIATE, plus one
            "UPDATE stratum_counters SET next_position = next_position + 1 WHERE stratum = :k",
            {"k": draft.stratum},
        )
        (randno,) = con.execute(
            "UPDATE trial SET next_randno = next_randno + 1 WHERE id = 1 RETURNING next_randno - 1"
        ).fetchone()
        now = utcnow()
        ts, stored_ts = format_ts(now), sqlite_time_text(now)
        seq, prev = con.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        payload = draft.audit_payload(randno, seq + 1, prev, ts)
        digest = record_hash(payload)
        con.execute(
            "INSERT INTO assignments (subject_id, randno, site_id, stratum, position, "
            "strata, arm, randomized_at, user_id, eligibility, unblinded_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (
                draft.subject_id,
                randno,
                draft.user.site_id,
                draft.stratum,
                draft.position,
                json.dumps(draft.strata),
                draft.arm,
                stored_ts,
                draft.user.user_id,
                json.dumps(draft.eligibility),
            ),
        )
        con.execute(
            "INSERT INTO audit_log (seq, ts, actor, action, entity, old_value, new_value, "
            "reason, prev_hash, hash) VALUES (?, ?, ?, 'randomize', ?, 'null', ?, NULL, ?, ?)",
            (
                seq + 1,
                stored_ts,
                draft.user.username,
                draft.entity,
                json.dumps(payload["new"]),
                prev,
                digest,
            ),
        )
        con.execute(
            "UPDATE audit_head SET seq = ?, hash = ?, prev_hash = ? WHERE id = 1",
            (seq + 1, digest, prev),
        )
        body = draft.respond(randno, ts)
        if draft.key is not None:
            con.execute(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, "
                "response, created_at) VALUES (?, ?, ?, 201, ?, ?)",
                (draft.user.user_id, draft.key, draft.digest, json.dumps(body), stored_ts),
            )
        con.execute("COMMIT")
        self._release()
        return body

    def rollback(self) -> None:
        try:
            if self.con.in_transaction:
                self.con.execute("ROLLBACK")
        finally:
            self._release()

    def close(self) -> None:
        """Nothing to reset: rollback() has already ended any transaction."""

    def _release(self) -> None:
        if self.locked:
            self.locked = False
            if self.lock is not None:
                self.lock.release()


# --------------------------------------------------------------------------- connections


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Transaction]:
    """A pooled driver connection for one request; rolled back on any error."""
    fairy = engine.raw_connection()
    driver = fairy.driver_connection
    try:
        tx: Transaction
        if is_sqlite(engine):
            tx = SqliteTransaction(driver, writer_lock(engine))
        else:
            tx = PgTransaction(driver, fairy.info)
        try:
            yield tx
        finally:
            try:
                tx.rollback()  # a no-op after COMMIT; ends a read-only lookup
                tx.close()
                healthy = not getattr(driver, "closed", False)
            except Exception:  # a broken connection: not returned to the pool
                healthy = False
            if not healthy:
                fairy.invalidate()
    finally:
        fairy.close()
