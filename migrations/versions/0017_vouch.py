"""vouches: verified organizations vouching for unverified ones

Revision ID: 0017_vouch
Revises: 0016_money
Create Date: 2026-12-06 19:05:00

A vouch: which verified organization vouches for which unverified one, the sentence of why,
who made it, and when (and by whom) it was withdrawn; one active vouch per pair (a partial
unique index), never for oneself (orgs/vouches.py).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_vouch"
down_revision = "0016_money"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "vouches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("vouched_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("voucher_id <> vouched_id", name=op.f("ck_vouches_not_oneself")),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_vouches_reason_not_empty")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_vouches_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"], ["users.id"], name=op.f("fk_vouches_withdrawn_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["organizations.id"], name=op.f("fk_vouches_voucher_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["vouched_id"], ["organizations.id"], name=op.f("fk_vouches_vouched_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouches")),
    )
    with op.batch_alter_table("vouches") as batch:
        batch.create_index(batch.f("ix_vouches_voucher_id"), ["voucher_id"], unique=False)
        batch.create_index(batch.f("ix_vouches_vouched_id"), ["vouched_id"], unique=False)
        batch.create_index(
            "uq_vouches_active_pair",
            ["voucher_id", "vouched_id"],
            unique=True,
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("vouches") as batch:
        batch.drop_index("uq_vouches_active_pair")
        batch.drop_index(batch.f("ix_vouches_vouched_id"))
        batch.drop_index(batch.f("ix_vouches_voucher_id"))
    op.drop_table("vouches")
