"""users' time zone and retired categories (admin pages, local time)

Revision ID: 0010_admin
Revises: 0009_orgs
Create Date: 2026-12-06 16:00:00

users.timezone: the IANA zone a user's times are shown in (NULL: the instance's default,
Europe/Kyiv). categories.retired_at: set when an admin retires a category; old needs and
offers keep it, new ones may not take it. Both added in place (nullable, no table rebuild).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_admin"
down_revision = "0009_orgs"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("timezone", sa.String(length=64), nullable=True))
    op.add_column("categories", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # In place (SQLite 3.35+ drops a column itself): a batch rebuild of categories would
    # break the foreign keys of the needs and offers that name them.
    op.drop_column("categories", "retired_at")
    op.drop_column("users", "timezone")
