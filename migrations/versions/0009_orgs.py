"""organizations' states, descriptions and owners

Revision ID: 0009_orgs
Revises: 0008
Create Date: 2026-12-06 15:45:00

An organization's state (unverified, verified, rejected, suspended: orgs/lifecycle.py) with the
last decision (who, when, why, how it was checked), kept consistent with verified_at by a
CHECK constraint; a description; a member's role in its organization (member or owner). Data:
verified organizations become "verified", the others "unverified"; each organization's first
member (the one who registered it) becomes its owner. A member removed from an organization
keeps the account without one, so "organizers and donors belong to an organization" is no
longer a constraint.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_orgs"
down_revision = "0008"
branch_labels = None
depends_on = None

STATES = "'unverified', 'verified', 'rejected', 'suspended'"


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds a table to change its constraints (batch mode): dropping the old
    organizations or users table would fail the foreign keys of every row that references it.
    PRAGMA foreign_keys takes effect only outside a transaction, so on SQLite: commit what came
    before, switch them, begin again (the migration's own statements stay one transaction);
    before switching them back on, every reference is checked."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    raw = bind.connection.dbapi_connection
    if on:
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    if raw.in_transaction:
        raw.execute("COMMIT")
    raw.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    raw.execute("BEGIN IMMEDIATE")


def upgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("description", sa.Text(), server_default="", nullable=False))
        batch.add_column(
            sa.Column("state", sa.String(length=10), server_default="unverified", nullable=False)
        )
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("decision_note", sa.Text(), server_default="", nullable=False))
        batch.create_index("ix_organizations_state", ["state"], unique=False)
        batch.create_foreign_key(
            "fk_organizations_decided_by_id_users", "users", ["decided_by_id"], ["id"]
        )
    op.execute("UPDATE organizations SET state = 'verified' WHERE verified_at IS NOT NULL")
    with op.batch_alter_table("organizations") as batch:
        batch.create_check_constraint(op.f("ck_organizations_state"), f"state IN ({STATES})")
        batch.create_check_constraint(
            op.f("ck_organizations_verified_at_follows_state"),
            "(state = 'verified' AND verified_at IS NOT NULL)"
            " OR (state <> 'verified' AND verified_at IS NULL)",
        )

    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("org_role", sa.String(length=6), server_default="member", nullable=False)
        )
        batch.create_check_constraint(op.f("ck_users_org_role"), "org_role IN ('member', 'owner')")
        batch.drop_constraint(op.f("ck_users_member_has_organization"), type_="check")
    op.execute(
        "UPDATE users SET org_role = 'owner' WHERE id IN ("
        " SELECT min(id) FROM users WHERE organization_id IS NOT NULL GROUP BY organization_id)"
    )
    _sqlite_foreign_keys(True)


def downgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_org_role"), type_="check")
        batch.drop_column("org_role")
        batch.create_check_constraint(
            op.f("ck_users_member_has_organization"),
            "role IN ('coordinator', 'admin') OR organization_id IS NOT NULL",
        )
    with op.batch_alter_table("organizations") as batch:
        batch.drop_constraint(op.f("ck_organizations_verified_at_follows_state"), type_="check")
        batch.drop_constraint(op.f("ck_organizations_state"), type_="check")
        batch.drop_constraint("fk_organizations_decided_by_id_users", type_="foreignkey")
        batch.drop_index("ix_organizations_state")
        batch.drop_column("decision_note")
        batch.drop_column("decision_reason")
        batch.drop_column("decided_by_id")
        batch.drop_column("decided_at")
        batch.drop_column("state")
        batch.drop_column("description")
    _sqlite_foreign_keys(True)
