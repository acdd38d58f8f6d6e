"""session version of users: logging out ends every session of the user, server-side

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 05:30:00

A counter each session cookie's stamp is made from (auth/models.User.session_stamp): logging
out raises it, so a copied cookie stops working at once instead of living on for a month.
Added in place with a server default (SQLite adds the column without rebuilding the table).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "users",
        sa.Column("session_version", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
