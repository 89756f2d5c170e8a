"""Alembic migrations of the randomization service database (applied by
:func:`oncotrial.randomize.service.db.migrate`; no alembic.ini is needed)."""
