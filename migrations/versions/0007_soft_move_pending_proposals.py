"""pending proposals the donor has not accepted hold softly

Revision ID: 0007_soft
Revises: 0006
Create Date: 2026-12-06 12:00:00

Until now every pending match held its quantity in needs.pledged and offers.allocated. From now
on a pending match without the donor's acceptance (an engine proposal) holds it in
`proposed` (matches/holds.py), so the quantity of such matches moves from pledged and
allocated to proposed; the downgrade moves it back.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_soft"
down_revision = "0006"
branch_labels = None
depends_on = None

SOFT = (
    "(SELECT COALESCE(SUM(matches.quantity), 0) FROM matches WHERE matches.{key} = {table}.id "
    "AND matches.status = 'pending' AND matches.donor_accepted_at IS NULL)"
)


def _move(sign: str) -> None:
    for table, key, hard in (("needs", "need_id", "pledged"), ("offers", "offer_id", "allocated")):
        soft = SOFT.format(key=key, table=table)
        other = "-" if sign == "+" else "+"
        op.execute(
            f"UPDATE {table} SET proposed = proposed {sign} {soft}, "
            f"{hard} = {hard} {other} {soft}"
        )


def upgrade():
    _move("+")


def downgrade():
    _move("-")
