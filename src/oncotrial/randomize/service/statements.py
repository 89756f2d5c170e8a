"""Prebuilt SQLAlchemy statements (authenticate, idempotency replay, audit append), built once.

Building a SQLAlchemy statement costs more CPU than running it on a local database; these are
constructed at import with bound parameters and executed on the session's connection. The
allocation itself runs on the database driver (:mod:`.allocation`).
"""

from __future__ import annotations

from sqlalchemy import Table, bindparam, insert, select, update

from oncotrial.randomize.service.models import (
    ApiToken,
    Assignment,
    AuditHead,
    AuditRecord,
    IdempotencyKey,
    ListEntry,
    Site,
    StratumCounter,
    Trial,
    User,
)


def _table(model: type) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


COUNTERS = _table(StratumCounter)
LIST = _table(ListEntry)
TRIALS = _table(Trial)
ASSIGNMENTS = _table(Assignment)
IDEMPOTENCY = _table(IdempotencyKey)
AUDIT = _table(AuditRecord)
HEAD = _table(AuditHead)
TOKENS = _table(ApiToken)
USERS = _table(User)
SITES = _table(Site)

TOKEN_PRINCIPAL = (
    select(
        TOKENS.c.revoked_at,
        TOKENS.c.expires_at,
        USERS.c.id,
        USERS.c.username,
        USERS.c.role,
        USERS.c.site_id,
        USERS.c.active,
        SITES.c.code,
    )
    .select_from(TOKENS.join(USERS, TOKENS.c.user_id == USERS.c.id).outerjoin(SITES))
    .where(TOKENS.c.token_hash == bindparam("token_hash"))
)
"""Parameters: ``token_hash``."""

IDEMPOTENT_ANSWER = select(
    IDEMPOTENCY.c.request_hash, IDEMPOTENCY.c.status_code, IDEMPOTENCY.c.response
).where(IDEMPOTENCY.c.user_id == bindparam("uid"), IDEMPOTENCY.c.key == bindparam("idem_key"))
"""Parameters: ``uid``, ``idem_key``."""

SUBJECT_EXISTS = select(ASSIGNMENTS.c.id).where(ASSIGNMENTS.c.subject_id == bindparam("sid"))
"""Parameters: ``sid``."""

INSERT_AUDIT = insert(AUDIT)

LOCK_HEAD = select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1).with_for_update()

MOVE_HEAD = (
    update(HEAD)
    .where(HEAD.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"), prev_hash=bindparam("prev"))
)
"""Parameters: ``new_seq``, ``new_hash``, ``prev`` (the hash before the new head)."""
