"""hubs and the legs of a shipment

Revision ID: 0013_legs
Revises: 0012_slip
Create Date: 2026-12-06 16:45:00

An organization may be a hub (a warehouse or border hub that goods pass through): the CHECK
of organizations.kind takes the new value (SQLite rebuilds the table: batch mode, with the
foreign keys off while it does: migrations/helpers.sqlite_foreign_keys). A leg is one hand-off
of a match's goods from one organization to the next, confirmed by its receiver with the
quantity that arrived.
"""

import sqlalchemy as sa
from alembic import op

from migrations.helpers import sqlite_foreign_keys

# revision identifiers, used by Alembic.
revision = "0013_legs"
down_revision = "0012_slip"
branch_labels = None
depends_on = None

OLD_KINDS = ("frontline_group", "donor_collective", "supply_collective")
NEW_KINDS = (*OLD_KINDS, "hub")


def _kinds(kinds: tuple) -> None:
    sqlite_foreign_keys(False)
    with op.batch_alter_table("organizations") as batch:
        batch.drop_constraint(op.f("ck_organizations_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_organizations_kind"), "kind IN (%s)" % ", ".join(f"'{k}'" for k in kinds)
        )
    sqlite_foreign_keys(True)


def upgrade():
    _kinds(NEW_KINDS)
    op.create_table(
        "legs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("from_org_id", sa.Integer(), nullable=False),
        sa.Column("to_org_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=200), nullable=False),
        sa.Column("tracking", sa.String(length=200), nullable=False),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handed_over_by_id", sa.Integer(), nullable=True),
        sa.Column("quantity_sent", sa.Integer(), nullable=False),
        sa.Column("quantity_received", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "on_the_way",
                "received",
                name="leg_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_legs_position_positive")),
        sa.CheckConstraint("from_org_id <> to_org_id", name=op.f("ck_legs_to_another_org")),
        sa.CheckConstraint("quantity_sent > 0", name=op.f("ck_legs_quantity_sent_positive")),
        sa.CheckConstraint(
            "(status = 'received' AND quantity_received IS NOT NULL AND confirmed_at IS NOT NULL"
            " AND quantity_received >= 0 AND quantity_received <= quantity_sent)"
            " OR (status = 'on_the_way' AND quantity_received IS NULL AND confirmed_at IS NULL)",
            name=op.f("ck_legs_received_follows_status"),
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["users.id"], name=op.f("fk_legs_confirmed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["from_org_id"], ["organizations.id"], name=op.f("fk_legs_from_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["handed_over_by_id"], ["users.id"], name=op.f("fk_legs_handed_over_by_id_users")
        ),
        sa.ForeignKeyConstraint(["match_id"], ["matches.id"], name=op.f("fk_legs_match_id_matches")),
        sa.ForeignKeyConstraint(
            ["to_org_id"], ["organizations.id"], name=op.f("fk_legs_to_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legs")),
        sa.UniqueConstraint("match_id", "position", name="one_leg_per_position"),
    )
    with op.batch_alter_table("legs") as batch:
        batch.create_index(batch.f("ix_legs_match_id"), ["match_id"], unique=False)
        batch.create_index(batch.f("ix_legs_to_org_id"), ["to_org_id"], unique=False)
        batch.create_index(
            "ix_legs_status_handed_over_at", ["status", "handed_over_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("legs") as batch:
        batch.drop_index("ix_legs_status_handed_over_at")
        batch.drop_index(batch.f("ix_legs_to_org_id"))
        batch.drop_index(batch.f("ix_legs_match_id"))
    op.drop_table("legs")
    # A hub becomes a supply collective: the same side, its members donors still.
    op.execute("UPDATE organizations SET kind = 'supply_collective' WHERE kind = 'hub'")
    _kinds(OLD_KINDS)
