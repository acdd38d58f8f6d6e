"""soft proposals, group requests, answers for less, points a group set, run progress

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:40:00

Needs and offers get `proposed`: what pending engine proposals and group requests hold until
the donor accepts (matches/holds.py), and `point_set`: whether the organization gave the point
or it is its settlement's centre (set here for existing rows whose point is not their
place's). Matches may come from a group's request, and keep what was first asked when an
answer lowered the quantity, and why. Matching runs can wait on the job queue, and show their
stage, progress and the heartbeat of their worker.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _enum(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


MATCH_SOURCES = ("engine", "claim")
RUN_STATUSES = ("running", "finished", "failed")


def upgrade():
    for table in ("needs", "offers"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("proposed", sa.Integer(), server_default="0", nullable=False))
            batch.add_column(
                sa.Column("point_set", sa.Boolean(), server_default=sa.false(), nullable=False)
            )
            batch.create_check_constraint("proposed_nonnegative", "proposed >= 0")
        op.execute(
            f"UPDATE {table} SET point_set = (lat <> (SELECT places.lat FROM places WHERE "
            f"places.id = {table}.place_id) OR lon <> (SELECT places.lon FROM places WHERE "
            f"places.id = {table}.place_id))"
        )
    with op.batch_alter_table("matches") as batch:
        batch.add_column(sa.Column("quantity_asked", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("quantity_note", sa.Text(), nullable=True))
        batch.alter_column(
            "source",
            existing_type=_enum(*MATCH_SOURCES, name="source"),
            type_=_enum(*MATCH_SOURCES, "request", name="source"),
            existing_nullable=False,
        )
    with op.batch_alter_table("matching_runs") as batch:
        batch.add_column(sa.Column("stage", sa.String(length=20), nullable=True))
        batch.add_column(
            sa.Column("progress_done", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("progress_total", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column(
            "status",
            existing_type=_enum(*RUN_STATUSES, name="status"),
            type_=_enum("queued", *RUN_STATUSES, name="status"),
            existing_nullable=False,
        )


def downgrade():
    with op.batch_alter_table("matching_runs") as batch:
        batch.alter_column(
            "status",
            existing_type=_enum("queued", *RUN_STATUSES, name="status"),
            type_=_enum(*RUN_STATUSES, name="status"),
            existing_nullable=False,
        )
        for column in ("heartbeat_at", "progress_total", "progress_done", "stage"):
            batch.drop_column(column)
    with op.batch_alter_table("matches") as batch:
        batch.alter_column(
            "source",
            existing_type=_enum(*MATCH_SOURCES, "request", name="source"),
            type_=_enum(*MATCH_SOURCES, name="source"),
            existing_nullable=False,
        )
        batch.drop_column("quantity_note")
        batch.drop_column("quantity_asked")
    for table in ("needs", "offers"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint("proposed_nonnegative", type_="check")
            batch.drop_column("point_set")
            batch.drop_column("proposed")
