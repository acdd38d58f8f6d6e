"""Needs: what a frontline group asks for, where, how urgently."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.db import TimestampMixin, str_enum
from aidmatch.extensions import db

if TYPE_CHECKING:
    from aidmatch.categories.models import Category
    from aidmatch.orgs.models import Organization
    from aidmatch.places.models import Place


class Urgency(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


URGENCY_RANK = {Urgency.CRITICAL: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2, Urgency.LOW: 3}


class NeedStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Need(TimestampMixin, db.Model):
    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("pledged >= 0 AND pledged <= quantity", name="pledged_within_quantity"),
        CheckConstraint("delivered >= 0 AND delivered <= pledged", name="delivered_within_pledged"),
        CheckConstraint("urgency_rank BETWEEN 0 AND 3", name="urgency_rank_range"),
        CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="lat_lon_range"
        ),
        # Lists filter by status and category and sort by urgency: one index serves all three.
        Index("ix_needs_status_category", "status", "category_id", "urgency_rank", "needed_by"),
        Index("ix_needs_status_urgency", "status", "urgency_rank", "needed_by"),
        Index("ix_needs_lat_lon", "lat", "lon"),
        Index("ix_needs_status_needed_by", "status", "needed_by"),
        Index("ix_needs_public_lat_lon", "public_lat", "public_lon"),
        # One row per (organization, Idempotency-Key): a form sent twice, or an API call
        # retried, posts once. A unique index rather than a table constraint: SQLite adds an
        # index to a filled table in place, a constraint only by rebuilding the table.
        Index(
            "uq_needs_organization_id_idempotency_key",
            "organization_id",
            "idempotency_key",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Title and description case-folded in Python (SQLite's lower() folds only ASCII).
    search_text: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    quantity: Mapped[int]
    pledged: Mapped[int] = mapped_column(default=0)
    delivered: Mapped[int] = mapped_column(default=0)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, "urgency"))
    # Sort key for urgency (0 = critical), kept beside the label so lists sort by index.
    urgency_rank: Mapped[int]
    needed_by: Mapped[date | None]
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    # The coarse point shown to those who may not see the exact one (see DESIGN.md privacy).
    public_lat: Mapped[float]
    public_lon: Mapped[float]
    delivery_note: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(default=False)
    # The key of the form or API call that posted it (None: posted without one).
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    # SHA-256 of what that call asked to post: a repeat is compared with it (posting.post_once).
    idempotency_digest: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[NeedStatus] = mapped_column(
        str_enum(NeedStatus, "status"), default=NeedStatus.OPEN
    )

    organization: Mapped[Organization] = relationship()
    category: Mapped[Category] = relationship()
    place: Mapped[Place] = relationship()

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.pledged

    def __repr__(self) -> str:
        return f"<Need {self.id} {self.title!r} {self.status}>"
