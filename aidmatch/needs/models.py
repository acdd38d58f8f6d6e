"""Needs: what a frontline group asks for, where, how urgently."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, Text, func, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from aidmatch.db import str_enum
from aidmatch.extensions import db
from aidmatch.postings.models import PostingMixin, posting_table_args


class Urgency(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


URGENCY_RANK = {Urgency.CRITICAL: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2, Urgency.LOW: 3}

# A need without a needed-by date sorts after every dated one. The lists' default order
# (needs/kind.order: Need.needed_by_or_last) is the expression of the index
# ix_needs_open_order, with a literal, not a bound parameter (a database uses an index on an
# expression only for the same expression), so the first page is read off the index instead
# of sorting every open need.
NEEDED_BY_OR_LAST_SQL = "coalesce(needed_by, '9999-12-31')"


class NeedStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Need(PostingMixin, db.Model):
    __tablename__ = "needs"
    __table_args__ = posting_table_args(
        "needs",
        "pledged",
        "needed_by",
        CheckConstraint("delivered >= 0 AND delivered <= pledged", name="delivered_within_pledged"),
        CheckConstraint("urgency_rank BETWEEN 0 AND 3", name="urgency_rank_range"),
        # Lists filter by status and category and sort by urgency: one index serves all three.
        Index("ix_needs_status_category", "status", "category_id", "urgency_rank", "needed_by"),
        Index("ix_needs_status_urgency", "status", "urgency_rank", "needed_by"),
        Index("ix_needs_public_lat_lon", "public_lat", "public_lon"),
        # The lists' default order (needs/kind.order) and "newest", each read off an index.
        Index("ix_needs_open_order", "status", "urgency_rank", text(NEEDED_BY_OR_LAST_SQL), "id"),
        Index("ix_needs_status_created", "status", "created_at", "id"),
    )

    due_column = "needed_by"

    pledged: Mapped[int] = mapped_column(default=0)
    delivered: Mapped[int] = mapped_column(default=0)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, "urgency"))
    # Sort key for urgency (0 = critical), kept beside the label so lists sort by index.
    urgency_rank: Mapped[int]
    needed_by: Mapped[date | None]
    delivery_note: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(default=False)
    status: Mapped[NeedStatus] = mapped_column(
        str_enum(NeedStatus, "status"), default=NeedStatus.OPEN
    )

    @classmethod
    def needed_by_or_last(cls):
        """SQL: the needed-by date, or 9999-12-31 without one (NEEDED_BY_OR_LAST_SQL)."""
        return func.coalesce(cls.needed_by, literal_column("'9999-12-31'"))

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.pledged

    def __repr__(self) -> str:
        return f"<Need {self.id} {self.title!r} {self.status}>"
