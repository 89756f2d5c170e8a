"""Alembic environment: run the migrations online against ``sqlalchemy.url`` of the config."""

from __future__ import annotations

from alembic import context

from oncotrial.randomize.service.db import make_engine
from oncotrial.randomize.service.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:  # pragma: no cover - db.alembic_config always sets it
        raise RuntimeError("sqlalchemy.url is not set in the Alembic config")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():  # pragma: no cover
    raise RuntimeError("offline (SQL script) migrations are not supported; run online")
run_migrations_online()
