"""recurring offers

Revision ID: 0014_recurring
Revises: 0013_legs
Create Date: 2026-12-06 18:59:23

An offer may repeat every week or month (recurrences); each period is a row of its own
(recurrence_periods, one per series and start) linking the offer that makes that period's
quantity available, with what it carried, left unused and whether it was missed.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014_recurring"
down_revision = "0013_legs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "recurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "every",
            sa.Enum("week", "month", name="every", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("carry_over", sa.Boolean(), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_recurrences_ends_after_start")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_recurrences_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_recurrences_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_recurrences_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_recurrences_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurrences")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_recurrences_offer_id")),
    )
    with op.batch_alter_table("recurrences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recurrences_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "recurrence_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recurrence_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("carried", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unused", sa.Integer(), nullable=True),
        sa.Column("missed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "ends_on > starts_on", name=op.f("ck_recurrence_periods_ends_after_start")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_recurrence_periods_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_recurrence_periods_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["recurrence_id"],
            ["recurrences.id"],
            name=op.f("fk_recurrence_periods_recurrence_id_recurrences"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurrence_periods")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_recurrence_periods_offer_id")),
        sa.UniqueConstraint("recurrence_id", "starts_on", name="one_period_per_start"),
    )
    with op.batch_alter_table("recurrence_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recurrence_periods_missed_at"), ["missed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recurrence_periods_recurrence_id"), ["recurrence_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("recurrence_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recurrence_periods_recurrence_id"))
        batch_op.drop_index(batch_op.f("ix_recurrence_periods_missed_at"))

    op.drop_table("recurrence_periods")
    with op.batch_alter_table("recurrences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recurrences_organization_id"))

    op.drop_table("recurrences")
