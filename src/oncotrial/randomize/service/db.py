"""Database connection: engines for SQLite and PostgreSQL, migrations, write transactions.

* **SQLite** (default; a file): WAL journal (readers never wait for the writer),
  ``busy_timeout`` 30 s, foreign keys on, ``synchronous=FULL`` (a committed assignment
  survives power loss; ``$ONCOTRIAL_SQLITE_SYNCHRONOUS=NORMAL`` trades that for speed: WAL
  with NORMAL still survives a process crash such as kill -9, not an OS crash). Write
  transactions start with ``BEGIN IMMEDIATE``, so the write lock is taken before the next
  list position is read and two processes can never read the same position;
  within one process writers also queue on a lock first, which avoids SQLite's
  sleep-and-retry busy handler (https://www.sqlite.org/lang_transaction.html,
  https://www.sqlite.org/wal.html).
* **PostgreSQL** (``postgresql+psycopg://user@host/db``): READ COMMITTED; an allocation locks
  its stratum's counter row with ``SELECT ... FOR UPDATE`` and then, for the few statements
  before commit, the trial row (randomization number) and the audit head row, always in this
  order, so transactions never deadlock.

Either way the database is the single source of truth: several app processes may serve the
same database.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator
from importlib import resources
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from oncotrial.errors import InputError

SQLITE_BUSY_TIMEOUT_MS = 30_000

_WRITE = "oncotrial_write"
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def sqlite_synchronous() -> str:
    """``PRAGMA synchronous`` level: ``$ONCOTRIAL_SQLITE_SYNCHRONOUS`` (FULL by default)."""
    value = os.environ.get("ONCOTRIAL_SQLITE_SYNCHRONOUS", "FULL").upper()
    if value not in ("NORMAL", "FULL", "EXTRA"):
        raise InputError(
            f"ONCOTRIAL_SQLITE_SYNCHRONOUS: {value!r} is not valid; use FULL, NORMAL or EXTRA",
            argument="ONCOTRIAL_SQLITE_SYNCHRONOUS",
            value=value,
        )
    return value


def normalize_url(db: str) -> str:
    """A SQLAlchemy URL from ``db``: a URL as is, anything else a SQLite file path."""
    text = str(db)
    if "://" in text:
        try:
            url = make_url(text)
        except Exception as exc:  # sqlalchemy.exc.ArgumentError
            raise InputError(
                f"--db: {text!r} is not a database URL ({exc}); use a file path, "
                "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
                argument="db",
                value=text,
            ) from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise InputError(
                f"--db: backend {url.get_backend_name()!r} is not supported; use sqlite or "
                "postgresql (postgresql+psycopg://USER@HOST/DB)",
                argument="db",
                value=text,
            )
        return text
    return f"sqlite:///{text}"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(db_url: str, **kwargs: Any) -> Engine:
    """An engine configured for the service (see the module docstring)."""
    url = normalize_url(db_url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                "check_same_thread": False,
                "isolation_level": None,
            },
            **{"pool_size": 20, "max_overflow": 20, **kwargs},
        )
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 30)
    # No pre-ping (a round trip per checkout): a connection that the server closed fails
    # its first statement inside the transaction, which is rolled back, and the pool
    # replaces it (SQLAlchemy invalidates connections on disconnect errors).
    kwargs.setdefault("pool_pre_ping", False)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    _WRITE_LOCKS[engine] = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer_lock(engine: Engine) -> threading.Lock | None:
    """This process's mutex that SQLite writers take before ``BEGIN IMMEDIATE`` (None on
    PostgreSQL)."""
    return _WRITE_LOCKS.get(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session for one write transaction: committed on success, rolled back on any error.

    On SQLite the transaction begins with ``BEGIN IMMEDIATE`` (after taking this process's
    writer lock); on PostgreSQL it is an ordinary READ COMMITTED transaction whose callers
    lock rows explicitly.
    """
    lock = _WRITE_LOCKS.get(engine)
    with contextlib.ExitStack() as stack:
        if lock is not None:
            stack.enter_context(lock)
        conn = stack.enter_context(engine.connect())
        conn.execution_options(**{_WRITE: True})
        session = Session(bind=conn, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


@contextlib.contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reads (one consistent snapshot on SQLite WAL)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session  # closing ends the transaction without expiring loaded objects


def migrations_dir() -> str:
    return str(resources.files("oncotrial.randomize") / "migrations")


def alembic_config(db_url: str) -> Any:
    """An Alembic config pointing at the shipped migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", migrations_dir())
    cfg.set_main_option("sqlalchemy.url", normalize_url(db_url).replace("%", "%%"))
    return cfg


def migrate(db_url: str, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` with the shipped Alembic migrations."""
    from alembic import command

    command.upgrade(alembic_config(db_url), revision)


def current_revision(db_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
