"""indexes that serve the lists' default orders

Revision ID: 0008
Revises: 0007_soft
Create Date: 2026-12-06 13:40:00

The needs list sorts open needs by urgency, then needed-by (undated last), then id; offers
and "newest" needs by creation, newest first; the API's matches by creation, newest first; pending matches still in time by their expiry (however many of a past run lapsed). Each order is now read off an index, so a page
of 50 out of 100 000 open needs no longer sorts them all (needs/models.NEEDED_BY_OR_LAST_SQL:
the same expression as the lists' ORDER BY).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007_soft"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_needs_open_order",
        "needs",
        ["status", "urgency_rank", sa.text("coalesce(needed_by, '9999-12-31')"), "id"],
    )
    op.create_index("ix_needs_status_created", "needs", ["status", "created_at", "id"])
    op.create_index("ix_offers_status_created", "offers", ["status", "created_at", "id"])
    op.create_index("ix_matches_created", "matches", ["created_at", "id"])
    op.create_index("ix_matches_status_expires", "matches", ["status", "expires_at"])


def downgrade():
    op.drop_index("ix_matches_status_expires", table_name="matches")
    op.drop_index("ix_matches_created", table_name="matches")
    op.drop_index("ix_offers_status_created", table_name="offers")
    op.drop_index("ix_needs_status_created", table_name="needs")
    op.drop_index("ix_needs_open_order", table_name="needs")
