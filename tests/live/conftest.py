"""Fixtures of the live-server tests: trial databases (SQLite file or PostgreSQL), artifacts.

PostgreSQL comes from ``$ONCOTRIAL_TEST_PG_URL`` (``.ci/postgres.sh`` starts a server and
prints it). Each test gets a fresh database on that server, dropped afterwards. Without the
variable the PostgreSQL tests fail under CI (``CI=true``) and are skipped elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from livekit import REPO, TrialDb, init_trial_db
from sqlalchemy.engine import make_url

PG_ENV = "ONCOTRIAL_TEST_PG_URL"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and server logs are kept: ``$ONCOTRIAL_ARTIFACTS`` or tests/artifacts."""
    path = Path(os.environ.get("ONCOTRIAL_ARTIFACTS") or REPO / "tests" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        reason = (
            f"{PG_ENV} is not set (start a server with: export {PG_ENV}=$(bash .ci/postgres.sh))"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database (dropped after the test)."""
    import psycopg

    base = make_url(_pg_admin_url())
    name = f"oncotrial_live_{uuid.uuid4().hex[:12]}"
    conninfo = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'trial.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs on a SQLite file and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def trial(db_url: str) -> TrialDb:
    """PALMIRA initialised in ``db_url`` with sites S01-S04, one site user each."""
    return init_trial_db(db_url)


@pytest.fixture
def log_dir(artifacts: Path, request: pytest.FixtureRequest) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
    path = artifacts / "live" / safe
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.log"):
        old.unlink()
    return path
