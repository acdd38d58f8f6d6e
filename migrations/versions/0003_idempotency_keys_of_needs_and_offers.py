"""idempotency keys of needs and offers: a form sent twice, or an API call retried, posts once

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00

Nullable columns on each table (the key, and the SHA-256 of what its first request asked to
post, which a repeat is compared with) and a unique index on (organization_id, idempotency_key)
(rows without a key never collide: NULLs are distinct in a unique index on SQLite and
PostgreSQL). An index, not a table constraint, so that SQLite changes a filled table in place
(ADD COLUMN, CREATE INDEX) instead of rebuilding it under the foreign keys of matches.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("needs", "offers")


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column("idempotency_key", sa.String(length=128), nullable=True))
        op.add_column(table, sa.Column("idempotency_digest", sa.String(length=64), nullable=True))
        op.create_index(
            f"uq_{table}_organization_id_idempotency_key",
            table,
            ["organization_id", "idempotency_key"],
            unique=True,
        )


def downgrade():
    for table in TABLES:
        op.drop_index(f"uq_{table}_organization_id_idempotency_key", table_name=table)
        # SQLite 3.35+ drops a column in place (nothing else refers to this one).
        op.drop_column(table, "idempotency_digest")
        op.drop_column(table, "idempotency_key")
