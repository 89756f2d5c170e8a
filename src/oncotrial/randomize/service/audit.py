"""The hash-chained audit log: append, read, verify.

Record ``n`` (``seq = 1, 2, ...``) is the JSON object

    {"seq", "ts", "actor", "action", "entity", "old", "new", "reason", "prev_hash"}

where ``ts`` is the UTC time as ISO 8601 with microseconds and offset
(``2025-03-01T09:30:00.123456+00:00``), ``old``/``new`` are JSON values (or null), ``reason``
a string or null and ``prev_hash`` the ``hash`` of record ``n - 1`` (64 zeros for record 1).
Its ``hash`` is the SHA-256 (lower-case hex) of the record's *canonical JSON*: UTF-8,
keys sorted, no insignificant whitespace, non-ASCII characters kept as is
(``json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``); the
``prev_hash`` inside the hashed text chains the records, so editing, inserting or deleting
any record changes every later hash. The last ``seq``/``hash`` are also kept in the one-row
``audit_head`` table, whose row lock orders appends across processes and which reveals a
truncated tail.

:func:`verify_audit` recomputes the chain and cross-checks the assignments against their
``randomize`` records and the allocation list against a list regenerated from the stored
seed and parameters (its SHA-256 fingerprint), and reports the first break.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from oncotrial.randomize.schemes import ListParams, regenerate
from oncotrial.randomize.service import statements as sql
from oncotrial.randomize.service.db import make_engine, read_session
from oncotrial.randomize.service.models import (
    Assignment,
    AuditHead,
    AuditRecord,
    ListEntry,
    Site,
    Trial,
    utcnow,
)
from oncotrial.results import Result

GENESIS_HASH = "0" * 64


def format_ts(ts: dt.datetime) -> str:
    """The canonical text of an audit time: UTC, microseconds, ``+00:00``."""
    if ts.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return ts.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_payload(
    seq: int,
    ts: dt.datetime | str,
    actor: str,
    action: str,
    entity: str,
    old: Any,
    new: Any,
    reason: str | None,
    prev_hash: str,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "ts": ts if isinstance(ts, str) else format_ts(ts),
        "actor": actor,
        "action": action,
        "entity": entity,
        "old": old,
        "new": new,
        "reason": reason,
        "prev_hash": prev_hash,
    }


def record_hash(payload: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of an audit record (``prev_hash`` included)."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def stored_payload(record: AuditRecord) -> dict[str, Any]:
    return record_payload(
        record.seq,
        record.ts,
        record.actor,
        record.action,
        record.entity,
        record.old_value,
        record.new_value,
        record.reason,
        record.prev_hash,
    )


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
    ts: dt.datetime | None = None,
) -> dict[str, Any]:
    """Append one record to the chain inside the caller's transaction; returns it with its hash.

    Locks the ``audit_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction is
    already exclusive), so call it as the last step before commit to keep the lock short.
    """
    conn = session.connection()
    head_seq, head_hash = conn.execute(sql.LOCK_HEAD).one()
    when = ts or utcnow()
    # JSON round trip: what is hashed is exactly what the JSON column gives back
    old = json.loads(canonical_json(old))
    new = json.loads(canonical_json(new))
    seq = head_seq + 1
    payload = record_payload(seq, when, actor, action, entity, old, new, reason, head_hash)
    digest = record_hash(payload)
    conn.execute(
        sql.INSERT_AUDIT,
        {
            "seq": seq,
            "ts": when,
            "actor": actor,
            "action": action,
            "entity": entity,
            "old_value": old,
            "new_value": new,
            "reason": reason,
            "prev_hash": head_hash,
            "hash": digest,
        },
    )
    conn.execute(sql.MOVE_HEAD, {"new_seq": seq, "new_hash": digest, "prev": head_hash})
    return {**payload, "hash": digest}


def audit_to_dict(record: AuditRecord) -> dict[str, Any]:
    return {**stored_payload(record), "hash": record.hash}


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class AuditBreak:
    """The first place where the stored data disagree with the chain."""

    seq: int | None
    problem: str


@dataclass(frozen=True)
class AuditVerification(Result):
    """Outcome of :func:`verify_audit`."""

    ok: bool
    records: int
    head_seq: int
    head_hash: str
    assignments_checked: int
    list_fingerprint: str | None
    first_break: AuditBreak | None = None
    problems: tuple[AuditBreak, ...] = field(default=())

    def summary(self) -> str:
        if self.ok:
            return (
                f"audit chain intact: {self.records} records, head {self.head_hash[:16]}..., "
                f"{self.assignments_checked} assignments match their records and the list "
                f"(fingerprint {self.list_fingerprint})"
            )
        assert self.first_break is not None
        where = f"record {self.first_break.seq}" if self.first_break.seq else "database"
        lines = [f"audit chain BROKEN at {where}: {self.first_break.problem}"]
        lines += [f"  also: {p.problem}" for p in self.problems[1:10]]
        return "\n".join(lines)


def _chain_problems(session: Session) -> tuple[list[AuditBreak], int, AuditHead]:
    problems: list[AuditBreak] = []
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for record in session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars():
        count += 1
        if record.seq != expected_seq:
            problems.append(
                AuditBreak(
                    record.seq,
                    f"sequence gap: expected record {expected_seq}, found {record.seq} "
                    "(records deleted or inserted)",
                )
            )
        if record.prev_hash != prev:
            problems.append(
                AuditBreak(
                    record.seq,
                    f"prev_hash {record.prev_hash[:16]}... does not equal the hash of the "
                    f"previous record {prev[:16]}...",
                )
            )
        digest = record_hash(stored_payload(record))
        if digest != record.hash:
            problems.append(
                AuditBreak(
                    record.seq,
                    f"record {record.seq} ({record.action} {record.entity}) was altered: its "
                    f"content hashes to {digest[:16]}..., stored hash {record.hash[:16]}...",
                )
            )
        prev = record.hash
        expected_seq = record.seq + 1
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    if head.seq != expected_seq - 1 or head.hash != prev:
        problems.append(
            AuditBreak(
                None,
                f"audit head says record {head.seq} ({head.hash[:16]}...) is last but the log "
                f"ends at record {expected_seq - 1} ({prev[:16]}...): records were removed "
                "or the head was edited",
            )
        )
    return problems, count, head


def _assignment_problems(session: Session) -> tuple[list[AuditBreak], int]:
    problems: list[AuditBreak] = []
    records: dict[str, AuditRecord] = {}
    for logged in session.execute(
        select(AuditRecord).where(AuditRecord.action == "randomize").order_by(AuditRecord.seq)
    ).scalars():
        records[logged.entity] = logged
    sites = {s.id: s.code for s in session.execute(select(Site)).scalars()}
    slots = {(e.stratum, e.position): e.arm for e in session.execute(select(ListEntry)).scalars()}
    assignments = list(session.execute(select(Assignment).order_by(Assignment.randno)).scalars())
    for a in assignments:
        entity = f"subject:{a.subject_id}"
        record = records.pop(entity) if entity in records else None
        if record is None:
            problems.append(
                AuditBreak(None, f"assignment of {a.subject_id!r} has no randomize record")
            )
            continue
        new = record.new_value or {}
        stored = {
            "arm": a.arm,
            "randno": a.randno,
            "site": sites.get(a.site_id),
            "stratum": a.stratum + 1,
            "position": a.position,
            "strata": a.strata,
        }
        diff = [k for k, v in stored.items() if new.get(k) != v]
        if diff:
            problems.append(
                AuditBreak(
                    record.seq,
                    f"assignment of {a.subject_id!r} differs from its audit record {record.seq} "
                    f"in {', '.join(diff)}",
                )
            )
        if slots.get((a.stratum, a.position)) != a.arm:
            problems.append(
                AuditBreak(
                    record.seq,
                    f"assignment of {a.subject_id!r} has arm {a.arm!r} but list slot "
                    f"{a.stratum + 1}/{a.position} holds {slots.get((a.stratum, a.position))!r}",
                )
            )
    for entity, record in records.items():
        problems.append(
            AuditBreak(record.seq, f"randomize record of {entity} has no assignment row")
        )
    return problems, len(assignments)


def _list_problems(session: Session) -> tuple[list[AuditBreak], str | None]:
    trial = session.get(Trial, 1)
    if trial is None:
        return [AuditBreak(None, "no trial in this database (run oncotrial randomize init)")], None
    expected = regenerate(ListParams.from_dict(trial.list_params))
    problems: list[AuditBreak] = []
    if expected.fingerprint != trial.list_fingerprint:
        problems.append(
            AuditBreak(
                None,
                f"stored list fingerprint {trial.list_fingerprint} differs from the list "
                f"regenerated from the stored seed and parameters ({expected.fingerprint})",
            )
        )
    stored = {
        (e.stratum, e.position): (e.arm, e.block, e.block_size)
        for e in session.execute(select(ListEntry)).scalars()
    }
    want = {(s.stratum, s.randno): (s.arm, s.block, s.block_size) for s in expected.slots}
    if stored != want:
        bad = sorted(k for k in set(stored) | set(want) if stored.get(k) != want.get(k))
        k = bad[0]
        problems.append(
            AuditBreak(
                None,
                f"allocation list table differs from the regenerated list at {len(bad)} "
                f"slot(s), first stratum {k[0] + 1} position {k[1]}",
            )
        )
    return problems, expected.fingerprint


def verify_engine(engine: Engine) -> AuditVerification:
    with read_session(engine) as session:
        chain, count, head = _chain_problems(session)
        assignments, n_assignments = _assignment_problems(session)
        lists, fingerprint = _list_problems(session)
    problems = chain + assignments + lists
    return AuditVerification(
        ok=not problems,
        records=count,
        head_seq=head.seq,
        head_hash=head.hash,
        assignments_checked=n_assignments,
        list_fingerprint=fingerprint,
        first_break=problems[0] if problems else None,
        problems=tuple(problems),
    )


def verify_audit(db_url: str) -> AuditVerification:
    """Recompute the audit chain of the database at ``db_url`` and report the first break.

    Also checks every assignment against its ``randomize`` record and its list slot, and the
    allocation list against the list regenerated from the stored seed (module docstring).
    """
    engine = make_engine(db_url)
    try:
        return verify_engine(engine)
    finally:
        engine.dispose()
