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
longer a constraint; going back, each such account gets an organization of its own (below).
"""

import sqlalchemy as sa
from alembic import op

from migrations.helpers import sqlite_foreign_keys

# revision identifiers, used by Alembic.
revision = "0009_orgs"
down_revision = "0008"
branch_labels = None
depends_on = None

STATES = "'unverified', 'verified', 'rejected', 'suspended'"


def upgrade():
    sqlite_foreign_keys(False)
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
    sqlite_foreign_keys(True)


# The organization a downgrade gives an organizer or donor left without one (removed from an
# organization, or gone): unverified, so that it sees and shows what a newly registered one
# does, of the kind its role fits; named after the account, which nobody else can be.
def _home_name(user_id: str) -> str:
    return f"'Former member, account ' || CAST({user_id} AS VARCHAR(20))"


def downgrade():
    # Before 0009 an organizer or donor belongs to an organization (a CHECK): each one left
    # without one gets an organization of its own, so that nobody is lost and nobody joins a
    # group that removed them.
    op.execute(
        "INSERT INTO organizations (name, name_key, kind, contact, public_name, created_at,"
        f" updated_at) SELECT {_home_name('id')}, lower({_home_name('id')}),"
        " CASE WHEN role = 'organizer' THEN 'frontline_group' ELSE 'donor_collective' END,"
        " '', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM users"
        " WHERE organization_id IS NULL AND role IN ('organizer', 'donor')"
    )
    op.execute(
        "UPDATE users SET organization_id = (SELECT o.id FROM organizations o"
        f" WHERE o.name_key = lower({_home_name('users.id')}))"
        " WHERE organization_id IS NULL AND role IN ('organizer', 'donor')"
    )
    sqlite_foreign_keys(False)
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
    sqlite_foreign_keys(True)
