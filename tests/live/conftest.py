"""Fixtures of the live-server tests: trial databases (SQLite file or PostgreSQL), artifacts.

PostgreSQL comes from ``$ONCOTRIAL_TEST_PG_URL`` (``.ci/postgres.sh`` starts a server and
prints it; without the variable the tests run that script themselves). Each test gets a
fresh database on that server, dropped afterwards. Nothing is skipped: without PostgreSQL
the PostgreSQL tests fail and say why.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from livekit import REPO, TrialDb, init_trial_db, postgres_database


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and server logs are kept: ``$ONCOTRIAL_ARTIFACTS`` or tests/artifacts."""
    path = Path(os.environ.get("ONCOTRIAL_ARTIFACTS") or REPO / "tests" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database (dropped after the test)."""
    with postgres_database("oncotrial_live") as url:
        yield url


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
