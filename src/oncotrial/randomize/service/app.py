"""The FastAPI application of the randomization service.

``create_app(db_url)`` opens the database (which ``oncotrial randomize init`` prepared),
upgrades its schema if needed, loads the trial and mounts the JSON API (:mod:`.api`) and the
server-rendered web page (:mod:`.web`). Several app processes may serve one
database (PostgreSQL, or SQLite on one host): all state is in the database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from oncotrial import __version__
from oncotrial.randomize.service.api import RandomizeFastPath, install_error_handlers, router
from oncotrial.randomize.service.core import RandomizationService
from oncotrial.randomize.service.db import migrate, normalize_url
from oncotrial.randomize.service.web import router as web_router


def create_app(
    db_url: str,
    spec_path: str | Path | None = None,
    *,
    upgrade: bool = True,
    fast_path: bool = True,
) -> FastAPI:
    """The app over the database at ``db_url`` (a URL or a SQLite file path).

    Args:
        db_url: ``sqlite:///path.db``, a plain file path, or ``postgresql+psycopg://...``.
        spec_path: optional spec file; when given it must be the spec the database was
            initialised with (same SHA-256), else :class:`~oncotrial.errors.InputError`.
        upgrade: apply pending Alembic migrations first (idempotent).
        fast_path: answer well-formed randomization requests with
            :class:`~.api.RandomizeFastPath` (same answers as the FastAPI route, less CPU).
    """
    url = normalize_url(db_url)
    if upgrade:
        migrate(url)
    service = RandomizationService.open(url, spec_path)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await service.aclose()

    app = FastAPI(
        title=f"oncotrial randomization service: {service.config.spec.trial.id}",
        version=__version__,
        description="Central stratified randomization with concealment and a hash-chained "
        "audit trail (docs/RANDOMIZATION.md).",
        lifespan=lifespan,
    )
    app.state.service = service
    if fast_path:
        app.add_middleware(RandomizeFastPath, service=service)
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(web_router)
    return app


DB_ENV = "ONCOTRIAL_RANDOMIZE_DB"
SPEC_ENV = "ONCOTRIAL_RANDOMIZE_SPEC"


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` / several workers: database URL from
    ``$ONCOTRIAL_RANDOMIZE_DB``, optional spec from ``$ONCOTRIAL_RANDOMIZE_SPEC``."""
    db = os.environ.get(DB_ENV)
    if not db:
        raise RuntimeError(f"set {DB_ENV} to the database URL")
    return create_app(db, os.environ.get(SPEC_ENV) or None)
