"""Tables of the randomization service (SQLAlchemy 2 declarative models).

The schema is created and upgraded by the Alembic migrations shipped in
``oncotrial/randomize/migrations`` (:func:`oncotrial.randomize.service.db.migrate`); these
classes mirror the latest migration and are what the service code queries.

Times are stored as ``TIMESTAMP WITH TIME ZONE`` (PostgreSQL) or ISO text (SQLite) and always
read back as timezone-aware UTC datetimes (:class:`UTCDateTime`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("admin", "statistician", "site")
"""admin: sites, users, tokens; statistician: unblinded, may read the list and export;
site: screens and randomizes subjects of its own site and sees those only."""


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime, stored with time zone, always returned in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a time-zone-aware column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLite returns datetime already
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:  # SQLite keeps no offset; the service writes UTC only
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the service's tables (their metadata drives the migrations)."""


class Trial(Base):
    """The one trial this database randomizes (id 1)."""

    __tablename__ = "trial"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spec_id: Mapped[str] = mapped_column(String(64))
    spec_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the spec file's bytes at init."""
    spec_text: Mapped[str] = mapped_column(Text)
    scheme: Mapped[str] = mapped_column(String(32))
    seed: Mapped[int] = mapped_column(BigInteger)
    list_params: Mapped[dict[str, Any]] = mapped_column(JSON)
    """:meth:`oncotrial.randomize.ListParams.to_dict` of the generated list."""
    list_fingerprint: Mapped[str] = mapped_column(String(64))
    blinded: Mapped[bool] = mapped_column(Boolean, default=False)
    next_randno: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 (hex) of the token; the token itself is shown once and never stored."""
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StratumCounter(Base):
    """Next free list position of a stratum; the row locked while allocating in it."""

    __tablename__ = "stratum_counters"

    stratum: Mapped[int] = mapped_column(Integer, primary_key=True)
    """0-based stratum index (STRATUMN - 1)."""
    label: Mapped[str] = mapped_column(String(500), unique=True)
    next_position: Mapped[int] = mapped_column(Integer, default=1)
    size: Mapped[int] = mapped_column(Integer)


class ListEntry(Base):
    __tablename__ = "allocation_list"
    __table_args__ = (UniqueConstraint("stratum", "position", name="uq_list_stratum_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stratum: Mapped[int] = mapped_column(Integer)
    stratum_label: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer)
    block: Mapped[int | None] = mapped_column(Integer, nullable=True)
    block_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    arm: Mapped[str] = mapped_column(String(64))


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("stratum", "position", name="uq_assignment_stratum_position"),
        ForeignKeyConstraint(
            ["stratum", "position"],
            ["allocation_list.stratum", "allocation_list.position"],
            name="fk_assignment_list_entry",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), unique=True)
    randno: Mapped[int] = mapped_column(Integer, unique=True)
    """Randomization number: 1, 2, ... in order of randomization across the trial."""
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    stratum: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    strata: Mapped[dict[str, str]] = mapped_column(JSON)
    arm: Mapped[str] = mapped_column(String(64))
    randomized_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    unblinded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditRecord(Base):
    """One entry of the hash-chained audit log (definition in :mod:`.audit`)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(200))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The last sequence number and hash of the chain (one row, id 1): the lock that orders
    appends across processes, and a check that the log's tail was not deleted."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Hash of the record before the head (migration 0002; NULL until the next append)."""
