"""The audit head also keeps the hash before it (one-statement appends on PostgreSQL).

``audit_head.prev_hash`` is the hash of the record before the head record (64 zeros when the
head is record 1; NULL until the first append after this migration). It lets PostgreSQL move
the head and learn the previous hash in ONE ``UPDATE ... RETURNING`` (the ``SET`` expressions
read the old row), so an allocation's trial-wide section is a single statement
(docs/RANDOMIZATION.md, "Concurrency and crash safety").

Revision ID: 0002_audit_head_prev_hash
Revises: 0001_initial
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_audit_head_prev_hash"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("prev_hash")
